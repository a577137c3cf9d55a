"""The package's network seam with flit-level networks, by hand: a replay on the asymmetric 2x2
package (tests/quad.py) in which the NoP and the chiplets' NoCs (one shared kernel) are busy at the
same time as DRAM reads, transfers submitted while others are in flight, each finish at its
zero-load closed form and counted under its layer; bit flips per flit traversal mapped to the
right link of the right mesh (certain flips, p = 1); which networks are flit-level.

Zero-load latency of F flits over H hops (Dally & Towles' T0 with the injection and ejection
channels, the head entering at creation; tests/exact/test_flit_seam.py):
``T0 = (H + 1)·t_r + (H + 2)·t_w + F - 1``. On the quad package: NoP t_r = 3, t_w = 2, 32-bit
flits; NoC t_r = t_w = 1, 16-bit flits, 2 x 3 PE routers. A transfer with no source buffer
(``src_buf`` empty) starts at its ready cycle. DRAM: 4 B/cycle, latency 7.
"""
from __future__ import annotations

import numpy as np
import pytest

from quad import quad_arch
from simulator.config.arch import Link
from simulator.config.operating import mesh_links
from simulator.engine.replay import Replayer
from simulator.hw.mesh import Mesh
from simulator.hw.network import build
from simulator.hw.package import Package
from simulator.mapping.trace import LayerTrace
from simulator.stats.counters import Counters

FLIT = {"nop": "flit", "noc": "flit"}


def t0_nop(hops: int, flits: int) -> int:
    return (hops + 1) * 3 + (hops + 2) * 2 + flits - 1


def t0_noc(hops: int, flits: int) -> int:
    return (hops + 1) * 1 + (hops + 2) * 1 + flits - 1


def concurrent_layer() -> LayerTrace:
    """T0: NoC of chiplet (0,0), (0,0) -> (0,2), 200 B = 100 flits, 2 hops: 0 -> T0 = 3 + 4 + 99 = 106.
    T1: NoP (0,0) -> (1,0), 16 B = 4 flits, 1 hop: 0 -> 6 + 6 + 3 = 15.
    T2 (after T1): NoC of chiplet (0,0), (1,0) -> (1,2), 16 B = 8 flits, 2 hops (another row than
        T0's, no shared link or router): 15 -> 15 + 3 + 4 + 7 = 29.
    T3: DRAM read of 8 B: 2 cycles + 7 = 9.
    T4 (after T3): NoC of chiplet (0,1), (0,0) -> (0,2), 8 flits: 9 -> 23.
    T5 (after T4): NoC of chiplet (0,1), (1,0) -> (1,2), 8 flits: 23 -> 37.
    T1's finish (NoP) releases T2 on the NoC kernel while T0 and T4 are in flight there, T3's (a
    simpy event) releases T4, and T4's (the kernel's own) releases T5 on the same kernel."""
    tr = LayerTrace("L", "conv", 0)
    tr.add("noc", chiplet=(0, 0), src=(0, 0), dsts=((0, 2),), bytes=200, ds="inputs")
    t1 = tr.add("nop", src=(0, 0), dsts=((1, 0),), bytes=16, ds="inputs")
    tr.add("noc", [t1], chiplet=(0, 0), src=(1, 0), dsts=((1, 2),), bytes=16, ds="inputs")
    t3 = tr.add("dram_read", bytes=8, channel=0, ds="inputs")
    t4 = tr.add("noc", [t3], chiplet=(0, 1), src=(0, 0), dsts=((0, 2),), bytes=16, ds="inputs")
    tr.add("noc", [t4], chiplet=(0, 1), src=(1, 0), dsts=((1, 2),), bytes=16, ds="inputs")
    return tr


EXPECTED = {0: (0, t0_noc(2, 100)), 1: (0, t0_nop(1, 4)), 2: (15, 15 + t0_noc(2, 8)), 3: (0, 9),
            4: (9, 9 + t0_noc(2, 8)), 5: (23, 23 + t0_noc(2, 8))}


