"""Every rule of the trace-file reader, triggered by a hand-written file, with its full message.

The files are written line by line here (not by the mapper), so each test
names exactly the line, key path, bad value and what is allowed.
"""
from __future__ import annotations

import json

import pytest

from quad import quad_arch
from simulator.errors import AxsimError, InputError
from simulator.mapping.trace import LayerTrace, Txn
from simulator.mapping.tracefile import read_traces, write_traces

HEADER = {"format": "axsim-trace", "version": 1}


def write(tmp_path, *objs, header=HEADER, name="t.jsonl"):
    path = tmp_path / name
    lines = [json.dumps(header)] + [o if isinstance(o, str) else json.dumps(o) for o in objs]
    path.write_text("\n".join(lines) + "\n")
    return path


def layer(n, name="l", **extra):
    return {"layer": name, "kind": "conv", "macs": 5, "txns": n, **extra}


def problems(path, arch=None) -> list[str]:
    with pytest.raises(InputError) as info:
        read_traces(path, arch)
    assert info.value.file == str(path)
    return [f"{p.path}: {p.message}" for p in info.value.problems]


def one_txn(tmp_path, txn, arch=None) -> list[str]:
    return problems(write(tmp_path, layer(1), {"id": 0, **txn}), arch)


# --------------------------------------------------------------------------- values that parse
def test_every_field_is_read_into_the_transaction(tmp_path):
    path = write(tmp_path, layer(3, name="conv1", meta={"tiling": {"k": 2}}),
                 {"id": 0, "op": "dram_read", "ds": "weights", "channel": 1, "bytes": 64},
                 {"id": 1, "op": "noc", "after": [0], "ds": "psums", "bytes": 12, "chiplet": [1, 0], "src": [0, 1],
                  "dsts": [[1, 2], [0, 0]], "mode": "gather", "src_buf": "gb", "dst_buf": "pe"},
                 {"id": 2, "op": "compute", "after": [1, 0], "chiplet": [0, 1], "pes": 3, "k": 4, "c": 5, "rs": 6,
                  "pixels": 7, "mac": "half"})
    header, (tr,) = read_traces(path)
    assert header == HEADER
    assert (tr.layer, tr.kind, tr.macs, tr.meta) == ("conv1", "conv", 5, {"tiling": {"k": 2}})
    assert tr.txns == [
        Txn(0, "dram_read", ds="weights", channel=1, bytes=64),
        Txn(1, "noc", (0,), ds="psums", bytes=12, chiplet=(1, 0), src=(0, 1), dsts=((1, 2), (0, 0)),
            mode="gather", src_buf="gb", dst_buf="pe"),
        Txn(2, "compute", (1, 0), chiplet=(0, 1), pes=3, k=4, c=5, rs=6, pixels=7, mac="half"),
    ]


def test_write_leaves_defaults_out(tmp_path):
    tr = LayerTrace("l", "fc", 9)
    tr.add("dram_read", bytes=8)
    tr.add("sram", [0], ds="psums", chiplet=(1, 1), read_bytes=4)
    path = write_traces(tmp_path / "w.jsonl", [tr], {"arch": "x"})
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0] == {"format": "axsim-trace", "version": 3, "arch": "x"}
    assert lines[1] == {"layer": "l", "kind": "fc", "macs": 9, "txns": 2, "meta": {}}
    assert lines[2] == {"id": 0, "op": "dram_read", "bytes": 8}
    assert lines[3] == {"id": 1, "op": "sram", "after": [0], "ds": "psums", "chiplet": [1, 1], "read_bytes": 4}


# --------------------------------------------------------------------------- per-field rules
def test_unknown_key_lists_the_keys_of_the_op(tmp_path):
    assert one_txn(tmp_path, {"op": "dram_read", "pixels": 3}) == [
        "line 3.pixels: unknown key for op 'dram_read'; allowed: after, bytes, channel, ds, id, op"]


@pytest.mark.parametrize("value", [-1, 1.5, True, "8", None])
def test_integer_fields(tmp_path, value):
    shown = repr(value) if isinstance(value, str) else str(value)
    assert one_txn(tmp_path, {"op": "dram_read", "bytes": value}) == [
        f"line 3.bytes: {shown}: must be an integer >= 0"]


def test_id_must_be_a_non_negative_integer(tmp_path):
    path = write(tmp_path, layer(1), {"id": -1, "op": "dram_read"})
    assert problems(path) == ["line 3.id: -1: must be an integer >= 0"]
    path = write(tmp_path, layer(1), {"op": "dram_read"})
    assert problems(path) == ["line 3.id: missing required key"]


def shown(value) -> str:
    return repr(value) if isinstance(value, str) else str(value)


