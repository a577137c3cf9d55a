"""Results of a run: per layer timing, action counts and energy; totals."""
from __future__ import annotations

from dataclasses import dataclass, field
from math import fsum

from simulator.energy.price import ComponentEnergy


def energy_class(e: ComponentEnergy) -> str:
    """The class a row is reported under: leakage is its own class (priced rows name it 'leakage')."""
    return "leakage" if e.component == "leakage" else e.component_class


@dataclass(slots=True)
class LayerResult:
    index: int
    name: str
    kind: str
    macs: int
    start_cycle: int
    latency_cycles: int
    events: int
    mac_config: str
    energy: list[ComponentEnergy]
    meta: dict = field(default_factory=dict)
    # counts per operating-point class, for pricing at another operating point:
    link_bits: dict = field(default_factory=dict)   # network -> bits carried per link (numpy array)
    sram_bits: dict = field(default_factory=dict)   # (component, key, data structure) -> bits
    # the cycle its first transaction started: before start_cycle when its weights were prefetched
    # while the previous layer ran (start_cycle: the previous layer finished; None: = start_cycle)
    first_cycle: int | None = None

    @property
    def overlap_cycles(self) -> int:
        """Cycles the layer ran before it started, overlapping the previous layer (prefetch)."""
        return 0 if self.first_cycle is None else self.start_cycle - self.first_cycle

    @property
    def energy_pj(self) -> float:
        """Correctly rounded sum (math.fsum) of the component rows: order-independent."""
        return fsum(e.energy_pj for e in self.energy)

    def energy_by_class(self) -> dict[str, float]:
        """Energy per component class, leakage as its own class (each a math.fsum of rows)."""
        parts: dict[str, list[float]] = {}
        for e in self.energy:
            parts.setdefault(energy_class(e), []).append(e.energy_pj)
        return {k: fsum(v) for k, v in parts.items()}

    @property
    def end_cycle(self) -> int:
        return self.start_cycle + self.latency_cycles

    def count(self, key_prefix: str) -> float:
        """Sum of counts whose '<class>.<action>' starts with ``key_prefix``."""
        return sum(e.count for e in self.energy
                   if e.component != "leakage" and f"{e.component_class}.{e.action}".startswith(key_prefix))

    def bytes_moved(self) -> dict[str, float]:
        """Bytes per level: DRAM accesses, NoP/NoC byte-hops (bytes x links crossed), SRAM accesses."""
        return {
            "dram_bytes": self.count("dram.") / 8,
            "nop_byte_hops": self.count("nop_link.") / 8,
            "noc_byte_hops": self.count("noc_link.") / 8,
            "global_buffer_bytes": self.count("global_buffer.") / 8,
            "pe_buffer_bytes": (self.count("weight_buffer.") + self.count("input_buffer.")
                                + self.count("accumulation_buffer.")) / 8,
        }


@dataclass(slots=True)
class RunResult:
    arch: str
    workload: str
    clock_ghz: float
    peak_macs_per_cycle: int
    seed: int
    config_hash: str
    layers: list[LayerResult]
    events: int
    wall_seconds: float
    link_stats: dict = field(default_factory=dict)
    complete: bool = True  # False: the run stopped early; only the finished layers are here
    exposure: object = None  # simulator.faults.flips.Flips when the error exposure was computed

    error_free: bool = False  # every error rate of the run was zero
    exposure_note: str = ""  # why an exposure that was due was not computed

    def expected_flips(self) -> dict[str, float] | None:
        """Expected bit flips per data structure: zeros when every error rate was zero, None when
        the exposure was not computed."""
        if self.exposure is None:
            return dict.fromkeys(("weights", "inputs", "outputs", "psums"), 0.0) if self.error_free else None
        found = self.exposure.by_ds
        return {ds: float(found.get(ds, 0.0)) for ds in ("weights", "inputs", "outputs", "psums")}
    instances: dict = field(default_factory=dict)  # component class -> instances (leakage)
    hardware_hash: str = ""  # the hardware without its operating points (simulator.config.identity)
    mac_metrics: dict = field(default_factory=dict)  # MAC config name -> multiplier error metrics (%)

    @property
    def latency_cycles(self) -> int:
        return sum(layer.latency_cycles for layer in self.layers)

    @property
    def latency_ms(self) -> float:
        return self.latency_cycles / (self.clock_ghz * 1e6)

    @property
    def energy_pj(self) -> float:
        """math.fsum of the per-layer totals (layers.csv's energy_pj column)."""
        return fsum(layer.energy_pj for layer in self.layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def utilization(self) -> float:
        cycles = self.latency_cycles
        return self.macs / (cycles * self.peak_macs_per_cycle) if cycles else 0.0

    def energy_by_class(self) -> dict[str, float]:
        """math.fsum per class of the per-layer class energies (layers.csv's energy_pj_* columns)."""
        parts: dict[str, list[float]] = {}
        for layer in self.layers:
            for key, value in layer.energy_by_class().items():
                parts.setdefault(key, []).append(value)
        return {k: fsum(v) for k, v in sorted(parts.items())}
