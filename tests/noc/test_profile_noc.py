"""benchmarks/profile_noc.py: the counting copy of the kernel behaves as the kernel and counts
what it says (checked against quantities the kernel reports on its own)."""
from __future__ import annotations

import sys

import numpy as np

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import profile_noc  # noqa: E402


def test_counts_agree_with_the_kernel_on_a_small_mesh():
    m = profile_noc.profile(4, 0.1, 2, 2000)  # raises if arrivals differ from the kernel's (2-flit packets)
    c = m["counts"]
    assert c["grants"] == m["hops"] > 0  # one switch grant per router traversal
    assert c["sa_requests"] <= c["visits"] <= 16 * c["cycles"]  # at most every router in a stepped cycle
    assert c["vc_not_arrived"] < c["vc_scans"] and c["idle_not_arrived"] < c["idle_scans"]
    # a head is routed once per router it passes (ejection included): the idle VCs scanned with
    # their head arrived are the packets' router traversals, flit-hops / 2 with 2-flit packets
    assert c["idle_scans"] - c["idle_not_arrived"] == m["hops"] // 2
    assert c["empty_visits"] < c["visits"]
    assert c["sa_several"] <= c["sa_requests"]
    assert c["va_one"] > 0 and c["cycles"] > 0


def test_every_anchor_occurs_once_in_the_kernel():
    src = (ROOT / "simulator" / "noc" / "kernel.py").read_text(encoding="utf-8")
    for name, _, anchor in profile_noc.COUNTERS:
        assert src.count(anchor) == 1, name
    assert len({a for _, _, a in profile_noc.COUNTERS}) == len(profile_noc.COUNTERS)
    assert np.all(np.array([len(w) for _, w, _ in profile_noc.COUNTERS]) > 0)