def flit_replay(arch, models=FLIT, traces=None, rates=None):
    counters = Counters()
    package = Package(arch, counters, network_model=models)
    if rates is not None:
        assert package.enable_flit_flips(rates, seed=3)
    eng = Replayer(package, arch.max_cycles)
    seen = {}
    eng.on_txn = lambda trace, txn, ready, finish: seen.__setitem__((trace.layer, txn.id), (ready, finish))
    out = list(eng.replay(traces or [concurrent_layer()]))
    return package, counters, out, seen


def test_concurrent_flit_networks_finish_at_zero_load(tmp_path):
    assert (EXPECTED[0][1], EXPECTED[1][1], EXPECTED[2][1], EXPECTED[4][1]) == (106, 15, 29, 23)
    package, counters, out, seen = flit_replay(quad_arch(tmp_path))
    assert {i: v for (_, i), v in seen.items()} == EXPECTED
    (_, timing), = out
    assert (timing.start_cycle, timing.end_cycle, timing.events) == (0, 106, 6)
    # counted under the layer's key: link bits F x width x H, router bits F x width x (H + 1)
    got = counters.take(timing.scope)
    assert got[("chiplet[0,0].noc", "noc_link.bit")] == (100 + 8) * 16 * 2
    assert got[("chiplet[0,0].noc", "noc_router.bit")] == (100 + 8) * 16 * 3
    assert got[("chiplet[0,1].noc", "noc_link.bit")] == (8 + 8) * 16 * 2
    assert got[("chiplet[0,1].noc", "noc_router.bit")] == (8 + 8) * 16 * 3
    assert got[("nop", "nop_link.bit")] == 4 * 32 and got[("nop", "nop_router.bit")] == 4 * 32 * 2
    assert ("chiplet[1,0].noc", "noc_link.bit") not in got and ("chiplet[1,1].noc", "noc_link.bit") not in got
    bits = package.take_link_bits(timing.scope)
    noc = mesh_links(2, 3)
    expect00 = {noc.index(((0, 0), (0, 1))): 1600, noc.index(((0, 1), (0, 2))): 1600,
                noc.index(((1, 0), (1, 1))): 128, noc.index(((1, 1), (1, 2))): 128}
    assert {i: int(b) for i, b in enumerate(bits["chiplet[0,0].noc"]) if b} == expect00
    assert {i: int(b) for i, b in enumerate(bits["chiplet[0,1].noc"]) if b} == {
        noc.index(((0, 0), (0, 1))): 128, noc.index(((0, 1), (0, 2))): 128,
        noc.index(((1, 0), (1, 1))): 128, noc.index(((1, 1), (1, 2))): 128}
    assert {i: int(b) for i, b in enumerate(bits["nop"]) if b} == {mesh_links(2, 2).index(((0, 0), (1, 0))): 128}


def test_the_same_layer_on_the_transaction_model(tmp_path):
    """The same transfers on the link calendars: finish = start + ceil(bits / width) + H·t_hop, with
    no injection/ejection channels: T0 0 + 100 + 2·2 = 104; T1 0 + 4 + 5 = 9; T2 9 + 8 + 4 = 21;
    T4 9 + 8 + 4 = 21; T5 21 + 12 = 33."""
    _, _, out, seen = flit_replay(quad_arch(tmp_path), models={"nop": "transaction", "noc": "transaction"})
    assert {i: v for (_, i), v in seen.items()} == {0: (0, 104), 1: (0, 9), 2: (9, 21), 3: (0, 9),
                                                    4: (9, 21), 5: (21, 33)}


class OneLinkRates:
    """Flip probability 1 at chosen bit positions of chosen links, 0 elsewhere."""

    def __init__(self, certain: dict):
        self.certain = certain  # (network, src, dst) -> bit positions that always flip
        self.asked = set()

    def link(self, network, src, dst):
        self.asked.add((network, tuple(src), tuple(dst)))
        p = np.zeros(8)
        p[list(self.certain.get((network, tuple(src), tuple(dst)), ()))] = 1.0
        return p


