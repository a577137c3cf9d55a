"""Multicast replicated in the routers (XY tree, asynchronous branches): every destination gets
every flit once and in order, credits stay in range, zero-load latency per destination is the
unicast closed form, and saturating multicast + unicast traffic never deadlocks."""
from __future__ import annotations

import numpy as np
import pytest

from oracles import xy_links
from simulator.errors import AxsimError
from simulator.noc.network import TransferBatch
from simulator.noc.router import Multicast, RouterConfig, run_packets


def _node(n, cols):
    return divmod(int(n), cols)


def _tree_links(src, dsts, cols):
    """Links of the XY multicast tree: the union of the XY routes (independent oracle)."""
    links = set()
    for d in dsts:
        links.update(xy_links(_node(src, cols), _node(d, cols)))
    return links


def _traffic(seed, rows, cols, n, horizon, max_mc_flits, max_uc_flits, p_mc=0.5):
    rng = np.random.default_rng(seed)
    nodes = rows * cols
    src = rng.integers(0, nodes, n)
    dst = rng.integers(0, nodes, n)
    ctime = np.sort(rng.integers(0, horizon, n))
    sets, size = [], np.zeros(n, np.int64)
    for i in range(n):
        if rng.random() < p_mc:
            sets.append(list(rng.choice(nodes, int(rng.integers(2, nodes + 1)), replace=False)))
            size[i] = rng.integers(1, max_mc_flits + 1)
        else:
            sets.append(None)
            size[i] = rng.integers(1, max_uc_flits + 1)
    return src, dst, size, ctime, sets


@pytest.mark.parametrize("cfg", [RouterConfig(), RouterConfig(num_vcs=2, vc_buf_size=4, alloc_iters=1),
                                 RouterConfig(num_vcs=3, vc_buf_size=5, wait_for_tail_credit=False),
                                 RouterConfig(num_vcs=2, vc_buf_size=4, vc_alloc_delay=0, sw_alloc_delay=0,
                                              st_final_delay=0, credit_delay=1)])
def test_every_destination_gets_every_flit_once_in_order(cfg):
    """Heavy mixed traffic on 4 x 5: the kernel stops with an error on any flit ejected out of
    order at any destination, and (check=True) on any output VC whose credits leave [0, depth] or
    are not conserved in any cycle. Here: every multicast destination got its tail, every node
    ejected exactly the flits addressed to it, and the link traversals are flits x tree links of
    each packet (the union of its XY routes), counted independently of the kernel's routing."""
    rows, cols = 4, 5
    src, dst, size, ctime, sets = _traffic(3, rows, cols, 500, 1200, cfg.vc_buf_size, 9)
    mc = Multicast.of(sets)
    run = run_packets(rows, cols, cfg, src, dst, size, ctime, check=True, multicast=mc)
    assert (run.atime >= 0).all() and (run.mc_atime >= 0).all()
    ejected = np.zeros(rows * cols, np.int64)
    links = 0
    for i, s in enumerate(sets):
        targets = [int(dst[i])] if s is None else s
        for d in targets:
            ejected[d] += size[i]
        links += size[i] * len(_tree_links(src[i], targets, cols))
    np.testing.assert_array_equal(run.link_flits[:, 0], ejected)
    assert run.flit_hops == links
    # a multicast packet has arrived when its last destination has its tail
    m = np.flatnonzero(mc.ptr >= 0)
    last = [run.mc_atime[mc.ptr[i]: mc.ptr[i] + mc.count[i]].max() for i in m]
    np.testing.assert_array_equal(run.atime[m], last)


