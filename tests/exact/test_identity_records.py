"""Slices of data identity in trace files (``simulator/mapping/identity.py``): sizes, the file
records of every data structure (with and without halo counts) and every rule of their reader,
with the full message."""
from __future__ import annotations

import pytest

from simulator.mapping.identity import from_dict, ranges, shape, size, to_dict

INPUTS = (0, 1, 0, 2, 1, 4, 3, 9, 0, 5, 2, 1)   # t 0:1, g 0:2, c 1:4, rows 3:9, cols 0:5, halo 2 rows, 1 col


def test_ranges_shapes_and_sizes():
    assert ranges("weights", (0, 4, 1, 3, 0, 3, 2, 3)) == [(0, 4), (1, 3), (0, 3), (2, 3)]
    assert shape("weights", (0, 4, 1, 3, 0, 3, 2, 3)) == (4, 2, 3, 1)
    assert size("weights", (0, 4, 1, 3, 0, 3, 2, 3)) == 24
    assert shape("outputs", (5, 3, 0, 2, 1, 4)) == (0, 2, 3) and size("outputs", (5, 3, 0, 2, 1, 4)) == 0
    assert shape("inputs", INPUTS) == (1, 2, 3, 6, 5)               # the halo counts are not dimensions
    assert size("psums", (1, 2, 0, 8, 0, 2, 0, 3)) == 48


def test_records_round_trip_with_and_without_halo():
    rec = to_dict("inputs", INPUTS)
    assert rec == {"t": [0, 1], "g": [0, 2], "c": [1, 4], "rows": [3, 9], "cols": [0, 5],
                   "halo_rows": 2, "halo_cols": 1}
    assert from_dict("inputs", rec) == (INPUTS, "")
    plain = INPUTS[:10] + (0, 0)
    assert "halo_rows" not in to_dict("inputs", plain) and "halo_cols" not in to_dict("inputs", plain)
    assert from_dict("inputs", to_dict("inputs", plain)) == (plain, "")
    assert to_dict("psums", (1, 2, 0, 8, 0, 2, 0, 3)) == {"part": [1, 2], "k": [0, 8], "rows": [0, 2], "cols": [0, 3]}
    assert from_dict("work", {"k": [0, 1], "c": [0, 1], "rows": [0, 1], "cols": [2, 2]}) == ((0, 1, 0, 1, 0, 1, 2, 2), "")


@pytest.mark.parametrize("ds, rec, message", [
    ("outputs", [0, 1], "must be an object with the ranges k, rows, cols"),
    ("outputs", {"k": [0, 1], "rows": [0, 1], "cols": [0, 1], "halo_rows": 1},
     "unknown dimension(s) halo_rows for outputs; allowed: k, rows, cols"),
    ("outputs", {"k": [0, 1], "rows": [0, 1], "cols": [0, 1], "x": 1, "a": 2},
     "unknown dimension(s) a, x for outputs; allowed: k, rows, cols"),
    ("outputs", {"k": [0, 1], "rows": [0, 1, 2], "cols": [0, 1]}, "rows: [0, 1, 2]: must be [start, stop] with 0 <= start <= stop"),
    ("outputs", {"k": [0, 1], "rows": [0, 1], "cols": [0.0, 1]}, "cols: [0.0, 1]: must be [start, stop] with 0 <= start <= stop"),
    ("outputs", {"k": [-1, 1], "rows": [0, 1], "cols": [0, 1]}, "k: [-1, 1]: must be [start, stop] with 0 <= start <= stop"),
    ("outputs", {"k": [True, 1], "rows": [0, 1], "cols": [0, 1]}, "k: [True, 1]: must be [start, stop] with 0 <= start <= stop"),
    ("inputs", {**to_dict("inputs", INPUTS), "halo_rows": -1}, "halo_rows: -1: must be an integer >= 0"),
    ("inputs", {**to_dict("inputs", INPUTS), "halo_cols": 1.5}, "halo_cols: 1.5: must be an integer >= 0"),
    ("inputs", {**to_dict("inputs", INPUTS), "halo_rows": 7}, "halo_rows/halo_cols larger than the rows/cols range"),
    ("inputs", {**to_dict("inputs", INPUTS), "halo_cols": 6}, "halo_rows/halo_cols larger than the rows/cols range"),
])
def test_reader_rules(ds, rec, message):
    assert from_dict(ds, rec) == (None, message)


def test_halo_equal_to_the_range_is_allowed():
    rec = {**to_dict("inputs", INPUTS), "halo_rows": 6, "halo_cols": 5}
    assert from_dict("inputs", rec) == (INPUTS[:10] + (6, 5), "")
