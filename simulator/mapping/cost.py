"""Analytical cost of a candidate mapping: the second step of the mapping search.

Ranks candidates (:mod:`simulator.mapping.candidates`) without emitting a
transaction. Every term is a per-layer bound in cycles, from the same loop nest
the mapper emits (lock step: every PE runs the nest of the largest part):

- ``compute``: ``Σ_k ceil(k_t/V) · Σ_c ceil(c_t/(L·f)) · R·S · P_pe · Q`` (V vector MACs, L lanes,
  f the MAC configuration's lane factor), as :meth:`simulator.hw.pe.PeArray.cycles`;
  vector layers ``ceil(K_pe·P_pe·Q·ops/(V·L))``;
- ``dram``: bytes read and written / (channels · channel bytes per cycle); weights once per
  (k, c) tile and group of PEs sharing them (times the spatial tiles when the C loop is
  innermost), inputs once per step and group sharing them, outputs once unless resident;
- ``nop``: the busiest chiplet's received bytes (weights, inputs, and on a chiplet owning
  final parts of a split C, the ``(C_parts − 1)`` partial sums of each of its final PEs) / one link's
  bytes per cycle (an XY multicast tree enters a chiplet through one link), and the bytes
  leaving the DRAM attach chiplets / (attach chiplets · link bytes per cycle);
- ``gb``: the busiest chiplet's global-buffer bytes (writes from the NoP, reads to the NoC,
  output gathers, partial-sum accumulation) / its bytes per cycle;
- ``noc``: the busiest chiplet's bytes through the global-buffer router (two links at the
  corner node) / (2 · link bytes per cycle).

Predicted latency = max of the bounds + a fill term: one compute step, + the DRAM latency if the
layer reads or writes DRAM, + one NoP crossing, ``(rows + cols) · hop`` cycles, if bytes of the
layer cross the NoP (DRAM traffic does; once placed, the link loads tell, :func:`crossing`). The
error of this prediction against the simulated latency is measured in docs/validation.md
("Mapping search").
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from math import ceil

from simulator.config.arch import Arch
from simulator.mapping.candidates import Candidate
from simulator.mapping.tiling import Shape


@dataclass(frozen=True, slots=True)
class Cost:
    compute: float
    dram: float
    nop: float
    gb: float
    noc: float
    fill: float
    links: float = 0.0          # busiest NoP link of the placed layer (cycles; included in ``nop``)
    byte_hops: float = 0.0      # NoP bytes x hops of the placed layer (0: not placed)
    spill: float = 0.0          # DRAM cycles the consumers will spend reading outputs that do not fit
    nop_dram: float = 0.0       # the NoP bound of the DRAM attach chiplets alone
    gb_rest: float = 0.0        # the busiest global buffer's cycles without the bytes it receives
    received: float = -1.0      # placed: the most bytes one chiplet receives over the NoP (-1: not placed)
    steps: int = 1              # tile steps of the loop nest
    fill_nop: float = 0.0       # the NoP crossing in ``fill`` (0: nothing crosses the NoP)

    @property
    def rank_cycles(self) -> float:
        """What the search minimises: the predicted latency plus the consumers' re-read of a spill."""
        return self.cycles + self.spill

    @property
    def bounds(self) -> dict[str, float]:
        return {"compute": self.compute, "dram": self.dram, "nop": self.nop, "gb": self.gb, "noc": self.noc}

    @property
    def floor(self) -> float:
        """A lower bound of :attr:`cycles` under any placement (which changes only ``nop``, no lower
        than ``nop_dram``, and ``gb``, no lower than ``gb_rest``)."""
        fill = self.fill - (self.fill_nop if self.nop_dram == 0 else 0.0)   # a placement may move nothing
        return max(self.compute, self.dram, self.noc, self.nop_dram, self.gb_rest) + fill

    @property
    def limit(self) -> str:
        """The name of the largest bound."""
        b = self.bounds
        return max(b, key=b.get)

    @property
    def cycles(self) -> float:
        return max(self.bounds.values()) + self.fill


def _sizes(total: int, step: int) -> list[int]:
    return [min(step, total - i) for i in range(0, total, step)]


@dataclass(frozen=True, slots=True)
class Nest:
    """Bytes one PE group moves over the loop nest of a candidate."""

    w_loads: float        # weight bytes per PE group (reloaded per spatial tile when C is innermost)
    i_loads: float        # input bytes per PE group (once per step)
    i_window: float       # input bytes of the PE's whole part, read once
    psum_pe: float        # partial-sum bytes a PE of a split C sends to its owner