@pytest.mark.parametrize("value", ["0", [0.5], [True, "x"], {"a": 1}])
def test_after_must_list_ids(tmp_path, value):
    assert one_txn(tmp_path, {"op": "dram_read", "after": value}) == [
        f"line 3.after: {shown(value)}: must be a list of transaction ids"]


@pytest.mark.parametrize("key", ["src", "chiplet"])
@pytest.mark.parametrize("value", [[1], [1, -1], [1, 2, 3], [0.0, 1], [True, 0], "ab"])
def test_nodes(tmp_path, key, value):
    assert one_txn(tmp_path, {"op": "noc", key: value}) == [f"line 3.{key}: {shown(value)}: must be [row, col]"]


@pytest.mark.parametrize("value", [[], [[0, 1], [2]], [0, 1], "x", 5])
def test_destinations(tmp_path, value):
    assert one_txn(tmp_path, {"op": "nop", "dsts": value}) == [
        f"line 3.dsts: {shown(value)}: must be a non-empty list of [row, col]"]


@pytest.mark.parametrize("bad", [{"after": "x"}, {"src": [1]}, {"dsts": []}, {"pixels": 1}, {"mode": "x"},
                                 {"bytes": -1}])
def test_a_rejected_transaction_is_not_checked_further(tmp_path, bad):
    """One bad field rejects the transaction: its id (out of sequence here) is not reported too."""
    got = problems(write(tmp_path, layer(1), {"id": 4, "op": "nop", **bad}))
    assert len(got) == 1 and got[0].startswith(f"line 3.{next(iter(bad))}: ")


@pytest.mark.parametrize("key, value, allowed", [
    ("ds", "gradients", "weights, inputs, outputs, psums"),
    ("mode", "broadcast", "multicast, scatter, gather"),
    ("src_buf", "l2", "dram, gb, pe"),
    ("dst_buf", 3, "dram, gb, pe"),
])
def test_choices(tmp_path, key, value, allowed):
    shown = repr(value) if isinstance(value, str) else str(value)
    assert one_txn(tmp_path, {"op": "nop", key: value}) == [f"line 3.{key}: {shown}: must be one of {allowed}"]


def test_mac_name_must_be_a_string(tmp_path):
    assert one_txn(tmp_path, {"op": "compute", "mac": 4}) == ["line 3.mac: 4: must be a string"]


def test_every_problem_of_a_transaction_is_reported(tmp_path):
    got = one_txn(tmp_path, {"op": "noc", "bytes": -2, "mode": "x", "chiplet": [1]})
    assert [g.split(":")[0] for g in got] == ["line 3.bytes", "line 3.mode", "line 3.chiplet"]


# --------------------------------------------------------------------------- file structure
def test_header_format_and_version(tmp_path):
    assert problems(write(tmp_path, layer(0), header={"format": "other", "version": 1})) == [
        "line 1.format: 'other': not an axsim trace (expected 'axsim-trace')"]
    assert problems(write(tmp_path, layer(0), header={"format": "axsim-trace", "version": 4})) == [
        "line 1.version: 4: supported trace versions: 1, 2, 3; regenerate it with: "
        "axsim trace --arch ARCH --workload WORKLOAD --out FILE"]


def test_lines_must_be_json_objects(tmp_path):
    got = problems(write(tmp_path, layer(2), "{oops", "[1, 2]"))
    assert got[0].startswith("line 3: not valid JSON: ")
    assert got[1] == "line 4: must be a JSON object"


def test_transaction_counts(tmp_path):
    ok = {"id": 0, "op": "dram_read"}
    assert problems(write(tmp_path, layer(2), ok, layer(1, "m"), ok)) == [
        "line 4: new layer while 1 transactions of 'l' are still missing"]
    assert problems(write(tmp_path, layer(2), ok, ok)) == [
        "line 4.id: 0: ids must count 0, 1, 2, ... within a layer (expected 1)"]
    assert problems(write(tmp_path, layer(1), ok, {"id": 1, "op": "dram_read"})) == [
        "line 4: more transactions than the 1 announced by layer 'l'"]
    assert problems(write(tmp_path, layer(3), ok)) == ["end of file: 2 transactions of 'l' missing"]
    assert problems(write(tmp_path, layer(-1))) == ["line 2.txns: -1: must be an integer >= 0"]
    assert problems(write(tmp_path, layer("2"))) == ["line 2.txns: '2': must be an integer >= 0"]
    assert problems(write(tmp_path, ok, layer(0))) == ["line 2: transaction before the first layer record"]
    assert problems(write(tmp_path)) == [": no layers in the trace"]


def test_at_most_fifty_problems(tmp_path):
    bad = [{"id": i, "op": "dram_read", "bytes": -1} for i in range(80)]
    path = write(tmp_path, layer(80), *bad)
    got = problems(path)
    assert len(got) == 80 and got[0] == "line 3.bytes: -1: must be an integer >= 0"
    with pytest.raises(InputError) as info:  # the message lists 50 and counts the rest
        read_traces(path)
    lines = str(info.value).splitlines()
    assert len(lines) == 51 and lines[49].endswith("line 52.bytes: -1: must be an integer >= 0")
    assert "... and 30 more problems" in lines[50]


