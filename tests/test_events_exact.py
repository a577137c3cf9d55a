"""Event traces with exact timestamps: each event spans ready -> finish of its transaction.

The chain DRAM -> NoP -> NoC -> compute on arch/tiny.yaml has the hand-computed
stage times of tests/test_engine.py (66, 32, 20 and 72 cycles at 1 GHz).
"""
from __future__ import annotations

import json

import pytest

from simulator import api
from simulator.mapping.trace import LayerTrace
from simulator.report.events import EventRecorder

PES = ((0, 1), (1, 0), (1, 1))


def chain() -> LayerTrace:
    tr = LayerTrace("hand", "conv", 0)
    rd = tr.add("dram_read", ds="inputs", channel=0, bytes=256)
    nop = tr.add("nop", [rd], ds="inputs", bytes=256, src=(0, 0), dsts=((0, 0),), src_buf="dram", dst_buf="gb")
    noc = tr.add("noc", [nop], ds="inputs", bytes=128, chiplet=(0, 0), src=(0, 0), dsts=PES,
                 mode="multicast", src_buf="gb", dst_buf="pe")
    tr.add("compute", [noc], chiplet=(0, 0), pes=3, k=4, c=8, rs=9, pixels=4)
    # a second DRAM read on the same channel, ready at 0, queues behind the first (16 + 50 cycles)
    tr.add("dram_read", ds="weights", channel=0, bytes=256)
    return tr


def events_of(arch, traces, tmp_path, clock_ghz=None):
    rec = EventRecorder(clock_ghz or arch.clock_ghz)
    result = api.simulate(arch, traces=traces, on_txn=rec)
    return result, json.loads(rec.write(tmp_path / "events.json").read_text())


def transactions(data) -> list[dict]:
    """The transaction events (complete events outside the per-layer track), with the unit and the
    track named by the metadata events instead of their integer ids."""
    procs = {e["pid"]: e["args"]["name"] for e in data["traceEvents"] if e["name"] == "process_name"}
    tracks = {(e["pid"], e["tid"]): e["args"]["name"] for e in data["traceEvents"] if e["name"] == "thread_name"}
    return [{**e, "unit": procs[e["pid"]], "track": tracks[(e["pid"], e["tid"])].split(" #")[0]}
            for e in data["traceEvents"] if e["ph"] == "X" and e["cat"] != "layer"]


def test_each_event_spans_ready_to_finish(tiny_arch, tmp_path):
    result, data = events_of(tiny_arch, [chain()], tmp_path)
    us = 1e-3  # microseconds per cycle at 1 GHz
    got = [(e["name"], e["unit"], e["track"], round(e["ts"] / us), round(e["dur"] / us), e["args"]["txn"])
           for e in transactions(data)]
    assert sorted(got, key=lambda g: g[5]) == [
        ("dram_read inputs", "dram", "ch0", 0, 66, 0),
        ("nop inputs", "nop", "inputs", 66, 32, 1),
        ("noc inputs", "chiplet[0,0]", "noc", 98, 20, 2),
        ("compute", "chiplet[0,0]", "compute", 118, 72, 3),
        ("dram_read weights", "dram", "ch0", 0, 16 + 66, 4),   # queued 16 cycles behind txn 0
    ]
    assert result.latency_cycles == 190
    assert {e["cat"] for e in transactions(data)} == {"hand"}
    assert "dropped_events" not in data["otherData"]


def test_timestamps_follow_the_clock(tiny_arch, tmp_path):
    """The recorder's clock converts cycles: at 2 GHz a cycle is 0.5 ns."""
    _, data = events_of(tiny_arch, [chain()], tmp_path, clock_ghz=2.0)
    compute = next(e for e in transactions(data) if e["name"] == "compute")
    assert compute["ts"] == pytest.approx(118 * 0.5e-3) and compute["dur"] == pytest.approx(72 * 0.5e-3)


def test_second_layer_starts_after_the_first(tiny_arch, tmp_path):
    second = chain()
    second.layer = "again"
    _, data = events_of(tiny_arch, [chain(), second], tmp_path)
    first_of_second = min(e["ts"] for e in transactions(data) if e["cat"] == "again")
    assert first_of_second == pytest.approx(190e-3)


def test_limit_keeps_the_first_events(tiny_arch, tmp_path):
    rec = EventRecorder(tiny_arch.clock_ghz, limit=2)
    api.simulate(tiny_arch, traces=[chain()], on_txn=rec)
    data = json.loads(rec.write(tmp_path / "e.json").read_text())
    # txns 0 and 4 (both DRAM reads) are issued at cycle 0 before the others
    assert sorted(e["args"]["txn"] for e in transactions(data)) == [0, 4]
    assert data["otherData"]["dropped_events"] == 3
