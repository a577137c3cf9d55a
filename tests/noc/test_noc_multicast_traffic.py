"""``axsim noc`` multicast traffic: packets to K uniformly drawn nodes, replicated in the routers or
sent as K copies; the options, their errors and what replication changes."""
from __future__ import annotations

import csv

import pytest

from simulator.cli import main
from simulator.errors import InputError
from simulator.noc.booksim import load_setup
from simulator.noc.traffic import run_point


def _setup(**kw):
    return load_setup(None, k=4, packet_size=4, injection_rate=0.02, warmup_periods=1, sample_period=2000, **kw)


def test_replication_is_faster_than_repeated_unicast_and_delivers_every_copy():
    """Fan-out 4 at a low load: every measured packet reaches its 4 destinations either way; the
    accepted load is about 4 x the offered (each delivered copy counts) in both; replication
    sends one copy through the source interface instead of 4, so its latency is lower (the
    fourth unicast copy leaves at least 3 x 4 flits after the first)."""
    rep = run_point(_setup(multicast_fanout=4))
    uni = run_point(_setup(multicast_fanout=4, multicast="unicast"))
    assert rep.status == uni.status == "ok"
    for pt in (rep, uni):
        assert 3.5 * 0.02 < pt.accepted_flits_per_node_cycle < 4.5 * 0.02
    assert rep.packet_latency_cycles + 8 < uni.packet_latency_cycles
    assert rep.flit_hops < uni.flit_hops  # a tree crosses each of its links once
    one = run_point(_setup())
    assert 0.8 * 0.02 < one.accepted_flits_per_node_cycle < 1.2 * 0.02


def test_multicast_options_are_checked():
    with pytest.raises(InputError, match="needs traffic uniform"):
        _setup(multicast_fanout=2, traffic="transpose")
    with pytest.raises(InputError, match="multicast_fanout 17 > k\\*k = 16"):
        _setup(multicast_fanout=17)
    with pytest.raises(InputError, match="multicast"):
        _setup(multicast_fanout=2, multicast="tree")


def test_cli_multicast_traffic(tmp_path, capsys):
    out = tmp_path / "mc"
    code = main(["noc", "--k", "4", "--rates", "0.02", "--packet-sizes", "4", "--warmup-periods", "1",
                 "--sample-period", "1000", "--multicast-fanout", "3", "--multicast", "unicast",
                 "--out", str(out), "--no-plot"])
    assert code == 0
    rows = list(csv.DictReader((out / "noc.csv").open()))
    assert len(rows) == 1 and rows[0]["status"] == "ok" and float(rows[0]["packet_latency_cycles"]) > 0
