"""The pending-arrival wheel of the flit kernel is bookkeeping only: with it or without it (every
flit visible to the VC scan from the cycle it is written into a buffer, checked there against its
arrival cycle) every packet is injected and arrives in the same cycles."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.noc import kernel_parts
from simulator.noc.kernel_parts import wheel_slots
from simulator.noc.router import Multicast, RouterConfig, run_packets


def test_wheel_slots_is_the_next_power_of_two_above_the_span():
    assert [wheel_slots(s) for s in (0, 1, 2, 3, 4, 7, 8, 31)] == [2, 2, 4, 4, 8, 8, 16, 32]
    assert wheel_slots(32) == wheel_slots(10_000) == 0  # beyond the wheel: no wheel


def test_arrival_span_is_the_longest_write_to_arrival_delay():
    assert RouterConfig().arrival_span_cycles == 3  # switch 1 + crossbar 1 + link 1
    cfg = RouterConfig(sw_alloc_delay=2, st_final_delay=0, link_latency_cycles=4, injection_extra_cycles=3)
    assert cfg.arrival_span_cycles == 7  # injection 4 + 3 beats a hop's 2 + 0 + 4


def _traffic(seed, nodes, n, horizon, depth):
    rng = np.random.default_rng(seed)
    src = rng.integers(0, nodes, n)
    dst = rng.integers(0, nodes, n)
    size = rng.integers(1, 7, n)
    ctime = np.sort(rng.integers(0, horizon, n))
    sets = [list(rng.choice(nodes, 3, replace=False)) if rng.random() < 0.2 and size[i] <= depth else None
            for i in range(n)]
    return src, dst, size, ctime, Multicast.of(sets)


@pytest.mark.parametrize("cfg", [
    RouterConfig(),
    RouterConfig(num_vcs=2, vc_buf_size=3, alloc_iters=1, link_latency_cycles=2),
    RouterConfig(num_vcs=3, vc_buf_size=4, vc_alloc_delay=0, sw_alloc_delay=0, st_final_delay=0,
                 credit_delay=1, wait_for_tail_credit=False),
    RouterConfig(num_vcs=2, vc_buf_size=4, routing_delay=2, link_latency_cycles=5, injection_extra_cycles=2),
])
def test_same_cycles_with_and_without_the_wheel(cfg, monkeypatch):
    rows, cols = 4, 5
    src, dst, size, ctime, mc = _traffic(11, rows * cols, 700, 900, cfg.vc_buf_size)
    with_wheel = run_packets(rows, cols, cfg, src, dst, size, ctime, multicast=mc, check=True)
    monkeypatch.setattr(kernel_parts, "wheel_slots", lambda span: 0)
    pport = kernel_parts.new_state(rows, cols, cfg.num_vcs, cfg.vc_buf_size, cfg.arrival_span_cycles)[-4]
    assert len(pport) == rows * cols  # one slot per router: no wheel
    without = run_packets(rows, cols, cfg, src, dst, size, ctime, multicast=mc, check=True)
    assert (with_wheel.atime >= 0).all()
    np.testing.assert_array_equal(with_wheel.itime, without.itime)
    np.testing.assert_array_equal(with_wheel.atime, without.atime)
    np.testing.assert_array_equal(with_wheel.mc_atime, without.mc_atime)
    np.testing.assert_array_equal(with_wheel.link_flits, without.link_flits)
    assert with_wheel.end_cycle == without.end_cycle


def test_links_too_long_for_the_wheel_keep_the_zero_load_closed_form():
    """A 40-cycle link (no wheel): one packet alone arrives at the closed form of the pipeline."""
    cfg = RouterConfig(link_latency_cycles=40)
    assert wheel_slots(cfg.arrival_span_cycles) == 0
    run = run_packets(2, 3, cfg, np.array([0]), np.array([5]), np.array([3]), np.array([4]))
    assert run.atime[0] == 4 + cfg.zero_load_cycles(3, 3)
