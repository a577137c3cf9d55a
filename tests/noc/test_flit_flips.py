"""Bit errors drawn per flit traversal: counts against the exposure of the bits each link carried."""
from __future__ import annotations

import numpy as np
import pytest
from oracles import DirectionalRates

from simulator.noc.flips import kernel_links, run_with_flips
from simulator.noc.router import RouterConfig, run_packets


def _traffic(rng, nodes, n):
    return (rng.integers(0, nodes, n), rng.integers(0, nodes, n), rng.integers(1, 6, n),
            np.sort(rng.integers(0, 3000, n)))


def test_flip_counts_match_the_exposure_of_the_bits_each_link_carried():
    rows, cols, flit_bits, p = 3, 4, 64, 2e-2
    rng = np.random.default_rng(11)
    src, dst, size, ctime = _traffic(rng, rows * cols, 3000)
    rates = DirectionalRates(p)
    run, flips = run_with_flips("chiplet[0,0].noc", rows, cols, RouterConfig(), rates, flit_bits, 7,
                                src, dst, size, ctime)
    counts = flips.counts(rows * cols * 5)
    # exposure: traversals of each link x 8 bits of each position per 64-bit flit x p
    expected = np.zeros_like(counts, dtype=float)
    for lk, s, d in kernel_links(rows, cols):
        expected[lk] = run.link_flits.reshape(-1)[lk] * (flit_bits // 8) * rates.link("", s, d)
    total_e, total_o = expected.sum(axis=0), counts.sum(axis=0)
    assert total_e[:4].min() > 300
    # binomial counts: within 5 standard deviations per bit position, zero where p = 0
    sd = np.sqrt(total_e)
    assert (np.abs(total_o - total_e) <= 5 * sd + 1e-9).all()
    assert (counts[expected == 0] == 0).all()
    # per link (chi-square over links with enough exposure)
    m = expected > 20
    chi2 = (((counts - expected) ** 2) / np.where(m, expected, 1))[m].sum()
    assert chi2 < m.sum() + 6 * np.sqrt(2 * m.sum())
    # every flip names a real flit of a packet that crossed that link
    assert (flips.flit < size[flips.packet]).all() and (flips.lane < 8).all()
    # timing is unchanged by drawing flips
    plain = run_packets(rows, cols, RouterConfig(), src, dst, size, ctime)
    np.testing.assert_array_equal(plain.atime, run.atime)


def test_flips_are_deterministic_and_pool_growth_does_not_change_them():
    rows, cols = 2, 3
    rng = np.random.default_rng(3)
    src, dst, size, ctime = _traffic(rng, 6, 800)
    a = run_with_flips("nop", rows, cols, RouterConfig(), DirectionalRates(5e-3), 32, 1, src, dst, size, ctime)[1]
    b = run_with_flips("nop", rows, cols, RouterConfig(), DirectionalRates(5e-3), 32, 1, src, dst, size, ctime)[1]
    assert len(a.packet) > 64  # more than the first pool: at least one re-run happened
    for x, y in zip((a.packet, a.flit, a.lane, a.bit, a.link), (b.packet, b.flit, b.lane, b.bit, b.link)):
        np.testing.assert_array_equal(x, y)
    c = run_with_flips("nop", rows, cols, RouterConfig(), DirectionalRates(5e-3), 32, 2, src, dst, size, ctime)[1]
    assert len(c.packet) != len(a.packet) or not np.array_equal(c.lane, a.lane)


def test_zero_rates_draw_nothing():
    from simulator.faults.rates import zero_rates
    run, flips = run_with_flips("nop", 2, 2, RouterConfig(), zero_rates(), 64, 0, np.array([0]), np.array([3]),
                                np.array([4]), np.array([0]))
    assert len(flips.packet) == 0 and run.atime[0] > 0


def test_flit_width_must_be_whole_bytes():
    with pytest.raises(ValueError, match="multiple of 8"):
        run_with_flips("nop", 2, 2, RouterConfig(), DirectionalRates(0.1), 12, 0, np.array([0]), np.array([3]),
                       np.array([1]), np.array([0]))


def test_link_exposure_equals_the_transaction_models_link_bits():
    """The bits each link carries (the exposure the flips are drawn over) are the same in both
    models for unicast transfers of whole flits: flit traversals x width = Mesh.link_bits."""
    from simulator.config.arch import Link
    from simulator.hw.mesh import Mesh
    from simulator.noc.network import TransferBatch, router_for
    from simulator.stats.counters import Counters

    rows, cols, width = 3, 4, 64
    link = Link(link_width_bits=width)
    mesh = Mesh("noc", rows, cols, link, "l", "r", Counters())
    batch = TransferBatch(rows, cols, width)
    rng = np.random.default_rng(8)
    for t in range(200):
        src = (int(rng.integers(0, rows)), int(rng.integers(0, cols)))
        dst = (int(rng.integers(0, rows)), int(rng.integers(0, cols)))
        nbytes = 8 * int(rng.integers(1, 40))  # whole 64-bit flits
        mode = ("scatter", "gather")[t % 2]
        mesh.transfer(10 * t, src, (dst,), nbytes, mode, "noc", now=10 * t)
        batch.add(10 * t, src, (dst,), nbytes, mode)
    _, run = batch.run(router_for(link))
    flits = run.link_flits.reshape(-1)
    index = {(s, d): lk for lk, s, d in kernel_links(rows, cols)}
    for (s, d), bits in zip(mesh.links, mesh.link_bits):
        assert flits[index[(s, d)]] * width == bits
