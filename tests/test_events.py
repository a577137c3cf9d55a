"""Chrome trace-event output: one complete event per transaction, consistent with the run."""
from __future__ import annotations

import json

from simulator import api
from simulator.report.events import EventRecorder


def test_one_event_per_transaction_within_the_run(tiny_arch, small_workload, tmp_path):
    recorder = EventRecorder(tiny_arch.clock_ghz)
    result = api.simulate(tiny_arch, small_workload, on_txn=recorder)
    path = recorder.write(tmp_path / "events.json")
    events = json.loads(path.read_text())["traceEvents"]
    assert len(events) == result.events
    assert all(e["ph"] == "X" and e["dur"] >= 0 for e in events)
    us_per_cycle = 1e-3 / tiny_arch.clock_ghz
    end_us = max(e["ts"] + e["dur"] for e in events)
    assert abs(end_us - result.latency_cycles * us_per_cycle) < 1e-6
    assert {e["cat"] for e in events} == {layer.name for layer in small_workload.layers}
    assert {"dram", "nop"} <= {e["pid"] for e in events}


def test_limit_drops_and_says_so(tiny_arch, small_workload, tmp_path):
    recorder = EventRecorder(tiny_arch.clock_ghz, limit=5)
    result = api.simulate(tiny_arch, small_workload, on_txn=recorder)
    data = json.loads(recorder.write(tmp_path / "e.json").read_text())
    assert len(data["traceEvents"]) == 5
    assert data["otherData"]["dropped_events"] == result.events - 5


def test_cli_events_flag(tmp_path, repo_root):
    from simulator.cli import main
    wl = tmp_path / "w.yaml"
    wl.write_text("version: 1\nname: w\nlayers:\n"
                  "  - {name: c, type: conv, input: [8, 8, 8], out_channels: 8, kernel: 3, padding: 1}\n")
    out = tmp_path / "run"
    assert main(["run", "--arch", str(repo_root / "arch/tiny.yaml"), "--workload", str(wl),
                 "--out", str(out), "--quiet", "--events"]) == 0
    assert json.loads((out / "events.json").read_text())["traceEvents"]
