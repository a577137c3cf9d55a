"""The weight-prefetch rule (simulator/mapping/prefetch.py) on hand-made chains into two chiplets
with different rooms, called load by load as the mapper does; every expectation follows the rule in
the module's docstring (F(x) = budget - held(x); fit or wait for the oldest chains' NoC transfers;
not prefetched when larger than F(x) on a destination or without a NoC leg there; the PE-buffer
slot of load j waits for the previous layer's load m + j - b)."""
from __future__ import annotations

from types import SimpleNamespace

from simulator.mapping.prefetch import Prefetch
from simulator.mapping.trace import LayerTrace

X, Y, Z = (0, 0), (0, 1), (1, 1)


def arch(double=True):
    return SimpleNamespace(chiplet=SimpleNamespace(pe=SimpleNamespace(double_buffering=double)))


class Held:
    """A stand-in for Residency: its budget and, at each ``take_peak``, the next of ``peaks``."""

    def __init__(self, budget, *peaks):
        self.budget_bytes, self.peaks = budget, list(peaks)

    def take_peak(self):
        return dict(self.peaks.pop(0))


def chain(tr, nbytes, dsts, legs=None, root_after=()):
    """A DRAM read, a NoP multicast to ``dsts``, a NoC transfer on each chiplet of ``legs``;
    returns (first id, {chiplet: NoC id})."""
    first = len(tr.txns)
    rd = tr.add("dram_read", root_after, ds="weights", bytes=nbytes)
    nop = tr.add("nop", [rd], ds="weights", bytes=nbytes, src=(1, 0), dsts=tuple(dsts), src_buf="dram", dst_buf="gb")
    ids = {c: tr.add("noc", [nop], ds="weights", bytes=nbytes, chiplet=c, src_buf="gb", dst_buf="pe")
           for c in (dsts if legs is None else legs)}
    return first, ids


def test_two_destinations_each_with_its_room():
    """Budget 1000; held while the previous layer runs: X 600, Y 100 -> F(X) = 400, F(Y) = 900, F(Z) = 1000.
    c1 300 B -> X, Y: fits both (300 <= 400, 300 <= 900): early.
    c2 200 B -> Y: 500 <= 900: early.
    c3 150 B -> X, Y: X 300 + 150 > 400 -> X releases c1 (then 150); Y 650 <= 900: waits for c1's X leg.
    c4 500 B -> X, Y: 500 > F(X) = 400: not prefetched (waiting).
    c5 100 B -> X, Z with a NoC leg on X only: not prefetched.
    c6 100 B -> Y whose DRAM read waits for something inside the layer: not a chain, left alone.
    c7 450 B -> Y: 650 + 450 > 900 -> releases c1 (350 + 450 = 800): waits for c1's Y leg.
    c8 400 B -> X, Y: X 150 + 400 > 400 -> releases c3 (400); Y 800 + 400 > 900 -> releases c2 (1000),
       then c3 (850): waits for c3's X leg, c2's and c3's Y legs (sorted ids)."""
    pre = Prefetch(arch(), Held(1000, {X: 600, Y: 100}))
    pre.end({})
    pre.begin()
    tr = LayerTrace("l", "conv", 0)
    marks = []
    for nbytes, dsts, legs, after in [(300, (X, Y), None, ()), (200, (Y,), None, ()), (150, (X, Y), None, ()),
                                      (500, (X, Y), None, ()), (100, (X, Z), (X,), ()), (100, (Y,), None, (0,)),
                                      (450, (Y,), None, ()), (400, (X, Y), None, ())]:
        first, ids = chain(tr, nbytes, dsts, legs, after)
        pre.mark(tr, first, {}, [])
        marks.append((first, ids))
    reads = [tr.txns[first] for first, _ in marks]
    c1, c2, c3 = (ids for _, ids in marks[:3])
    assert [r.early for r in reads] == [True, True, False, False, False, False, False, False]
    assert [r.after for r in reads] == [(), (), (c1[X],), (), (), (0,), (c1[Y],),
                                        tuple(sorted((c3[X], c2[Y], c3[Y])))]
    assert tr.meta == {"prefetch_bytes": 300 + 200 + 150 + 450 + 400, "prefetch_queued_bytes": 150 + 450 + 400,
                       "prefetch_waiting_bytes": 500 + 100}


