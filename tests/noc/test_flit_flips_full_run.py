"""Bit flips drawn per flit traversal in full runs (flit-level networks with the error exposure):
the stepped stream draws exactly the one-shot kernel's flips, and a full run's counts agree with
the exposure of the bits each link carried."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import small_layers
from simulator import api
from simulator.noc.flips import StreamFlips, kernel_links, lanes_of, run_with_flips
from simulator.noc.network import TransferBatch, router_for
from simulator.noc.stream import FlitStream
from simulator.workload import Workload


class _Rates:
    """Per bit position and direction (east-going links flip bits 0-3, the others bit 7 only), so
    a swapped link, bit position or lane count shows."""

    def __init__(self, p):
        self.p = p

    def link(self, network, src, dst):
        out = np.zeros(8)
        if dst[1] == src[1] + 1:
            out[:4] = self.p
        else:
            out[7] = self.p / 4
        return out

    def sram_read(self, buffer, ds):
        return np.zeros(8)

    def sram_stuck(self, buffer, ds):
        return np.zeros(8)


@pytest.mark.parametrize("width,pool", [(64, 16), (100, 200)])
def test_stepped_stream_draws_exactly_the_one_shot_flips(width, pool):
    """Transfers submitted while the stream advances (pausing at every completion), with pools so
    small that they are topped up hundreds of times, give per link and bit position exactly the
    flips of the one-shot kernel for the same packets: the same draws from the same per-link
    generators, in the same order."""
    from simulator.config.arch import Link
    rows, cols = 3, 4
    cfg = router_for(Link(link_width_bits=width, router_latency_cycles=1, link_latency_cycles=1))
    rng = np.random.default_rng(2)
    transfers, t = [], 0
    for _ in range(80):
        t += int(rng.integers(0, 30))
        src = (int(rng.integers(0, rows)), int(rng.integers(0, cols)))
        dsts = tuple({(int(rng.integers(0, rows)), int(rng.integers(0, cols))) for _ in range(3)})
        transfers.append((t, src, dsts, int(rng.integers(1, 300)), ("multicast", "scatter", "gather")[t % 3]))
    rates = _Rates(2e-2)
    batch = TransferBatch(rows, cols, width, max_packet_flits=32, buffer_flits=cfg.vc_buf_size)
    for tr in transfers:
        batch.add(*tr)
    from simulator.noc.router import Multicast
    packets = (np.array(batch.src), np.array(batch.dst), np.array(batch.size), np.array(batch.ctime))
    if width % 8:  # the one-shot sampler records byte lanes: whole bytes only
        with pytest.raises(ValueError, match="multiple of 8"):
            run_with_flips("noc", rows, cols, cfg, rates, width, 5, *packets, multicast=Multicast.of(batch.mc))
    stream = FlitStream(rows, cols, cfg, width, max_packet_flits=32, name="noc")
    links = [(lk, "noc", s, d) for lk, s, d in kernel_links(rows, cols)]
    stream.flips = StreamFlips(rows * cols * 5, links, rates, 5, width, pool=pool)
    for i, tr in enumerate(transfers):
        while stream.busy and stream.now < tr[0]:
            stream.advance(tr[0], stop_at_completion=True)
        stream.submit(*tr, tag=i)
    while stream.busy:
        stream.advance(1 << 60, stop_at_completion=True)
    got = stream.flips.state.count
    assert got.sum() > 500
    # expected: traversals x lanes per position x p (the exposure), within 5 sigma
    expected = np.zeros((rows * cols * 5, 8))
    for lk, s, d in kernel_links(rows, cols):
        expected[lk] = stream.link_flits.reshape(-1)[lk] * lanes_of(width) * rates.link("noc", s, d)
    assert abs(got.sum() - expected.sum()) <= 5 * np.sqrt(expected.sum())
    assert (got[expected == 0] == 0).all()
    if width % 8 == 0:
        run, flips = run_with_flips("noc", rows, cols, cfg, rates, width, 5, *packets,
                                    multicast=Multicast.of(batch.mc))
        np.testing.assert_array_equal(run.link_flits, stream.link_flits)
        np.testing.assert_array_equal(flips.counts(rows * cols * 5), got)


def test_full_run_flips_agree_with_the_exposure(simba_arch):
    """ResNet-like small layers on simba with both networks flit-level and raised link error rates:
    per network, the flips drawn per flit traversal agree (5 sigma, Poisson) with their expectation
    over the flits that crossed each link (traversals x lanes x p), and those flits carry the bits
    the transaction-level exposure counts, plus the padding of each transfer's last flit (at most
    one flit per transfer and destination: 0-10% more here). Drawing flips never changes timing;
    the same seed draws the same flips, another seed others."""
    wl = Workload("small", small_layers(), "test")
    rates = _Rates(1e-2)
    models = {"nop": "flit", "noc": "flit"}
    res = api.simulate(simba_arch, wl, rates=rates, seed=1, network_model=models, exposure=True)
    plain = api.simulate(simba_arch, wl, seed=1, network_model=models, exposure=False)
    assert [la.latency_cycles for la in res.layers] == [la.latency_cycles for la in plain.layers]
    assert all(r["sampled_flips"] is None for r in plain.link_stats["nop"])
    width = {"nop": simba_arch.package.nop.link_width_bits, "noc": simba_arch.chiplet.noc.link_width_bits}
    for kind in ("nop", "noc"):
        nets = [n for n in res.link_stats if n != "dram" and (n == "nop") == (kind == "nop")]
        rows = [(n, r) for n in nets for r in res.link_stats[n]]
        w = width[kind]
        lanes = lanes_of(w)

        def p_of(net, r):
            a, b = (tuple(int(x) for x in r[k].split(",")) for k in ("from", "to"))
            return rates.link(net, a, b)
        e_flit = sum(r["bits"] / w * float(lanes @ p_of(n, r)) for n, r in rows)
        e_txn = sum(r["expected_flips"] for _, r in rows)
        sampled = sum(r["sampled_flips"] for _, r in rows)
        assert e_flit > 100
        assert abs(sampled - e_flit) <= 5 * np.sqrt(e_flit), (kind, sampled, e_flit)
        # per link: only links with a non-zero rate and traffic flip
        assert all(r["sampled_flips"] == 0 for n, r in rows if r["bits"] == 0)
        # the exposure at 8 bits per byte lane vs the flits' wires (lanes_of), padding included
        e_txn_wires = sum(r["expected_flips"] * float(lanes @ p_of(n, r)) / (w / 8 * p_of(n, r).sum())
                          for n, r in rows if r["expected_flips"])
        assert e_txn_wires <= e_flit * (1 + 1e-9) and e_flit <= 1.1 * e_txn_wires, (kind, e_txn, e_flit)
    again = api.simulate(simba_arch, wl, rates=rates, seed=1, network_model=models, exposure=True)
    other = api.simulate(simba_arch, wl, rates=rates, seed=2, network_model=models, exposure=True)
    per_link = [[r["sampled_flips"] for r in x.link_stats["nop"]] for x in (res, again, other)]
    assert per_link[0] == per_link[1] and per_link[0] != per_link[2]
