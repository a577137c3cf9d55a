"""Candidate mappings of one layer: partitions of K, P and C across the package's PEs.

The first step of the per-layer mapping search (candidates -> cost -> emission):
this module only enumerates; :mod:`simulator.mapping.cost` ranks without
emitting a transaction, and :class:`simulator.mapping.weight_stationary.WeightStationaryMapper`
emits the chosen one.

A candidate splits the dimensions greedily in one of the orders of (K, P, C),
each split capped by a fraction 1, 1/2, 1/4, ... of the PEs still free, with the
same floors as :func:`simulator.mapping.tiling.partition` (at least ``vector_macs``
output channels per PE; C split only for layers with weights, keeping at least one
full vector of ``lanes`` channels per part). The fixed mapping (K, then P, then C,
uncapped) is always the first candidate. Within a PE, the tile sizes and the loop
order (C tiles outside or inside the spatial tiles) follow :func:`simulator.mapping.tiling.tile`
for every candidate.
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
        if max_compute_txns is not None and t.steps * ceil(part.used_pes / arch.chiplet.pes) > max_compute_txns:
            continue
        out.append(Candidate(part, t, label(part)))
    return out
