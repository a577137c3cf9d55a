"""The digits-network accuracy/energy table of docs/axbxp-study.md is what
``benchmarks/accuracy_axbxp.py --write`` produces today (a fast script: recomputed here)."""
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import accuracy_axbxp  # noqa: E402
from doc_blocks import read_block  # noqa: E402


def test_digits_accuracy_table_is_fresh():
    documented = read_block(ROOT / "docs" / "axbxp-study.md", accuracy_axbxp.BLOCK)
    assert documented == accuracy_axbxp.table(), (
        "docs/axbxp-study.md is stale: run .venv/bin/python benchmarks/accuracy_axbxp.py --write")