def nest(shape: Shape, cand: Candidate, arch: Arch, wword: float = 1.0, word: float = 1.0) -> Nest:
    part, t = cand.part, cand.tiling
    ks, cs = _sizes(part.k_pe, t.k_tile), _sizes(part.c_pe, t.c_tile)
    rows, cols = _sizes(part.p_pe, t.rows), _sizes(shape.q, t.cols)
    spatial = len(rows) * len(cols)
    w_loads = 0.0
    if shape.has_weights:
        per_kc = sum(ceil(k * c * shape.rs * wword) for k in ks for c in cs)
        w_loads = per_kc * (1 if (t.c_tiles == 1 or t.c_outer) else spatial)
    win = sum(shape.in_rows(r) for r in rows) * sum(shape.in_cols(c) for c in cols)
    i_loads = sum(shape.in_tensors * shape.in_channels_for(k, c) for k in ks for c in cs) * win * word
    i_window = (shape.in_tensors * shape.in_channels_for(part.k_pe, part.c_pe) * shape.in_rows(part.p_pe)
                * shape.in_cols(shape.q) * word)
    entry = arch.chiplet.pe.accumulation_buffer.entry_bits / 8
    psum_pe = part.k_pe * part.p_pe * shape.q * entry if part.c_parts > 1 else 0.0
    return Nest(w_loads, i_loads, i_window, psum_pe)


