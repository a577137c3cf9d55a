"""Technology tables: energy per action and leakage power, each with a source.

Keys are ``<component_class>.<action>``; the engine counts actions under the
same keys and :mod:`simulator.energy` multiplies them after the run.
"""
from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, Strict, StrictStr

from simulator.config.types import Frozen, NonNegFloat, PosFloat, PosInt
from simulator.errors import Problem

Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]  # a finite number (YAML int or float)
Volts = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]


class EnergyEntry(Frozen):
    pj: NonNegFloat = Field(description="energy per action unit, picojoules")
    per: StrictStr = Field(description="the unit counted, e.g. 'bit' or '8-bit MAC'")
    source: StrictStr = Field(min_length=1)


class LeakageEntry(Frozen):
    mw: NonNegFloat = Field(description="leakage power per instance, milliwatts")
    source: StrictStr = Field(min_length=1)


# ----------------------------------------------------------------------------- operating points
class Curve(Frozen):
    """A measured or modelled curve y(x), interpolated log-linearly (straight lines of log y vs x)
    between its points; a segment with a zero end is interpolated linearly. Outside the
    points it is undefined (inputs are checked against the range)."""

    points: tuple[tuple[Number, Number], ...] = Field(min_length=2, description="[x, y] pairs, x increasing")
    source: StrictStr = Field(min_length=1)

    @property
    def x_range(self) -> tuple[float, float]:
        return self.points[0][0], self.points[-1][0]

    def __call__(self, x) -> np.ndarray:
        xs = np.array([p[0] for p in self.points])
        ys = np.array([p[1] for p in self.points])
        x = np.asarray(x, dtype=float)
        i = np.clip(np.searchsorted(xs, x, side="right") - 1, 0, len(xs) - 2)
        x0, x1, y0, y1 = xs[i], xs[i + 1], ys[i], ys[i + 1]
        t = (x - x0) / (x1 - x0)
        with np.errstate(divide="ignore", invalid="ignore"):
            logy = np.exp(np.log(np.where(y0 > 0, y0, 1.0)) * (1 - t) + np.log(np.where(y1 > 0, y1, 1.0)) * t)
        return np.where((y0 > 0) & (y1 > 0), logy, y0 + (y1 - y0) * t)


class BerModel(Frozen):
    """Bit-error rate of a link vs its swing: ``gaussian`` (BER = Q(V_sw / 2 sigma_N)) or a ``table``."""

    model: Literal["gaussian", "table"]
    sigma_n_v: Volts | None = Field(None, description="noise sigma_N in volts (gaussian model)")
    points: tuple[tuple[Number, Number], ...] | None = Field(None, description="[swing_v, ber] (table model)")
    source: StrictStr = Field(min_length=1)

    def curve(self) -> Curve | None:
        return Curve(points=self.points, source=self.source) if self.points else None


class LinkTech(Frozen):
    """Signalling of one link class (``nop_link`` or ``noc_link``)."""

    nominal_swing_v: Volts = Field(description="swing at which the energy table's <class>.bit applies")
    energy_scaling: Literal["swing_squared", "swing_times_vdd"] = Field(
        description="energy per bit proportional to V_sw^2 (separate low-swing supply) or V_sw x V_dd")
    ber: BerModel
    source: StrictStr = Field(min_length=1)


class SramTech(Frozen):
    """SRAM supply scaling: nominal Vdd, bit-cell failure rate and leakage vs Vdd."""

    nominal_vdd_v: Volts = Field(description="supply at which the energy table's buffer entries apply")
    fault_model: Literal["persistent", "transient"] = Field(
        "persistent", description="failing cells are stuck (persistent) or flip on a read (transient)")
    bit_failure_rate: Curve = Field(description="[vdd_v, failure probability per bit cell]")
    leakage_ratio: Curve = Field(description="[vdd_v, leakage power / leakage power at nominal]")
    source: StrictStr = Field(min_length=1)


class DecompressTech(Frozen):
    """Weight decompressor at each PE (docs/compression.md): energy and throughput per output byte."""

    energy_pj_per_byte: NonNegFloat = Field(description="energy per decompressed byte, picojoules")
    bytes_per_cycle: PosFloat = Field(description="decompressed bytes one PE's decompressor produces per cycle")
    source: StrictStr = Field(min_length=1)


class VfTable(Frozen):
    """Voltage-frequency table of the logic: the highest clock the chip reaches at each supply,
    interpolated linearly between its points (outside them the supply is not allowed)."""

    points: tuple[tuple[Number, Number], ...] = Field(min_length=2, description="[vdd_v, max_clock_ghz] pairs")
    source: StrictStr = Field(min_length=1)

    @property
    def vdd_range_v(self) -> tuple[float, float]:
        return self.points[0][0], self.points[-1][0]

    def max_clock_ghz(self, vdd_v: float) -> float:
        return float(np.interp(vdd_v, [p[0] for p in self.points], [p[1] for p in self.points]))

    def min_vdd_v(self, clock_ghz: float) -> float | None:
        """The lowest supply that reaches ``clock_ghz`` (None: no supply in the table does)."""
        vs, fs = [p[0] for p in self.points], [p[1] for p in self.points]
        if clock_ghz > fs[-1]:
            return None
        if clock_ghz <= fs[0]:
            return vs[0]
        return float(np.interp(clock_ghz, fs, vs))


#: Energy classes of on-chip logic whose dynamic energy scales with the chip supply (E ~ V^2).
CORE_CLASSES = ("mac", "vector", "noc_router", "nop_router")
#: Leakage classes of on-chip logic whose leakage follows the chip supply.
CORE_LEAKAGE_CLASSES = ("pe", "nop_router")