def test_missing_file(tmp_path):
    with pytest.raises(AxsimError) as info:
        read_traces(tmp_path / "none.jsonl")
    assert str(info.value) == f"{tmp_path / 'none.jsonl'}: no such trace file"


# --------------------------------------------------------------------------- checks against an architecture
@pytest.mark.parametrize("txn, where, message", [
    ({"op": "dram_read", "channel": 2}, "channel", "2: must be < 2 DRAM channels"),
    ({"op": "dram_write", "channel": 5}, "channel", "5: must be < 2 DRAM channels"),
    ({"op": "nop", "src": [2, 0], "dsts": [[0, 0]]}, "src/dsts", "[2, 0]: must be inside the 2x2 chiplet mesh"),
    ({"op": "nop", "src": [0, 0], "dsts": [[0, 2]]}, "src/dsts", "[0, 2]: must be inside the 2x2 chiplet mesh"),
    ({"op": "noc", "chiplet": [0, 2], "dsts": [[0, 0]]}, "chiplet", "[0, 2]: must be inside the 2x2 chiplet mesh"),
    ({"op": "sram", "chiplet": [2, 1]}, "chiplet", "[2, 1]: must be inside the 2x2 chiplet mesh"),
    ({"op": "compute", "chiplet": [1, 2], "pes": 1}, "chiplet", "[1, 2]: must be inside the 2x2 chiplet mesh"),
    ({"op": "noc", "chiplet": [1, 1], "src": [0, 3], "dsts": [[0, 0]]}, "src/dsts",
     "[0, 3]: must be inside the 2x3 PE mesh"),
    ({"op": "noc", "chiplet": [1, 1], "src": [0, 0], "dsts": [[1, 2], [2, 0]]}, "src/dsts",
     "[2, 0]: must be inside the 2x3 PE mesh"),
    ({"op": "compute", "chiplet": [1, 1], "pes": 7}, "pes", "7: must be between 1 and the 6 PEs of a chiplet"),
    ({"op": "compute", "chiplet": [1, 1], "pes": 0}, "pes", "0: must be between 1 and the 6 PEs of a chiplet"),
])
def test_coordinates_against_the_architecture(tmp_path, txn, where, message):
    arch = quad_arch(tmp_path)
    assert one_txn(tmp_path, txn, arch) == [f"layer 'l' txn 0.{where}: {message} of 'quad'"]


@pytest.mark.parametrize("txn", [
    {"op": "dram_read", "channel": 1}, {"op": "nop", "src": [1, 1], "dsts": [[0, 1], [1, 0]]},
    {"op": "noc", "chiplet": [1, 1], "src": [1, 2], "dsts": [[0, 2]]}, {"op": "sram", "chiplet": [1, 1]},
    {"op": "compute", "chiplet": [1, 1], "pes": 6},
])
def test_largest_coordinates_are_accepted(tmp_path, txn):
    arch = quad_arch(tmp_path)
    _, (tr,) = read_traces(write(tmp_path, layer(1), {"id": 0, **txn}), arch)
    assert tr.txns[0].op == txn["op"]


def test_to_dict_uses_plain_lists():
    t = Txn(3, "noc", (1, 2), ds="inputs", bytes=5, chiplet=(1, 0), src=(0, 1), dsts=((1, 1), (0, 2)))
    assert t.to_dict() == {"id": 3, "op": "noc", "after": [1, 2], "ds": "inputs", "bytes": 5, "chiplet": [1, 0],
                           "src": [0, 1], "dsts": [[1, 1], [0, 2]]}
    assert Txn(0, "compute", chiplet=(0, 0), pes=1).to_dict() == {"id": 0, "op": "compute", "pes": 1}


def test_writing_creates_folders_and_compact_lines(tmp_path):
    tr = LayerTrace("l", "fc", 1)
    tr.add("dram_read", bytes=8)
    path = write_traces(tmp_path / "a" / "b" / "t.jsonl", [tr], {})
    assert path.read_text().splitlines()[2] == '{"id":0,"op":"dram_read","bytes":8}'


def test_reading_goes_on_after_a_surplus_transaction(tmp_path):
    ok = {"id": 0, "op": "dram_read"}
    got = problems(write(tmp_path, layer(1), ok, {"id": 1, "op": "dram_read"}, layer(1, "m"),
                         {"id": 0, "op": "dram_read", "bytes": -3}))
    assert got == ["line 4: more transactions than the 1 announced by layer 'l'",
                   "line 6.bytes: -3: must be an integer >= 0"]
