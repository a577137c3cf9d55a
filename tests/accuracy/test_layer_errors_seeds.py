"""Per-layer "with errors" figures over every Monte Carlo seed: MAE mean with its 95% CI, SNR of
the pooled signal and noise powers (not the first seed only)."""
from __future__ import annotations

import math

import numpy as np

from conftest import ROOT, WORKLOAD_DIR
from simulator.accuracy.engine import infer, quantize_input
from simulator.accuracy.evaluate import evaluate
from simulator.accuracy.model import load_weights
from simulator.faults.inject import flip_bits
from simulator.faults.seeding import rng_for
from simulator.workload import load_workload


def factory(p: float):
    """A hook factory flipping every bit of conv2's outputs with probability p (seeded per index)."""
    def make(mc: int):
        def corrupt(layer, ds, t, unit=None):
            if layer == "conv2" and ds == "outputs":
                return flip_bits(t, np.full(8, p, np.float32), rng_for(7, f"test/{mc}"))
            return t
        return corrupt
    return make


def test_layer_errors_pool_every_seed():
    wl = load_workload(WORKLOAD_DIR / "digits_cnn.yaml")
    model = load_weights(wl)
    data = np.load(ROOT / "datasets" / "digits.npz")
    x, y = data["x"][:60].astype(np.float32), data["y"][:60].astype(np.int64)
    seeds = 4
    report = evaluate(model, x, y, errors=factory(0.01), seeds=seeds)
    # independently: each seed's run, the conv2 and fc errors by hand
    codes = quantize_input(model, x)
    exact = infer(model, codes, keep=True)
    maes, sig, noise = {"conv2": [], "fc": []}, {"conv2": 0.0, "fc": 0.0}, {"conv2": 0.0, "fc": 0.0}
    for mc in range(seeds):
        run = infer(model, codes, corrupt=factory(0.01)(mc), keep=True)
        for name in maes:
            t_e, t_r = exact.tensors[name], run.tensors[name]
            ye = t_e.scale * (t_e.codes.astype(np.float64) - t_e.zero_point)
            yr = t_r.scale * (t_r.codes.astype(np.float64) - t_r.zero_point)
            maes[name].append(np.abs(yr - ye).mean())
            sig[name] += (ye ** 2).sum()
            noise[name] += ((yr - ye) ** 2).sum()
    assert len(set(round(m, 12) for m in maes["conv2"])) == seeds  # the seeds differ
    t3 = 3.182  # Student's t, 97.5%, 3 degrees of freedom
    for name in maes:
        e = report.layers_errors[name]
        m = np.asarray(maes[name])
        assert math.isclose(e.mae, m.mean(), rel_tol=1e-6)
        assert math.isclose(e.mae_ci95, t3 * m.std(ddof=1) / math.sqrt(seeds), rel_tol=1e-6)
        assert math.isclose(e.snr_db, 10 * math.log10(sig[name] / noise[name]), rel_tol=1e-6)
        assert e.seeds == seeds
    assert report.layers_errors["conv1"].mae == 0 and report.layers_errors["conv1"].snr_db == math.inf
    row = report.to_dict()["layers"]["conv2"]
    assert row["mae_with_errors"] == report.layers_errors["conv2"].mae
    assert row["mae_with_errors_ci95"] > 0
