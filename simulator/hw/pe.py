"""PE arrays: vector MAC units timing and action counting.

A PE has ``vector_macs`` vector MAC units of ``lanes`` lanes (Simba: 8 x 8).
Lanes reduce over input channels, vector units over output channels, so a
compute step of ``k`` output channels x ``c`` input channels x ``rs`` kernel
positions x ``pixels`` outputs takes

    cycles = ceil(k / vector_macs) x ceil(c / (lanes x f)) x rs x pixels

where ``f`` is the MAC configuration's throughput factor (1 for exact MACs;
block-wise approximate MACs that compute fewer block products complete more
MACs per lane per cycle). Pooling and element-wise additions use all
``vector_macs x lanes`` units as adders/comparators.

Buffer accesses counted per step (weights held in the MAC units' registers
for the whole step): weight buffer reads ``k·c·rs`` words; input buffer reads
``ceil(k/vector_macs)·c·rs·pixels`` words (one input vector is broadcast to all
vector units); accumulation buffer read + write of one entry per output and
per ``lanes·f``-channel chunk and kernel position.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from simulator.config.arch import PE
from simulator.hw.port import Port, ceil_div
from simulator.stats.counters import Counters


@dataclass(frozen=True)
class MacModel:
    """How one MAC configuration behaves in the PE: throughput, energy actions, storage."""

    name: str = "exact"
    lane_factor: float = 1.0
    actions_per_mac: dict[str, float] = field(default_factory=lambda: {"mac.op": 1.0})
    weight_bits: float = 8.0       # stored bits per weight (block-index bits included)
    input_bits: float = 8.0        # stored bits per activation
    reconfig_cycles: int = 0       # cost of switching the PE array to this configuration


EXACT = MacModel()


class PEArray:
    """The PEs of one chiplet, executing compute steps in lock-step."""

    def __init__(self, component: str, pe: PE, counters: Counters):
        self.component = component
        self.vm = pe.vector_macs
        self.lanes = pe.lanes
        self.entry_bits = pe.accumulation_buffer.entry_bits
        self.counters = counters
        self.port = Port(component)
        self.current: str | None = None
        self.macs = 0

    def cycles(self, k: int, c: int, rs: int, pixels: int, vector_ops: int, model: MacModel) -> int:
        if vector_ops:
            return ceil_div(vector_ops, self.vm * self.lanes)
        return ceil_div(k, self.vm) * ceil_div(c, self.lanes * model.lane_factor) * rs * pixels

    def compute(self, ready: int, pes: int, k: int, c: int, rs: int, pixels: int, vector_ops: int,
                model: MacModel) -> int:
        cycles = self.cycles(k, c, rs, pixels, vector_ops, model)
        if self.current is not None and self.current != model.name:
            cycles += model.reconfig_cycles
        self.current = model.name
        start = self.port.reserve(ready, cycles)
        add, sram, comp = self.counters.add, self.counters.add_sram, self.component
        if vector_ops:
            add(comp, "vector.op", pes * vector_ops)
            sram(comp, "input_buffer.read_bit", "inputs", pes * vector_ops * model.input_bits)
            return start + cycles
        macs = k * c * rs * pixels * pes
        self.macs += macs
        for key, per in model.actions_per_mac.items():
            add(comp, key, macs * per)
        sram(comp, "weight_buffer.read_bit", "weights", pes * k * c * rs * model.weight_bits)
        sram(comp, "input_buffer.read_bit", "inputs", pes * ceil_div(k, self.vm) * c * rs * pixels * model.input_bits)
        acc = pes * k * pixels * ceil_div(c, self.lanes * model.lane_factor) * rs * self.entry_bits
        sram(comp, "accumulation_buffer.read_bit", "psums", acc)
        sram(comp, "accumulation_buffer.write_bit", "psums", acc)
        return start + cycles
