"""Choosing a layer's mapping: candidates -> cost -> placement -> the one the mapper emits.

``fixed``: today's partition (K, then P, then C; :func:`simulator.mapping.tiling.partition`),
tiling rule and row-major placement.
``search``: the candidates are ranked by :func:`simulator.mapping.cost.cost`; the ``PLACED``
cheapest, and the fixed one, are then placed (:mod:`simulator.mapping.placement`): each
placement option adds the NoP link loads of the layer's flows -- inputs from the chiplets where
they are resident, DRAM reads and writes, partial sums -- and the cheapest (candidate,
placement) is kept only when its prediction beats the fixed mapping's (fixed partition,
row-major placement) by more than ``SWITCH_MARGIN`` (the cost model is a bound model with a
measured error, docs/validation.md "Mapping search"; a smaller predicted gain is within
that error and the fixed mapping is kept).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from simulator.config.arch import Arch
from simulator.errors import AxsimError
from simulator.mapping.candidates import Candidate, aligned, candidates, label
import numpy as np

from simulator.mapping.cost import Cost, cost, crossing, dram_bytes_per_cycle, nest, rank, with_links
from simulator.mapping.placement import aligned_slots, options, output_bytes, slot_chiplets, traffic
from simulator.mapping.tiling import MappingError, Shape, tile

MAPPINGS = ("search", "fixed")

#: a searched mapping replaces the fixed one only when predicted faster by more than this fraction
SWITCH_MARGIN = 0.10
#: how many of the cheapest candidates (by the placement-free cost) are placed
PLACED = 4

#: the model's stated error, measured on the four bundled networks on arch/simba.yaml
#: (benchmarks/mapping_search.py, docs/validation.md "Mapping search"): a layer whose mapping the
#: search changed is at most this fraction slower in simulation than under the fixed partition ...
STATED_RATIO_ERROR = 0.25
#: ... and simulated / predicted latency of every layer lies in this range (the bounds are optimistic)
STATED_PREDICTION_RANGE = (0.5, 3.0)


@dataclass(frozen=True, slots=True)
class Choice:
    candidate: Candidate
    cost: Cost
    fixed_cost: Cost
    considered: int
    placement: str = "id"                     # name of the placement option (placement.options)
    positions: tuple[int, ...] | None = None  # physical chiplet index per logical chiplet; None: row-major

    @property
    def slots(self) -> tuple[int, ...] | None:
        """The package PE of each PE index when the candidate was placed PE by PE (``aligned``)."""
        return self.candidate.slots

    @property
    def is_fixed(self) -> bool:
        return self.candidate.is_fixed and self.placement == "id"

    def meta(self, mode: str) -> dict:
        return {"mapping_mode": mode, "mapping": self.candidate.label.rstrip("*"),
                "mapping_is_fixed": self.is_fixed, "mapping_candidates": self.considered,
                "placement": self.placement, "loop_order": self.candidate.tiling.loop_order,
                "predicted_cycles": int(round(self.cost.cycles)), "predicted_bound": self.cost.limit,
                "predicted_fixed_cycles": int(round(self.fixed_cost.cycles)),
                **({"predicted_nop_byte_hops": int(round(self.cost.byte_hops))} if self.cost.byte_hops else {})}


@dataclass(frozen=True, slots=True)
class Where:
    """Where a layer's inputs live, for the placement: the layer, its batch and per input tensor
    the resident tensor it reads (None: DRAM)."""

    layer: object
    batch: int = 1
    sources: tuple = ()
    room: tuple[float, ...] | None = None   # bytes each chiplet can still keep (None: no residency check)
    producers: tuple = ()                   # partitions of the layers whose resident outputs it reads


def placed(shape: Shape, cand: Candidate, arch: Arch, base: Cost, where: Where | None, only_id: bool = False,
           **kw) -> list[tuple[Cost, str, tuple[int, ...]]]:
    """``cand`` under each placement option, with its link loads: (cost, name, positions), cheapest first
    (ties keep the option order, ``id`` first)."""
    n = nest(shape, cand, arch, kw.get("wword", 1.0), kw.get("word", 1.0))

    def flows(outputs_resident: bool):
        return traffic(shape, cand.part, arch, where.layer if where else None, where.batch if where else 1,
                       where.sources if where else (), kw.get("word", 1.0),
                       input_reloads=n.i_loads / n.i_window if n.i_window else 1.0, w_bytes_pe=n.w_loads,
                       psum_bytes_pe=n.psum_pe, outputs_resident=outputs_resident, slots=cand.slots)
    tr = flows(kw.get("outputs_resident", False))
    if cand.slots is not None:   # already placed: its logical chiplets are the chiplets of its slots
        opts = {"aligned": tuple(slot_chiplets(cand.part.used_pes, arch.chiplet.pes, cand.slots)[1])}
    else:
        opts = options(tr)
    if only_id:
        opts = {"id": opts["id"]}
    room = where.room if where is not None and kw.get("outputs_resident") else None
    spilled = None
    if room is not None:
        outs = output_bytes(shape, cand.part, arch.chiplet.pes, kw.get("word", 1.0), cand.slots)
        free = np.asarray(room)
    out = []
    for name, pos in opts.items():
        if room is not None and np.any(outs > free[list(pos)]):
            # the outputs would not fit: written to DRAM, and read back by their consumers
            if spilled is None:
                spilled = (cost(shape, cand, arch, **{**kw, "outputs_resident": False}), flows(False))
            loads = spilled[1].link_loads(pos)
            c = with_links(spilled[0], loads, spilled[1].received, arch)
            c = replace(c, spill=float(outs.sum()) / dram_bytes_per_cycle(arch))
        else:
            loads = tr.link_loads(pos)
            c = with_links(base, loads, tr.received, arch)
        out.append((c, name, pos))
    return sorted(out, key=lambda x: (x[0].rank_cycles, x[0].byte_hops))


def reprice(choice: Choice, shape: Shape, arch: Arch, **kw) -> Choice:
    """``choice`` with its predictions recomputed under ``kw`` (once the residency is known)."""
    fixed = choice.fixed_cost if choice.is_fixed else None
    own = cost(shape, choice.candidate, arch, **kw)
    placed_ = choice.cost
    if placed_.received >= 0:   # keep the placement's link loads (the spilled outputs are not re-routed)
        own = replace(own, nop=max(own.nop_dram, placed_.links), links=placed_.links, byte_hops=placed_.byte_hops,
                      gb=own.gb_rest + placed_.received / arch.chiplet.global_buffer.bytes_per_cycle,
                      received=placed_.received, **crossing(own, placed_.byte_hops > 0, arch))
    return Choice(choice.candidate, own, own if fixed is not None else choice.fixed_cost, choice.considered,
                  choice.placement, choice.positions)


def choose(shape: Shape, arch: Arch, mode: str = "fixed", max_compute_txns: int | None = None,
           where: Where | None = None, **kw) -> Choice:
    """The mapping of a layer of ``shape``; ``kw``: see :func:`simulator.mapping.cost.cost`
    (the tiles are sized for the larger of ``wword`` and ``word``); searched candidates needing
    more than ``max_compute_txns`` compute transactions are not considered; ``where``: where the
    layer's inputs live (the placement's producer-aware term; None: from DRAM)."""
    if mode not in MAPPINGS:
        raise AxsimError(f"mapping {mode!r}: must be one of {', '.join(MAPPINGS)}")
    word = max(kw.get("wword", 1.0), kw.get("word", 1.0))
    cands = (candidates(shape, arch, word, max_compute_txns, tuple(p for p, _ in where.producers) if where else ())
             if mode == "search"
             else candidates_fixed(shape, arch, word))
    fixed = cands[0]
    fixed_cost = cost(shape, fixed, arch, **kw)
    if mode == "fixed" or len(cands) == 1:
        return Choice(fixed, fixed_cost, fixed_cost, len(cands))
    ranked = rank(shape, cands, arch, **kw)
    pe = arch.chiplet.pe
    hinted = {aligned(shape, p, arch.total_pes, pe.lanes, pe.vector_macs) for p, _ in where.producers} if where else set()
    top = [(c, cand) for i, (c, cand) in enumerate(ranked)
           if not cand.is_fixed and (i < PLACED or cand.part in hinted)] + [(fixed_cost, fixed)]
    for prod, prod_slots in (where.producers if where else ()):
        part = aligned(shape, prod, arch.total_pes, pe.lanes, pe.vector_macs)
        sl = None if part is None else aligned_slots(shape, part, prod, prod_slots, arch.chiplet.pes, arch.total_pes)
        if sl is None:
            continue
        try:
            t = tile(shape, part, arch, word)
        except MappingError:
            continue
        if max_compute_txns is not None and t.steps * len(set(x // arch.chiplet.pes for x in sl)) > max_compute_txns:
            continue
        cand = Candidate(part, t, label(part), sl)
        top.append((cost(shape, cand, arch, **kw), cand))
    fixed_all = placed(shape, fixed, arch, fixed_cost, where, **kw)
    fixed_placed = next(c for c, name, _ in fixed_all if name == "id")
    best = None
    for base, cand in top:
        if best is not None and cand is not fixed and base.floor >= best[0].rank_cycles:
            continue   # no placement can make it cheaper than the best so far
        for c, name, pos in (fixed_all if cand is fixed else placed(shape, cand, arch, base, where, **kw)):
            if c.spill and not fixed_placed.spill:
                continue   # never spill a tensor that the fixed mapping keeps on the package
            if best is None or c.rank_cycles < best[0].rank_cycles:
                best = (c, cand, name, pos)
            break
    if best is None:
        return Choice(fixed, fixed_placed, fixed_placed, len(cands))
    c, cand, name, pos = best
    if c.rank_cycles < fixed_placed.rank_cycles * (1 - SWITCH_MARGIN):
        return Choice(cand, c, fixed_placed, len(cands), name, None if cand.slots is not None else pos)
    return Choice(fixed, fixed_placed, fixed_placed, len(cands))


def candidates_fixed(shape: Shape, arch: Arch, word: float) -> list[Candidate]:
    from simulator.mapping.candidates import label
    from simulator.mapping.tiling import partition, tile
    pe = arch.chiplet.pe
    part = partition(shape, arch.total_pes, pe.lanes, pe.vector_macs)
    return [Candidate(part, tile(shape, part, arch, word), label(part) + "*")]