def test_flips_of_a_shared_kernel_land_on_the_right_mesh_and_link():
    """Two 2 x 3 meshes of 64-bit links in one kernel. Mesh 1's link (0,0)->(0,1) (link 0 of the
    mesh) flips bit position 3 always; mesh 0's link (1,2)->(1,1) flips positions 0 and 7. A flit
    of 64 bits carries 8 bits of each position, so 2 flits over a link flip 16 bits of each
    certain position; links not crossed, or with p = 0, flip nothing."""
    link = Link(link_width_bits=64, router_latency_cycles=2, link_latency_cycles=1)
    counters = Counters()
    meshes = [Mesh(f"chip{k}.noc", 2, 3, link, "noc_link.bit", "noc_router.bit", counters) for k in range(2)]
    assert meshes[1].links.index(((0, 0), (0, 1))) == 0
    views = build(meshes, link, "flit")
    net = views[0].shared
    assert net.sampled_flips() == {}
    rates = OneLinkRates({("chip1.noc", (0, 0), (0, 1)): [3], ("chip0.noc", (1, 2), (1, 1)): [0, 7]})
    net.enable_flips(rates, seed=1)
    # every router-to-router link of both meshes, under its own mesh's name
    assert rates.asked == {(m.name, a, b) for m in meshes for a, b in m.links}
    views[1].submit(0, (0, 0), ((0, 2),), 16, "multicast", "a")
    views[0].submit(0, (1, 2), ((1, 0),), 16, "multicast", "b")
    net.advance(1000, False)
    got = {k: v.tolist() for k, v in net.sampled_flips().items()}
    assert got == {("chip1.noc", (0, 0), (0, 1)): [0, 0, 0, 16, 0, 0, 0, 0],
                   ("chip0.noc", (1, 2), (1, 1)): [16, 0, 0, 0, 0, 0, 0, 16]}


def test_package_flips_merge_the_nop_and_the_nocs(tmp_path):
    """On the quad package with both networks flit-level: the NoP link (0,0)->(1,0) flips position
    1 (T1: 4 flits of 32 bits, 4 bits per position: 16 flips); chiplet (0,1)'s NoC link
    (1,1)->(1,2) flips position 6 (T5: 8 flits of 16 bits, 2 bits per position: 16 flips)."""
    arch = quad_arch(tmp_path)
    rates = OneLinkRates({("nop", (0, 0), (1, 0)): [1], ("chiplet[0,1].noc", (1, 1), (1, 2)): [6]})
    package, _, _, seen = flit_replay(arch, rates=rates)
    assert {i: v for (_, i), v in seen.items()} == EXPECTED  # flips do not change the timing
    got = {k: v.tolist() for k, v in package.sampled_flips().items()}
    assert got == {("nop", (0, 0), (1, 0)): [0, 16, 0, 0, 0, 0, 0, 0],
                   ("chiplet[0,1].noc", (1, 1), (1, 2)): [0, 0, 0, 0, 0, 0, 16, 0]}


