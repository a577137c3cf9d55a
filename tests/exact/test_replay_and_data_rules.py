"""Checks before a replay (``simulator/mapping/replay_checks.py``) and the rules of a transaction's
``data`` in trace files version 2, each with its full message."""
from __future__ import annotations

import json

import pytest

from conftest import ARCH_DIR
from simulator.config import config_hash, load_arch
from simulator.errors import AxsimError, InputError
from simulator.mapping.replay_checks import check_trace_arch, check_trace_macs, trace_mac_names
from simulator.mapping.trace import LayerTrace
from simulator.mapping.tracefile import read_traces


@pytest.fixture
def tiny():
    return load_arch(ARCH_DIR / "tiny.yaml")


def test_arch_checks(tiny):
    h = config_hash(tiny)
    assert check_trace_arch({"arch": "tiny", "arch_hash": h}, tiny, "t.jsonl") == []
    assert check_trace_arch({"arch_hash": h}, tiny, "t.jsonl") == []          # the hash decides
    assert check_trace_arch({"arch": "tiny"}, tiny, "t.jsonl") == []          # no hash: the name decides
    assert check_trace_arch({}, tiny, "t.jsonl") == [
        "t.jsonl: the trace header names no architecture (keys 'arch', 'arch_hash'); replaying it on 'tiny' unchecked"]
    want = (f"t.jsonl: the trace was generated for architecture 'simba' (arch_hash None); --arch {tiny.source} "
            f"is 'tiny' (arch_hash {h})")
    with pytest.raises(AxsimError) as info:
        check_trace_arch({"arch": "simba"}, tiny, "t.jsonl")
    assert str(info.value) == want + ("; replay it on the architecture it was made for, regenerate it with "
                                      "'axsim trace --arch ...', or pass --force to replay it anyway")
    assert check_trace_arch({"arch": "simba"}, tiny, "t.jsonl", force=True) == [want + "; replayed anyway (--force)"]
    # a hash that differs decides even when the name matches
    with pytest.raises(AxsimError, match="generated for architecture 'tiny' \\(arch_hash 0123\\)"):
        check_trace_arch({"arch": "tiny", "arch_hash": "0123"}, tiny, "t.jsonl")
    # only a hash, and it differs
    with pytest.raises(AxsimError, match="generated for architecture None \\(arch_hash 0123\\)"):
        check_trace_arch({"arch_hash": "0123"}, tiny, "t.jsonl")


def trace(name: str, *macs: str) -> LayerTrace:
    tr = LayerTrace(name, "conv", 1)
    for m in macs:
        tr.add("compute", chiplet=(0, 0), pes=1, k=1, c=1, rs=1, pixels=1, mac=m)
    tr.add("dram_read", ds="weights", channel=0, bytes=1)
    return tr


def test_mac_checks():
    traces = [trace(f"l{i}", "fast") for i in range(5)] + [trace("m", "exact", "slow", "slow")]
    assert trace_mac_names(traces) == {"fast": ["l0", "l1", "l2", "l3", "l4"], "exact": ["m"], "slow": ["m"]}
    check_trace_macs(traces, {"exact", "fast", "slow"}, {}, "t.jsonl", False)        # all known: no error
    listed = "'fast' (layers l0, l1, l2, ...); 'slow' (layers m)"
    with pytest.raises(AxsimError) as info:
        check_trace_macs(traces, {"exact"}, {}, "t.jsonl", False)
    assert str(info.value) == (f"t.jsonl: the trace uses approximate MAC configurations {listed}; pass --approx "
                               "FILE with the approximation file that defines them")
    with pytest.raises(AxsimError) as info:
        check_trace_macs(traces, {"exact"}, {"approx": "a.yaml"}, "t.jsonl", True)
    assert str(info.value) == (f"t.jsonl: the trace uses MAC configurations that the approximation file does not "
                               f"define: {listed}; pass the approximation file the trace was generated with "
                               "(the trace header says it was generated with a.yaml)")
    # exactly three layers: no ellipsis
    with pytest.raises(AxsimError, match=r"'fast' \(layers l2, l3, l4\);"):
        check_trace_macs(traces[2:], {"exact"}, {}, "t.jsonl", False)


def write_v2(tmp_path, txn: dict):
    path = tmp_path / "t.jsonl"
    lines = [{"format": "axsim-trace", "version": 2}, {"layer": "l", "kind": "conv", "macs": 1, "txns": 1},
             {"id": 0, **txn}]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return path


