"""The unicast-only flit kernel (simulator/noc/kernel_uni.py) against the general kernel: the same
per-packet cycles, per-link flit counts, end cycle and window flits on random unicast traffic, its
selection by run_packets, and its invariant checks."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.errors import AxsimError
from simulator.noc import kernel, kernel_uni, kernel_uni_parts
from simulator.noc.router import FlipState, Multicast, NetworkDeadlock, RouterConfig, run_packets

CONFIGS = [
    RouterConfig(),
    RouterConfig(num_vcs=1, vc_buf_size=4),
    RouterConfig(num_vcs=3, vc_buf_size=1),
    RouterConfig(num_vcs=4, vc_buf_size=2, vc_alloc_delay=0, alloc_iters=1),
    RouterConfig(num_vcs=4, vc_buf_size=3, routing="o1turn"),
    RouterConfig(num_vcs=2, vc_buf_size=4, routing="dor_yx", link_latency_cycles=5, injection_extra_cycles=2),
    RouterConfig(num_vcs=3, vc_buf_size=4, link_latency_cycles=40),  # beyond the arrival wheel
    RouterConfig(num_vcs=4, vc_buf_size=4, wait_for_tail_credit=False, routing_delay=2, credit_delay=1,
                 sw_alloc_delay=0, st_final_delay=0),
    RouterConfig(num_vcs=6, vc_buf_size=5, vc_alloc_delay=0, routing="o1turn", wait_for_tail_credit=False),
]


def _traffic(seed, rows, cols, n, horizon, max_flits):
    rng = np.random.default_rng(seed)
    nodes = rows * cols
    src = rng.integers(0, nodes, n)
    dst = rng.integers(0, nodes, n)
    size = rng.integers(1, max_flits + 1, n)
    ctime = rng.integers(0, horizon, n)  # not sorted: the interfaces sort by creation
    mode = rng.integers(0, 2, n)
    return src, dst, size, ctime, mode


def _both(rows, cols, cfg, src, dst, size, ctime, mode, **kw):
    rm = mode if cfg.routing == "o1turn" else None
    gen = run_packets(rows, cols, cfg, src, dst, size, ctime, route_mode=rm, kernel_choice="general", **kw)
    uni = run_packets(rows, cols, cfg, src, dst, size, ctime, route_mode=rm, kernel_choice="unicast", **kw)
    return gen, uni


def _assert_same(gen, uni):
    np.testing.assert_array_equal(gen.itime, uni.itime)
    np.testing.assert_array_equal(gen.atime, uni.atime)
    np.testing.assert_array_equal(gen.link_flits, uni.link_flits)
    assert (gen.end_cycle, gen.window_flits, gen.flit_hops) == (uni.end_cycle, uni.window_flits, uni.flit_hops)


@pytest.mark.parametrize("cfg", CONFIGS)
@pytest.mark.parametrize("seed,rows,cols,n,horizon,max_flits", [(1, 4, 5, 900, 700, 6), (2, 3, 3, 500, 150, 3)])
def test_same_cycles_as_the_general_kernel(cfg, seed, rows, cols, n, horizon, max_flits):
    """Random unicast traffic, light (4 x 5) and saturated (3 x 3, 500 packets in 150 cycles), the
    credit invariant checked in every cycle: identical per-packet injection and arrival cycles,
    per-link flit counts, end cycle, window flits and flit-hops."""
    src, dst, size, ctime, mode = _traffic(seed * 100 + CONFIGS.index(cfg), rows, cols, n, horizon, max_flits)
    gen, uni = _both(rows, cols, cfg, src, dst, size, ctime, mode, check=True, window=(100, 400))
    assert (gen.atime >= 0).all() and gen.window_flits > 0
    _assert_same(gen, uni)


@pytest.mark.parametrize("cfg", CONFIGS[:5])
def test_same_stop_with_measured_packets_and_at_the_cycle_limit(cfg):
    """Only some packets measured (the run ends when they have arrived), and a cycle limit with
    stop_at_limit: the same stopping cycle and the same packets delivered by then."""
    rows, cols = 4, 4
    src, dst, size, ctime, mode = _traffic(7, rows, cols, 600, 300, 5)
    measured = (np.arange(len(src)) % 3 == 0).astype(np.int64)
    _assert_same(*_both(rows, cols, cfg, src, dst, size, ctime, mode, measured=measured))
    gen, uni = _both(rows, cols, cfg, src, dst, size, ctime, mode, max_cycles=200, stop_at_limit=True)
    assert (gen.atime < 0).any()
    _assert_same(gen, uni)
    with pytest.raises(AxsimError, match="max_cycles = 200"):
        run_packets(rows, cols, cfg, src, dst, size, ctime, route_mode=mode if cfg.routing == "o1turn" else None,
                    max_cycles=200, kernel_choice="unicast")


def test_same_cycles_without_the_arrival_wheel(monkeypatch):
    """The pending-arrival wheel is bookkeeping only: the unicast kernel without it (one slot
    per router) gives the general kernel's cycles."""
    cfg = RouterConfig(num_vcs=3, vc_buf_size=4, link_latency_cycles=2)
    rows, cols = 4, 5
    src, dst, size, ctime, mode = _traffic(3, rows, cols, 700, 600, 5)
    gen = run_packets(rows, cols, cfg, src, dst, size, ctime, kernel_choice="general")
    monkeypatch.setattr(kernel_uni_parts, "wheel_slots", lambda span: 0)
    assert len(kernel_uni_parts.new_state(rows, cols, 3, 4, cfg.arrival_span_cycles)[19]) == rows * cols
    uni = run_packets(rows, cols, cfg, src, dst, size, ctime, kernel_choice="unicast", check=True)
    _assert_same(gen, uni)