def test_flips_only_where_the_network_is_flit_level(tmp_path):
    arch = quad_arch(tmp_path)
    tx = Package(arch, Counters())
    assert tx.flit_networks() == [] and not tx.enable_flit_flips(OneLinkRates({}), 1)
    assert tx.sampled_flips() is None
    assert not tx.flit_level("nop") and not tx.flit_level("chiplet[0,0].noc")
    nop_only = Package(arch, Counters(), network_model={"nop": "flit"})
    assert nop_only.flit_networks() == [nop_only.nop_net]
    assert nop_only.flit_level("nop") and not nop_only.flit_level("chiplet[1,1].noc")
    assert nop_only.sampled_flips() is None            # flit-level, but not drawing flips
    noc_only = Package(arch, Counters(), network_model={"noc": "flit-unicast"})
    nets = noc_only.flit_networks()
    assert len(nets) == 1 and nets[0] is noc_only.chiplets[(1, 1)].net.shared   # one kernel for 4 NoCs
    assert noc_only.flit_level("chiplet[1,1].noc") and not noc_only.flit_level("nop")
    assert not noc_only.flit_level("chiplet[2,0].noc")  # no such chiplet
    both = Package(arch, Counters(), network_model=FLIT)
    assert both.flit_networks() == [both.nop_net, both.chiplets[(0, 0)].net.shared]
    rates = OneLinkRates({})
    assert both.enable_flit_flips(rates, 1)
    assert both.sampled_flips() == {}
    assert {name for name, _, _ in rates.asked} == {"nop"} | {f"chiplet[{r},{c}].noc" for r in (0, 1) for c in (0, 1)}


@pytest.mark.parametrize("model, multicast", [("flit", "replicate"), ("flit-unicast", "unicast")])
def test_build_passes_the_multicast_mode(model, multicast):
    link = Link(link_width_bits=64, router_latency_cycles=2, link_latency_cycles=1)
    mesh = Mesh("m", 2, 2, link, "noc_link.bit", "noc_router.bit", Counters())
    net, = build([mesh], link, model)
    assert net.stream.cfg.multicast == multicast
    assert net.stream.name == "m" and (net.stream.rows, net.stream.cols) == (2, 2)


def test_a_flit_transfer_released_by_a_dram_read_while_the_networks_are_idle(tmp_path):
    """DRAM read of 8 B: 2 cycles + 7 = 9 (no network busy until then); then a NoC transfer of
    chiplet (1,1), (0,0) -> (0,1), 16 B = 8 flits, 1 hop: 9 + 2 + 3 + 7 = 21; then a compute of
    k = 4, c = 2, rs = 1, 3 pixels on 4 vector MACs x 2 lanes: 3 cycles, 21 -> 24."""
    tr = LayerTrace("idle", "conv", 0)
    rd = tr.add("dram_read", bytes=8, channel=1)
    noc = tr.add("noc", [rd], chiplet=(1, 1), src=(0, 0), dsts=((0, 1),), bytes=16, ds="inputs")
    tr.add("compute", [noc], chiplet=(1, 1), pes=1, k=4, c=2, rs=1, pixels=3)
    _, _, out, seen = flit_replay(quad_arch(tmp_path), traces=[tr])
    assert {i: v for (_, i), v in seen.items()} == {0: (0, 9), 1: (9, 9 + t0_noc(1, 8)), 2: (21, 24)}
    assert (out[0][1].start_cycle, out[0][1].end_cycle) == (0, 24)


def test_a_noc_finish_releases_a_nop_transfer_while_the_nop_is_busy(tmp_path):
    """U0: NoP (0,0) -> (0,1), 400 B = 100 flits, 1 hop: 0 -> 6 + 6 + 99 = 111. U1: NoC of chiplet
    (0,0), (0,0) -> (0,1), 16 B = 8 flits, 1 hop: 0 -> 2 + 3 + 7 = 12. U2 (after U1): NoP
    (1,0) -> (1,1), 16 B = 4 flits (another row than U0's): 12 -> 12 + 15 = 27. The NoP, busy
    until 111, must not run ahead of the NoC's finish at 12 (conservative synchronisation)."""
    tr = LayerTrace("sync", "conv", 0)
    tr.add("nop", src=(0, 0), dsts=((0, 1),), bytes=400, ds="weights")
    u1 = tr.add("noc", chiplet=(0, 0), src=(0, 0), dsts=((0, 1),), bytes=16, ds="inputs")
    tr.add("nop", [u1], src=(1, 0), dsts=((1, 1),), bytes=16, ds="inputs")
    _, _, _, seen = flit_replay(quad_arch(tmp_path), traces=[tr])
    assert {i: v for (_, i), v in seen.items()} == {0: (0, t0_nop(1, 100)), 1: (0, t0_noc(1, 8)),
                                                    2: (12, 12 + t0_nop(1, 4))}


