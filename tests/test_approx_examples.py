"""The approximation files in examples/approx/ run on the networks they are written for, and
layers without MACs (pooling, add) carry no MAC configuration."""
from __future__ import annotations

import pytest

from conftest import ROOT, WORKLOAD_DIR
from simulator import api
from simulator.macs.approxfile import load_approx, resolve

EXAMPLES = {  # file -> workload it is written for, first and last layer (kept exact)
    "axbxp_msb3.yaml": ("resnet50", "conv1", "fc"),
    "per_layer_mixed.yaml": ("resnet50", "conv1", "fc"),
    "alexnet_msb3.yaml": ("alexnet", "features.0", "classifier.6"),
    "mobilenetv2_mixed.yaml": ("mobilenetv2", "features.0.0", "classifier.1"),
}


def test_every_example_is_listed():
    assert sorted(p.name for p in (ROOT / "examples/approx").glob("*.yaml")) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_fits_its_network(name, axbxp_arch):
    network, first, last = EXAMPLES[name]
    workload = api.load_workload(WORKLOAD_DIR / f"{network}.yaml")
    plan = resolve(load_approx(ROOT / "examples/approx" / name), axbxp_arch,
                   [layer.name for layer in workload.layers])
    assert plan.warnings == []
    assert plan.model_for(first).name == plan.model_for(last).name == "exact"
    approximate = [layer.name for layer in workload.layers if layer.is_compute
                   and plan.model_for(layer.name).name != "exact"]
    assert len(approximate) >= len(workload.layers) // 3
    assert set(plan.metrics) >= {m.name for m in plan.models().values()}


def test_layers_without_macs_are_not_labelled(axbxp_arch):
    workload = api.load_workload(WORKLOAD_DIR / "alexnet.yaml")
    plan = resolve(load_approx(ROOT / "examples/approx/alexnet_msb3.yaml"), axbxp_arch,
                   [layer.name for layer in workload.layers])
    labels = {t.layer: t.meta["mac"] for t in api.generate_traces(axbxp_arch, workload, plan)}
    assert {name for name, mac in labels.items() if mac == "none"} == {
        layer.name for layer in workload.layers if layer.kind == "pool"}
    assert labels["features.3"] == "msb3" and labels["features.0"] == "exact"
