"""Full runs with flit-level networks (--network-model): closed-loop latency of a hand-built
chain, action counts from flit traversals, dependencies honoured, determinism, option errors."""
from __future__ import annotations

from math import ceil

import pytest

from conftest import small_layers
from simulator import api
from simulator.cli import main
from simulator.engine.replay import Replayer
from simulator.errors import AxsimError
from simulator.hw.network import parse_network_model
from simulator.hw.package import Package
from simulator.stats.counters import Counters
from simulator.workload import Workload
from test_engine import PES, chain_trace

FLIT = {"nop": "flit", "noc": "flit"}


def zero_load(hops: int, flits: int, router: int, wire: int) -> int:
    """Head injected at creation: injection channel, hops + 1 routers, hops links, ejection
    channel; the tail F - 1 cycles behind (Dally & Towles' T0 with the interface channels)."""
    return (hops + 1) * router + (hops + 2) * wire + flits - 1


def test_hand_built_chain_closed_loop(tiny_arch):
    """DRAM -> NoP -> NoC multicast -> compute, each step starting when the previous transfer's
    last flit is delivered (multicast as repeated unicast)."""
    a = tiny_arch
    counters = Counters()
    engine = Replayer(Package(a, counters, network_model={"nop": "flit-unicast", "noc": "flit-unicast"}),
                      a.max_cycles)
    timing = engine.run_layer(chain_trace())
    t_dram = 256 // 16 + 50
    nop = a.package.nop  # 1x1 package: source = destination, 256 B = 32 flits of 64 bits, no hop
    t_nop = zero_load(0, 256 * 8 // 64, nop.router_latency_cycles, nop.link_latency_cycles)
    # NoC multicast as repeated unicast from (0,0), 16 flits per copy, in the order of PES:
    # (0,1) and (1,0) at 1 hop, (1,1) at 2 hops; the interface sends one flit per cycle, so the
    # last copy's head leaves at 32 and meets nobody
    noc = a.chiplet.noc
    t_noc = 32 + zero_load(2, 16, noc.router_latency_cycles, noc.link_latency_cycles)
    t_compute = ceil(4 / a.chiplet.pe.vector_macs) * ceil(8 / a.chiplet.pe.lanes) * 9 * 4
    assert (t_nop, t_noc) == (61, 54)
    assert timing.latency_cycles == t_dram + t_nop + t_noc + t_compute
    got = counters.take()
    # link bits: flits x width x hops per copy; router bits: flits x width x (hops + 1)
    hops = [abs(r) + abs(c) for r, c in PES]
    assert got[("chiplet[0,0].noc", "noc_link.bit")] == 16 * 64 * sum(hops)
    assert got[("chiplet[0,0].noc", "noc_router.bit")] == 16 * 64 * sum(h + 1 for h in hops)
    assert got[("nop", "nop_router.bit")] == 32 * 64
    assert ("nop", "nop_link.bit") not in got or got[("nop", "nop_link.bit")] == 0


def test_hand_built_chain_closed_loop_replicated_multicast(tiny_arch):
    """The same chain with the multicast replicated in the routers along the XY tree
    (0,0) -E-> (0,1) -S-> (1,1) and (0,0) -S-> (1,0): every PE's copy leaves at once, so the
    multicast ends when the farthest PE (2 hops) has its 16 flits; 3 tree links instead of 4
    unicast hops, 6 router outputs (3 links + 3 ejections) per flit."""
    a = tiny_arch
    counters = Counters()
    engine = Replayer(Package(a, counters, network_model=FLIT), a.max_cycles)
    timing = engine.run_layer(chain_trace())
    noc, nop = a.chiplet.noc, a.package.nop
    t_dram = 256 // 16 + 50
    t_nop = zero_load(0, 256 * 8 // 64, nop.router_latency_cycles, nop.link_latency_cycles)
    t_noc = zero_load(2, 16, noc.router_latency_cycles, noc.link_latency_cycles)
    t_compute = ceil(4 / a.chiplet.pe.vector_macs) * ceil(8 / a.chiplet.pe.lanes) * 9 * 4
    assert t_noc == 3 * 1 + 4 * 1 + 15
    assert timing.latency_cycles == t_dram + t_nop + t_noc + t_compute
    got = counters.take()
    assert got[("chiplet[0,0].noc", "noc_link.bit")] == 16 * 64 * 3
    assert got[("chiplet[0,0].noc", "noc_router.bit")] == 16 * 64 * 6


@pytest.mark.parametrize("models", [FLIT, {"nop": "flit", "noc": "transaction"},
                                    {"nop": "transaction", "noc": "flit"}])
def test_dependents_start_after_delivery_and_runs_repeat(simba_arch, models):
    wl = Workload("small", small_layers(), "test")
    seen = []

    def on_txn(trace, txn, start, finish):
        seen.append((trace.layer, txn.id, tuple(txn.after), start, finish))

    r1 = api.simulate(simba_arch, wl, network_model=models, on_txn=on_txn, exposure=False)
    finish = {(layer, i): f for layer, i, _, _, f in seen}
    assert len(finish) == sum(layer.events for layer in r1.layers)
    for layer, i, after, start, f in seen:
        assert f >= start
        for d in after:
            assert start >= finish[(layer, d)]
        assert start >= 0
    # the layer ends with its last transaction
    for layer in r1.layers:
        assert layer.start_cycle + layer.latency_cycles == max(f for (n, _), f in finish.items() if n == layer.name)
    r2 = api.simulate(simba_arch, wl, network_model=models, exposure=False)
    assert [la.latency_cycles for la in r1.layers] == [la.latency_cycles for la in r2.layers]
    assert r1.config_hash == r2.config_hash != api.simulate(simba_arch, wl, exposure=False).config_hash


def test_flit_noc_is_not_faster_than_its_zero_load_bound(simba_arch):
    """Every NoC transfer of a flit run takes at least the zero-load time of its farthest copy's
    first packet (no transfer beats the closed form)."""
    wl = Workload("small", small_layers()[:1], "test")
    link = simba_arch.chiplet.noc
    rows = []
    api.simulate(simba_arch, wl, network_model={"nop": "transaction", "noc": "flit"}, exposure=False,
                 on_txn=lambda tr, t, s, f: rows.append((t, s, f)) if t.op == "noc" else None)
    assert rows
    for t, s, f in rows:
        far = max(abs(d[0] - t.src[0]) + abs(d[1] - t.src[1]) for d in t.dsts)  # XY hops, any mode
        flits = ceil(t.bytes * 8 / link.link_width_bits)
        assert f - s >= zero_load(far, min(flits, 32), link.router_latency_cycles, link.link_latency_cycles)


@pytest.mark.parametrize("text,expected", [
    ("flit", FLIT), ("transaction", {"nop": "transaction", "noc": "transaction"}),
    ("flit-unicast", {"nop": "flit-unicast", "noc": "flit-unicast"}),
    ("nop=flit", {"nop": "flit", "noc": "transaction"}), ("noc=flit, nop=transaction",
                                                         {"nop": "transaction", "noc": "flit"})])
def test_parse_network_model(text, expected):
    assert parse_network_model(text) == expected


@pytest.mark.parametrize("text", ["cycle", "nop=cycle", "dram=flit", "nop=flit,nop=transaction", "nop:flit"])
def test_bad_network_model_is_a_clear_error(text):
    allowed = "allowed: flit, flit-unicast, transaction, transaction-ports, or per network"
    with pytest.raises(AxsimError, match=f"--network-model: .* {allowed}"):
        parse_network_model(text)


def test_cli_bad_network_model(tmp_path, capsys):
    code = main(["run", "--arch", "arch/tiny.yaml", "--workload", "workloads/digits_cnn.yaml",
                 "--network-model", "nop=x", "--out", str(tmp_path / "r"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "--network-model: 'nop=x'" in err and "Traceback" not in err


def _mesh(ports: bool):
    from simulator.config.arch import Link
    from simulator.hw.mesh import Mesh
    return Mesh("noc", 2, 2, Link(link_width_bits=64, router_latency_cycles=1, link_latency_cycles=1),
                "l", "r", Counters(), ports=ports)


def test_ports_correction_by_hand():
    """2 x 2 mesh, 64-bit links, hop = 2 cycles, 64 B = 8 flits per destination.
    Gather of (0,1), (1,0), (1,1) into (0,0): the busiest link, (1,0)->(0,0), carries two
    copies (16 cycles); the ejection port of (0,0) takes all three (24 cycles)."""
    pes = ((0, 1), (1, 0), (1, 1))
    hop = 2
    assert _mesh(False).transfer(0, (0, 0), pes, 64, "gather", "noc") == 16 + 2 * hop
    assert _mesh(True).transfer(0, (0, 0), pes, 64, "gather", "noc") == 24 + 2 * hop
    # scatter: the injection port sends every destination's data (24); the links at most 16
    assert _mesh(False).transfer(0, (0, 0), pes, 64, "scatter", "noc") == 16 + 2 * hop
    assert _mesh(True).transfer(0, (0, 0), pes, 64, "scatter", "noc") == 24 + 2 * hop
    # multicast: the tree injects once; no change when alone
    assert _mesh(True).transfer(0, (0, 0), pes, 64, "multicast", "noc") == 8 + 2 * hop
    # the ports are resources: a second transfer injected at (0,0) right after waits for the port
    m = _mesh(True)
    m.transfer(0, (0, 0), ((0, 1),), 64, "scatter", "noc")
    assert m.transfer(0, (0, 0), ((1, 0),), 64, "scatter", "noc") == 8 + 8 + hop
    # ports carry no link energy: the same bits as without ports
    a, b = _mesh(False), _mesh(True)
    a.transfer(0, (0, 0), pes, 64, "gather", "noc")
    b.transfer(0, (0, 0), pes, 64, "gather", "noc")
    assert a.link_bits == b.link_bits and a.link_busy == b.link_busy


def test_cli_run_with_flit_networks(tmp_path):
    import json
    out = tmp_path / "r"
    code = main(["run", "--arch", "arch/tiny.yaml", "--workload", "workloads/digits_cnn.yaml",
                 "--network-model", "flit", "--out", str(out), "--quiet", "--exposure", "off"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["network_model"] == {"nop": "flit", "noc": "flit"}
    ref = tmp_path / "t"
    assert main(["run", "--arch", "arch/tiny.yaml", "--workload", "workloads/digits_cnn.yaml",
                 "--out", str(ref), "--quiet", "--exposure", "off"]) == 0
    base = json.loads((ref / "summary.json").read_text())
    assert "network_model" not in base and base["config_hash"] != summary["config_hash"]


def test_exposure_does_not_depend_on_the_network_model():
    """Data identity and exposure come from the traces and the XY routes, which both models share:
    at a low-swing operating point the expected flips are the same with flit-level networks."""
    arch = api.load_arch("arch/simba_lowpower.yaml")
    wl = Workload("small", small_layers()[:1], "test")
    a = api.simulate(arch, wl, exposure=True)
    b = api.simulate(arch, wl, exposure=True, network_model=FLIT)
    assert a.exposure.rows and a.exposure.rows == b.exposure.rows
    assert a.exposure.links == b.exposure.links
