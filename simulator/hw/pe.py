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

The PE buffers bound that rate (a throughput bound over the step, reads
pipelined with the MACs; docs/models.md, "Timed PE buffers"): with ``W_x`` the
bits per cycle of buffer ``x`` (``banks x bank_width_bits``),

    cycles = max(cycles_mac, ceil(B_w / W_w), ceil(B_in / W_in), ceil(B_acc / W_acc)) + t_detect

where ``B_w``, ``B_in``, ``B_acc`` are the bits the step reads from the weight,
input and accumulation buffers (below; the accumulation buffer reads and writes
on separate ports, so its writes do not compete with its reads), and
``t_detect`` is the pipeline stage of leading-block detection of configurations
that select activation blocks dynamically (0 otherwise). Equivalently, per
cycle a buffer must deliver MACs/cycle x bits per operand / reuse: inputs are
reused by the ``vector_macs`` units, weights by the ``pixels`` of the step,
partial sums by the ``lanes x f`` products an adder tree reduces.
Element-wise (vector) steps are not bounded by the buffers.

Buffer accesses counted per step (weights held in the MAC units' registers
for the whole step): weight buffer reads ``k·c·rs`` words; input buffer reads
``ceil(k/vector_macs)·c·rs·pixels`` words (one input vector is broadcast to all
vector units); accumulation buffer read + write of one entry per output and
per ``lanes·f``-channel chunk and kernel position.

Timing is lock-step (every PE of the step is timed by the step's ``k``, ``c``,
``pixels``), but actions follow each PE's own work: when the compute
transaction names the work slice of every PE (``data``, docs/trace-format.md),
PE ``i`` with ``k_i`` output channels, ``c_i`` reduction channels and ``n_i``
output pixels counts ``k_i·c_i·rs·n_i`` MACs (each ``actions_per_mac``),
``k_i·c_i·rs`` weight reads (none when ``n_i = 0``), ``ceil(k_i/vector_macs)·c_i·rs·n_i`` input reads
(and as many ``mac.lead_detect``), ``k_i·n_i·ceil(c_i/(lanes·f))·rs``
accumulation entries read and written; a vector step counts
``vector_ops·k_i·n_i/(k·pixels)`` operations and input reads. Lanes, vector
units and PEs without data for a step do not switch (docs/models.md, "Exact
actions of uneven splits"). Without ``data`` (hand-written traces; vector steps
with ``k = 0`` or ``pixels = 0``) every PE is counted as doing the whole step: the lock-step count.
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
    detect_cycles: int = 0         # leading-block detection stage per compute step (dynamic activations)
    detect_per_input: bool = False  # one ``mac.lead_detect`` action per input-buffer read


EXACT = MacModel()


