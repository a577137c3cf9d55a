"""The on-package dataflow's generated tables in docs/validation.md agree with what they summarise,
and the DRAM traffic they report for ResNet-50 matches a fresh count."""
from __future__ import annotations

import re
import sys
from collections import Counter

from conftest import ROOT, WORKLOAD_DIR

sys.path.insert(0, str(ROOT / "benchmarks"))
from doc_blocks import read_block  # noqa: E402

PAGE = ROOT / "docs" / "validation.md"


def _table(block: str) -> list[list[str]]:
    rows = [line for line in block.splitlines() if line.startswith("|") and not line.startswith("|---")]
    return [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]


def test_bounds_summary_matches_its_table():
    head, *rows = _table(read_block(PAGE, "bounds"))
    limits = Counter(r[head.index("limit")] for r in rows)
    ratios = sorted(float(r[head.index("sim / bound")]) for r in rows)
    # every ratio is simulated latency over the largest of the bounds listed in its row
    for r in rows:
        b = {k: float(r[head.index(k)]) for k in ("compute", "DRAM", "NoP", "NoC", "global buffer")}
        assert r[head.index("limit")] == max(b, key=b.get)
        assert float(r[head.index("sim / bound")]) >= 1.0
    summary = read_block(PAGE, "bounds-summary")
    assert summary.startswith(f"{len(rows)} layers")
    for name, n in limits.items():
        assert f"{name} {n}" in summary
    assert f"max {ratios[-1]:.2f}" in summary


def test_dataflow_table_ratios_and_resnet50_dram_bytes():
    from simulator import api
    from simulator.config import load_arch
    head, *rows = _table(read_block(PAGE, "dataflow"))
    col = {name: head.index(name) for name in head}
    for r in rows:
        dram, mn = float(r[col["DRAM MB"]]), float(r[col["min. DRAM MB"]])
        assert abs(dram / mn - float(r[col["DRAM / min."]])) < 0.006
    row = next(r for r in rows if r[0] == "resnet50" and r[1] == "resident")
    wl = api.load_workload(WORKLOAD_DIR / "resnet50.yaml")
    moved = sum(t.bytes for tr in api.generate_traces(load_arch(ROOT / "arch" / "simba.yaml"), wl,
                                                        dataflow="resident", mapping="fixed")
                for t in tr.txns if t.op in ("dram_read", "dram_write"))
    assert f"{moved / 1e6:.2f}" == row[col["DRAM MB"]]
    assert re.fullmatch(r"\d+\.\d\d", row[col["DRAM / min."]]) and float(row[col["DRAM / min."]]) <= 1.5