def test_auto_runs_the_unicast_kernel_only_without_multicast_and_flips(monkeypatch):
    calls = {"general": 0, "unicast": 0}
    plain_g, plain_u = kernel.simulate, kernel_uni.simulate_uni

    def gen(*a):
        calls["general"] += 1
        return plain_g(*a)

    def uni(*a):
        calls["unicast"] += 1
        return plain_u(*a)

    monkeypatch.setattr(kernel, "simulate", gen)
    monkeypatch.setattr(kernel_uni, "simulate_uni", uni)
    args = (np.array([0, 3]), np.array([3, 0]), np.array([2, 1]), np.array([0, 1]))
    run_packets(2, 2, RouterConfig(), *args)
    assert calls == {"general": 0, "unicast": 1}
    run_packets(2, 2, RouterConfig(), *args, multicast=Multicast.of([None, None]))  # every packet unicast
    assert calls == {"general": 0, "unicast": 2}
    run_packets(2, 2, RouterConfig(), *args, kernel_choice="general")
    assert calls == {"general": 1, "unicast": 2}
    run_packets(2, 2, RouterConfig(), *args, multicast=Multicast.of([[1, 2], None]))
    assert calls == {"general": 2, "unicast": 2}
    flips = FlipState(np.ones(8, np.int64), np.full((20, 8), np.log(1 - 1e-9)), np.full((20, 4), 0.5),
                      np.zeros(20, np.int64), np.zeros((20, 8), np.int64), np.zeros((4, 5), np.int64))
    run_packets(2, 2, RouterConfig(), *args, flips=flips)
    assert calls == {"general": 3, "unicast": 2}


def test_forcing_the_unicast_kernel_where_it_cannot_run_is_a_clear_error():
    args = (np.array([0, 3]), np.array([3, 0]), np.array([2, 1]), np.array([0, 1]))
    with pytest.raises(AxsimError, match="unicast packets only and no bit flips"):
        run_packets(2, 2, RouterConfig(), *args, multicast=Multicast.of([[1, 2], None]), kernel_choice="unicast")
    with pytest.raises(AxsimError, match="kernel_choice 'fast' is not one of"):
        run_packets(2, 2, RouterConfig(), *args, kernel_choice="fast")
    for bad in (np.array([0, 2]), np.array([0]), np.array([-1, 0])):  # the routing table has modes 0 and 1
        with pytest.raises(AxsimError, match=r"route_mode needs one entry per packet \(2\), each 0 \(XY\) or 1"):
            run_packets(2, 2, RouterConfig(), *args, route_mode=bad)


def test_deadlock_watchdog_of_the_unicast_kernel_names_the_blocked_routers():
    """XY and YX wormhole packets around the 2x2 ring with one VC: a cyclic channel dependency."""
    cfg = RouterConfig(num_vcs=1, vc_buf_size=2)
    src, dst, mode = np.array([0, 1, 3, 2]), np.array([3, 2, 0, 1]), np.array([0, 1, 0, 1])
    with pytest.raises(NetworkDeadlock) as err:
        run_packets(2, 2, cfg, src, dst, np.full(4, 40), np.zeros(4, np.int64), route_mode=mode,
                    kernel_choice="unicast")
    msg = str(err.value)
    assert "deadlock" in msg and "(0,0)" in msg and "(1,1)" in msg and "4 packets undelivered" in msg


def test_credit_check_catches_a_corrupted_state(monkeypatch):
    """The invariant check is live in the unicast kernel: a state with one credit too many on an
    output VC stops the run at its first cycle with a clear error."""
    plain = kernel_uni_parts.new_state

    def corrupted(rows, cols, V, D, span=3):
        state = plain(rows, cols, V, D, span)
        state[5][int(kernel_uni_parts.O_CRED) + 7 * kernel_uni_parts.KO] += 1  # output VC 7
        return state

    monkeypatch.setattr(kernel_uni_parts, "new_state", corrupted)
    with pytest.raises(RuntimeError, match=r"credits out of \[0, depth\] or not conserved \(index 7, cycle 0\)"):
        run_packets(2, 2, RouterConfig(), np.array([0]), np.array([3]), np.array([1]), np.array([0]),
                    check=True, kernel_choice="unicast")


@pytest.mark.parametrize("zero", ["credit_delay", "injection_extra_cycles"])
def test_same_cycles_with_wake_ups_in_the_same_cycle(zero):
    """Delays of 0, which router configurations reject (credit_delay >= 1; the injection latency
    link + extra >= 1 unless both are 0), called past the validation: a wake-up may then fall in
    the cycle that sets it, and the unicast kernel scans each 64-router word when its turn comes
    instead of taking the mask of the previous cycle's end; 9 x 9 routers (two words). (The
    injection case fails if the kernel takes the mask regardless; the credit case has not been
    seen to differ, and is kept as a check of the scanning path.)"""
    kw = {"credit_delay": 0} if zero == "credit_delay" else {"link_latency_cycles": 0, "injection_extra_cycles": 0,
                                                              "sw_alloc_delay": 1}
    cfg = RouterConfig.model_construct(**{**RouterConfig().model_dump(), **kw})
    src, dst, size, ctime, mode = _traffic(11, 9, 9, 2500, 100, 4)  # saturated: blocked upstream VCs
    gen, uni = _both(9, 9, cfg, src, dst, size, ctime, mode, check=True, window=(50, 150))
    assert (gen.atime >= 0).all()
    _assert_same(gen, uni)
