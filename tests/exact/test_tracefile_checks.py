"""The trace reader stops checking a transaction's data once one of its fields is wrong
(``simulator/mapping/tracefile.py``, ``_parse_txn``): one bad field gives exactly one problem."""
from __future__ import annotations

from simulator.mapping.identity import to_dict
from simulator.mapping.tracefile import _parse_txn


def _compute(**over):
    # a compute transaction on 2 PEs whose data holds only 1 work slice (it needs one per PE)
    obj = {"id": 0, "op": "compute", "pes": 2, "data": [to_dict("work", (0, 1, 0, 1, 0, 1, 0, 1))]}
    obj.update(over)
    return obj


def test_a_good_transaction_with_too_few_slices_reports_the_count():
    problems: list = []
    assert _parse_txn(_compute(), "t", problems) is None
    assert [p.path for p in problems] == ["t.data"]
    assert problems[0].message.startswith("1 slices") and "one per PE (2)" in problems[0].message


def test_a_non_string_field_is_the_only_problem_reported():
    problems: list = []
    assert _parse_txn(_compute(mac=3), "t", problems) is None
    # the data are not looked at once a field is wrong, so the slice count is not reported
    assert [(p.path, p.message) for p in problems] == [("t.mac", "3: must be a string")]


def test_a_non_boolean_early_flag_is_the_only_problem_reported():
    problems: list = []
    assert _parse_txn(_compute(early=1), "t", problems) is None
    assert [(p.path, p.message) for p in problems] == [("t.early", "1: must be true or false")]


def _noc(nbytes, data):
    return {"id": 3, "op": "noc", "ds": "inputs", "bytes": nbytes, "chiplet": [0, 0], "src": [0, 0],
            "dsts": [[0, 1]], "src_buf": "gb", "dst_buf": "pe", "data": data}


def test_a_transfer_of_named_elements_with_zero_bytes_is_refused():
    """A window of 2 channels x 3 rows x 4 columns = 24 input elements on a transfer of 0 bytes:
    the file contradicts itself."""
    window = to_dict("inputs", (0, 1, 0, 1, 0, 2, 0, 3, 0, 4, 0, 0))
    problems: list = []
    assert _parse_txn(_noc(0, [window]), "t", problems) is None
    assert [p.path for p in problems] == ["t.bytes"]
    assert problems[0].message.startswith("0, but its data slices name 24 elements")
    # the same slices with bytes, and an empty slice with no bytes, are accepted
    assert _parse_txn(_noc(24, [window]), "t", []) is not None
    empty = to_dict("inputs", (0, 1, 0, 1, 0, 2, 0, 3, 0, 0, 0, 0))  # no columns
    assert _parse_txn(_noc(0, [empty]), "t", []) is not None
