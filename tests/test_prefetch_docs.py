"""docs/validation.md §18 against a fresh run of its benchmark (kept out of tests/exact: it reads
the docs and the benchmark scripts, which the mutation-testing copy of the project does not hold)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_validation_table_rows_are_a_fresh_run(simba_arch):
    """docs/validation.md §18 (benchmarks/validate_prefetch.py --write): AlexNet's rows, recomputed
    (every column but the CPU seconds); prefetch keeps the DRAM bytes and lowers the latency."""
    import sys
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from doc_blocks import read_block
    from validate_prefetch import row
    rows = [line.split(" | ") for line in read_block(ROOT / "docs/validation.md", "prefetch").splitlines()
            if line.startswith("| alexnet")]
    assert len(rows) == 2
    fresh = [row(simba_arch, "alexnet", p)[0] for p in (False, True)]
    for doc, new in zip(rows, fresh):
        doc[0] = doc[0].lstrip("| ")
        assert doc[:9] == new[:9]
    assert rows[0][5] == rows[1][5]                                     # DRAM MB
    assert int(rows[1][2].replace(",", "")) < int(rows[0][2].replace(",", ""))
