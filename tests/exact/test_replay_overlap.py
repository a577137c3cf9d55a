"""The replay engine's layer overlap and prefetch bookkeeping, by hand: a three-layer chain with an
empty layer (a fused add) in between, prefetches that wait for one transaction of the previous
layer, non-early transactions of a prefetching layer, the end of a layer whose prefetch finished
before it opened, per-layer action counts under overlapping layers, and the boundary rules.

Rules (docs/models.md, "Engine"): layer ``L`` opens at ``O_L = E_{L-1}`` (the previous layer with
transactions finished). A transaction is ready when its ``after`` (same layer) and ``prev``
(previous layer) transactions have finished; a transaction without ``after`` is also held until
its layer opens, unless it is ``early``, which is held only until ``O_{L-1}``. ``E_L = max(O_L,
max finish)``; ``first_cycle`` is the cycle its first transaction started.

Hardware (``arch/tiny.yaml``): one DRAM channel of 16 B/cycle, latency 50 cycles (a read of b bytes
holds the channel ceil(b/16) cycles and finishes 50 cycles after that); a global-buffer port of
16 B/cycle; one PE array in which a compute step of k = c = 4, rs = 1 takes ``pixels`` cycles
(4 vector MACs x 4 lanes; the buffers are not the bound: weights 128 bits over a 128-bit port,
inputs 32·pixels bits over 64, partial sums 96·pixels bits over 96); a 2 x 2 NoC of 64-bit links,
hop = router 1 + link 1 cycles. Each unit serves requests first come, first served in the order
they are made.
"""
from __future__ import annotations

import pytest

from simulator import api
from simulator.config.operating import mesh_links
from simulator.engine.replay import Replayer, SimulationError
from simulator.hw.package import Package
from simulator.mapping.trace import LayerTrace
from simulator.stats.counters import Counters

NOC_LINK = ((0, 0), (0, 1))


def compute(tr: LayerTrace, after=(), pixels: int = 4, **kw) -> int:
    return tr.add("compute", after, chiplet=(0, 0), pes=1, k=4, c=4, rs=1, pixels=pixels, **kw)


def chain() -> list[LayerTrace]:
    """Layer A, an empty add, layer B (prefetching during A), layer C (prefetching during B).

    Derivation, in the order the requests reach the units (channel = the DRAM channel):

    t=0   A opens. A0 read 160 B: channel 0..10, finish 60. B is read ahead (it has early
          transactions) and B0 (early, 32 B) starts: channel 10..12, finish 62. B2 and B5 wait for
          A's transactions (prev edges).
    t=60  A0 done: A1 compute (30 cycles) 60..90. A0's waiters: B2 (early, prev A0) starts: channel
          60..61, finish 111; B5 (prev A0 and A2) still waits for A2.
    t=62  B0 done: its dependent B1 (NoC transfer, not early but with ``after``) starts before B
          opens: 16 B from the global buffer (1 cycle of the port, 62..63) over the link
          (0,0)->(0,1): 128 bits = 2 flits of 64, finish 62 + max(2, 1) + 1 hop x 2 = 66.
    t=90  A1 done: A2 compute (10 cycles) 90..100. A1's waiters: B3 (not early, no ``after``) is
          now free but waits for B to open; B4 (after B3, prev A1) still waits for B3.
    t=100 A2 done: B5 (early, global-buffer read of 32 B) starts: port 100..102. A ends: E_A = 100.
          The add (no transactions) takes no time: start = end = first = 100.
          B opens (O_B = 100): B3 read 16 B: channel 100..101, finish 151. C is read ahead: C0
          (early, 96 B) starts: channel 101..107, finish 157.
    t=151 B3 done: B4 compute 151..155.  t=155: B ends (E_B = 155); C opens.
    t=157 C0 done: C1 (after C0, prev B4) compute 157..161. E_C = 161.
    """
    a = LayerTrace("A", "conv", 0)
    a0 = a.add("dram_read", bytes=160, ds="inputs")
    a1 = compute(a, [a0], pixels=30)
    compute(a, [a1], pixels=10)
    add = LayerTrace("add", "add", 0)
    b = LayerTrace("B", "conv", 0)
    b0 = b.add("dram_read", bytes=32, ds="weights", early=True)                              # B0
    b.add("noc", [b0], ds="weights", bytes=16, chiplet=(0, 0), src=(0, 0), dsts=((0, 1),),  # B1
          src_buf="gb", dst_buf="pe")
    b.add("dram_read", bytes=16, ds="weights", early=True, prev=(0,))                       # B2
    b3 = b.add("dram_read", bytes=16, ds="inputs", prev=(1,))                               # B3
    compute(b, [b3], prev=(1,))                                                             # B4
    b.add("sram", chiplet=(0, 0), read_bytes=32, ds="weights", early=True, prev=(0, 2))     # B5
    c = LayerTrace("C", "conv", 0)
    c0 = c.add("dram_read", bytes=96, ds="weights", early=True)
    compute(c, [c0], prev=(4,))
    return [a, add, b, c]


