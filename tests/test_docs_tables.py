"""Figures in docs/ are regenerated, not remembered: the benchmark scripts write their tables between
``<!-- begin: NAME -->`` / ``<!-- end: NAME -->`` markers; fast tables are recomputed here, and the
summaries of slow ones are checked against the tables they summarise."""
from __future__ import annotations

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from doc_blocks import read_block, replace_block  # noqa: E402

REFERENCE = ROOT.parent / "shared" / "reference"


def _table(block: str) -> list[list[str]]:
    rows = [line for line in block.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]


def test_blocks_round_trip(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("intro\n<!-- begin: t -->\nold\n<!-- end: t -->\nafter\n")
    replace_block(page, "t", "| a |\n")
    assert read_block(page, "t") == "| a |\n"
    assert page.read_text() == "intro\n<!-- begin: t -->\n| a |\n<!-- end: t -->\nafter\n"
    with pytest.raises(KeyError):
        replace_block(page, "missing", "x\n")


def test_single_layer_table_is_what_the_script_prints():
    ref = REFERENCE / "scalesim"
    if not ref.is_dir():
        pytest.skip(f"{ref}: SCALE-Sim reference topologies not available")
    import validate_layers
    fresh = validate_layers.table(ROOT / "arch/simba.yaml", ref)
    assert read_block(ROOT / "docs/validation.md", "single-layers") == fresh


def test_axbxp_summary_matches_its_table():
    """The ranges quoted under 'Beside the paper' are those of the results table on the same page."""
    page = ROOT / "docs/axbxp-study.md"
    table = _table(read_block(page, "axbxp-results"))
    header, rows = table[0], table[2:]
    col = {name: i for i, name in enumerate(header)}
    rows = [r for r in rows if not r[col["configuration"]].startswith(("fixed-point", "exact BxP"))]
    energy = sorted(float(r[col["E vs fixed"]]) for r in rows)
    perf = sorted(float(r[col["perf vs fixed"]]) for r in rows)
    layer = sorted(float(x) for r in rows for x in r[col["layer E ratio"]].split("–"))
    summary = read_block(page, "axbxp-summary")
    assert f"{energy[0]:.3f}–{energy[-1]:.3f}× energy" in summary
    assert f"{perf[0]:.3f}–{perf[-1]:.3f}× performance" in summary
    assert f"{layer[0]:.2f}–{layer[-1]:.2f}× energy" in summary
    assert f"over the {len({r[col['configuration']] for r in rows})} configurations" in summary


def test_axbxp_split_table_agrees_with_the_results_table():
    page = ROOT / "docs/axbxp-study.md"
    results = _table(read_block(page, "axbxp-results"))
    split = _table(read_block(page, "axbxp-split"))
    rc = {name: i for i, name in enumerate(results[0])}
    sc = {name: i for i, name in enumerate(split[0])}
    msb22 = {r[rc["network"]]: r for r in results[2:] if r[rc["configuration"]] == "static msb [2,2]"}
    both = {r[sc["network"]]: r for r in split[2:] if r[sc["variant"]].startswith("both")}
    assert set(msb22) == set(both) == {"alexnet", "resnet50", "mobilenetv2"}
    for net, row in both.items():
        for key in ("E ratio", "perf ratio", "MAC E ratio", "DRAM ratio"):
            assert row[sc[key]] == msb22[net][rc[key]], (net, key)


def test_models_page_describes_link_calendars():
    text = " ".join((ROOT / "docs/models.md").read_text().split())
    assert "whole-path reservation" not in text
    assert "link calendars" in text and "per-hop offsets" in text


def test_noc_reading_matches_the_booksim_table():
    """The claims of the 'Reading' paragraph of docs/validation.md section 1, checked on its table
    (written by benchmarks/validate_noc.py)."""
    table = _table(read_block(ROOT / "docs/validation.md", "noc-booksim"))
    rows = [dict(zip(table[0], r)) for r in table[2:]]

    def pick(size, rate):
        (row,) = [r for r in rows if r["flits/packet"] == str(size) and r["offered (flits/node/cycle)"] == rate]
        return row

    for rate in ("0.05", "0.10", "0.20", "0.30"):
        one, four = pick(1, rate), pick(4, rate)
        assert abs(float(one["axsim latency"]) - float(one["BookSim2 latency"])) <= 1.0  # within 1 cycle
        assert abs(float(four["axsim latency"]) / float(four["BookSim2 latency"]) - 1) <= 0.02  # within 2%
    low = [1 - float(pick(s, r)["axsim latency"]) / float(pick(s, r)["BookSim2 latency"])
           for s in (1, 4) for r in ("0.35", "0.40")]
    assert 0.04 <= min(low) and max(low) <= 0.30  # "4-30% low"
    saturated = [float(pick(s, "0.60")["axsim accepted"]) for s in (1, 4)]
    assert 0.47 <= min(saturated) and max(saturated) <= 0.49  # "saturates at about 0.47-0.49"
    booksim = [float(pick(s, "0.60")["BookSim2 accepted"]) for s in (1, 4)]
    assert all(abs(b - 0.40) <= 0.01 for b in booksim)  # "BookSim2 saturates at 0.40"
