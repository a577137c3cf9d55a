"""benchmarks/profile_noc_lines.py without valgrind: its copy of the kernel, its anchors for the
parts of a router visit, and its reading of callgrind's per-instruction counts."""
from __future__ import annotations

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import profile_noc_lines  # noqa: E402


def test_the_copy_has_line_tables_and_every_part_starts_once_in_order(tmp_path):
    source = profile_noc_lines._copy(tmp_path)
    text = (tmp_path / "kernel_lines.py").read_text()
    assert text.count("@numba.njit(cache=True, debug=True, ") == 1 and "@cached_njit(_nrt" not in text
    firsts = []
    for _, anchor in profile_noc_lines.PARTS:
        hits = [i for i, line in enumerate(source) if (line + "\n").startswith(anchor)]
        assert len(hits) == 1, anchor
        firsts.append(hits[0])
    assert firsts == sorted(firsts)


def test_costs_follow_relative_addresses_and_leave_out_calls(tmp_path):
    """Self cost per address: 0x1000 -> 5, +4 -> 3 (then a call from there, whose inclusive
    100 is not the function's own), +2 -> 7; an address outside the function is ignored."""
    out = tmp_path / "cg.out"
    out.write_text("fn=(1) 0x1000\n0x1000 0 5\n+4 0 3\ncfn=(2)\ncalls=2 0x2000 0\n* 0 100\n+2 0 7\n"
                   "0x3000 0 9\n")
    assert profile_noc_lines._costs(out, 0x1000, 0x100) == {0: 5, 4: 3, 6: 7}


def test_the_unicast_kernel_copy_and_its_parts(tmp_path):
    """--kernel unicast: the copy of kernel_uni.py has line tables and every part's anchor occurs
    once, in the order of the parts."""
    source = profile_noc_lines._copy(tmp_path, "unicast")
    text = (tmp_path / "kernel_lines.py").read_text()
    assert "def simulate_uni(" in text and text.count("@numba.njit(cache=True, debug=True, ") == 1
    firsts = []
    for _, anchor in profile_noc_lines.PARTS_UNI:
        hits = [i for i, line in enumerate(source) if (line + "\n").startswith(anchor) or line.startswith(anchor)]
        assert len(hits) == 1, anchor
        firsts.append(hits[0])
    assert firsts == sorted(firsts)
