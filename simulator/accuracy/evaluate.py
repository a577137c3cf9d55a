"""Accuracy of a quantized network: exact vs approximate MACs, bit errors over Monte Carlo seeds.

* Accuracy: fraction of samples whose predicted class (largest output code) is the label.
* Loss: exact accuracy − accuracy of a configuration, in accuracy points; over ``n``
  Monte Carlo seeds its mean and 95% confidence interval
  ``mean ± t_{0.975, n−1} · sd / √n`` (Student's t, ``sd`` the sample standard deviation).
* Per-layer output error against the exact run, on real values ``s·(q − z)``:
  ``MAE = mean |y − y_exact|`` and ``SNR = 10·log10(Σ y_exact² / Σ (y − y_exact)²)`` dB
  (infinite when the outputs are identical). With bit errors over ``n`` seeds: the MAE is the
  mean of the seeds' MAEs with its 95% confidence interval (as the loss), the SNR is pooled
  over the seeds, ``10·log10(n·Σ y_exact² / Σ_seeds Σ (y − y_exact)²)`` (the ratio of the
  mean signal power to the mean noise power: finite as soon as one seed differs, where a mean
  of per-seed dB values would be infinite).

Bit errors: a factory of corruption hooks per Monte Carlo index, in practice
:func:`simulator.accuracy.exposure_hook.exposure_ber` (a run's exposure, or the synthetic
uniform rate of :func:`~simulator.accuracy.exposure_hook.uniform_exposure`), with the
run's per-PE work units.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from simulator.accuracy.engine import Corrupt, Inference, MacChoice, Unit, infer, quantize_input
from simulator.accuracy.model import QuantModel, read_npz
from simulator.errors import InputError, Problem

# two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (then the normal 1.960)
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
         2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
         2.052, 2.048, 2.045, 2.042)


def t975(dof: int) -> float:
    return _T975[dof - 1] if 1 <= dof <= len(_T975) else 1.960


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """(mean, half width of the 95% confidence interval); half width 0 for one value."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return float(v.mean()) if v.size else float("nan"), 0.0
    return float(v.mean()), t975(v.size - 1) * float(v.std(ddof=1)) / math.sqrt(v.size)


