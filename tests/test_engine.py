"""The replay engine: hand-computed latencies, dependency errors, the watchdog,
determinism and the effect of double buffering."""
from __future__ import annotations

from math import ceil

import pytest

from conftest import small_layers
from simulator import api
from simulator.engine.replay import Replayer, SimulationError
from simulator.errors import AxsimError
from simulator.hw.package import Package
from simulator.mapping.trace import LayerTrace
from simulator.stats.counters import Counters
from simulator.workload import Layer, Workload

PES = ((0, 1), (1, 0), (1, 1))  # three PE routers of tiny's 2x2 NoC, the GB sits at (0, 0)


def chain_trace() -> LayerTrace:
    """DRAM read -> NoP to the global buffer -> NoC multicast to 3 PEs -> compute."""
    tr = LayerTrace("hand", "conv", 4 * 8 * 9 * 4 * 3)
    rd = tr.add("dram_read", ds="inputs", channel=0, bytes=256)
    nop = tr.add("nop", [rd], ds="inputs", bytes=256, src=(0, 0), dsts=((0, 0),), src_buf="dram", dst_buf="gb")
    noc = tr.add("noc", [nop], ds="inputs", bytes=128, chiplet=(0, 0), src=(0, 0), dsts=PES,
                 mode="multicast", src_buf="gb", dst_buf="pe")
    tr.add("compute", [noc], chiplet=(0, 0), pes=3, k=4, c=8, rs=9, pixels=4)
    return tr


def replay(arch, trace: LayerTrace, max_cycles: int | None = None):
    counters = Counters()
    engine = Replayer(Package(arch, counters), max_cycles or arch.max_cycles)
    return engine.run_layer(trace), counters.take()


def test_hand_built_chain_latency(tiny_arch):
    a = tiny_arch
    dram, chip, pe = a.package.dram, a.chiplet, a.chiplet.pe
    gb_bw = chip.global_buffer.bytes_per_cycle  # 2 banks x 64 bits = 16 B/cycle
    # DRAM: 256 B at 16 B/cycle, then the access latency (50)
    t_dram = ceil(256 / dram.channel_bandwidth_bytes_per_cycle) + dram.latency_cycles
    # NoP on a 1x1 package: no hops; max(GB write 256/16, serialization 2048 bits / 64)
    t_nop = max(ceil(256 / gb_bw), ceil(256 * 8 / a.package.nop.link_width_bits))
    # NoC multicast from (0,0): tree (0,0)->(0,1), (0,0)->(1,0), (0,1)->(1,1); farthest PE 2 hops
    t_noc = max(ceil(128 / gb_bw), ceil(128 * 8 / chip.noc.link_width_bits)) + 2 * chip.noc.hop_cycles
    # compute: ceil(k / vector_macs) x ceil(c / lanes) x rs x pixels
    t_compute = ceil(4 / pe.vector_macs) * ceil(8 / pe.lanes) * 9 * 4
    assert (t_dram, t_nop, t_noc, t_compute) == (66, 32, 20, 72)

    timing, counts = replay(a, chain_trace())
    assert timing.start_cycle == 0 and timing.events == 4
    assert timing.latency_cycles == t_dram + t_nop + t_noc + t_compute == 190

    total: dict[str, float] = {}
    for (_, key), value in counts.items():
        total[key] = total.get(key, 0) + value
    assert total["dram.read_bit"] == 256 * 8
    assert total["global_buffer.write_bit"] == 256 * 8
    assert total["global_buffer.read_bit"] == 128 * 8
    assert total["input_buffer.write_bit"] == 128 * 8 * 3
    assert total["noc_link.bit"] == 128 * 8 * 3
    assert total["noc_router.bit"] == 128 * 8 * 4  # 3 tree links + the source router
    assert total["mac.op"] == 4 * 8 * 9 * 4 * 3


def test_chain_through_simulate(tiny_arch):
    result = api.simulate(tiny_arch, traces=[chain_trace()])
    assert result.latency_cycles == 190 and result.macs == 3456
    assert result.layers[0].count("mac.op") == 3456
    assert result.energy_pj > 3456 * tiny_arch.tech_table.energy_pj("mac.op")


def test_independent_transactions_overlap_and_shared_ones_queue(tiny_arch):
    tr = LayerTrace("par", "conv", 0)
    tr.add("dram_read", bytes=160)                           # 10 + 50 cycles
    tr.add("compute", chiplet=(0, 0), pes=1, k=4, c=4, rs=1, pixels=30)  # 30 cycles, another unit
    assert replay(tiny_arch, tr)[0].latency_cycles == 60
    tr2 = LayerTrace("seq", "conv", 0)
    tr2.add("dram_read", bytes=160)
    tr2.add("dram_read", bytes=160)  # same channel: starts when the first has streamed its 10 cycles
    assert replay(tiny_arch, tr2)[0].latency_cycles == 10 + 10 + 50


