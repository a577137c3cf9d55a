"""The resumable flit-level mesh (FlitStream): stepping and submitting as transfers are issued
gives exactly the one-shot kernel's result; errors on misuse; deadlock names the routers."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.config.arch import Link
from simulator.noc.network import TransferBatch, router_for
from simulator.noc.stream import FlitStream

INF = 1 << 60


def _random_transfers(seed: int, n: int, rows: int, cols: int, gap: int):
    rng = np.random.default_rng(seed)
    out, t = [], 0
    for _ in range(n):
        t += int(rng.integers(0, gap))
        src = (int(rng.integers(0, rows)), int(rng.integers(0, cols)))
        k = int(rng.integers(1, 4))
        dsts = tuple((int(rng.integers(0, rows)), int(rng.integers(0, cols))) for _ in range(k))
        mode = ("multicast", "scatter", "gather")[int(rng.integers(0, 3))]
        out.append((t, src, dsts, int(rng.integers(1, 600)), mode))
    return out


@pytest.mark.parametrize("seed,stop,link,renumber", [(1, True, (1, 1, 64), 1 << 16), (2, False, (1, 1, 64), 1 << 16),
                                                     (3, True, (20, 20, 100), 1 << 16), (4, True, (1, 1, 64), 1)])
def test_stepped_submission_equals_the_one_shot_run(seed, stop, link, renumber):
    """Open loop: transfers submitted at their creation cycle while the stream is advanced in
    steps (pausing at every creation cycle and, with ``stop``, at every completion) finish at
    exactly the cycles the one-shot kernel gives for the same packets known in advance, and the
    per-port flit counts agree."""
    r, w, width = link
    cfg = router_for(Link(link_width_bits=width, router_latency_cycles=r, link_latency_cycles=w))
    transfers = _random_transfers(seed, 60, 4, 4, 40 if renumber > 1 else 400)  # 400: idle now and then
    batch = TransferBatch(4, 4, width, max_packet_flits=8)
    for t, src, dsts, nbytes, mode in transfers:
        batch.add(t, src, dsts, nbytes, mode)
    expected, run = batch.run(cfg)
    stream = FlitStream(4, 4, cfg, width, max_packet_flits=8)
    stream.renumber_after = renumber  # 1: packet numbers restart whenever the network is idle
    got = {}
    for i, (t, src, dsts, nbytes, mode) in enumerate(transfers):
        while stream.busy and stream.now < t:
            got.update(stream.advance(t, stop_at_completion=stop))
        stream.submit(t, src, dsts, nbytes, mode, tag=i)
    while stream.busy:
        got.update(stream.advance(INF, stop_at_completion=stop))
    assert sorted(got) == list(range(len(transfers)))
    np.testing.assert_array_equal([got[i] for i in range(len(transfers))], expected)
    np.testing.assert_array_equal(stream.link_flits, run.link_flits)


def test_completion_is_learnt_before_it_happens_and_advance_respects_until():
    cfg = router_for(Link(link_width_bits=64, router_latency_cycles=1, link_latency_cycles=1))
    stream = FlitStream(2, 2, cfg, 64)
    stream.submit(0, (0, 0), ((1, 1),), 64, "scatter", tag="a")  # 8 flits, 2 hops
    assert stream.advance(5) == [] and stream.now == 5
    done = stream.advance(INF)
    assert len(done) == 1 and done[0][0] == "a"
    # closed form of the router: (H + 1) router + (H + 2) wire + F - 1 = 3 + 4 + 7
    assert done[0][1] == cfg.zero_load_cycles(2, 8) == 14
    # learnt when the tail won its last switch, lookahead = sw + st + link = 1 cycle before
    assert stream.lookahead == 1 and stream.now == done[0][1] - stream.lookahead + 1
    assert not stream.busy


def test_submission_in_the_past_is_an_error():
    cfg = router_for(Link(link_width_bits=64))
    stream = FlitStream(2, 2, cfg, 64)
    stream.submit(0, (0, 0), ((0, 1),), 64, "scatter", tag=0)
    stream.advance(10)
    with pytest.raises(RuntimeError, match="before the network's present cycle 10"):
        stream.submit(3, (0, 0), ((0, 1),), 8, "scatter", tag=1)


def test_floor_delays_the_reported_finish():
    cfg = router_for(Link(link_width_bits=64))
    stream = FlitStream(2, 2, cfg, 64)
    stream.submit(0, (0, 0), ((0, 1),), 8, "scatter", tag=0, floor=500)
    assert stream.advance(INF) == [(0, 500)]
