"""The bundled networks in workloads/: layer counts and exact MAC totals."""
from collections import Counter
from pathlib import Path

import pytest

from simulator.workload import list_workloads, load_workload

WORKLOADS = Path(__file__).resolve().parents[2] / "workloads"

# Exact conv + fc MACs at batch 1 (pool and add layers have no MACs).
EXPECTED = {
    # torchvision reports 4.09 GFLOPs (= multiply-accumulates) for ResNet-50.
    "resnet50": dict(macs=4_089_184_256, conv=53, fc=1, pool=2, add=16),
    # torchvision reports 0.71 GFLOPs for AlexNet.
    "alexnet": dict(macs=714_188_480, conv=5, fc=3, pool=3, add=0),
    # torchvision reports 0.30 GFLOPs; Sandler et al. report 300 M multiply-adds.
    "mobilenetv2": dict(macs=300_774_272, conv=52, fc=1, pool=1, add=10),
    # torchvision reports 15.47 GFLOPs for VGG-16.
    "vgg16": dict(macs=15_470_264_320, conv=13, fc=3, pool=5, add=0),
}
# Weights (no biases, no batch-norm parameters); torchvision parameter counts are
# 25.56 M, 61.10 M, 3.50 M and 138.36 M including those.
WEIGHTS = {"resnet50": 25_502_912, "alexnet": 61_090_496, "mobilenetv2": 3_469_760,
           "vgg16": 138_344_128}


def test_every_bundled_file_loads():
    files = list_workloads(WORKLOADS)
    assert {p.stem for p in files} >= set(EXPECTED)
    for path in files:
        w = load_workload(path)
        assert w.layers and w.total_macs() > 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_network_counts_and_macs(name):
    w = load_workload(WORKLOADS / f"{name}.yaml")
    exp = EXPECTED[name]
    assert w.name == name and w.batch == 1
    assert w.source.endswith(f"{name}.yaml")
    kinds = Counter(layer.kind for layer in w.layers)
    assert {k: kinds.get(k, 0) for k in ("conv", "fc", "pool", "add")} == {
        k: exp[k] for k in ("conv", "fc", "pool", "add")}
    assert w.total_macs() == exp["macs"]
    assert w.total_weights() == WEIGHTS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_network_ends_in_1000_classes_after_1x1_map(name):
    w = load_workload(WORKLOADS / f"{name}.yaml")
    assert w.layers[-1].kind == "fc" and w.layers[-1].out_channels == 1000
    last_spatial = [l for l in w.layers if l.kind != "fc"][-1]
    # the flattened output of the last spatial layer feeds the first fc
    first_fc = next(l for l in w.layers if l.kind == "fc")
    assert last_spatial.output_count == first_fc.in_channels


def test_resnet50_structure():
    w = load_workload(WORKLOADS / "resnet50.yaml")
    assert (w.layer("conv1").out_h, w.layer("maxpool").out_h) == (112, 56)
    # v1.5: the stride is in the 3x3 conv of the first block of layer2..layer4
    assert w.layer("layer2.0.conv1").stride_h == 1
    assert w.layer("layer2.0.conv2").stride_h == 2
    assert w.layer("layer4.0.downsample.0").stride_h == 2
    assert w.layer("layer4.2.add").in_channels == 2048
    assert w.layer("layer4.2.add").out_h == 7
    for layer in w.layers:
        if layer.kind == "add":
            block = layer.name.rsplit(".", 1)[0]
            conv3 = w.layer(f"{block}.conv3")
            assert (conv3.out_channels, conv3.out_h, conv3.out_w) == (
                layer.in_channels, layer.in_h, layer.in_w)


def test_mobilenetv2_depthwise_and_adds():
    w = load_workload(WORKLOADS / "mobilenetv2.yaml")
    dws = [l for l in w.layers if l.is_depthwise]
    assert len(dws) == 17 and all(l.kernel_h == 3 for l in dws)
    adds = [l.name for l in w.layers if l.kind == "add"]
    assert adds == [f"features.{i}.add" for i in (3, 5, 6, 8, 9, 10, 12, 13, 15, 16)]
    assert w.layer("features.18.0").out_channels == 1280


def test_vgg16_and_alexnet_shapes():
    vgg = load_workload(WORKLOADS / "vgg16.yaml")
    assert all(l.kernel_h == 3 and l.pad_h == 1 for l in vgg.layers if l.kind == "conv")
    assert vgg.layer("features.30").output_count == 25088
    alex = load_workload(WORKLOADS / "alexnet.yaml")
    assert alex.layer("features.0").out_h == 55
    assert alex.layer("features.12").output_count == 9216