def test_layers_run_one_after_another(tiny_arch, small_workload):
    result = api.simulate(tiny_arch, small_workload)
    start = 0
    for layer in result.layers:
        assert layer.start_cycle == start and layer.latency_cycles > 0
        start += layer.latency_cycles
    assert result.latency_cycles == start


# --------------------------------------------------------------------------- errors
def test_dependency_cycle(tiny_arch):
    tr = LayerTrace("cyc", "conv", 0)
    tr.add("dram_read", [1], bytes=8)
    tr.add("dram_read", [0], bytes=8)
    tr.add("dram_read", bytes=8)
    with pytest.raises(SimulationError) as info:
        replay(tiny_arch, tr)
    assert isinstance(info.value, AxsimError)
    assert "'cyc'" in str(info.value) and "2 of 3 transactions never started" in str(info.value)


@pytest.mark.parametrize("bad", [5, -1, 0])
def test_dangling_or_self_dependency(tiny_arch, bad):
    tr = LayerTrace("dangling", "conv", 0)
    tr.add("dram_read", bytes=8)
    tr.txns[0].after = (bad,)
    tr.add("dram_read", bytes=8)
    with pytest.raises(SimulationError, match=f"waits for {bad}"):
        replay(tiny_arch, tr)


def test_unknown_mac_configuration(tiny_arch):
    tr = LayerTrace("mac", "conv", 16)
    tr.add("compute", pes=1, k=4, c=4, rs=1, pixels=1, mac="mystery")
    with pytest.raises(AxsimError, match="'mystery'"):
        replay(tiny_arch, tr)


def test_watchdog_from_the_arch_file(write_arch, small_workload):
    arch = api.load_arch(write_arch({"max_cycles": 100}, base="tiny"))
    assert arch.max_cycles == 100
    with pytest.raises(SimulationError) as info:
        api.simulate(arch, small_workload)
    assert "max_cycles = 100" in str(info.value)


def test_watchdog_not_triggered_at_the_limit(tiny_arch):
    timing, _ = replay(tiny_arch, chain_trace(), max_cycles=190)
    assert timing.latency_cycles == 190
    with pytest.raises(SimulationError, match="max_cycles = 189"):
        replay(tiny_arch, chain_trace(), max_cycles=189)


# --------------------------------------------------------------------------- determinism
def test_two_runs_are_identical(tiny_arch, small_workload):
    a = api.simulate(tiny_arch, small_workload, seed=3)
    b = api.simulate(tiny_arch, small_workload, seed=3)
    assert [x.latency_cycles for x in a.layers] == [x.latency_cycles for x in b.layers]
    assert [x.energy_pj for x in a.layers] == [x.energy_pj for x in b.layers]
    assert [x.energy for x in a.layers] == [x.energy for x in b.layers]
    assert a.config_hash == b.config_hash and a.link_stats == b.link_stats


# --------------------------------------------------------------------------- double buffering
def test_double_buffering_is_not_slower(tiny_arch, write_arch):
    single = api.load_arch(write_arch({"chiplet.pe.double_buffering": False}, base="tiny"))
    layers = (*small_layers(), Layer("wide", "conv", 32, 16, 16, 32, 3, 3, pad_h=1, pad_w=1),
              Layer("sum", "add", 16, 8, 8, 16))
    wl = Workload("db", layers, "<tests>")
    # one mapping for both (the search may choose differently per buffer size); the add names one
    # operand, which the on-package dataflow refuses
    with_db = api.simulate(tiny_arch, wl, dataflow="dram", mapping="fixed")
    without = api.simulate(single, wl, dataflow="dram", mapping="fixed")
    for a, b in zip(with_db.layers, without.layers):
        assert b.latency_cycles >= a.latency_cycles, a.name
        # the same work either way
        assert b.macs == a.macs and b.count("mac.op") == a.count("mac.op")
    assert without.latency_cycles > with_db.latency_cycles


# --------------------------------------------------------------------------- one layer on simba
def test_one_small_layer_on_simba(simba_arch):
    layer = Layer("c", "conv", 64, 14, 14, 64, 3, 3, pad_h=1, pad_w=1)
    result = api.simulate(simba_arch, Workload("one", (layer,), "<tests>"))
    (lr,) = result.layers
    assert lr.count("mac.op") >= layer.macs
    assert lr.latency_cycles >= ceil(layer.macs / simba_arch.peak_macs_per_cycle)
    # a DRAM access and at least one NoP hop precede any compute
    assert lr.latency_cycles > simba_arch.package.dram.latency_cycles + simba_arch.package.nop.hop_cycles
    assert lr.count("dram.read_bit") >= 8 * (layer.weight_count + layer.input_count)