class TechTable(Frozen):
    version: int = Field(1, ge=1, le=1)
    name: StrictStr
    description: StrictStr = ""
    node_nm: PosInt
    vdd_v: PosFloat
    energy: dict[StrictStr, EnergyEntry]
    leakage: dict[StrictStr, LeakageEntry] = {}
    signalling: dict[Literal["nop_link", "noc_link"], LinkTech] = Field(
        {}, description="link swing models; absent: links stay at nominal swing, without errors")
    sram: SramTech | None = Field(None, description="SRAM Vdd models; absent: buffers stay at nominal Vdd")
    decompression: DecompressTech | None = Field(None, description="weight decompressor; absent: compressed "
                                                                     "weights cannot be priced")
    vf: VfTable | None = Field(None, description="voltage-frequency table; absent: the chip runs at vdd_v only")

    def energy_pj(self, key: str) -> float:
        return self.energy[key].pj

    def leakage_mw(self, component_class: str) -> float:
        entry = self.leakage.get(component_class)
        return entry.mw if entry else 0.0

    def nominal_swing_v(self, link_class: str) -> float:
        sig = self.signalling.get(link_class)
        return sig.nominal_swing_v if sig is not None else self.vdd_v

    def nominal_vdd_sram_v(self) -> float:
        return self.sram.nominal_vdd_v if self.sram is not None else self.vdd_v

    def swing_range_v(self, link_class: str, vdd_v: float | None = None) -> tuple[float, float] | None:
        """Allowed swings of a link class: (0, supply], narrowed to a BER table's range; None: fixed.
        The supply is ``vdd_v`` (the chip's) or the table's nominal."""
        sig = self.signalling.get(link_class)
        if sig is None:
            return None
        vdd = self.vdd_v if vdd_v is None else vdd_v
        curve = sig.ber.curve()
        lo, hi = curve.x_range if curve is not None else (0.0, vdd)
        return lo, min(hi, vdd)

    def sram_range_v(self) -> tuple[float, float] | None:
        """Allowed SRAM supplies: where both the failure-rate and leakage tables are defined."""
        if self.sram is None:
            return None
        a, b = self.sram.bit_failure_rate.x_range, self.sram.leakage_ratio.x_range
        return max(a[0], b[0]), min(a[1], b[1])


def check_tech(table: TechTable) -> list[Problem]:
    """Rules across keys of a technology table: curve points in order and in range, nominals inside."""
    out: list[Problem] = []

    def curve(path: str, points, y_lo: float, y_hi: float, what: str) -> None:
        xs = [p[0] for p in points]
        if any(b <= a for a, b in zip(xs, xs[1:])):
            out.append(Problem(f"{path}.points", f"{xs}: voltages must increase strictly"))
        for i, (x, y) in enumerate(points):
            if x <= 0:
                out.append(Problem(f"{path}.points[{i}]", f"voltage {x}: must be > 0"))
            if not y_lo <= y <= y_hi:
                out.append(Problem(f"{path}.points[{i}]", f"{what} {y}: must be in [{y_lo}, {y_hi}]"))

    for cls, sig in table.signalling.items():
        path = f"signalling.{cls}"
        if sig.nominal_swing_v > table.vdd_v:
            out.append(Problem(f"{path}.nominal_swing_v", f"{sig.nominal_swing_v} > vdd_v {table.vdd_v}"))
        ber = sig.ber
        if ber.model == "gaussian" and ber.sigma_n_v is None:
            out.append(Problem(f"{path}.ber.sigma_n_v", "missing: the gaussian model needs sigma_N in volts"))
        if ber.model == "table":
            if not ber.points or len(ber.points) < 2:
                out.append(Problem(f"{path}.ber.points", "missing: the table model needs >= 2 [swing_v, ber] points"))
            else:
                curve(f"{path}.ber", ber.points, 0.0, 0.5, "BER")
                lo, hi = ber.points[0][0], ber.points[-1][0]
                if not lo <= sig.nominal_swing_v <= hi:
                    out.append(Problem(f"{path}.nominal_swing_v",
                                       f"{sig.nominal_swing_v}: outside the BER table [{lo}, {hi}] V"))
    if table.vf is not None:
        pts = table.vf.points
        curve("vf", pts, 1e-9, 1e3, "clock (GHz)")
        if any(b[1] < a[1] for a, b in zip(pts, pts[1:])):
            out.append(Problem("vf.points", f"{[p[1] for p in pts]}: the maximum clock must not fall as the "
                                            "supply rises"))
        lo, hi = table.vf.vdd_range_v
        if not lo <= table.vdd_v <= hi:
            out.append(Problem("vdd_v", f"{table.vdd_v}: outside the vf table's range [{lo}, {hi}] V"))
    if table.sram is not None:
        s = table.sram
        curve("sram.bit_failure_rate", s.bit_failure_rate.points, 0.0, 1.0, "failure rate")
        curve("sram.leakage_ratio", s.leakage_ratio.points, 1e-12, 1e12, "leakage ratio")
        rng = table.sram_range_v()
        if not rng[0] <= s.nominal_vdd_v <= rng[1]:
            out.append(Problem("sram.nominal_vdd_v", f"{s.nominal_vdd_v}: outside the tables' range "
                                                     f"[{rng[0]}, {rng[1]}] V"))
    return out


#: Action keys every technology table must price (the engine counts these).
REQUIRED_ENERGY_KEYS = (
    "mac.op",
    "vector.op",
    "weight_buffer.read_bit", "weight_buffer.write_bit",
    "input_buffer.read_bit", "input_buffer.write_bit",
    "accumulation_buffer.read_bit", "accumulation_buffer.write_bit",
    "global_buffer.read_bit", "global_buffer.write_bit",
    "noc_router.bit", "noc_link.bit",
    "nop_router.bit", "nop_link.bit",
    "dram.read_bit", "dram.write_bit",
)
