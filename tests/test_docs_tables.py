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


def test_axbxp_reading_figures_match_the_tables():
    """The ranges quoted in the numbered reading of docs/axbxp-study.md, recomputed from its tables."""
    page = ROOT / "docs/axbxp-study.md"
    text = " ".join(page.read_text().split())
    results = _table(read_block(page, "axbxp-results"))
    split = _table(read_block(page, "axbxp-split"))
    shares = _table(read_block(page, "axbxp-shares"))
    rc = {n: i for i, n in enumerate(results[0])}
    res = results[2:]

    def ratios(config_test, keys=("E ratio", "perf ratio")):
        return [float(r[rc[k]]) for r in res if config_test(r[rc["configuration"]], r) for k in keys]

    def pct_range(values, digits=1):  # (x - 1) in percent
        return f"{100 * (min(values) - 1):.{digits}f}–{100 * (max(values) - 1):.{digits}f}%"

    def x_range(values, digits=2):
        return f"{min(values):.{digits}f}–{max(values):.{digits}f}×"

    sc = {n: i for i, n in enumerate(split[0])}
    macs_only = [float(r[sc["E ratio"]]) for r in split[2:] if r[sc["variant"]].startswith("MACs only")]
    assert f"changes system energy by {pct_range(macs_only)}" in text
    perf_macs_only = [float(r[sc["perf ratio"]]) for r in split[2:] if r[sc["variant"]].startswith("MACs only")]
    assert f"run only {pct_range(perf_macs_only)} faster" in text
    assert f"{x_range(ratios(lambda c, r: c == 'static top 10'), 3)} for `top 10`" in text
    assert f"{x_range(ratios(lambda c, r: c == 'dynamic keep 3/3', ('E ratio',)))} for `dynamic 3/3`" in text
    six = ratios(lambda c, r: r[rc["bits a/w"]] == "6/6", ("E ratio",))
    assert f"{x_range(six)} for the 6-bit configurations" in text
    assert f"{x_range(ratios(lambda c, r: c == 'static msb [2,2]'))} for `msb [2,2]`" in text
    col = {n: i for i, n in enumerate(shares[0])}

    def share(name):
        return [float(r[col[name]]) for r in shares[2:]]
    assert f"DRAM is {min(share('DRAM %')):.0f}–{max(share('DRAM %')):.0f}% of the energy" in text
    assert f"the NoP {min(share('NoP %')):.0f}–{max(share('NoP %')):.0f}%" in text
    assert f"the MACs are {min(share('MAC %')):.1f}–{max(share('MAC %')):.1f}%" in text
    util = share("MAC utilization %")
    assert f"the exact runs use {min(util):.1f}–{max(util):.1f}% of the peak MACs" in text
    fixed = [float(r[rc["E ratio"]]) for r in res if r[rc["configuration"]].startswith("fixed-point")]
    assert f"which adds {pct_range(fixed)} to system energy" in text


def test_tutorial_figures_are_those_of_a_fresh_run(simba_arch):
    """docs/tutorial.md quotes an AlexNet run on arch/simba.yaml; a run now gives the same figures."""
    from simulator import api
    text = " ".join((ROOT / "docs/tutorial.md").read_text().split())
    workload = api.load_workload(ROOT / "workloads/alexnet.yaml")
    result = api.simulate(simba_arch, workload)
    by_class = result.energy_by_class()
    fc = next(layer for layer in result.layers if layer.name == "classifier.1")
    assert f"| latency | {result.latency_cycles:,} cycles = {result.latency_ms:.4f} ms at 2.0 GHz |" in text
    assert (f"| energy | {result.energy_pj / 1e9:.2f} mJ, of which DRAM {by_class['dram'] / result.energy_pj:.1%}, "
            f"NoP links {by_class['nop_link'] / result.energy_pj:.1%} |") in text
    assert f"| MAC utilization | {result.utilization:.2%} |" in text
    weights = workload.layer("classifier.1").weight_count  # 8-bit weights: one byte each
    assert f"moves {weights / 1e6:.1f} MB of weights from DRAM ({fc.latency_cycles:,} cycles)" in text
    assert fc.count("dram.read_bit") / 8 >= weights
    assert f"The replay gives the same {result.latency_cycles:,} cycles" in text


def test_combined_study_reading_matches_its_tables():
    """docs/combined-study.md: the numbers its reading quotes are those of the tables that
    benchmarks/study_combined.py --write-docs wrote."""
    page = ROOT / "docs" / "combined-study.md"
    block = read_block(page, "combined-study")
    reading = page.read_text().split("## Reading", 1)[1]
    rows = _table(block)
    bounds = {r[0]: r[1:] for r in rows if len(r) == 6 and r[0] in ("0", "0.005", "0.01", "0.02", "0.05")}
    digits = _table(block.split("## ResNet-50", 1)[0])
    single = {(r[0], r[1].strip("`")): r[2:] for r in digits if len(r) >= 4 and r[1].startswith("`")}
    # loss <= 0: best single family (compression, lowbits:3) and combined; loss <= 0.01: combined
    assert min(bounds["0"][:4]) == bounds["0"][3] == "0.865" and bounds["0"][4] == "0.757"
    assert bounds["0.01"][4] == "0.719" and min(bounds["0.01"][:4]) == "0.865"
    for value in ("0.865", "0.757", "0.719", "0.718", "3.6%", "0.211", "0.320", "0.471", "0.530"):
        assert value in reading, value
    assert single[("mac", "msb2")][:3] == ["0.7911", "0.8405", "0.0139"]  # 21% energy, 16% latency, 1.4%
    assert single[("wcomp", "lowbits:3")][0] == "0.8653" and single[("wcomp", "huffman")][0] == "1.0050"
    assert single[("noc_swing_v", "0.5")][2] == "0.0139"
    assert "accuracy loss 0.0356, energy 0.718" in block
    resnet = [r for r in rows if r[0] == "combined"]
    assert resnet and resnet[0][2:4] == ["0.2108", "0.3197"]
    assert ("21% energy" in reading and "11% at no loss" in reading and "13% energy" in reading
            and "1.9%" in reading and "0.5% energy" in reading and "53% energy and 47% latency" in reading)