def test_a_flit_layer_ends_at_its_last_finish_while_a_prefetch_is_pending(tmp_path):
    """Layer one: NoC of chiplet (0,0), (0,0) -> (0,1), 8 flits: 0 -> 12. Layer two prefetches a
    DRAM read of 40 B (10 cycles + 7: 0 -> 17) and then computes 3 cycles (17 -> 20). Layer one
    ends at 12, when its own transfer is delivered; layer two opens then (start 12, end 20)."""
    one = LayerTrace("one", "conv", 0)
    one.add("noc", chiplet=(0, 0), src=(0, 0), dsts=((0, 1),), bytes=16, ds="inputs")
    two = LayerTrace("two", "conv", 0)
    rd = two.add("dram_read", bytes=40, ds="weights", early=True)
    two.add("compute", [rd], chiplet=(0, 0), pes=1, k=4, c=2, rs=1, pixels=3)
    _, _, out, seen = flit_replay(quad_arch(tmp_path), traces=[one, two])
    assert seen == {("one", 0): (0, 12), ("two", 0): (0, 17), ("two", 1): (17, 20)}
    assert [(t.start_cycle, t.end_cycle, t.first_cycle) for _, t in out] == [(0, 12, 0), (12, 20, 0)]


@pytest.mark.parametrize("model, finish", [("flit", 22), ("flit-unicast", 16 + 22)])
def test_a_multicast_from_the_global_buffer_on_the_flit_noc(tmp_path, model, finish):
    """Chiplet (1,0): 32 B from the global buffer at (0,1) to the PEs at (1,0) and (1,2). The
    buffer read takes 32 / 8 = 4 cycles (0 -> 4), so the transfer ends no earlier than
    0 + 4 + 2 hops x 2 = 8. XY routes: (0,1)->(0,0)->(1,0) and (0,1)->(0,2)->(1,2), 2 hops each,
    16 flits of 16 bits. Replicated in the routers, both copies leave at once: T0(2, 16) =
    3 + 4 + 15 = 22. As repeated unicast the interface sends the second copy's 16 flits after
    the first's: 16 + 22 = 38. Either way: the buffer is read once (256 bits), each PE's input
    buffer is written 256 bits, 4 links carry 16 flits, and every flit passes the 2 + 1 routers
    of its route (768 router bits per copy)."""
    tr = LayerTrace("mc", "conv", 0)
    tr.add("noc", chiplet=(1, 0), src=(0, 1), dsts=((1, 0), (1, 2)), bytes=32, ds="inputs",
           src_buf="gb", dst_buf="pe")
    _, counters, out, seen = flit_replay(quad_arch(tmp_path), models={"nop": "transaction", "noc": model},
                                         traces=[tr])
    assert seen == {("mc", 0): (0, finish)}
    got = counters.take(out[0][1].scope)
    assert got[("chiplet[1,0].gb", "global_buffer.read_bit")] == 256
    assert got[("chiplet[1,0].pes", "input_buffer.write_bit")] == 2 * 256
    assert got[("chiplet[1,0].noc", "noc_link.bit")] == 4 * 16 * 16
    assert got[("chiplet[1,0].noc", "noc_router.bit")] == 2 * 3 * 16 * 16


def test_flit_network_defaults():
    """The documented defaults of FlitNetwork (simulator/hw/network.py): multicasts replicated in
    the routers, packets of at most 32 flits."""
    from simulator.hw.network import FlitNetwork
    link = Link(link_width_bits=64, router_latency_cycles=2, link_latency_cycles=1)
    net = FlitNetwork([Mesh("m", 2, 3, link, "noc_link.bit", "noc_router.bit", Counters())], link)
    assert net.stream.cfg.multicast == "replicate" and net.stream.max_packet_flits == 32
