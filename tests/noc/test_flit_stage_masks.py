"""The per-stage masks of a router visit (simulator/noc/kernel.py): between two kernel calls,
``vrouted`` holds exactly the input VCs whose head packet still has branches to send,
``vports`` exactly the input ports with a VC in ``vmask``, and ``vmask`` only VCs holding flits;
checked at many stopping points of mixed unicast and multicast traffic, with router pipelines
that exercise the routing delay, a zero VC-allocation delay and few short buffers."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.noc import kernel_parts as kp
from simulator.noc.router import RouterConfig
from simulator.noc.stream import FlitStream


def _check(stream: FlitStream, rows: int, cols: int, V: int) -> int:
    st = stream.state
    buf_n, vmask, vrouted = st[kp.S_BUF_N], st[kp.S_VMASK], st[kp.S_VROUTED]
    ivc_bm, vports = st[kp.S_IVC_BM], st[kp.S_VPORTS]
    N = rows * cols
    assert buf_n.shape == ivc_bm.shape == (N * kp.P * V,) and vmask.shape == vrouted.shape == (N * kp.P,)
    routed = 0
    for r in range(N):
        ports = 0
        for ip in range(kp.P):
            q = r * kp.P + ip
            ports |= int(vmask[q] != 0) << ip
            for v in range(V):
                iv = q * V + v
                assert ((int(vrouted[q]) >> v) & 1) == int(ivc_bm[iv] != 0), (r, ip, v)
                if (int(vmask[q]) >> v) & 1:
                    assert buf_n[iv] > 0, (r, ip, v)
                routed += int(ivc_bm[iv] != 0)
        assert int(vports[r]) == ports, r
    return routed


@pytest.mark.parametrize("cfg", [
    RouterConfig(),
    RouterConfig(routing_delay=2, vc_alloc_delay=0, credit_delay=1),
    RouterConfig(num_vcs=2, vc_buf_size=2, wait_for_tail_credit=False, link_latency_cycles=3),
])
def test_stage_masks_follow_the_vc_state(cfg):
    rows, cols, V = 3, 4, cfg.num_vcs
    stream = FlitStream(rows, cols, cfg, 64, max_packet_flits=4)
    rng = np.random.default_rng(5)
    t = 0
    for i in range(120):
        src = (int(rng.integers(0, rows)), int(rng.integers(0, cols)))
        dsts = tuple((int(rng.integers(0, rows)), int(rng.integers(0, cols))) for _ in range(int(rng.integers(1, 4))))
        stream.submit(t, src, dsts, int(rng.integers(1, 300)), "multicast" if i % 3 else "scatter", i)
        t += int(rng.integers(0, 4))
    routed_seen = 0
    done = 0
    while stream.busy:
        done += len(stream.advance(stream.now + int(rng.integers(1, 6)), stop_at_completion=False))
        routed_seen += _check(stream, rows, cols, V)
    assert done == 120
    assert routed_seen > 0  # stopped while packets were in the routers, not only between them
    assert _check(stream, rows, cols, V) == 0  # all delivered: every VC idle
