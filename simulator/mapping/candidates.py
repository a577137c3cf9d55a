"""Candidate mappings of one layer: partitions of K, P and C across the package's PEs.

The first step of the per-layer mapping search (candidates -> cost -> emission):
this module only enumerates; :mod:`simulator.mapping.cost` ranks without
emitting a transaction, and :class:`simulator.mapping.weight_stationary.WeightStationaryMapper`
emits the chosen one.

A candidate splits the dimensions greedily in one of the orders of (K, P, C),
each split capped by a fraction 1, 1/2, 1/4, ... of the PEs still free, with the
same floors as :func:`simulator.mapping.tiling.partition` (at least ``vector_macs``
output channels per PE; C split only for layers with weights, keeping at least one
full vector of ``lanes`` channels per part); partitions aligned with the producers of
the layer's resident inputs come first (:func:`aligned`). The fixed mapping (K, then P,
then C, uncapped) is always the first candidate. Within a PE, the tile sizes follow
:func:`simulator.mapping.tiling.tile`, and each partition is offered under the tiling
rule's loop order and, where there is a choice, the other one (:func:`loop_orders`).
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations
from math import ceil

from simulator.config.arch import Arch
from simulator.mapping.tiling import MappingError, Partition, Shape, Tiling, _split, partition, tile

#: the caps tried for each dimension's split, as divisors of the PEs still free
CAP_DIVISORS = (1, 2, 4, 8, 16)
ORDERS = tuple("".join(o) for o in permutations("kpc"))


@dataclass(frozen=True, slots=True)
class Candidate:
    part: Partition
    tiling: Tiling
    label: str          # e.g. "k64p9c1": parts of K, P and C
    slots: tuple[int, ...] | None = None   # package PE of each PE index (aligned placement); None: placed later

    @property
    def is_fixed(self) -> bool:
        return self.label.endswith("*")


def label(part: Partition) -> str:
    return f"k{part.k_parts}p{part.p_parts}c{part.c_parts}"


def _greedy(shape: Shape, pes: int, lanes: int, vector_macs: int, order: str, caps: dict[str, int]) -> Partition:
    sizes = {"k": shape.k, "p": shape.p, "c": shape.c_red}
    parts = {"k": 1, "p": 1, "c": 1}
    free = pes
    for dim in order:
        if dim == "k":
            want = ceil(shape.k / vector_macs)
        elif dim == "p":
            want = shape.p
        else:
            want = shape.c_red // lanes if shape.has_weights and shape.c_red >= 2 * lanes else 1
        n = max(1, min(want, free // caps[dim]))
        _, parts[dim] = _split(sizes[dim], n)
        free = max(1, free // parts[dim])
    k_pe, k_parts = _split(shape.k, parts["k"])
    p_pe, p_parts = _split(shape.p, parts["p"])
    c_pe, c_parts = _split(shape.c_red, parts["c"])
    return Partition(k_parts, p_parts, c_parts, k_pe, p_pe, c_pe)


def aligned(shape: Shape, producer: Partition, pes: int, lanes: int, vector_macs: int) -> Partition | None:
    """The partition whose parts read what one producer part wrote: the producer's rows per part
    (divided by this layer's stride), and its K parts as this layer's channel parts (K for pool, add and depthwise layers, C for dense ones,
    while every C part keeps ``lanes`` channels), K split over the PEs left. None: no such split."""
    rows = max(1, producer.p_pe // shape.stride_h)   # output rows whose inputs one producer part holds
    p_pe, p_parts = _split(shape.p, min(shape.p, ceil(shape.p / rows)))
    if shape.has_weights and shape.k_per_group < shape.k:       # grouped: channels follow K
        k_pe, k_parts = _split(shape.k, min(shape.k, producer.k_parts))
        c_pe, c_parts = _split(shape.c_red, 1)
    elif shape.has_weights:
        c_pe, c_parts = _split(shape.c_red, max(1, min(producer.k_parts, shape.c_red // lanes)))
        free = max(1, pes // (p_parts * c_parts))
        k_pe, k_parts = _split(shape.k, max(1, min(ceil(shape.k / vector_macs), free)))
    else:
        k_pe, k_parts = _split(shape.k, min(shape.k, producer.k_parts))
        c_pe, c_parts = _split(shape.c_red, 1)
    part = Partition(k_parts, p_parts, c_parts, k_pe, p_pe, c_pe)
    return part if part.used_pes <= pes else None


def candidates(shape: Shape, arch: Arch, word_bytes: float = 1.0,
               max_compute_txns: int | None = None, producers: tuple[Partition, ...] = ()) -> list[Candidate]:
    """The fixed partition first (label ending in ``*``), then every distinct partition that tiles
    (and, given ``max_compute_txns``, needs at most that many compute transactions: tile steps
    times chiplets used, the mapper's limit): the partitions aligned with ``producers`` (the
    partitions of the layers whose outputs this layer reads from the package, :func:`aligned`),
    then the greedy splits; each under both loop orders when they differ (:func:`loop_orders`)."""
    pe = arch.chiplet.pe
    pes, lanes, vm = arch.total_pes, pe.lanes, pe.vector_macs
    fixed = partition(shape, pes, lanes, vm)
    out = [Candidate(fixed, tile(shape, fixed, arch, word_bytes), label(fixed) + "*")]
    seen = {fixed}
    parts = [aligned(shape, p, pes, lanes, vm) for p in producers]
    parts += [_greedy(shape, pes, lanes, vm, order, {order[0]: a, order[1]: b, order[2]: 1})
              for order in ORDERS for a in CAP_DIVISORS for b in CAP_DIVISORS[:3]]
    for part in parts:
        if part is None or part in seen or part.used_pes > pes:
            continue
        seen.add(part)
        try:
            t = tile(shape, part, arch, word_bytes)
        except MappingError:
            continue
        for tt in (t,) + loop_orders(shape, part, t, arch):
            if max_compute_txns is not None and tt.steps * ceil(part.used_pes / arch.chiplet.pes) > max_compute_txns:
                continue
            out.append(Candidate(part, tt, label(part)))
    fixed_alt = loop_orders(shape, fixed, out[0].tiling, arch)
    out[1:1] = [Candidate(fixed, tt, label(fixed)) for tt in fixed_alt
                if max_compute_txns is None or tt.steps * ceil(fixed.used_pes / arch.chiplet.pes) <= max_compute_txns]
    return out


def loop_orders(shape: Shape, part: Partition, t: Tiling, arch: Arch) -> tuple[Tiling, ...]:
    """The other loop order of tiling ``t`` (:attr:`Tiling.loop_order`), when there is a choice.

    With several C tiles, the tiling rule puts the C loop outside the spatial tiles (``kcs``:
    weights loaded once per (k, c) tile) when the partial sums of the whole part fit the
    accumulation buffer, ``k_tile · P_pe · Q <= entries``, and innermost (``ksc``: weights
    reloaded for every spatial tile) otherwise. The alternative offered here for a ``ksc``
    tiling is ``kcs`` with the K tile shrunk until the partial sums fit,
    ``k_tile' = entries // (P_pe · Q)``: fewer weight reloads for more input reloads (inputs are
    loaded once per step, and there are ``ceil(K_pe / k_tile')`` K tiles). A ``kcs`` tiling
    already loads every weight once and is kept alone (its ``ksc`` form moves more bytes under
    every term of the cost model)."""
    if t.c_tiles == 1 or t.c_outer:
        return ()
    entries = arch.chiplet.pe.accumulation_buffer.entries
    k = min(t.k_tile, entries // max(1, part.p_pe * shape.q))
    if k < 1:
        return ()
    return (Tiling(k, t.c_tile, t.rows, t.cols, k_tiles=ceil(part.k_pe / k), c_tiles=t.c_tiles,
                   row_tiles=t.row_tiles, col_tiles=t.col_tiles, c_outer=True),)
