"""Chrome trace-event output: one complete event per transaction, tracks that obey the nesting rule
of the trace-event format, integer pids/tids named by metadata, filters and the size limit."""
from __future__ import annotations

import json
from collections import defaultdict

import pytest

from simulator import api
from simulator.report.events import EventRecorder


def nesting_violations(events: list[dict]) -> list[tuple]:
    """Pairs of complete events on one (pid, tid) that partially overlap: the second starts inside
    the first and ends after it. Times in integer nanoseconds as a viewer reads them."""
    tracks: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
    for e in events:
        if e["ph"] == "X":
            start = round(e["ts"] * 1000)
            tracks[(e["pid"], e["tid"])].append((start, start + round(e["dur"] * 1000)))
    bad = []
    for key, spans in tracks.items():
        stack: list[tuple[int, int]] = []
        for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
            while stack and stack[-1][1] <= start:
                stack.pop()
            if stack and end > stack[-1][1]:
                bad.append((key, stack[-1], (start, end)))
            stack.append((start, end))
    return bad


def test_nesting_checker_finds_partial_overlaps():
    """The checker itself: nested and disjoint events pass, a partial overlap is found."""
    ev = lambda ts, dur, tid=1: {"ph": "X", "ts": ts, "dur": dur, "pid": 1, "tid": tid}  # noqa: E731
    assert nesting_violations([ev(0, 10), ev(2, 3), ev(10, 1), ev(5, 5, tid=2)]) == []
    assert len(nesting_violations([ev(0, 10), ev(5, 10)])) == 1
    assert nesting_violations([ev(0, 10), ev(5, 10, tid=2)]) == []


def _run(arch, workload, flow=None, **kw):
    recorder = EventRecorder(arch.clock_ghz, **kw)
    result = api.simulate(arch, workload, traces=None, on_txn=recorder, **(flow or {}))
    return recorder, result


def test_every_transaction_on_a_nested_named_track(simba_arch, small_workload, tmp_path):
    recorder, result = _run(simba_arch, small_workload)
    data = json.loads(recorder.write(tmp_path / "events.json").read_text())
    events = data["traceEvents"]
    txns = [e for e in events if e["ph"] == "X" and e["pid"] != 0]
    # every transaction exactly once: (layer, txn id) pairs are 0..n-1 per layer
    traces = list(api.generate_traces(simba_arch, small_workload))
    assert sorted((e["cat"], e["args"]["txn"]) for e in txns) == sorted(
        (t.layer, i) for t in traces for i in range(len(t.txns)))
    assert len(txns) == result.events == data["otherData"]["transactions"]
    assert nesting_violations(events) == []
    # concurrency needs several tracks per unit (the old one-thread-per-kind layout overlapped)
    assert len({(e["pid"], e["tid"]) for e in txns}) > len({e["pid"] for e in txns})
    # integer ids, each named by metadata
    meta = [e for e in events if e["ph"] == "M"]
    procs = {e["pid"]: e["args"]["name"] for e in meta if e["name"] == "process_name"}
    threads = {(e["pid"], e["tid"]): e["args"]["name"] for e in meta if e["name"] == "thread_name"}
    for e in events:
        assert type(e["pid"]) is int and type(e["tid"]) is int
        if e["ph"] == "X":
            assert e["pid"] in procs and (e["pid"], e["tid"]) in threads
    assert {"layers", "dram", "nop"} <= set(procs.values())
    # one event per layer on the layers track, spanning the run
    layer_events = [e for e in events if e["ph"] == "X" and e["pid"] == 0]
    assert [e["name"] for e in layer_events] == [layer.name for layer in small_workload.layers]
    ns_per_cycle = 1 / simba_arch.clock_ghz
    end_ns = max(round(e["ts"] * 1000) + round(e["dur"] * 1000) for e in events if e["ph"] == "X")
    assert end_ns == round(result.latency_cycles * ns_per_cycle)