def test_the_first_layer_prefetches_nothing_and_a_new_layer_starts_empty():
    """Before any layer has ended there is no previous layer: nothing is marked. After ``end``,
    ``begin`` takes the new peak (X 0 -> F(X) = 500) and forgets the chains counted before: a
    500 B chain of the third layer is early although 500 B were counted in the second."""
    pre = Prefetch(arch(), Held(500, {X: 400}, {X: 0}, {}))
    tr = LayerTrace("l", "conv", 0)
    first, _ = chain(tr, 50, (X,))
    pre.begin()
    pre.mark(tr, first, {}, [])
    assert not tr.txns[first].early and tr.meta == {}
    pre.end({X: [1]})
    pre.begin()                                   # F(X) = 500 - 0
    tr = LayerTrace("m", "conv", 0)
    for _ in range(2):
        first, _ = chain(tr, 250, (X,))
        pre.mark(tr, first, {}, [])
    assert [t.early for t in tr.txns if t.op == "dram_read"] == [True, True]    # 250 + 250 <= 500
    pre.end({X: [2]})
    pre.begin()                                   # the next layer: nothing counted, F(X) = 500 again
    assert pre.room(X) == 500 and pre.room(Y) == 500
    tr = LayerTrace("n", "conv", 0)
    first, _ = chain(tr, 500, (X,))
    pre.mark(tr, first, {}, [])
    assert tr.txns[first].early and tr.txns[first].after == ()


def test_room_and_begin_read_the_residency():
    pre = Prefetch(arch(), Held(700, {X: 650}))
    pre.begin()
    assert (pre.room(X), pre.room(Y)) == (50, 700)
    assert pre.back == 2 and Prefetch(arch(False), Held(1)).back == 1


def test_pe_slot_of_each_load():
    """Previous layer's last users: X [7, 9, 11] (m = 3 loads), Y [20] (m = 1); double buffering
    (b = 2). Load j on a chiplet waits for the user of load m + j - 2 when j < 2 and that index >= 0:
    X j=0 -> 9, j=1 -> 11, j=2 -> none; Y j=0 -> index -1: none, j=1 -> 20; Z (no loads before) none."""
    users = {X: [7, 9, 11], Y: [20]}
    pre = Prefetch(arch(), Held(10_000, {}))
    pre.end(users)
    users[X].append(99)                           # end keeps its own copy
    pre.begin()
    tr = LayerTrace("l", "conv", 0)
    prevs = []
    for loads in ({}, {X: 1, Y: 1}, {X: 2, Y: 2, Z: 0}):
        first, ids = chain(tr, 10, (X, Y, Z))
        pre.mark(tr, first, loads, [])
        prevs.append({c: tr.txns[i].prev for c, i in ids.items()})
    assert prevs == [{X: (9,), Y: (), Z: ()}, {X: (11,), Y: (20,), Z: ()}, {X: (), Y: (), Z: ()}]


def test_single_buffering_waits_for_the_last_user():
    """b = 1: load 0 waits for the user of load m - 1 (the last), load 1 for none."""
    pre = Prefetch(arch(False), Held(10_000, {}))
    pre.end({X: [4, 6]})
    pre.begin()
    tr = LayerTrace("l", "conv", 0)
    prevs = []
    for loads in ({}, {X: 1}):
        first, ids = chain(tr, 10, (X,))
        pre.mark(tr, first, loads, [])
        prevs.append(tr.txns[ids[X]].prev)
    assert prevs == [(6,), ()]


def test_every_chain_of_one_load_is_looked_at():
    """One load with two NoP transfers: the first one's DRAM read waits for a transaction of the layer
    (not a chain: left alone), the second is a chain that fits (early)."""
    pre = Prefetch(arch(), Held(1000, {}))
    pre.end({})
    pre.begin()
    tr = LayerTrace("l", "conv", 0)
    tr.add("sram", chiplet=X)                     # id 0: something inside the layer
    first, _ = chain(tr, 10, (X,), root_after=(0,))
    second, _ = chain(tr, 20, (X,))
    pre.mark(tr, first, {}, [])
    assert (tr.txns[first].early, tr.txns[first].after) == (False, (0,))
    assert tr.txns[second].early and tr.meta == {"prefetch_bytes": 20}
