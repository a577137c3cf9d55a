"""Derived properties of hand-checked layers."""
import pytest

from simulator.workload import Layer, Workload


def test_strided_padded_conv():
    # ResNet-50 conv1: 3x224x224, 64 filters 7x7, stride 2, padding 3 -> 64x112x112
    layer = Layer("conv1", "conv", 3, 224, 224, 64, 7, 7, 2, 2, 3, 3)
    assert (layer.out_h, layer.out_w) == (112, 112)
    assert layer.weight_count == 64 * 3 * 7 * 7 == 9408
    assert layer.macs == 9408 * 112 * 112 == 118_013_952
    assert layer.input_count == 3 * 224 * 224
    assert layer.output_count == 64 * 112 * 112
    assert layer.vector_ops == 0
    assert not layer.is_depthwise
    assert layer.channels_per_group == 3 and layer.out_channels_per_group == 64


def test_asymmetric_conv():
    layer = Layer("a", "conv", 8, 10, 20, 4, kernel_h=3, kernel_w=5, stride_h=1, stride_w=2,
                  pad_h=1, pad_w=0)
    assert (layer.out_h, layer.out_w) == (10, 8)  # (10+2-3)//1+1, (20-5)//2+1
    assert layer.macs == 4 * 8 * 3 * 5 * 10 * 8


def test_depthwise_conv():
    # MobileNetV2 features.2.conv.1.0: 96 channels, 3x3, stride 2, pad 1, groups 96
    layer = Layer("dw", "conv", 96, 112, 112, 96, 3, 3, 2, 2, 1, 1, groups=96)
    assert layer.is_depthwise
    assert (layer.out_h, layer.out_w) == (56, 56)
    assert layer.channels_per_group == 1 and layer.out_channels_per_group == 1
    assert layer.weight_count == 96 * 9
    assert layer.macs == 96 * 9 * 56 * 56 == 2_709_504


def test_grouped_conv_is_not_depthwise():
    layer = Layer("g", "conv", 64, 8, 8, 128, 3, 3, pad_h=1, pad_w=1, groups=4)
    assert not layer.is_depthwise
    assert layer.channels_per_group == 16 and layer.out_channels_per_group == 32
    assert layer.macs == 128 * 16 * 9 * 64


def test_fc():
    layer = Layer.fc("fc", 2048, 1000)
    assert layer == Layer("fc", "fc", 2048, 1, 1, 1000)
    assert (layer.out_h, layer.out_w) == (1, 1)
    assert layer.macs == layer.weight_count == 2_048_000
    assert layer.input_count == 2048 and layer.output_count == 1000


def test_max_pool():
    # ResNet-50 maxpool: 64x112x112, 3x3, stride 2, padding 1 -> 64x56x56
    layer = Layer("maxpool", "pool", 64, 112, 112, 64, 3, 3, 2, 2, 1, 1, pool_mode="max")
    assert (layer.out_h, layer.out_w) == (56, 56)
    assert layer.macs == 0 and layer.weight_count == 0
    assert layer.vector_ops == 64 * 56 * 56 * 9
    assert layer.output_count == 64 * 56 * 56


def test_global_avg_pool():
    layer = Layer("avgpool", "pool", 2048, 7, 7, 2048, 7, 7, pool_mode="avg")
    assert (layer.out_h, layer.out_w) == (1, 1)
    assert layer.vector_ops == 2048 * 49
    assert layer.output_count == 2048


def test_add():
    layer = Layer("add", "add", 256, 56, 56, 256)
    assert (layer.out_h, layer.out_w) == (56, 56)
    assert layer.macs == 0 and layer.weight_count == 0
    assert layer.vector_ops == 256 * 56 * 56
    assert layer.input_count == 2 * 256 * 56 * 56
    assert layer.output_count == 256 * 56 * 56


@pytest.mark.parametrize("kwargs", [
    dict(name="x", kind="relu", in_channels=1, in_h=1, in_w=1, out_channels=1),
    dict(name="x", kind="conv", in_channels=0, in_h=1, in_w=1, out_channels=1),
    dict(name="x", kind="conv", in_channels=3, in_h=4, in_w=4, out_channels=8, kernel_h=5),
    dict(name="x", kind="conv", in_channels=3, in_h=4, in_w=4, out_channels=8, groups=2),
    dict(name="x", kind="pool", in_channels=3, in_h=4, in_w=4, out_channels=3),
    dict(name="x", kind="pool", in_channels=3, in_h=4, in_w=4, out_channels=6, pool_mode="max"),
    dict(name="x", kind="add", in_channels=3, in_h=4, in_w=4, out_channels=3, kernel_h=3),
    dict(name="x", kind="fc", in_channels=3, in_h=2, in_w=1, out_channels=3),
    dict(name="x", kind="conv", in_channels=True, in_h=4, in_w=4, out_channels=3),
])
def test_inconsistent_layers_are_rejected(kwargs):
    with pytest.raises(ValueError):
        Layer(**kwargs)


def test_workload_totals():
    layers = [Layer("c", "conv", 3, 8, 8, 4, 3, 3, pad_h=1, pad_w=1), Layer.fc("f", 256, 10)]
    w = Workload("w", layers, source="inline", batch=2)
    assert isinstance(w.layers, tuple)
    assert w.total_macs() == 2 * (4 * 3 * 9 * 64 + 2560)
    assert w.total_weights() == 4 * 3 * 9 + 2560
    assert w.layer("f").out_channels == 10
    assert len(w) == 2 and [l.name for l in w] == ["c", "f"]
    with pytest.raises(KeyError):
        w.layer("nope")