def load_dataset(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Arrays ``x`` (N x C x H x W, or N x H x W, or N x F; real values) and ``y`` (N integer labels)."""
    path = Path(path)
    arrays = read_npz(path, "dataset")
    problems = [Problem(k, "missing array") for k in ("x", "y") if k not in arrays]
    if problems:
        raise InputError(path, problems + [Problem("", f"a dataset holds 'x' (samples) and 'y' (labels); "
                                                       f"this file has: {', '.join(sorted(arrays)) or 'nothing'}")])
    x, y = arrays["x"], arrays["y"]
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)) or x.ndim < 2:
        problems.append(Problem("x", f"dtype {x.dtype}, shape {x.shape}: must be numbers, one sample per row"))
    elif np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
        problems.append(Problem("x", "contains NaN or infinite values"))
    if not np.issubdtype(y.dtype, np.integer) or y.ndim != 1:
        problems.append(Problem("y", f"dtype {y.dtype}, shape {y.shape}: must be a 1-D array of integer labels"))
    elif x.ndim >= 2 and y.shape[0] != x.shape[0]:
        problems.append(Problem("y", f"{y.shape[0]} labels for {x.shape[0]} samples"))
    elif y.size == 0:
        problems.append(Problem("y", "no samples"))
    if problems:
        raise InputError(path, problems)
    return x.astype(np.float32), y.astype(np.int64)


def check_labels(model: QuantModel, y: np.ndarray, source: str) -> None:
    classes = model.layers[-1].layer.out_channels
    if y.min() < 0 or y.max() >= classes:
        bad = int(y.min()) if y.min() < 0 else int(y.max())
        raise InputError(source, [Problem("y", f"label {bad}: the network has {classes} outputs (labels 0..{classes - 1})")])


@dataclass
class LayerError:
    mae: float
    snr_db: float
    mae_ci95: float = 0.0   # half width of the 95% CI of the MAE over Monte Carlo seeds
    seeds: int = 1


def _snr_db(signal: float, noise: float) -> float:
    return math.inf if noise == 0 else (10 * math.log10(signal / noise) if signal > 0 else -math.inf)


def _powers(exact: Inference, other: Inference) -> dict[str, tuple[float, float, float]]:
    """Per layer: (MAE, Σ y_exact², Σ (y − y_exact)²)."""
    out = {}
    for name in exact.tensors:
        if name == "input":
            continue
        ye, yo = exact.real(name).astype(np.float64), other.real(name).astype(np.float64)
        out[name] = (float(np.abs(yo - ye).mean()), float((ye ** 2).sum()), float(((yo - ye) ** 2).sum()))
    return out


def layer_errors(exact: Inference, other: Inference) -> dict[str, LayerError]:
    return {name: LayerError(mae, _snr_db(signal, noise)) for name, (mae, signal, noise) in _powers(exact, other).items()}


def layer_errors_over_seeds(per_seed: Sequence[dict[str, tuple[float, float, float]]]) -> dict[str, LayerError]:
    """Per-layer errors of several Monte Carlo seeds (each from :func:`_powers`): MAE mean and 95%
    CI over the seeds, SNR of the pooled powers."""
    out = {}
    for name in per_seed[0]:
        rows = [seed[name] for seed in per_seed]
        mae, half = mean_ci([r[0] for r in rows])
        out[name] = LayerError(mae, _snr_db(sum(r[1] for r in rows), sum(r[2] for r in rows)), half, len(rows))
    return out


@dataclass
class AccuracyReport:
    samples: int
    exact_accuracy: float
    approx_accuracy: float          # the approximate MACs, no bit errors
    seed_accuracies: list[float] = field(default_factory=list)  # with bit errors, one per Monte Carlo seed
    layers_approx: dict[str, LayerError] = field(default_factory=dict)
    layers_errors: dict[str, LayerError] = field(default_factory=dict)  # MACs + bit errors, over all seeds

    @property
    def loss(self) -> tuple[float, float]:
        """(mean, 95% CI half width) of exact accuracy − accuracy, in points (0..1)."""
        accs = self.seed_accuracies or [self.approx_accuracy]
        return mean_ci([self.exact_accuracy - a for a in accs])

    def to_dict(self) -> dict:
        mean, half = self.loss
        return {"samples": self.samples, "exact_accuracy": self.exact_accuracy,
                "approx_accuracy": self.approx_accuracy, "monte_carlo_seeds": len(self.seed_accuracies),
                "seed_accuracies": self.seed_accuracies, "loss_mean": mean, "loss_ci95": half,
                "layers": {name: {"mae_approx": e.mae, "snr_db_approx": _num(e.snr_db),
                                  **({"mae_with_errors": self.layers_errors[name].mae,
                                      "mae_with_errors_ci95": self.layers_errors[name].mae_ci95,
                                      "snr_db_with_errors": _num(self.layers_errors[name].snr_db)}
                                     if name in self.layers_errors else {})}
                           for name, e in self.layers_approx.items()}}


def _num(v: float) -> float | str:
    return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")


def accuracy(inf: Inference, y: np.ndarray) -> float:
    return float((inf.predictions() == y).mean())


def evaluate(model: QuantModel, x: np.ndarray, y: np.ndarray, macs: MacChoice = None,
             errors: Callable[[int], Corrupt] | None = None, seeds: int = 10,
             units: Mapping[str, list[Unit]] | None = None) -> AccuracyReport:
    """Exact and approximate accuracy of ``model`` on real-valued samples ``x`` with labels ``y``;
    with ``errors`` (a hook factory), accuracy under bit errors over ``seeds`` Monte Carlo seeds,
    each layer computed per work unit (``units``, e.g. one per PE) when given."""
    codes = quantize_input(model, x)
    exact = infer(model, codes, keep=True)
    approx = infer(model, codes, macs, keep=True)
    report = AccuracyReport(len(y), accuracy(exact, y), accuracy(approx, y),
                            layers_approx=layer_errors(exact, approx))
    if errors is not None:
        per_seed = []
        for mc in range(seeds):
            run = infer(model, codes, macs, errors(mc), units=units, keep=True)
            per_seed.append(_powers(exact, run))
            report.seed_accuracies.append(accuracy(run, y))
        if per_seed:
            report.layers_errors = layer_errors_over_seeds(per_seed)
    return report