EXPECTED = {("A", 0): (0, 60), ("A", 1): (60, 90), ("A", 2): (90, 100),
            ("B", 0): (0, 62), ("B", 1): (62, 66), ("B", 2): (60, 111), ("B", 3): (100, 151),
            ("B", 4): (151, 155), ("B", 5): (100, 102),
            ("C", 0): (100, 157), ("C", 1): (157, 161)}


def replay(arch, traces, max_cycles=None):
    seen = {}
    eng = Replayer(Package(arch, Counters()), max_cycles or arch.max_cycles)
    eng.on_txn = lambda trace, txn, ready, finish: seen.__setitem__((trace.layer, txn.id), (ready, finish))
    return eng, list(eng.replay(traces)), seen


def test_three_layer_chain_cycle_by_cycle(tiny_arch):
    eng, out, seen = replay(tiny_arch, chain())
    assert seen == EXPECTED
    assert [t.layer for t, _ in out] == ["A", "add", "B", "C"]
    rows = [(t.start_cycle, t.end_cycle, t.first_cycle, t.events, t.latency_cycles, t.overlap_cycles)
            for _, t in out]
    assert rows == [(0, 100, 0, 3, 100, 0),
                    (100, 100, 100, 0, 0, 0),     # the add: no time, no events
                    (100, 155, 0, 6, 55, 100),    # B started at 0 (its prefetch), opened at 100
                    (155, 161, 100, 2, 6, 55)]    # C started at 100, opened at 155
    assert eng.events == 3 + 6 + 2
    scopes = [t.scope for _, t in out]
    assert len(set(scopes)) == 4                  # every layer, the add included, has its own key


def test_per_layer_counts_of_overlapping_layers(tiny_arch):
    """Every action counts under the layer whose transaction it is, whenever it ran: A reads
    160 B; B reads 32 + 16 + 16 B from DRAM (two of them while A ran), 16 B (B1) + 32 B (B5) from
    the global buffer and sends 128 bits over the NoC link (0,0)->(0,1) before it opens; C reads
    96 B (while B ran); the add counts nothing. Latencies add up: 100 + 0 + 55 + 6 = 161."""
    result = api.simulate(tiny_arch, traces=chain(), exposure=False)
    a, add, b, c = result.layers
    assert [la.count("dram.read_bit") for la in result.layers] == [160 * 8, 0, (32 + 16 + 16) * 8, 96 * 8]
    assert [la.count("global_buffer.read_bit") for la in result.layers] == [0, 0, (16 + 32) * 8, 0]
    assert [la.count("noc_link.bit") for la in result.layers] == [0, 0, 128, 0]
    assert [la.count("mac.op") for la in result.layers] == [16 * 30 + 16 * 10, 0, 16 * 4, 16 * 4]
    lid = mesh_links(2, 2).index(NOC_LINK)
    assert int(b.link_bits["chiplet[0,0].noc"][lid]) == 128
    assert {k: int(v.sum()) for k, v in b.link_bits.items()} == {"nop": 0, "chiplet[0,0].noc": 128}
    for other in (a, add, c):
        assert all(int(bits.sum()) == 0 for bits in other.link_bits.values())
    assert [(la.start_cycle, la.latency_cycles, la.first_cycle) for la in result.layers] == [
        (0, 100, 0), (100, 0, 100), (100, 55, 0), (155, 6, 100)]
    assert result.latency_cycles == 161