@pytest.mark.parametrize("txn, message", [
    ({"op": "sram", "chiplet": [0, 0], "read_bytes": 1, "write_bytes": 0, "data": [{"k": [0, 1]}]},
     "line 3.data: tensor slices need the transaction's ds"),
    ({"op": "dram_read", "ds": "weights", "channel": 0, "bytes": 1, "data": []},
     "line 3.data: []: must be a non-empty list of slices"),
    ({"op": "dram_read", "ds": "weights", "channel": 0, "bytes": 1, "data": {"k": [0, 1]}},
     "line 3.data: {'k': [0, 1]}: must be a non-empty list of slices"),
    ({"op": "dram_read", "ds": "outputs", "channel": 0, "bytes": 1,
      "data": [{"k": [0, 1], "rows": [0, 1], "cols": [0, 1]}, {"k": [0, 1], "rows": [2, 1], "cols": [0, 1]}]},
     "line 3.data[1]: rows: [2, 1]: must be [start, stop] with 0 <= start <= stop"),
])
def test_data_rules(tmp_path, txn, message):
    path = write_v2(tmp_path, txn)
    with pytest.raises(InputError) as info:
        read_traces(path)
    assert [f"{p.path}: {p.message}" for p in info.value.problems] == [message]


WORK = {"k": [0, 1], "c": [0, 1], "rows": [0, 1], "cols": [0, 1]}
PSUM = {"part": [0, 1], "k": [0, 1], "rows": [0, 1], "cols": [0, 1]}
NOC = {"op": "noc", "ds": "psums", "bytes": 4, "chiplet": [0, 0], "src": [0, 0], "dsts": [[0, 1], [1, 1]],
       "src_buf": "gb", "dst_buf": "pe"}


@pytest.mark.parametrize("txn, message", [
    ({"op": "compute", "chiplet": [0, 0], "pes": 2, "k": 1, "c": 1, "rs": 1, "pixels": 1, "mac": "exact",
      "data": [WORK]}, "line 3.data: 1 slices: a compute  needs one per PE (2)"),
    ({"op": "compute", "chiplet": [0, 0], "k": 1, "c": 1, "rs": 1, "pixels": 1, "mac": "exact", "data": [WORK]},
     "line 3.data: 1 slices: a compute  needs one per PE (0)"),
    ({**NOC, "mode": "gather", "data": [PSUM]}, "line 3.data: 1 slices: a noc gather needs one per destination (2)"),
    ({**NOC, "mode": "scatter", "data": [PSUM] * 3}, "line 3.data: 3 slices: a noc scatter needs one per destination (2)"),
])
def test_slice_counts(tmp_path, txn, message):
    path = write_v2(tmp_path, txn)
    with pytest.raises(InputError) as info:
        read_traces(path)
    assert [f"{p.path}: {p.message}" for p in info.value.problems] == [message]


def test_a_multicast_carries_any_number_of_slices(tmp_path):
    _, (tr,) = read_traces(write_v2(tmp_path, {**NOC, "mode": "multicast", "data": [PSUM] * 3}))
    assert tr.txns[0].data == ((0, 1, 0, 1, 0, 1, 0, 1),) * 3
    _, (tr,) = read_traces(write_v2(tmp_path, {**NOC, "mode": "gather", "data": [PSUM] * 2}))
    assert len(tr.txns[0].data) == 2


def test_every_bad_line_is_reported_and_layer_records_take_defaults(tmp_path):
    """Two lines that are not JSON and a transaction before any layer: all three reported; a layer
    record without kind or macs reads as "" and 0."""
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([json.dumps({"format": "axsim-trace", "version": 1}), "{oops", "[1, 2]",
                               json.dumps({"id": 0, "op": "dram_read", "channel": 0, "bytes": 1}), "{again",
                               json.dumps({"layer": "l", "txns": 0})]) + "\n")
    with pytest.raises(InputError) as info:
        read_traces(path)
    got = [f"{p.path}: {p.message}" for p in info.value.problems]
    assert got[0].startswith("line 2: not valid JSON: ") and got[1] == "line 3: must be a JSON object"
    assert got[2] == "line 4: transaction before the first layer record"
    assert got[3].startswith("line 5: not valid JSON: ") and len(got) == 4
    path.write_text("\n".join([json.dumps({"format": "axsim-trace", "version": 1}),
                               json.dumps({"layer": "l", "txns": 0})]) + "\n")
    _, (tr,) = read_traces(path)
    assert (tr.layer, tr.kind, tr.macs, tr.meta, tr.txns) == ("l", "", 0, {}, [])