def test_times_are_the_transaction_cycles(tiny_arch, small_workload, tmp_path):
    """ts/dur equal ready/finish cycles of the replay, converted at the clock (1 GHz: 1 cycle = 1 ns)."""
    seen = {}

    def spy(trace, txn, ready, finish):
        seen[(trace.layer, txn.id)] = (ready, finish)
        recorder(trace, txn, ready, finish)

    recorder = EventRecorder(tiny_arch.clock_ghz)
    api.simulate(tiny_arch, small_workload, on_txn=spy)
    events = json.loads(recorder.write(tmp_path / "e.json").read_text())["traceEvents"]
    assert tiny_arch.clock_ghz == 1.0
    for e in events:
        if e["ph"] == "X" and e["pid"] != 0:
            ready, finish = seen[(e["cat"], e["args"]["txn"])]
            assert (round(e["ts"] * 1000), round(e["dur"] * 1000)) == (ready, finish - ready)


def test_filters_keep_only_the_chosen_layers_and_units(simba_arch, small_workload, tmp_path):
    full, result = _run(simba_arch, small_workload)
    recorder, _ = _run(simba_arch, small_workload, layers=["conv", "f*"], units=["dram"])
    data = json.loads(recorder.write(tmp_path / "e.json").read_text())
    txns = [e for e in data["traceEvents"] if e["ph"] == "X" and e["pid"] != 0]
    expected = [ev for ev in full.events if ev[5] in ("conv", "fc") and ev[2] == "dram"]
    assert len(txns) == len(expected) > 0
    assert {e["cat"] for e in txns} == {"conv", "fc"}
    assert data["otherData"]["filtered_out"] == result.events - len(expected)
    assert nesting_violations(data["traceEvents"]) == []


def test_limit_drops_and_says_so(tiny_arch, small_workload, tmp_path):
    recorder = EventRecorder(tiny_arch.clock_ghz, limit=5)
    result = api.simulate(tiny_arch, small_workload, on_txn=recorder)
    data = json.loads(recorder.write(tmp_path / "e.json").read_text())
    assert len([e for e in data["traceEvents"] if e["ph"] == "X" and e["pid"] != 0]) == 5
    assert data["otherData"]["dropped_events"] == result.events - 5


@pytest.mark.parametrize("extra", [[], ["--events-layers", "c", "--events-units", "dram,nop"]])
def test_cli_events_flag(tmp_path, repo_root, extra):
    from simulator.cli import main
    wl = tmp_path / "w.yaml"
    wl.write_text("version: 1\nname: w\nlayers:\n"
                  "  - {name: c, type: conv, input: [8, 8, 8], out_channels: 8, kernel: 3, padding: 1}\n")
    out = tmp_path / "run"
    assert main(["run", "--arch", str(repo_root / "arch/tiny.yaml"), "--workload", str(wl),
                 "--out", str(out), "--quiet", "--events", *extra]) == 0
    events = json.loads((out / "events.json").read_text())["traceEvents"]
    units = {e["args"]["name"] for e in events if e["name"] == "process_name"}
    assert units == ({"layers", "dram", "nop"} if extra else {"layers", "dram", "nop", "chiplet[0,0]"})


def test_resnet50_events_nest_and_are_complete(simba_arch, repo_root, tmp_path):
    """The full ResNet-50 run: every transaction present, no partial overlap on any track, and a
    file small enough to open (docs/performance.md gives its size)."""
    workload = api.load_workload(repo_root / "workloads/resnet50.yaml")
    # docs/performance.md's figures are for this dataflow and mapping
    recorder, result = _run(simba_arch, workload, {"dataflow": "dram", "mapping": "fixed"})
    path = recorder.write(tmp_path / "events.json")
    events = json.loads(path.read_text())["traceEvents"]
    txns = [e for e in events if e["ph"] == "X" and e["pid"] != 0]
    assert len(txns) == result.events > 100_000
    assert len({(e["cat"], e["args"]["txn"]) for e in txns}) == result.events
    assert nesting_violations(events) == []
    assert path.stat().st_size / result.events < 160  # bytes per transaction (measured: about 121)
