"""The replay engine with exact expectations: dependency fan-in and fan-out, error messages,
layer start cycles, and the hand-computed finish of a diamond of transactions."""
from __future__ import annotations

import pytest

from simulator.engine.replay import Replayer, SimulationError
from simulator.hw.package import Package
from simulator.mapping.trace import LayerTrace
from simulator.stats.counters import Counters


def engine(arch, max_cycles=None):
    return Replayer(Package(arch, Counters()), max_cycles or arch.max_cycles)


def test_diamond_waits_for_the_slower_branch(tiny_arch):
    """read (16 + 50) -> {compute 30 cycles, sram 8 cycles} -> compute 4 cycles.
    tiny: DRAM 16 B/cycle, latency 50; GB 16 B/cycle; PE 4 vector MACs x 4 lanes."""
    tr = LayerTrace("diamond", "conv", 0)
    rd = tr.add("dram_read", bytes=256)                                         # 0 -> 66
    a = tr.add("compute", [rd], chiplet=(0, 0), pes=1, k=4, c=4, rs=1, pixels=30)  # 66 -> 96
    b = tr.add("sram", [rd], chiplet=(0, 0), read_bytes=128)                     # 66 -> 74
    tr.add("compute", [b, a], chiplet=(0, 0), pes=1, k=4, c=4, rs=1, pixels=4)   # 96 -> 100
    seen = []
    eng = engine(tiny_arch)
    eng.on_txn = lambda trace, txn, ready, finish: seen.append((txn.id, ready, finish))
    timing = eng.run_layer(tr)
    assert sorted(seen) == [(0, 0, 66), (1, 66, 96), (2, 66, 74), (3, 96, 100)]
    assert (timing.start_cycle, timing.end_cycle, timing.events, timing.latency_cycles) == (0, 100, 4, 100)
    assert eng.events == 4


def test_second_layer_starts_at_the_end_of_the_first(tiny_arch):
    eng = engine(tiny_arch)
    one = LayerTrace("one", "conv", 0)
    one.add("dram_read", bytes=160)                          # 10 + 50
    two = LayerTrace("two", "conv", 0)
    two.add("dram_read", bytes=16)                           # 1 + 50
    two.add("dram_read", bytes=16)                           # queues: 1 more cycle
    first, second = eng.run_layer(one), eng.run_layer(two)
    assert (first.start_cycle, first.end_cycle) == (0, 60)
    assert (second.start_cycle, second.end_cycle, second.latency_cycles) == (60, 112, 52)
    assert eng.events == 3


def test_empty_layer_takes_no_time(tiny_arch):
    eng = engine(tiny_arch)
    timing = eng.run_layer(LayerTrace("empty", "conv", 0))
    assert (timing.start_cycle, timing.end_cycle, timing.events) == (0, 0, 0)


def test_dependency_on_the_layer_size_is_dangling(tiny_arch):
    tr = LayerTrace("d", "conv", 0)
    tr.add("dram_read", bytes=8)
    tr.add("dram_read", [2], bytes=8)
    with pytest.raises(SimulationError) as info:
        engine(tiny_arch).run_layer(tr)
    assert str(info.value) == ("layer 'd': transaction 1 waits for 2, which is not an earlier transaction "
                               "of the layer (0..1)")


def test_stuck_transactions_are_listed(tiny_arch):
    tr = LayerTrace("cyc", "conv", 0)
    tr.add("dram_read", bytes=8)                 # 0: runs
    for i in range(1, 8):                        # 1..7 wait for each other in a ring
        tr.add("dram_read", [1 + i % 7], bytes=8)
    tr.add("dram_read", [0, 3], bytes=8)         # 8 waits for the ring (one of its 2 dependencies done)
    with pytest.raises(SimulationError) as info:
        engine(tiny_arch).run_layer(tr)
    assert str(info.value) == ("layer 'cyc': 8 of 9 transactions never started (dependency cycle?); "
                               "first waiting: [1, 2, 3, 4, 5]")


def test_watchdog_message(tiny_arch):
    tr = LayerTrace("w", "conv", 0)
    tr.add("dram_read", bytes=16)                # finishes at 51
    with pytest.raises(SimulationError) as info:
        engine(tiny_arch, max_cycles=50).run_layer(tr)
    assert str(info.value) == ("layer 'w': simulated time passed max_cycles = 50 (transaction 0, dram_read, "
                               "would finish at cycle 51); raise max_cycles in the architecture file if the "
                               "run is really that long")