def cost(shape: Shape, cand: Candidate, arch: Arch, wword: float = 1.0, word: float = 1.0,
         lane_factor: float = 1.0, inputs_resident: bool = False, outputs_resident: bool = False,
         fused: str | None = None) -> Cost:
    """The bounds of ``cand`` on ``arch``; ``inputs_resident``: the inputs come from global buffers
    over the NoP instead of DRAM; ``outputs_resident``: the outputs stay in the global buffers;
    ``fused``: a residual add fused into the write-back whose other operand comes from ``"dram"``
    or over the ``"nop"`` (one output-sized tensor more, read twice and written once in the
    global buffers)."""
    part, t = cand.part, cand.tiling
    chip, pkg = arch.chiplet, arch.package
    pe = chip.pe
    vm, lanes = pe.vector_macs, pe.lanes
    ppc = chip.pes
    ks, cs = _sizes(part.k_pe, t.k_tile), _sizes(part.c_pe, t.c_tile)
    if shape.has_weights:
        compute = (sum(ceil(k / vm) for k in ks) * sum(ceil(c / (lanes * lane_factor)) for c in cs)
                   * shape.rs * part.p_pe * shape.q)
        step = ceil(t.k_tile / vm) * ceil(t.c_tile / (lanes * lane_factor)) * shape.rs * t.rows * t.cols
    else:
        compute = ceil(part.k_pe * part.p_pe * shape.q * shape.vector_ops_per_output / (vm * lanes))
        step = ceil(t.k_tile * t.rows * t.cols * shape.vector_ops_per_output / (vm * lanes))
    n = nest(shape, cand, arch, wword, word)
    w_loads, i_loads = n.w_loads, n.i_loads
    used = part.used_pes
    pes_here = min(ppc, used)
    if cand.slots is not None:   # placed PE by PE: the most PEs one chiplet runs
        pes_here = Counter(x // ppc for x in cand.slots).most_common(1)[0][1]
    shared = shape.has_weights and shape.k_per_group >= shape.k
    w_groups = used if part.p_parts == 1 else part.k_parts * part.c_parts
    i_groups = part.p_parts * part.c_parts if shared else used
    w_groups_chip = pes_here if part.p_parts == 1 else min(pes_here, part.k_parts * part.c_parts)
    i_groups_chip = min(pes_here, ceil(pes_here / part.k_parts)) if shared else pes_here
    out_bytes = shape.k * shape.p * shape.q * word
    psum_pe = n.psum_pe
    out_chip = pes_here * part.k_pe * part.p_pe * shape.q * word  # final outputs held by one chiplet
    # DRAM
    dram_read = (w_groups * w_loads + (0 if inputs_resident else i_groups * i_loads)
                 + (out_bytes if fused == "dram" else 0))
    dram_write = 0 if outputs_resident else out_bytes
    dram_bytes = dram_read + dram_write
    dram = dram_bytes / (pkg.dram.channels * pkg.dram.channel_bandwidth_bytes_per_cycle)
    # NoP
    link_nop = pkg.nop.link_width_bits / 8
    attach = len(set(arch.dram_attach()))
    finals_chip = min(pes_here, part.k_parts) if part.c_parts > 1 else 0  # c = 0 PEs on an owner chiplet
    psum_in = finals_chip * (part.c_parts - 1) * psum_pe  # partial sums an owner chiplet accumulates
    recv = w_groups_chip * w_loads + i_groups_chip * i_loads + psum_in + (out_chip if fused else 0)
    nop = max(recv / link_nop, dram_read / (attach * link_nop), dram_write / (attach * link_nop))
    # global buffer: NoP writes, NoC reads (multicast once, scatter per PE), gathers, psum adds, write-out
    w_noc = pes_here * w_loads if part.p_parts == 1 else w_groups_chip * w_loads
    i_noc = i_groups_chip * i_loads
    gather = pes_here * (psum_pe if psum_pe else part.k_pe * part.p_pe * shape.q * word)
    gb_bytes = (recv + w_noc + i_noc + gather + 2 * psum_in + (0 if outputs_resident else out_chip)
                + (3 * out_chip if fused else 0))
    gb = gb_bytes / chip.global_buffer.bytes_per_cycle
    noc = (w_noc + i_noc + gather) / (2 * chip.noc.link_width_bits / 8)
    hop = pkg.nop.router_latency_cycles + pkg.nop.link_latency_cycles
    # the first step waits for DRAM only if the layer reads or writes DRAM, and for a NoP crossing
    # only if bytes cross the NoP (placed: known from the link loads, :func:`with_links`)
    fill_nop = (pkg.mesh.rows + pkg.mesh.cols) * hop if (recv > 0 or dram_bytes > 0) else 0
    fill = (pkg.dram.latency_cycles if dram_bytes > 0 else 0) + fill_nop + step
    nop_dram = max(dram_read, dram_write) / (attach * link_nop)
    gb_rest = (gb_bytes - recv) / chip.global_buffer.bytes_per_cycle
    return Cost(float(compute), dram, nop, gb, noc, float(fill), nop_dram=nop_dram, gb_rest=gb_rest,
                steps=t.steps, fill_nop=float(fill_nop))


def dram_bytes_per_cycle(arch: Arch) -> float:
    return arch.package.dram.channels * arch.package.dram.channel_bandwidth_bytes_per_cycle


def with_links(c: Cost, loads, received: float, arch: Arch) -> Cost:
    """``c`` under a placement (:mod:`simulator.mapping.placement`): the NoP bound becomes the
    busiest link's bytes / link bytes per cycle (or the DRAM attach chiplets' bound, if larger),
    and the global buffer's the bytes it keeps plus ``received``, the most NoP bytes one global
    buffer receives or sends under this placement (inputs already on the chiplet move nothing)."""
    link = arch.package.nop.link_width_bits / 8
    links = float(loads.max()) / link if len(loads) else 0.0
    gb = c.gb_rest + received / arch.chiplet.global_buffer.bytes_per_cycle
    return replace(c, nop=max(c.nop_dram, links), gb=gb, links=links, byte_hops=float(loads.sum()),
                   **crossing(c, float(loads.sum()) > 0, arch),
                   received=received)


def crossing(c: Cost, moves: bool, arch: Arch) -> dict:
    """The fill of ``c`` once its placement is known: the NoP crossing stays only if ``moves`` (a
    link carries bytes of the layer) or the layer reads or writes DRAM (through the NoP)."""
    pkg = arch.package
    nop_fill = (pkg.mesh.rows + pkg.mesh.cols) * (pkg.nop.router_latency_cycles + pkg.nop.link_latency_cycles)
    keep = nop_fill if (moves or c.nop_dram > 0) else 0.0
    return {"fill": c.fill - c.fill_nop + keep, "fill_nop": float(keep)}


def rank(shape: Shape, cands: list[Candidate], arch: Arch, **kw) -> list[tuple[Cost, Candidate]]:
    """``cands`` with their costs, cheapest first (stable: ties keep the candidates' order)."""
    scored = [(cost(shape, c, arch, **kw), c) for c in cands]
    return sorted(scored, key=lambda sc: sc[0].cycles)
