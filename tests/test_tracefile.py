"""Layer-trace files: write -> read round trip, replay equivalence, and every kind of bad trace."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from simulator import api
from simulator.errors import AxsimError, InputError
from simulator.mapping.trace import LayerTrace, Txn
from simulator.mapping.tracefile import FORMAT, VERSION, read_traces, write_traces


@pytest.fixture(scope="module")
def traces(tiny_arch, small_workload) -> list[LayerTrace]:
    return list(api.generate_traces(tiny_arch, small_workload))


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory, traces) -> Path:
    path = tmp_path_factory.mktemp("trace") / "small.trace.jsonl"
    write_traces(path, traces, {"arch": "tiny", "workload": "small"})
    return path


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def first_txn_line(lines: list[str], op: str | None = None, layer: int = 0) -> int:
    """1-based line number of the first transaction (of ``op``) in layer ``layer``."""
    seen = -1
    for n, line in enumerate(lines, start=1):
        obj = json.loads(line)
        if "layer" in obj:
            seen += 1
        elif seen == layer and "op" in obj and (op is None or obj["op"] == op):
            return n
    raise AssertionError(f"no {op} transaction in layer {layer}")


# --------------------------------------------------------------------------- round trip
def test_round_trip_equality(trace_file, traces, tiny_arch):
    header, back = read_traces(trace_file, tiny_arch)
    assert header["format"] == FORMAT and header["version"] == VERSION
    assert header["arch"] == "tiny" and header["workload"] == "small"
    assert len(back) == len(traces)
    for a, b in zip(traces, back):
        assert (b.layer, b.kind, b.macs) == (a.layer, a.kind, a.macs)
        assert b.meta == a.meta
        assert len(b.txns) == len(a.txns)
        for ta, tb in zip(a.txns, b.txns):
            assert isinstance(tb, Txn)
            assert tb == ta


def test_file_layout(trace_file, traces):
    lines = lines_of(trace_file)
    assert len(lines) == 1 + sum(1 + len(t.txns) for t in traces)
    assert json.loads(lines[0])["format"] == FORMAT
    record = json.loads(lines[1])
    assert record["layer"] == traces[0].layer and record["txns"] == len(traces[0].txns)
    # defaults are left out of transaction lines
    first = json.loads(lines[2])
    assert first["id"] == 0 and "mac" not in first and "pes" not in first


def test_read_without_arch(trace_file, traces):
    _, back = read_traces(trace_file)
    assert [t.layer for t in back] == [t.layer for t in traces]


def test_hand_written_trace_with_defaults(tmp_path, tiny_arch):
    path = tmp_path / "hand.jsonl"
    path.write_text("\n".join([
        json.dumps({"format": FORMAT, "version": 1}),
        json.dumps({"layer": "l", "txns": 2}),
        json.dumps({"id": 0, "op": "dram_read", "bytes": 64}),
        json.dumps({"id": 1, "op": "compute", "after": [0], "pes": 1, "k": 4, "c": 4, "rs": 1, "pixels": 1}),
    ]) + "\n")
    _, (trace,) = read_traces(path, tiny_arch)
    assert trace.txns[0] == Txn(0, "dram_read", bytes=64)
    assert trace.txns[1].after == (0,) and trace.txns[1].mac == "exact" and trace.txns[1].chiplet == (0, 0)


def test_replay_equals_direct_simulation(trace_file, tiny_arch, small_workload):
    direct = api.simulate(tiny_arch, small_workload)
    _, back = read_traces(trace_file, tiny_arch)
    replay = api.simulate(tiny_arch, traces=back)
    assert [x.latency_cycles for x in replay.layers] == [x.latency_cycles for x in direct.layers]
    assert replay.latency_cycles == direct.latency_cycles > 0
    for a, b in zip(direct.layers, replay.layers):
        assert b.energy_pj == pytest.approx(a.energy_pj, rel=1e-12)
        assert b.events == a.events
    assert replay.energy_pj == pytest.approx(direct.energy_pj, rel=1e-12)


# --------------------------------------------------------------------------- bad traces
Edit = Callable[[list[str]], list[str]]


def bad_trace(tmp_path: Path, trace_file: Path, edit: Edit, arch) -> InputError:
    path = tmp_path / "bad.trace.jsonl"
    path.write_text("\n".join(edit(lines_of(trace_file))) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_traces(path, arch)
    err = info.value
    assert err.file == str(path)
    assert all(line.startswith(f"{path}: ") for line in str(err).splitlines())
    return err


def set_field(n: int, **fields) -> Edit:
    """Edit: update the JSON object on line ``n`` (1-based)."""
    def edit(lines: list[str]) -> list[str]:
        obj = json.loads(lines[n - 1])
        obj.update(fields)
        lines[n - 1] = json.dumps(obj)
        return lines
    return edit


def test_wrong_version(tmp_path, trace_file, tiny_arch):
    err = bad_trace(tmp_path, trace_file, set_field(1, version=4), tiny_arch)
    assert str(err).endswith("line 1.version: 4: supported trace versions: 1, 2, 3; regenerate it with: "
                             "axsim trace --arch ARCH --workload WORKLOAD --out FILE")


def test_wrong_format(tmp_path, trace_file, tiny_arch):
    err = bad_trace(tmp_path, trace_file, set_field(1, format="chrome-trace"), tiny_arch)
    assert "line 1.format: 'chrome-trace': not an axsim trace" in str(err)


def test_missing_header(tmp_path, trace_file, tiny_arch):
    err = bad_trace(tmp_path, trace_file, lambda lines: lines[1:], tiny_arch)
    assert "line 1.format" in str(err)


def test_malformed_json_line(tmp_path, trace_file, tiny_arch):
    def edit(lines):
        lines[4] = lines[4][:-5]  # line 5 cut short
        return lines
    err = bad_trace(tmp_path, trace_file, edit, tiny_arch)
    assert any(p.path == "line 5" and "not valid JSON" in p.message for p in err.problems)


def test_line_not_an_object(tmp_path, trace_file, tiny_arch):
    def edit(lines):
        lines[3] = "[1, 2]"
        return lines
    err = bad_trace(tmp_path, trace_file, edit, tiny_arch)
    assert any(p.path == "line 4" and "JSON object" in p.message for p in err.problems)


def test_unknown_op(tmp_path, trace_file, tiny_arch):
    n = first_txn_line(lines_of(trace_file), "compute")
    err = bad_trace(tmp_path, trace_file, set_field(n, op="teleport"), tiny_arch)
    assert f"line {n}.op: 'teleport': must be one of dram_read, dram_write, nop, noc, compute, sram" in str(err)


def test_unknown_key(tmp_path, trace_file, tiny_arch):
    n = first_txn_line(lines_of(trace_file), "dram_read")
    err = bad_trace(tmp_path, trace_file, set_field(n, pixels=3), tiny_arch)
    problem = err.problems[0]
    assert problem.path == f"line {n}.pixels"
    assert "unknown key for op 'dram_read'" in problem.message and "bytes" in problem.message


def test_one_bad_transaction_is_one_problem(tmp_path, trace_file, tiny_arch):
    n = first_txn_line(lines_of(trace_file), "dram_read")
    err = bad_trace(tmp_path, trace_file, set_field(n, pixels=3), tiny_arch)
    assert [p.path for p in err.problems] == [f"line {n}.pixels"]


def test_negative_bytes(tmp_path, trace_file, tiny_arch):
    n = first_txn_line(lines_of(trace_file), "noc")
    err = bad_trace(tmp_path, trace_file, set_field(n, bytes=-4), tiny_arch)
    assert f"{tmp_path / 'bad.trace.jsonl'}: line {n}.bytes: -4: must be an integer >= 0" in str(err)


@pytest.mark.parametrize("field,value", [("ds", "gradients"), ("mode", "broadcast"), ("dst_buf", "l2"),
                                         ("dsts", []), ("src", [0]), ("after", "0"), ("bytes", 1.5)])
def test_bad_field_values(tmp_path, trace_file, tiny_arch, field, value):
    n = first_txn_line(lines_of(trace_file), "noc")
    err = bad_trace(tmp_path, trace_file, set_field(n, **{field: value}), tiny_arch)
    assert any(p.path == f"line {n}.{field}" for p in err.problems), str(err)


def test_id_out_of_sequence(tmp_path, trace_file, tiny_arch):
    n = first_txn_line(lines_of(trace_file)) + 2  # third transaction, id 2
    err = bad_trace(tmp_path, trace_file, set_field(n, id=7), tiny_arch)
    (problem,) = err.problems
    assert problem.path == f"line {n}.id" and problem.message.startswith("7: ids must count 0, 1, 2")
    assert "expected 2" in problem.message


def test_missing_id(tmp_path, trace_file, tiny_arch):
    n = first_txn_line(lines_of(trace_file))

    def edit(lines):
        obj = json.loads(lines[n - 1])
        del obj["id"]
        lines[n - 1] = json.dumps(obj)
        return lines
    err = bad_trace(tmp_path, trace_file, edit, tiny_arch)
    assert any(p.path == f"line {n}.id" and "missing" in p.message for p in err.problems)


def test_missing_transactions_at_end(tmp_path, trace_file, tiny_arch, traces):
    err = bad_trace(tmp_path, trace_file, lambda lines: lines[:-2], tiny_arch)
    (problem,) = err.problems
    assert problem.path == "end of file"
    assert f"2 transactions of {traces[-1].layer!r} missing" in problem.message


def test_missing_transactions_before_next_layer(tmp_path, trace_file, tiny_arch, traces):
    lines = lines_of(trace_file)
    second_layer = next(n for n, line in enumerate(lines, start=1) if n > 2 and '"layer"' in line)

    def edit(lines):
        del lines[second_layer - 2]  # the last transaction of the first layer
        return lines
    err = bad_trace(tmp_path, trace_file, edit, tiny_arch)
    assert any(p.path == f"line {second_layer - 1}" and "1 transactions" in p.message
               and traces[0].layer in p.message for p in err.problems)


def test_extra_transactions_at_end(tmp_path, trace_file, tiny_arch, traces):
    def edit(lines):
        last = json.loads(lines[-1])
        lines.append(json.dumps({"id": last["id"] + 1, "op": "dram_read", "bytes": 8}))
        return lines
    bad_trace(tmp_path, trace_file, edit, tiny_arch)


def test_transaction_before_first_layer(tmp_path, trace_file, tiny_arch):
    def edit(lines):
        return [lines[0], lines[2], *lines[1:]]
    err = bad_trace(tmp_path, trace_file, edit, tiny_arch)
    assert any(p.path == "line 2" and "before the first layer" in p.message for p in err.problems)


def test_empty_trace(tmp_path, trace_file, tiny_arch):
    err = bad_trace(tmp_path, trace_file, lambda lines: lines[:1], tiny_arch)
    assert "no layers" in str(err)


@pytest.mark.parametrize("op,field,value,message", [
    ("compute", "chiplet", [0, 1], "chiplet: [0, 1]: must be inside the 1x1 chiplet mesh of 'tiny'"),
    ("noc", "dsts", [[0, 0], [0, 1], [1, 0], [2, 0]],
     "src/dsts: [2, 0]: must be inside the 2x2 PE mesh of 'tiny'"),
    ("nop", "src", [1, 0], "src/dsts: [1, 0]: must be inside the 1x1 chiplet mesh of 'tiny'"),
    ("dram_read", "channel", 1, "channel: 1: must be < 1 DRAM channels of 'tiny'"),
])
def test_coordinates_outside_the_arch(tmp_path, trace_file, tiny_arch, traces, op, field, value, message):
    lines = lines_of(trace_file)
    n = first_txn_line(lines, op)
    tid = json.loads(lines[n - 1])["id"]
    err = bad_trace(tmp_path, trace_file, set_field(n, **{field: value}), tiny_arch)
    (problem,) = err.problems
    assert problem.path.startswith(f"layer {traces[0].layer!r} txn {tid}.")
    assert f"txn {tid}.{message}" in str(err)


def test_outside_coordinates_fine_on_a_bigger_arch(tmp_path, trace_file, simba_arch, tiny_arch):
    n = first_txn_line(lines_of(trace_file), "compute")
    path = tmp_path / "moved.jsonl"
    path.write_text("\n".join(set_field(n, chiplet=[0, 1])(lines_of(trace_file))) + "\n")
    read_traces(path, simba_arch)  # chiplet [0, 1] exists on simba
    with pytest.raises(InputError):
        read_traces(path, tiny_arch)


def test_several_problems_reported_at_once(tmp_path, trace_file, tiny_arch):
    lines = lines_of(trace_file)
    a = first_txn_line(lines, "noc")
    b = first_txn_line(lines, "compute")

    def edit(lines):
        lines = set_field(a, bytes=-1)(lines)
        return set_field(b, op="warp")(lines)
    err = bad_trace(tmp_path, trace_file, edit, tiny_arch)
    paths = {p.path for p in err.problems}
    assert {f"line {a}.bytes", f"line {b}.op"} <= paths


def test_missing_trace_file(tmp_path):
    with pytest.raises(AxsimError, match="no such trace file"):
        read_traces(tmp_path / "none.jsonl")


def test_compute_on_more_pes_than_a_chiplet_has(tmp_path, tiny_arch):
    from simulator.errors import InputError
    from simulator.mapping.trace import LayerTrace
    from simulator.mapping.tracefile import read_traces, write_traces

    trace = LayerTrace("l", "conv", 10)
    trace.add("compute", chiplet=(0, 0), pes=5, k=1, c=1, rs=1, pixels=1)
    path = write_traces(tmp_path / "t.jsonl", [trace], {})
    with pytest.raises(InputError) as err:
        read_traces(path, tiny_arch)
    assert "txn 0.pes: 5: must be between 1 and the 4 PEs of a chiplet of 'tiny'" in str(err.value)
    assert str(path) in str(err.value)


# --------------------------------------------------------------------------- data identity (version 2)
def _strip_identity(lines: list[str]) -> list[str]:
    out = []
    for n, line in enumerate(lines):
        obj = json.loads(line)
        if n == 0:
            obj["version"] = 1
        obj.pop("data", None)
        obj.pop("early", None)  # version 3 (weight prefetch across layers)
        obj.pop("prev", None)
        out.append(json.dumps(obj))
    return out


def test_version_1_replays_without_identity(tmp_path, trace_file, traces, tiny_arch, small_workload):
    path = tmp_path / "v1.trace.jsonl"
    path.write_text("\n".join(_strip_identity(lines_of(trace_file))) + "\n", encoding="utf-8")
    header, back = read_traces(path, tiny_arch)
    assert header["version"] == 1
    assert all(not t.data for tr in back for t in tr.txns)
    old = api.simulate(tiny_arch, traces=back)
    # without early/prev a version-1 file replays layer after layer: as the traces without prefetch
    new = api.simulate(tiny_arch, traces=list(api.generate_traces(tiny_arch, small_workload, prefetch=False)))
    assert old.latency_cycles == new.latency_cycles and old.energy_pj == new.energy_pj


def test_version_1_may_not_carry_data(tmp_path, trace_file, tiny_arch):
    err = bad_trace(tmp_path, trace_file, set_field(1, version=1), tiny_arch)
    assert "line 3.data: unknown key for op 'dram_read'" in str(err)


@pytest.mark.parametrize("data,message", [
    ([{"k": [0, 4], "c": [0, 8], "r": [0, 3]}], "s: None: must be [start, stop]"),
    ([{"k": [4, 0], "c": [0, 8], "r": [0, 3], "s": [0, 3]}], "k: [4, 0]: must be [start, stop]"),
    ([{"k": [0, 4], "c": [0, 8], "r": [0, 3], "s": [0, 3], "rows": [0, 1]}], "unknown dimension(s) rows"),
    ([], "must be a non-empty list of slices"),
])
def test_bad_slices(tmp_path, trace_file, tiny_arch, data, message):
    lines = lines_of(trace_file)
    n = first_txn_line(lines, "dram_read")
    err = bad_trace(tmp_path, trace_file, set_field(n, data=data), tiny_arch)
    (problem,) = err.problems
    assert problem.path.startswith(f"line {n}.data") and message in problem.message


def test_scatter_needs_one_slice_per_destination(tmp_path, trace_file, tiny_arch):
    lines = lines_of(trace_file)
    n = next(i for i, line in enumerate(lines, 1) if '"mode": "scatter"' in line or '"mode":"scatter"' in line)
    obj = json.loads(lines[n - 1])
    err = bad_trace(tmp_path, trace_file, set_field(n, data=obj["data"][:1]), tiny_arch)
    assert "1 slices: a noc scatter needs one per destination (4)" in str(err)