def test_a_prefetch_that_ends_before_its_layer_opens_adds_no_cycles(tiny_arch):
    """Layer two is one early read of 16 B: channel 10..11 (behind layer one's read), finish 61,
    before layer one ends at 90 (read 0..60, compute 60..90). E_two = max(O_two = 90, 61) = 90."""
    one = LayerTrace("one", "conv", 0)
    rd = one.add("dram_read", bytes=160)
    compute(one, [rd], pixels=30)
    two = LayerTrace("two", "conv", 0)
    two.add("dram_read", bytes=16, early=True)
    _, out, seen = replay(tiny_arch, [one, two])
    assert seen[("two", 0)] == (0, 61)
    t = out[1][1]
    assert (t.start_cycle, t.end_cycle, t.first_cycle, t.latency_cycles, t.overlap_cycles) == (90, 90, 0, 0, 90)


def test_a_layer_opens_when_the_previous_one_ends_not_when_a_prefetch_ends(tiny_arch):
    """Layer two's early read of 96 B queues behind layer one's 160 B read: channel 10..16, finish
    66, after layer one's last finish (read 0..60, compute 60..62). Layer two opens at 62 (its
    compute waits for the read: 66..70), not when the simulation has nothing left to do."""
    one = LayerTrace("one", "conv", 0)
    rd = one.add("dram_read", bytes=160)
    compute(one, [rd], pixels=2)
    two = LayerTrace("two", "conv", 0)
    w = two.add("dram_read", bytes=96, early=True)
    compute(two, [w])
    _, out, seen = replay(tiny_arch, [one, two])
    assert seen == {("one", 0): (0, 60), ("one", 1): (60, 62), ("two", 0): (0, 66), ("two", 1): (66, 70)}
    assert [(t.start_cycle, t.end_cycle) for _, t in out] == [(0, 62), (62, 70)]


def test_two_prev_edges_both_count(tiny_arch):
    """An early global-buffer read (32 B: 2 cycles) that waits for two transactions of the previous
    layer, finishing at 60 (read) and 90 (compute), starts at 90, not at 60."""
    one = LayerTrace("one", "conv", 0)
    rd = one.add("dram_read", bytes=160)
    compute(one, [rd], pixels=30)
    two = LayerTrace("two", "conv", 0)
    two.add("sram", chiplet=(0, 0), read_bytes=32, early=True, prev=(1, 0))
    _, _, seen = replay(tiny_arch, [one, two])
    assert seen[("two", 0)] == (90, 92)


def test_watchdog_allows_a_finish_at_max_cycles(tiny_arch):
    """A 16 B read finishes at 1 + 50 = 51: allowed with max_cycles = 51, an error with 50."""
    tr = LayerTrace("w", "conv", 0)
    tr.add("dram_read", bytes=16)
    _, out, _ = replay(tiny_arch, [tr], max_cycles=51)
    assert out[0][1].end_cycle == 51
    with pytest.raises(SimulationError):
        replay(tiny_arch, [tr], max_cycles=50)


def test_a_transaction_waiting_for_itself_is_an_error(tiny_arch):
    tr = LayerTrace("s", "conv", 0)
    tr.add("dram_read", bytes=8)
    tr.add("dram_read", [1], bytes=8)
    with pytest.raises(SimulationError) as info:
        replay(tiny_arch, [tr])
    assert str(info.value) == ("layer 's': transaction 1 waits for 1, which is not an earlier transaction "
                               "of the layer (0..1)")


@pytest.mark.parametrize("bad", [2, -1])
def test_prev_edges_must_name_a_transaction_of_the_previous_layer(tiny_arch, bad):
    """The previous layer has transactions 0 and 1: 2 (= its size) and -1 are out of range; 0 is
    in range (the second layer's read waits for it: 60 -> 60 + 1 + 50 = 111)."""
    one = LayerTrace("one", "conv", 0)
    rd = one.add("dram_read", bytes=160)
    compute(one, [rd], pixels=30)
    two = LayerTrace("two", "conv", 0)
    two.add("dram_read", bytes=16, early=True, prev=(0,))
    _, _, seen = replay(tiny_arch, [one, two])
    assert seen[("two", 0)] == (60, 111)
    two.txns[0].prev = (bad,)
    with pytest.raises(SimulationError) as info:
        replay(tiny_arch, [one, two])
    assert str(info.value) == (f"layer 'two': transaction 0 waits for {bad} of the previous layer 'one', "
                               "which has transactions 0..1")