class PEArray:
    """The PEs of one chiplet, executing compute steps in lock-step."""

    def __init__(self, component: str, pe: PE, counters: Counters):
        self.component = component
        self.vm = pe.vector_macs
        self.lanes = pe.lanes
        self.entry_bits = pe.accumulation_buffer.entry_bits
        self.w_bits_per_cycle = pe.weight_buffer.banks * pe.weight_buffer.bank_width_bits
        self.in_bits_per_cycle = pe.input_buffer.banks * pe.input_buffer.bank_width_bits
        self.acc_bits_per_cycle = pe.accumulation_buffer.banks * pe.accumulation_buffer.bank_width_bits
        self.counters = counters
        self.port = Port(component)
        self.current: str | None = None
        self.macs = 0

    def mac_cycles(self, k: int, c: int, rs: int, pixels: int, model: MacModel) -> int:
        """Cycles of the MAC lanes alone (unbounded buffers)."""
        return ceil_div(k, self.vm) * ceil_div(c, self.lanes * model.lane_factor) * rs * pixels

    def buffer_bits(self, k: int, c: int, rs: int, pixels: int, model: MacModel) -> tuple[float, float, int]:
        """Bits one PE reads from its weight, input and accumulation buffers in a step."""
        w = k * c * rs * model.weight_bits
        inp = ceil_div(k, self.vm) * c * rs * pixels * model.input_bits
        acc = k * pixels * ceil_div(c, self.lanes * model.lane_factor) * rs * self.entry_bits
        return w, inp, acc

    def cycles(self, k: int, c: int, rs: int, pixels: int, vector_ops: int, model: MacModel) -> int:
        if vector_ops:
            return ceil_div(vector_ops, self.vm * self.lanes)
        w, inp, acc = self.buffer_bits(k, c, rs, pixels, model)
        return max(self.mac_cycles(k, c, rs, pixels, model), ceil_div(w, self.w_bits_per_cycle),
                   ceil_div(inp, self.in_bits_per_cycle), ceil_div(acc, self.acc_bits_per_cycle)) + model.detect_cycles

    def compute(self, ready: int, pes: int, k: int, c: int, rs: int, pixels: int, vector_ops: int,
                model: MacModel, work: tuple = ()) -> int:
        """Time one step of ``pes`` PEs in lock-step and count its actions; ``work``: the work slice
        of each PE (identity ``(k0, k1, c0, c1, rows0, rows1, cols0, cols1)``) or empty (every PE
        counted as doing the whole step)."""
        cycles = self.cycles(k, c, rs, pixels, vector_ops, model)
        if self.current is not None and self.current != model.name:
            cycles += model.reconfig_cycles
        self.current = model.name
        start = self.port.reserve(ready, cycles)
        add, sram, comp = self.counters.add, self.counters.add_sram, self.component
        if vector_ops:
            ops = vector_step_ops(work, k, pixels, vector_ops) if work and k and pixels else pes * vector_ops
            add(comp, "vector.op", ops)
            sram(comp, "input_buffer.read_bit", "inputs", ops * model.input_bits)
            return start + cycles
        if work:
            macs, w_words, in_words, acc_entries = step_work(work, rs, self.vm, self.lanes * model.lane_factor)
        else:
            macs = k * c * rs * pixels * pes
            w_words = pes * k * c * rs
            in_words = pes * ceil_div(k, self.vm) * c * rs * pixels
            acc_entries = pes * k * pixels * ceil_div(c, self.lanes * model.lane_factor) * rs
        self.macs += macs
        for key, per in model.actions_per_mac.items():
            add(comp, key, macs * per)
        acc = acc_entries * self.entry_bits
        sram(comp, "weight_buffer.read_bit", "weights", w_words * model.weight_bits)
        sram(comp, "input_buffer.read_bit", "inputs", in_words * model.input_bits)
        sram(comp, "accumulation_buffer.read_bit", "psums", acc)
        sram(comp, "accumulation_buffer.write_bit", "psums", acc)
        if model.detect_per_input:
            add(comp, "mac.lead_detect", in_words)
        return start + cycles


def step_work(work: tuple, rs: int, vm: int, chunk: float) -> tuple[int, int, int, int]:
    """(MACs, weight words, input words, accumulation entries) of the PEs' work slices in one step:
    PE ``i`` does ``k_i·c_i·rs·n_i`` MACs, reads ``k_i·c_i·rs`` weights (none if ``n_i = 0``) and
    ``ceil(k_i/vm)·c_i·rs·n_i`` inputs and accesses ``k_i·n_i·ceil(c_i/chunk)·rs`` accumulation
    entries (``chunk`` = lanes x lane factor)."""
    macs = w = inp = acc = 0
    for s in work:   # slices have stop >= start
        kk, cc, n = s[1] - s[0], s[3] - s[2], (s[5] - s[4]) * (s[7] - s[6])
        if n == 0:
            continue   # no outputs this step (a P part beyond the step's rows): the PE idles, reads no weights
        kc = kk * cc
        macs += kc * n
        w += kc
        inp += -(-kk // vm) * cc * n
        acc += kk * n * ceil_div(cc, chunk)
    return macs * rs, w * rs, inp * rs, acc * rs


def vector_step_ops(work: tuple, k: int, pixels: int, vector_ops: int) -> float:
    """Operations of a vector step whose PEs have the work slices ``work``: ``vector_ops`` per PE
    for ``k x pixels`` outputs, so ``vector_ops·k_i·n_i/(k·pixels)`` for PE ``i``'s outputs."""
    outputs = 0
    for s in work:
        outputs += (s[1] - s[0]) * (s[5] - s[4]) * (s[7] - s[6])
    q, r = divmod(vector_ops * outputs, k * pixels)
    return q if r == 0 else vector_ops * outputs / (k * pixels)
