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
