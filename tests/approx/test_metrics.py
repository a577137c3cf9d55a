import csv
from pathlib import Path

import numpy as np
import pytest

from simulator.approx import blocked as B
from simulator.approx import generators as G
from simulator.approx.metrics import error_metrics

REFERENCE = Path(__file__).resolve().parents[2] / ".." / "shared" / "reference"
V = np.arange(256, dtype=np.int64)
EXACT = V[:, None] * V[None, :]


def test_exact_multiplier_has_zero_error():
    m = error_metrics(G.exact())
    assert (m.mae, m.wce, m.mre, m.ep, m.wcre, m.me) == (0.0,) * 6


def test_single_wrong_entry_hand_computed():
    table = EXACT.copy()
    table[1, 1] = 3                     # error 2 on a product of 1
    m = error_metrics(table)
    assert m.mae == pytest.approx(100 * 2 / 65536 / 65536)
    assert m.wce == pytest.approx(100 * 2 / 65536)
    assert m.mre == pytest.approx(100 * 2 / 65025)   # 65,025 pairs with a non-zero product
    assert m.ep == pytest.approx(100 / 65536)
    assert m.wcre == pytest.approx(200.0)
    assert m.me == pytest.approx(m.mae)


def test_error_on_zero_product_counts_in_mae_not_mre():
    table = EXACT.copy()
    table[0, 5] = 10
    m = error_metrics(table)
    assert m.mae == pytest.approx(100 * 10 / 65536 / 65536)
    assert m.wce == pytest.approx(100 * 10 / 65536)
    assert m.mre == 0.0 and m.wcre == 0.0
    assert m.ep == pytest.approx(100 / 65536)


def test_constant_offset():
    table = EXACT + 1
    table[255, 255] = 255 * 255        # keep one pair exact
    m = error_metrics(table)
    assert m.ep == pytest.approx(100 * 65535 / 65536)
    assert m.wcre == pytest.approx(100.0)        # exact product 1, approximation 2
    assert m.me > 0


def test_generator_metrics_are_ordered():
    mae = lambda lut: error_metrics(lut).mae  # noqa: E731
    trunc = [mae(G.truncated(t)) for t in range(0, 12, 2)]
    assert trunc == sorted(trunc) and trunc[0] == 0 and len(set(trunc)) == len(trunc)
    optr = [mae(G.operand_truncated(t, t)) for t in range(0, 6)]
    assert optr == sorted(optr) and len(set(optr)) == len(optr)
    bam = [mae(G.broken_array(0, v)) for v in range(0, 12, 2)]
    assert bam == sorted(bam) and len(set(bam)) == len(bam)
    drum = [mae(G.drum(k)) for k in range(2, 9)]
    assert drum == sorted(drum, reverse=True) and drum[-1] == 0
    top = [mae(G.from_block_config(B.static_top(n, 8, 2))) for n in range(4, 17, 3)]
    assert top == sorted(top, reverse=True) and top[-1] == 0
    dyn = [mae(G.from_block_config(B.dynamic(k, k, 8, 2))) for k in range(1, 5)]
    assert dyn == sorted(dyn, reverse=True) and dyn[-1] == 0
    # Mitchell never overestimates; its worst relative error is 1/9 (Mitchell 1962)
    mit = error_metrics(G.mitchell())
    assert mit.me < 0 and mit.wcre == pytest.approx(100 / 9)


def test_metrics_match_evoapprox_reference_rows():
    path = REFERENCE / "evoapprox_mul8u.csv"
    if not path.is_file():
        pytest.skip(f"reference data not found at {path} (shared/reference is not checked out)")
    rows = {r["name"]: r for r in csv.DictReader(path.open())}
    cases = {"mul8u_1JFF": np.broadcast_to(EXACT, (256, 256)),   # the exact multiplier
             "mul8u_E9R": np.zeros((256, 256), dtype=np.int64)}   # constant zero
    for name, table in cases.items():
        m = error_metrics(table)
        ref = rows[name]
        for key in ("mae", "wce", "mre", "ep", "wcre"):
            assert getattr(m, key) == pytest.approx(float(ref[f"{key}_pct"]), abs=0.006), (name, key)
