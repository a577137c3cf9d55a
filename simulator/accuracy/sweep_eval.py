"""The accuracy evaluator of sweeps (``accuracy_loss`` objectives, docs/sweeps.md).

``accuracy_loss(arch, workload, plan, dataset, seed)``: the mean accuracy loss (exact int8 −
with the point's MACs and bit errors) over :data:`SEEDS` Monte Carlo seeds, the bit errors
being the exposure at the point's operating points (:func:`simulator.accuracy.runs.exposure_at`).
The element journeys of a structural configuration (hardware, mapping, MAC plan) are walked
once per process and reused by every operating point of it; models and datasets are loaded
once. The sweep module registers this function when an ``accuracy_loss`` objective needs it
(:func:`simulator.dse.evaluate.accuracy_evaluator`).
"""
from __future__ import annotations

import numpy as np

from simulator.accuracy.evaluate import check_labels, evaluate, load_dataset
from simulator.accuracy.exposure_hook import exposure_ber, units_of_run
from simulator.accuracy.model import load_weights
from simulator.accuracy.runs import exposure_at, journeys_of
from simulator.config.identity import hardware_hash
from simulator.errors import AxsimError
from simulator.macs import EXACT

SEEDS = 5  # Monte Carlo seeds per point
_CACHE: dict[tuple, object] = {}


def _cached(key: tuple, make):
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def plan_macs(plan, names) -> dict | None:
    """The functional MAC configuration of each layer of a timing plan (``plan.configs``)."""
    if plan is None:
        return None
    out = {}
    for name in names:
        model = plan.model_for(name)
        cfg = plan.configs.get(model.name)
        if cfg is None and model.name != "exact":
            raise AxsimError(f"layer {name}: MAC configuration {model.name!r} has no functional model in the "
                             "plan (plans for accuracy come from an approximation file)")
        out[name] = cfg or EXACT
    return out


def accuracy_loss(arch, workload, plan, dataset, seed: int = 0, seeds: int = SEEDS, weights=None) -> float:
    """``weights``: a quantized model whose weights replace the workload's (lossy weight
    compression, :meth:`simulator.compress.layers.CompressionPlan.apply`); the loss is then
    measured from the exact accuracy of the workload's own weights. Bit errors hit the
    decompressed weight values as if each had travelled uncompressed (docs/compression.md)."""
    if dataset is None:
        raise AxsimError("accuracy_loss needs a dataset (.npz with arrays x and y)")
    original = _cached(("model", workload.source, workload.name), lambda: load_weights(workload))
    model = original if weights is None else weights
    x, y = _cached(("data", str(dataset)), lambda: load_dataset(dataset))
    check_labels(model, y, str(dataset))
    names = [layer.name for layer in workload.layers]
    plan_key = repr(plan.describe()) if plan is not None else "exact"
    journeys = _cached(("journeys", hardware_hash(arch), workload.source, workload.name, plan_key),
                       lambda: journeys_of(arch, workload, plan))
    data = exposure_at(journeys, arch, seed)
    layers = {ly.name: ly for ly in workload.layers}
    report = evaluate(model, x, y, plan_macs(plan, names), exposure_ber(data, layers, seed), seeds,
                      units_of_run(data, workload.layers))
    exact = report.exact_accuracy
    if weights is not None:  # the reference is the workload's own exact int8 accuracy
        exact = _cached(("exact", workload.source, workload.name, str(dataset)),
                        lambda: evaluate(original, x, y).exact_accuracy)
    return float(np.mean([exact - a for a in report.seed_accuracies]))
