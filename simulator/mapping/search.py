"""Choosing a layer's mapping: candidates -> cost -> the one the mapper emits.

``fixed``: today's partition (K, then P, then C; :func:`simulator.mapping.tiling.partition`).
``search``: the candidate with the lowest predicted latency
(:func:`simulator.mapping.cost.cost`), kept only when its prediction beats the fixed
partition's by more than ``SWITCH_MARGIN`` (the cost model is a bound model with a
measured error, docs/validation.md "Mapping search"; a smaller predicted gain is within
that error and the fixed partition is kept).
"""
from __future__ import annotations

from dataclasses import dataclass

from simulator.config.arch import Arch
from simulator.errors import AxsimError
from simulator.mapping.candidates import Candidate, candidates
from simulator.mapping.cost import Cost, cost, rank
from simulator.mapping.tiling import Shape

MAPPINGS = ("search", "fixed")

#: a searched partition replaces the fixed one only when predicted faster by more than this fraction
SWITCH_MARGIN = 0.10

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

    def meta(self, mode: str) -> dict:
        return {"mapping_mode": mode, "mapping": self.candidate.label.rstrip("*"),
                "mapping_is_fixed": self.candidate.is_fixed, "mapping_candidates": self.considered,
                "predicted_cycles": int(round(self.cost.cycles)), "predicted_bound": self.cost.limit,
                "predicted_fixed_cycles": int(round(self.fixed_cost.cycles))}


def reprice(choice: Choice, shape: Shape, arch: Arch, **kw) -> Choice:
    """``choice`` with its predictions recomputed under ``kw`` (once the residency is known)."""
    fixed = choice.fixed_cost if choice.candidate.is_fixed else None
    own = cost(shape, choice.candidate, arch, **kw)
    return Choice(choice.candidate, own, own if fixed is not None else choice.fixed_cost, choice.considered)


def choose(shape: Shape, arch: Arch, mode: str = "fixed", max_compute_txns: int | None = None, **kw) -> Choice:
    """The mapping of a layer of ``shape``; ``kw``: see :func:`simulator.mapping.cost.cost`
    (the tiles are sized for the larger of ``wword`` and ``word``); searched candidates needing
    more than ``max_compute_txns`` compute transactions are not considered."""
    if mode not in MAPPINGS:
        raise AxsimError(f"mapping {mode!r}: must be one of {', '.join(MAPPINGS)}")
    word = max(kw.get("wword", 1.0), kw.get("word", 1.0))
    cands = (candidates(shape, arch, word, max_compute_txns) if mode == "search"
             else candidates_fixed(shape, arch, word))
    fixed = cands[0]
    fixed_cost = cost(shape, fixed, arch, **kw)
    if mode == "fixed" or len(cands) == 1:
        return Choice(fixed, fixed_cost, fixed_cost, len(cands))
    best_cost, best = rank(shape, cands, arch, **kw)[0]
    if best_cost.cycles < fixed_cost.cycles * (1 - SWITCH_MARGIN):
        return Choice(best, best_cost, fixed_cost, len(cands))
    return Choice(fixed, fixed_cost, fixed_cost, len(cands))


def candidates_fixed(shape: Shape, arch: Arch, word: float) -> list[Candidate]:
    from simulator.mapping.candidates import label
    from simulator.mapping.tiling import partition, tile
    pe = arch.chiplet.pe
    part = partition(shape, arch.total_pes, pe.lanes, pe.vector_macs)
    return [Candidate(part, tile(shape, part, arch, word), label(part) + "*")]
