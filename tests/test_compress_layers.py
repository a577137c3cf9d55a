"""Weight compression of a workload: schemes, the ratio through the mapper, decompression cost,
the accuracy effect of lossy schemes, and the sweep knob."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from simulator import api
from simulator.compress.layers import (CompressionPlan, LayerCompression, assign, compress_layer,
                                       decompression_cost, parse_scheme, plan_for)
from simulator.errors import AxsimError

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "workloads" / "digits_cnn.yaml"


@pytest.fixture(scope="module")
def digits():
    return api.load_workload(DIGITS)


@pytest.fixture(scope="module")
def model(digits):
    from simulator.accuracy.model import load_weights
    return load_weights(digits)


def test_parse_scheme_forms_and_errors():
    assert parse_scheme("prune:0.5").param == 0.5
    assert parse_scheme("lowbits:2").text == "lowbits:2"
    assert parse_scheme("ratio:2.5").text == "ratio:2.5"
    assert not parse_scheme("zrle").lossy and parse_scheme("prune:0.1").lossy
    for bad in ("gzip", "prune:1.5", "lowbits:2.5", "lowbits:9", "ratio:0.5", "ratio:inf", 3):
        with pytest.raises(ValueError, match="prune:S|outside|integer|ratio"):
            parse_scheme(bad)


def test_first_matching_rule_wins():
    got = assign(["conv1", "conv2", "fc"], [("conv1", "zrle"), ("conv*", "lowbits:1")])
    assert {k: v.text for k, v in got.items()} == {"conv1": "zrle", "conv2": "lowbits:1"}


def test_plan_sizes_from_the_real_weights(digits, model):
    plan = plan_for(digits, [("conv*", "lowbits:2"), ("fc", "prune:1")])
    n = {q.name: q.weight.size for q in model.layers if q.weight is not None}
    for name in ("conv1", "conv2", "conv3"):  # 6 bits per weight: ratio 8/6 exactly
        assert plan.layers[name].bits == 6 * n[name]
        assert plan.layers[name].ratio == pytest.approx(8 / 6)
    # every fc weight pruned: only runs of 16 zeros, 1 + 4 bits each
    assert plan.layers["fc"].bits == math.ceil(n["fc"] / 16) * 5
    assert not np.any(plan.layers["fc"].weights)
    # lossy weights are what the MACs see; the original model is untouched
    assert np.all(plan.layers["conv2"].weights % 4 == 0) and np.any(model.layer("conv2").weight % 4)


def test_lossless_plan_keeps_weights_and_stores_true_sizes(digits, model):
    plan = plan_for(digits, [("*", "huffman")])
    for name, c in plan.layers.items():
        assert np.array_equal(c.weights, model.layer(name).weight.ravel())
        counts = np.bincount(model.layer(name).weight.view(np.uint8).ravel(), minlength=256)
        p = counts[counts > 0] / counts.sum()
        entropy_bits = -(p * np.log2(p)).sum() * counts.sum()
        assert entropy_bits + 2048 <= c.bits < entropy_bits + counts.sum() + 2048  # H <= L < H + 1, + header
    assert not plan.lossy


def test_workload_without_weights_needs_a_declared_ratio():
    resnet = api.load_workload(ROOT / "workloads" / "resnet50.yaml")
    with pytest.raises(AxsimError, match="needs the trained weights.*ratio:R"):
        plan_for(resnet, [("*", "zrle")])
    plan = plan_for(resnet, [("conv1", "ratio:4")])
    assert plan.ratios() == {"conv1": 4.0}
    assert plan.stored_bytes()["conv1"] == math.ceil(resnet.layers[0].weight_count / 4)


def _weight_bytes(traces, op, layer):
    return sum(t.bytes * (len(t.dsts) if op == "noc" else 1) for tr in traces if tr.layer == layer
               for t in tr.txns if t.op == op and t.ds == "weights")


def test_ratio_flows_through_the_mapper(digits):
    arch = api.load_arch(ROOT / "arch" / "simba.yaml")
    plain = list(api.generate_traces(arch, digits))
    packed = list(api.generate_traces(arch, digits, weight_ratio={"conv2": 4.0}))
    for op in ("dram_read", "nop", "noc"):
        full, comp = _weight_bytes(plain, op, "conv2"), _weight_bytes(packed, op, "conv2")
        tiles = sum(1 for tr in packed if tr.layer == "conv2" for t in tr.txns if t.op == op and t.ds == "weights")
        assert full > 0
        assert full / 4 <= comp <= full / 4 + tiles * (8 if op == "noc" else 1)  # ceil per tile (and per PE)
        # other layers and the inputs are untouched
        assert _weight_bytes(plain, op, "conv3") == _weight_bytes(packed, op, "conv3")
    inputs = [sum(t.bytes for t in tr.txns if t.ds == "inputs") for tr in plain]
    assert inputs == [sum(t.bytes for t in tr.txns if t.ds == "inputs") for tr in packed]


def test_decompression_cost_by_hand(digits):
    arch = api.load_arch(ROOT / "arch" / "simba.yaml")
    plan = CompressionPlan({"conv2": LayerCompression("conv2", "ratio:2", 1152, 8 * 1152 / 2)})
    traces = list(api.generate_traces(arch, digits, weight_ratio=plan.ratios()))
    moved = _weight_bytes(traces, "noc", "conv2")
    pes = {t.layer: t.meta["used_pes"] for t in traces}
    cost = decompression_cost(plan, traces, arch.tech_table, pes)
    table = arch.tech_table.decompression
    assert cost.bytes_decompressed == 2 * moved
    assert cost.energy_pj == pytest.approx(2 * moved * table.energy_pj_per_byte)
    assert cost.latency_cycles == math.ceil(2 * moved / (pes["conv2"] * table.bytes_per_cycle))
    no_table = arch.tech_table.model_copy(update={"decompression": None})
    with pytest.raises(AxsimError, match="no 'decompression' section"):
        decompression_cost(plan, traces, no_table, pes)


def test_lossy_weights_change_inference_as_defined(digits, model):
    """All fc weights pruned: every logit is its bias, so every sample gets one class and the
    accuracy is that class's share of the labels; lowbits:0 and 'none' give the exact model."""
    from simulator.accuracy.engine import infer, quantize_input
    from simulator.accuracy.evaluate import accuracy, load_dataset
    x, y = load_dataset(ROOT / "datasets" / "digits.npz")
    codes = quantize_input(model, x)
    exact = infer(model, codes)
    for rule in ("none", "lowbits:0"):
        same = plan_for(digits, [("*", rule)]).apply(model)
        assert np.array_equal(infer(same, codes).predictions(), exact.predictions())
    zero = infer(plan_for(digits, [("fc", "prune:1")]).apply(model), codes)
    out = zero.output.codes.reshape(len(y), -1)
    assert np.all(out == out[0])  # the output no longer depends on the input
    cls = int(zero.predictions()[0])
    assert accuracy(zero, y) == pytest.approx(np.mean(y == cls))
    assert accuracy(zero, y) < accuracy(exact, y)
    # coarser shared low bits move the network further from the exact one
    agree = [np.mean(infer(plan_for(digits, [("*", f"lowbits:{k}")]).apply(model), codes).predictions()
                     == exact.predictions()) for k in (1, 6)]
    assert agree[0] > agree[1]


def test_compress_layer_without_weights_is_a_clear_error():
    with pytest.raises(AxsimError, match="needs the trained weights"):
        compress_layer("conv1", None, 10, parse_scheme("zrle"))
