"""The selection rule of the mapping search (``simulator/mapping/search.py``), with the cost model
and the placement replaced by hand-made stand-ins.

``choose`` combines three lower-level results: the placement-free cost of every candidate
(``cost``/``rank``), the placed costs of a candidate under each placement option (``placed``), and
the producer-aligned partitions (``aligned``/``aligned_slots``/``tile``). Those have their own exact
tests (tests/exact/test_mapping_cost.py, test_placement.py, test_mapping_candidates.py). Here they
return costs written by hand, so that the rule itself -- which candidates are placed, which
placement of each is kept, ties, the floor that skips hopeless candidates, the spill rule, the
switch margin, the shortcuts -- decides a result that is derived below by reading the rule in the
module's docstring:

- the ``PLACED`` = 4 cheapest entries of the ranking (the fixed candidate counts for a position but
  is placed separately), the partitions aligned with a producer, and the fixed candidate are placed;
- for each, the first placement (cheapest first) that does not spill an output the fixed mapping
  keeps on the package is its cost; a candidate whose floor is not below the best so far is skipped;
- the best (strictly lowest rank; ties keep the earlier) replaces the fixed mapping's ``id``
  placement only when ``rank < fixed · (1 - 0.10)``.

Every stand-in checks the arguments it receives (the shape, architecture and pricing arguments it
must be given), so a call with a dropped or swapped argument fails.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

import simulator.mapping.search as search
from simulator.errors import AxsimError
from simulator.mapping.candidates import Candidate
from simulator.mapping.cost import Cost
from simulator.mapping.tiling import MappingError, Partition

SHAPE = SimpleNamespace(name="shape")           # opaque: only passed through
ARCH = SimpleNamespace(total_pes=24, chiplet=SimpleNamespace(pes=6, pe=SimpleNamespace(lanes=2, vector_macs=4)),
                       package=SimpleNamespace(dram=SimpleNamespace(channels=2, channel_bandwidth_bytes_per_cycle=4)))
KW = {"wword": 2.0, "word": 1.0, "inputs_resident": True}


def C(cycles, floor=None, spill=0.0, hops=0.0):
    """A cost of ``cycles`` (the NoP bound) whose floor is ``floor`` (the compute bound)."""
    return Cost(compute=float(cycles if floor is None else floor), dram=0.0, nop=float(cycles), gb=0.0, noc=0.0,
                fill=0.0, spill=float(spill), byte_hops=float(hops))


def T(steps=1, c_tiles=1):
    return SimpleNamespace(steps=steps, loop_order="ks" if c_tiles == 1 else "ksc")


def part(k):
    return Partition(k, 1, 1, 1, 1, 1)


def cand(k, fixed=False, slots=None):
    p = part(k)
    return Candidate(p, T(), f"k{k}p1c1" + ("*" if fixed else ""), slots)


POS = {"id": (0, 1, 2, 3), "swap": (1, 0, 3, 2), "rot": (3, 2, 1, 0), "aligned": (2, 3)}


class Rig:
    """Stand-ins for the lower-level functions ``choose`` calls, recording their calls."""

    def __init__(self, monkeypatch, cands, base, ranked, places, where=None, kw=KW, aligned=None,
                 slots=None, tiles=None):
        self.cands, self.base, self.places, self.where, self.kw = cands, base, places, where, kw
        self.placed_calls, self.cost_calls, self.cand_calls, self.tile_calls = [], [], [], []
        aligned, slots, tiles = aligned or {}, slots or {}, tiles or {}
        word = max(kw.get("wword", 1.0), kw.get("word", 1.0))

        def candidates(shape, arch, w, limit, producers):
            assert shape is SHAPE and arch is ARCH and w == word
            self.cand_calls.append((limit, producers))
            return cands

        def candidates_fixed(shape, arch, w):
            assert shape is SHAPE and arch is ARCH and w == word
            self.cand_calls.append(("fixed",))
            return cands[:1]

        def cost(shape, c, arch, **k):
            assert shape is SHAPE and arch is ARCH and k == kw
            self.cost_calls.append(c.label)
            return base[c.label]

        def rank(shape, cs, arch, **k):
            assert shape is SHAPE and arch is ARCH and k == kw and cs is cands
            by = {c.label: c for c in cs}
            return [(base[lab], by[lab]) for lab in ranked]

        def placed(shape, c, arch, b, w, **k):
            assert shape is SHAPE and arch is ARCH and k == kw and w is where
            assert b is base[c.label]
            self.placed_calls.append(c.label)
            return [(cost_, name, POS[name]) for cost_, name in places[c.label]]

        def aligned_(shape, prod, pes, lanes, vm):
            assert shape is SHAPE and (pes, lanes, vm) == (24, 2, 4)
            return aligned.get(prod.k_parts)

        def aligned_slots(shape, p, prod, prod_slots, ppc, pes):
            assert shape is SHAPE and (ppc, pes) == (6, 24) and aligned[prod.k_parts] == p
            assert prod_slots == ("slots of", prod.k_parts)
            return slots.get(prod.k_parts)

        def tile(shape, p, arch, w):
            assert shape is SHAPE and arch is ARCH and w == word
            self.tile_calls.append(p.k_parts)
            t = tiles.get(p.k_parts)
            if t is None:
                raise MappingError("does not tile")
            return t

        for name, f in [("candidates", candidates), ("candidates_fixed", candidates_fixed), ("cost", cost),
                        ("rank", rank), ("placed", placed), ("aligned", aligned_), ("aligned_slots", aligned_slots),
                        ("tile", tile)]:
            monkeypatch.setattr(search, name, f)

    def choose(self, mode="search", limit=None):
        return search.choose(SHAPE, ARCH, mode, limit, self.where, **self.kw)


# The main scenario: six candidates, ranked (placement-free) A 100, F* 105, B 110, C 120, D 130, E 140.
# Placed: the ranking's first four positions (A, F*, B, C) minus the fixed one -> A, B, C; D (fifth)
# is not placed; E is placed only because it is aligned with a producer. Then the fixed one.
#   A: its cheapest placement spills (150 + 20) while the fixed mapping's id placement does not: skipped;
#      the next one, id 170, is A's cost (the one after it, 1, is never looked at).
#   B: floor 110 < 170 -> placed; its cost 170 ties A's -> A stays (strictly lower replaces).
#   C: floor 170 >= best 170 -> skipped without being placed (it would cost 60).
#   E: floor 100 < 170 -> placed; cost E_COST.
#   F*: fixed_all = rot 190, id 200; its first entry 190 is its candidate cost; the fixed reference is
#       the id entry, 200, so the threshold is 200 · 0.9 = 180.
def main_rig(monkeypatch, e_cost):
    names = ["F", "A", "B", "Cc", "D", "E"]
    ks = dict(zip(names, (1, 2, 3, 4, 5, 6)))
    cs = {n: cand(ks[n], fixed=(n == "F")) for n in names}
    cands = [cs[n] for n in names]
    lab = {n: cs[n].label for n in names}
    base = {lab["F"]: C(105), lab["A"]: C(100), lab["B"]: C(110), lab["Cc"]: C(175, floor=170),
            lab["D"]: C(130), lab["E"]: C(140, floor=100)}
    places = {lab["F"]: [(C(190), "rot"), (C(200), "id")],
              lab["A"]: [(C(150, spill=20), "swap"), (C(170), "id"), (C(1), "rot")],
              lab["B"]: [(C(170), "id")],
              lab["Cc"]: [(C(60), "id")],
              lab["D"]: [(C(10), "id")],
              lab["E"]: [(C(e_cost), "swap")]}
    ranked = [lab[n] for n in ("A", "F", "B", "Cc", "D", "E")]
    # one producer whose aligned partition is E's (it has no slots: only the hint counts)
    where = search.Where(layer="L", producers=((part(60), ("slots of", 60)),))
    rig = Rig(monkeypatch, cands, base, ranked, places, where, aligned={60: cs["E"].part}, slots={})
    return rig, cs


def test_search_places_the_cheapest_four_the_hinted_and_the_fixed(monkeypatch):
    rig, cs = main_rig(monkeypatch, e_cost=165)
    got = rig.choose()
    # placed in ranking order among the kept ones, the fixed one first (its fixed_all), C skipped
    assert rig.placed_calls == [cs["F"].label, cs["A"].label, cs["B"].label, cs["E"].label]
    assert rig.cand_calls == [(None, (part(60),))]
    # E: 165 < 180 -> switch, with its placement and positions
    assert got.candidate is cs["E"] and got.cost == C(165) and got.fixed_cost == C(200)
    assert (got.placement, got.positions, got.considered) == ("swap", POS["swap"], 6)
    assert got.cost.rank_cycles == 165 and not got.is_fixed


def test_a_tie_keeps_the_earlier_candidate_and_the_margin_is_strict(monkeypatch):
    # E at 175: A (170, earlier) stays best; 170 < 180 -> A with its id placement
    rig, cs = main_rig(monkeypatch, e_cost=175)
    got = rig.choose()
    assert got.candidate is cs["A"] and got.cost == C(170) and got.placement == "id" and got.positions == POS["id"]
    assert got.fixed_cost == C(200)


@pytest.mark.parametrize("e_cost", [180.0, 181.0])
def test_no_switch_at_or_above_the_margin(monkeypatch, e_cost):
    """The best candidate (E) at 180 = 200 · (1 - 0.10) or above: the fixed mapping with its id
    placement is kept (A and B are moved above E, C's floor out of reach)."""
    rig, cs = main_rig(monkeypatch, e_cost=e_cost)
    A, B = cs["A"].label, cs["B"].label
    rig.base[cs["Cc"].label] = C(999, floor=999)
    rig.places[A] = [(C(150, spill=20), "swap"), (C(e_cost + 5), "id")]
    rig.places[B] = [(C(e_cost + 5), "id")]
    got = rig.choose()
    assert got.candidate is cs["F"] and got.cost == C(200) and got.fixed_cost == C(200)
    assert (got.placement, got.positions, got.considered) == ("id", None, 6)
    assert got.is_fixed


def test_the_fixed_partition_under_another_placement_can_win(monkeypatch):
    """Every other candidate placed above 180, the fixed partition's rot placement at 150: the
    fixed partition is kept but moved (not ``is_fixed``). Its floor (900) does not skip it: the
    floor rule applies to the other candidates only."""
    rig, cs = main_rig(monkeypatch, e_cost=195)
    F, A, B = cs["F"].label, cs["A"].label, cs["B"].label
    rig.base[cs["Cc"].label] = C(999, floor=999)
    rig.base[F] = C(900, floor=900)
    rig.places[F] = [(C(150), "rot"), (C(200), "id")]
    rig.places[A] = [(C(190), "id")]
    rig.places[B] = [(C(191), "id")]
    got = rig.choose()
    assert got.candidate is cs["F"] and got.placement == "rot" and got.positions == POS["rot"]
    assert got.cost == C(150) and got.fixed_cost == C(200) and not got.is_fixed


def test_a_spill_is_allowed_when_the_fixed_mapping_spills_too(monkeypatch):
    """The fixed id placement spills (200 + 50 = 250, threshold 225): A's spilled placement
    (150 + 20 = 170) is now allowed and is its cost."""
    rig, cs = main_rig(monkeypatch, e_cost=230)
    F = cs["F"].label
    rig.places[F] = [(C(240), "rot"), (C(200, spill=50), "id")]
    got = rig.choose()
    assert got.candidate is cs["A"] and got.placement == "swap" and got.cost == C(150, spill=20)
    assert got.fixed_cost == C(200, spill=50)


def test_fixed_mode_and_a_single_candidate_skip_the_placement(monkeypatch):
    f = cand(1, fixed=True)
    # no pricing arguments: tiles for 1-byte words (the stand-ins check the word they are given)
    rig = Rig(monkeypatch, [f], {f.label: C(50)}, [f.label], {f.label: [(C(70), "id")]}, kw={})
    for mode in ("fixed", "search"):
        got = rig.choose(mode)
        assert got.candidate is f and got.cost == C(50) and got.fixed_cost == C(50)
        assert (got.considered, got.placement, got.positions) == (1, "id", None)
    assert rig.placed_calls == [] and rig.cand_calls == [("fixed",), (None, ())]


def test_fixed_mode_prices_only_the_fixed_partition(monkeypatch):
    f, a = cand(1, fixed=True), cand(2)
    rig = Rig(monkeypatch, [f, a], {f.label: C(50), a.label: C(5)}, [a.label, f.label],
              {f.label: [(C(70), "id")], a.label: [(C(6), "id")]})
    got = search.choose(SHAPE, ARCH, **KW)     # the default mode is "fixed"
    assert got.candidate is f and got.cost == C(50) and got.considered == 1
    assert rig.cost_calls == [f.label] and rig.placed_calls == []


def test_two_candidates_are_searched(monkeypatch):
    """Two candidates (no shortcut): the other one, placed at 60 < 0.9 · 100, replaces the fixed."""
    f, a = cand(1, fixed=True), cand(2)
    rig = Rig(monkeypatch, [f, a], {f.label: C(50), a.label: C(40)}, [a.label, f.label],
              {f.label: [(C(100), "id")], a.label: [(C(60), "swap")]}, kw={"word": 3.0})
    got = rig.choose(limit=7)
    assert got.candidate is a and got.cost == C(60) and got.fixed_cost == C(100)
    assert (got.considered, got.placement, got.positions) == (2, "swap", POS["swap"])
    assert rig.cand_calls == [(7, ())]     # no ``where``: no producers


def test_an_unknown_mode_is_refused():
    with pytest.raises(AxsimError) as e:
        search.choose(SHAPE, ARCH, "greedy")
    assert str(e.value) == "mapping 'greedy': must be one of search, fixed"


# Producers: aligned candidates placed PE by PE. Producer k (its K parts) maps to:
#   1 -> no aligned partition; 2 -> no slots; 3 -> does not tile;
#   4 -> slots in chiplets {0, 1} (PEs 0, 5, 6, 11 // 6), 3 steps: 3 · 2 = 6 > limit 5 -> dropped;
#   5 -> slots in chiplets {0, 1}, 2 steps: 4 <= 5 -> kept (counting PEs, 4 · 2 = 8, would drop it);
#   6 -> slots in chiplet 1 only (PEs 6..11), 5 steps: 5 <= 5 -> kept (at the limit).
# With a limit of 5: the aligned candidates of producers 5 and 6 are priced and placed; 6 is the
# cheapest (its "aligned" placement at 40 < 0.9 · 100), and an aligned candidate keeps no positions
# (its slots say where it runs).
def producer_rig(monkeypatch):
    f, a = cand(1, fixed=True), cand(2)
    aligned = {k: part(10 + k) for k in (2, 3, 4, 5, 6)}
    slots = {3: (0, 1), 4: (0, 5, 6, 11), 5: (0, 5, 6, 11), 6: (6, 7, 8, 9, 10, 11)}
    tiles = {14: T(steps=3), 15: T(steps=2), 16: T(steps=5)}    # by the aligned partition's K parts
    labels = {k: f"k{10 + k}p1c1" for k in aligned}
    base = {f.label: C(50), a.label: C(45), labels[4]: C(1), labels[5]: C(47), labels[6]: C(48)}
    places = {f.label: [(C(100), "id")], a.label: [(C(95), "swap")], labels[4]: [(C(1), "aligned")],
              labels[5]: [(C(80), "aligned")], labels[6]: [(C(40), "aligned")]}
    where = search.Where(layer="L", producers=tuple((part(k), ("slots of", k)) for k in (1, 2, 3, 4, 5, 6)))
    rig = Rig(monkeypatch, [f, a], base, [a.label, f.label], places, where, aligned=aligned, slots=slots,
              tiles=tiles)
    return rig, f, a, labels, slots


def test_producer_aligned_candidates_are_placed_within_the_limit(monkeypatch):
    rig, f, a, labels, slots = producer_rig(monkeypatch)
    got = rig.choose(limit=5)
    assert rig.cand_calls == [(5, tuple(part(k) for k in (1, 2, 3, 4, 5, 6)))]
    assert rig.tile_calls == [13, 14, 15, 16]            # producers 3..6 reach the tiling
    assert rig.placed_calls == [f.label, a.label, labels[5], labels[6]]
    assert got.candidate.label == labels[6] and got.candidate.part == part(16)
    assert got.candidate.slots == slots[6] and got.slots == slots[6] and got.candidate.tiling.steps == 5
    assert (got.placement, got.positions, got.cost, got.fixed_cost) == ("aligned", None, C(40), C(100))
    assert got.considered == 2


def test_without_a_limit_every_aligned_candidate_is_placed(monkeypatch):
    rig, f, a, labels, slots = producer_rig(monkeypatch)
    got = rig.choose(limit=None)
    # producer 4's candidate (placed at 1) wins; later ones are skipped by the floor (47, 48 >= 1)
    assert rig.placed_calls == [f.label, a.label, labels[4]]
    assert got.candidate.label == labels[4] and got.cost == C(1) and got.candidate.slots == slots[4]


def test_meta_records_the_choice():
    """The run-folder fields of a choice, each from its definition: the label without the fixed
    mark, the loop order of the tiling, rounded predictions, the largest bound's name, and the NoP
    byte-hops only when the layer was placed with some."""
    t = SimpleNamespace(steps=4, loop_order="kcs")
    c = Candidate(part(3), t, "k3p1c1*")
    placed_ = Cost(compute=10.0, dram=20.0, nop=30.4, gb=5.0, noc=1.0, fill=2.2, byte_hops=1234.6)
    fixed = Cost(compute=99.6, dram=0.0, nop=0.0, gb=0.0, noc=0.0, fill=0.0)
    got = search.Choice(c, placed_, fixed, 9, "swap", (1, 0)).meta("search")
    assert got == {"mapping_mode": "search", "mapping": "k3p1c1", "mapping_is_fixed": False,
                   "mapping_candidates": 9, "placement": "swap", "loop_order": "kcs",
                   "predicted_cycles": 33, "predicted_bound": "nop", "predicted_fixed_cycles": 100,
                   "predicted_nop_byte_hops": 1235}
    plain = search.Choice(c, fixed, fixed, 1).meta("fixed")
    assert plain == {"mapping_mode": "fixed", "mapping": "k3p1c1", "mapping_is_fixed": True,
                     "mapping_candidates": 1, "placement": "id", "loop_order": "kcs",
                     "predicted_cycles": 100, "predicted_bound": "compute", "predicted_fixed_cycles": 100}
