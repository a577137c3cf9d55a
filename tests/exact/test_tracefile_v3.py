"""The version-3 fields of trace files (``early``, ``prev``: weight prefetch across layers) in the
reader and writer (simulator/mapping/tracefile.py, trace.py), with hand-written files and full
messages: line, key, bad value, what is allowed. Versions 1 and 2 do not know the fields."""
from __future__ import annotations

import json

import pytest

from simulator.errors import InputError
from simulator.mapping.trace import LayerTrace, Txn
from simulator.mapping.tracefile import read_traces, write_traces
from simulator.mapping.tiling import Tiling


def write(tmp_path, version, *txns):
    path = tmp_path / "t.jsonl"
    lines = [{"format": "axsim-trace", "version": version}, {"layer": "l", "kind": "conv", "macs": 0,
                                                             "txns": len(txns)}, *txns]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return path


def problems(path):
    with pytest.raises(InputError) as info:
        read_traces(path)
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def test_early_and_prev_are_read_in_version_3(tmp_path):
    path = write(tmp_path, 3, {"id": 0, "op": "dram_read", "bytes": 8, "early": True},
                 {"id": 1, "op": "dram_read", "bytes": 4, "early": False, "prev": [3, 1]})
    _, (tr,) = read_traces(path)
    assert tr.txns == [Txn(0, "dram_read", bytes=8, early=True), Txn(1, "dram_read", bytes=4, prev=(3, 1))]


@pytest.mark.parametrize("version, allowed", [
    (1, "after, bytes, channel, ds, id, op"),
    (2, "after, bytes, channel, data, ds, id, op"),
])
def test_versions_before_3_do_not_know_them(tmp_path, version, allowed):
    path = write(tmp_path, version, {"id": 0, "op": "dram_read", "bytes": 8, "early": True, "prev": [1]})
    assert problems(path) == [f"line 3.early: unknown key for op 'dram_read'; allowed: {allowed}",
                              f"line 3.prev: unknown key for op 'dram_read'; allowed: {allowed}"]


@pytest.mark.parametrize("value, shown", [([1, "2"], "[1, '2']"), (3, "3"), ([True], "[True]"), ("x", "'x'")])
def test_prev_is_a_list_of_transaction_ids(tmp_path, value, shown):
    path = write(tmp_path, 3, {"id": 0, "op": "dram_read", "bytes": 8, "prev": value})
    assert problems(path) == [f"line 3.prev: {shown}: must be a list of transaction ids"]


@pytest.mark.parametrize("value, shown", [(0, "0"), ("true", "'true'"), (None, "None")])
def test_early_is_true_or_false(tmp_path, value, shown):
    path = write(tmp_path, 3, {"id": 0, "op": "dram_read", "bytes": 8, "early": value})
    assert problems(path) == [f"line 3.early: {shown}: must be true or false"]


def test_the_writer_leaves_out_what_is_not_set(tmp_path):
    tr = LayerTrace("l", "conv", 0)
    tr.add("dram_read", bytes=8, early=True, prev=(4, 2))
    tr.add("dram_read", bytes=8)
    assert [t.to_dict() for t in tr.txns] == [{"id": 0, "op": "dram_read", "early": True, "prev": [4, 2],
                                                "bytes": 8},
                                               {"id": 1, "op": "dram_read", "bytes": 8}]
    path = write_traces(tmp_path / "w.jsonl", [tr], {})
    _, (back,) = read_traces(path)
    assert back.txns == tr.txns


@pytest.mark.parametrize("c_tiles, c_outer, order", [(1, False, "ks"), (1, True, "ks"), (3, True, "kcs"),
                                                      (3, False, "ksc")])
def test_loop_order_names_the_nest(c_tiles, c_outer, order):
    assert Tiling(1, 1, 1, 1, 1, c_tiles, 1, 1, c_outer).loop_order == order