@pytest.mark.parametrize("cfg", [
    RouterConfig(),
    RouterConfig(num_vcs=2, vc_buf_size=8, routing_delay=1, vc_alloc_delay=2, sw_alloc_delay=1,
                 st_final_delay=0, link_latency_cycles=3, credit_delay=1),
])
@pytest.mark.parametrize("flits", [1, 6])
def test_zero_load_latency_per_destination(cfg, flits):
    """Alone in the network, each copy travels as a unicast packet would: the flit leaves a branch
    router on all its branches in the same cycle (fan-out), so destination d at H_d hops has the
    tail at ctime + (H_d + 1)(rd + va + sa + st) + (H_d + 2)·link + F - 1 (hand-derived as for
    unicast), whatever the other branches."""
    rows, cols = 4, 5
    router = cfg.routing_delay + cfg.vc_alloc_delay + cfg.sw_alloc_delay + cfg.st_final_delay
    link = cfg.link_latency_cycles
    for src, dsts in [(7, [0, 4, 19, 15, 7, 12]), (0, [1, 5]), (19, list(range(20)))]:
        run = run_packets(rows, cols, cfg, np.array([src]), np.array([-1]), np.array([flits]), np.array([3]),
                          multicast=Multicast.of([dsts]))
        sr, sc = divmod(src, cols)
        for d, t in zip(dsts, run.mc_atime):
            h = abs(d // cols - sr) + abs(d % cols - sc)
            assert t == 3 + (h + 1) * router + (h + 2) * link + flits - 1
        assert run.atime[0] == run.mc_atime.max()


def test_replication_beats_repeated_unicast_by_hand():
    """One 8-flit multicast from (0,0) of a 1 x 4 row to the other 3 nodes: replicated, the last
    tail reaches node 3 (3 hops) at T0(3, 8) = 4·3 + 5·1 + 7 = 24 cycles; as repeated unicast the
    interface sends 3 copies one after the other (24 flits), the last copy's head leaves at 16 and
    arrives at 16 + T0(3, 8) = 40."""
    cfg = RouterConfig()
    rep = TransferBatch(1, 4, 64, max_packet_flits=8, buffer_flits=cfg.vc_buf_size)
    rep.add(0, (0, 0), ((0, 1), (0, 2), (0, 3)), 64, "multicast")
    uni = TransferBatch(1, 4, 64, max_packet_flits=8, multicast="unicast")
    uni.add(0, (0, 0), ((0, 1), (0, 2), (0, 3)), 64, "multicast")
    assert rep.run(cfg)[0][0] == 24
    assert uni.run(cfg)[0][0] == 40


@pytest.mark.parametrize("cfg", [RouterConfig(num_vcs=1, vc_buf_size=4),
                                 RouterConfig(num_vcs=2, vc_buf_size=2, wait_for_tail_credit=False, alloc_iters=1),
                                 RouterConfig(num_vcs=1, vc_buf_size=3, vc_alloc_delay=0, sw_alloc_delay=0,
                                              st_final_delay=0, credit_delay=1)])
def test_saturating_multicast_and_unicast_traffic_does_not_deadlock(cfg):
    """Far beyond saturation (every packet created within 100 cycles on 5 x 5, broadcasts to up to
    every node, unicast wormhole packets longer than the buffers, one VC): the kernel's watchdog
    would stop with NetworkDeadlock if no flit could move while packets remain; every packet
    arrives. Multicast packets are no longer than one VC buffer (the deadlock argument's
    condition, docs/models.md)."""
    rows, cols = 5, 5
    src, dst, size, ctime, sets = _traffic(11, rows, cols, 400, 100, cfg.vc_buf_size, 12, p_mc=0.6)
    run = run_packets(rows, cols, cfg, src, dst, size, ctime, multicast=Multicast.of(sets))
    assert (run.atime >= 0).all() and (run.mc_atime >= 0).all()


def test_multicast_packet_longer_than_the_buffer_is_a_clear_error():
    with pytest.raises(AxsimError, match="longer than the VC buffer"):
        run_packets(2, 2, RouterConfig(vc_buf_size=4), np.array([0]), np.array([-1]), np.array([5]),
                    np.array([0]), multicast=Multicast.of([[1, 3]]))
    with pytest.raises(AxsimError, match="destination twice"):
        run_packets(2, 2, RouterConfig(), np.array([0]), np.array([-1]), np.array([2]), np.array([0]),
                    multicast=Multicast.of([[1, 1]]))
    with pytest.raises(AxsimError, match="nodes 0..3"):
        run_packets(2, 2, RouterConfig(), np.array([0]), np.array([-1]), np.array([2]), np.array([0]),
                    multicast=Multicast.of([[1, 4]]))
