"""The int8 engine against explicit integer loops, per layer and through a whole graph."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.accuracy import quant
from simulator.accuracy.engine import Tensor, Unit, infer, run_compute
from simulator.approx import blocked, generators
from simulator.macs import EXACT, MacConfig

from _acc_ref import random_model, ref_conv


@pytest.fixture(scope="module")
def model():
    return random_model(np.random.default_rng(3))[0]


@pytest.fixture(scope="module")
def x_codes():
    return np.random.default_rng(4).integers(0, 256, (2, 3, 7, 7)).astype(np.uint8)


def _ref_layer(q, t: Tensor, mul=None):
    layer = q.layer
    w = q.weight if q.weight.ndim == 4 else q.weight.reshape(q.weight.shape[0], -1, 1, 1)
    x = t.codes if layer.kind != "fc" else t.codes.reshape(t.codes.shape[0], -1, 1, 1)
    assert layer.stride_h == layer.stride_w and layer.pad_h == layer.pad_w
    return ref_conv(x, t.zero_point, t.scale, w, q.bias, q.weight_scale, q.scale, q.zero_point,
                    layer.stride_h, layer.pad_h, layer.groups, layer.activation, mul)


def test_exact_graph_equals_reference_loops(model, x_codes):
    got = infer(model, x_codes, keep=True)
    t = got.tensors
    # conv, depthwise conv (ReLU6), pointwise conv: loops over every output
    for name, src in (("c1", "input"), ("dw", "c1"), ("pw", "dw")):
        np.testing.assert_array_equal(t[name].codes, _ref_layer(model.layer(name), t[src]))
    # max pool 3x3 s2 p1 on codes, by loops
    c1 = t["c1"].codes.astype(int)
    exp = np.zeros((2, 8, 4, 4), int)
    for i in range(4):
        for j in range(4):
            r0, c0 = max(2 * i - 1, 0), max(2 * j - 1, 0)
            exp[:, :, i, j] = c1[:, :, r0:2 * i + 2, c0:2 * j + 2].max(axis=(2, 3))
    np.testing.assert_array_equal(t["skip"].codes, exp)
    # residual add: real sum requantized (QLinearAdd), ReLU clamps at the zero point
    q, a, b = model.layer("add"), t["pw"], t["skip"]
    for idx in [(0, 0, 0, 0), (1, 7, 3, 2), (0, 3, 1, 3)]:
        ra = np.float32(a.scale / q.scale) * np.float32(int(a.codes[idx]) - a.zero_point)
        rb = np.float32(b.scale / q.scale) * np.float32(int(b.codes[idx]) - b.zero_point)
        y = min(max(int(np.rint(np.float32(ra + rb))) + q.zero_point, q.zero_point), 255)
        assert t["add"].codes[idx] == y
    # average pool 2x2 s2: mean of (code - zero point), rounded half to even, plus the zero point
    ad, za = t["add"].codes.astype(int), t["add"].zero_point
    mean = (ad.reshape(2, 8, 2, 2, 2, 2).sum(axis=(3, 5)) - 4 * za) / 4
    np.testing.assert_array_equal(t["avg"].codes, (np.rint(mean) + za).astype(np.uint8))
    assert t["avg"].scale == t["add"].scale
    # classifier on the flattened (C, H, W) tensor
    np.testing.assert_array_equal(t["fc"].codes.reshape(2, -1),
                                  _ref_layer(model.layer("fc"), t["avg"]).reshape(2, -1))
    assert got.tensors["fc"].codes.shape == (2, 5, 1, 1)


@pytest.mark.parametrize("cfg", [
    MacConfig("dyn2x2", "axbxp", block=blocked.dynamic(2, 2)),
    MacConfig("msb3x2", "axbxp", block=blocked.static_msb(3, 2)),
    MacConfig("drum3", "lut", relative_power=0.5, lut=generators.generate({"kind": "drum", "k": 3}, "t", "g")),
])
def test_approximate_layers_equal_their_definition(model, x_codes, cfg):
    """Σ mul(x, w) − z_x·Σ w + b with mul the configuration's elementwise product."""
    src = Tensor(x_codes, model.input_scale, model.input_zero_point)
    q = model.layer("c1")
    got = run_compute(q, src, cfg)
    exp = _ref_layer(q, src, mul=lambda a, w: cfg.multiply(np.array(a), np.array(w)))
    np.testing.assert_array_equal(got, exp)
    assert not np.array_equal(got, run_compute(q, src, EXACT))  # the approximation is visible


def test_lut_product_is_sign_magnitude():
    lut = generators.generate({"kind": "drum", "k": 3}, "t", "g")
    cfg = MacConfig("d", "lut", relative_power=0.5, lut=lut)
    a = np.array([200, 200, 17, 0])
    w = np.array([-100, 100, -128, 5])
    exp = [-int(lut.table[200, 100]), int(lut.table[200, 100]), -int(lut.table[17, 128]), int(lut.table[0, 5])]
    assert cfg.multiply(a, w).tolist() == exp
    rng = np.random.default_rng(0)
    am = rng.integers(0, 256, (5, 40)).astype(np.uint8)
    wm = rng.integers(-128, 128, (40, 3)).astype(np.int8)
    brute = cfg.multiply(am[:, :, None], wm[None, :, :]).sum(axis=1)
    np.testing.assert_array_equal(cfg.gemm(am, wm), brute)


def test_units_partition_equals_whole_layer(model, x_codes):
    src = Tensor(x_codes, model.input_scale, model.input_zero_point)
    for name in ("c1", "dw"):
        q = model.layer(name)
        x = src if name == "c1" else Tensor(infer(model, x_codes, keep=True).tensors["c1"].codes,
                                            model.layer("c1").scale, model.layer("c1").zero_point)
        p, qq = q.layer.out_h, q.layer.out_w
        units = [Unit(k0, k0 + 4, p0, p1, q0, q1) for k0 in (0, 4) for p0, p1 in ((0, 2), (2, p))
                 for q0, q1 in ((0, 1), (1, qq))]
        seen = []
        def spy(layer, ds, t, unit):
            seen.append((ds, unit, t.shape))
            return t
        np.testing.assert_array_equal(run_compute(q, x, EXACT, spy, units), run_compute(q, x, EXACT))
        weights = [s for s in seen if s[0] == "weights"]
        assert len(weights) == len(units) and all(s[2][0] == 4 for s in weights)
        # each unit's input slice is the window it needs (halo included, padding excluded)
        first_inputs = [s for s in seen if s[0] == "inputs"][0]
        if name == "c1":
            assert first_inputs[2] == (2, 3, 3, 2)  # rows 0..1 need input rows 0..2; col 0 needs cols 0..1


def test_units_may_cut_groups_and_split_reductions(model):
    from simulator.accuracy.model import QLayer
    from simulator.errors import AxsimError
    rng = np.random.default_rng(9)
    layer = type(model.layer("dw").layer)("g2", "conv", 8, 5, 5, 6, 3, 3, 1, 1, 1, 1, groups=2)
    ql = QLayer(layer, ("input",), np.float32(0.1), 3, rng.integers(-127, 128, (6, 4, 3, 3)).astype(np.int8),
                rng.integers(-500, 500, 6).astype(np.int32), rng.uniform(0.01, 0.02, 6).astype(np.float32))
    src = Tensor(rng.integers(0, 256, (2, 8, 5, 5)).astype(np.uint8), np.float32(0.1), 9)
    exp = run_compute(ql, src, EXACT)
    # channels 0:2 and 2:6 cut the second group (3 channels per group); reductions split 0:1 / 1:4
    units = [Unit(k0, k1, 0, 5, 0, 5, c0=c0, c1=c1) for k0, k1 in ((0, 2), (2, 6)) for c0, c1 in ((0, 1), (1, 4))]
    seen = []
    got = run_compute(ql, src, EXACT, lambda l, ds, t, u: (seen.append((ds, u, t.shape)), t)[1], units)
    np.testing.assert_array_equal(got, exp)
    psums = [s for s in seen if s[0] == "psums"]
    assert len(psums) == 4 and {s[2] for s in psums} == {(2, 2, 5, 5), (2, 4, 5, 5)}
    assert [s[2] for s in seen if s[0] == "weights"] == [(2, 1, 3, 3), (2, 3, 3, 3), (4, 1, 3, 3), (4, 3, 3, 3)]
    with pytest.raises(AxsimError, match=r"reduction ranges \[\(0, 1\), \(2, 4\)\]: they must partition 0:4"):
        run_compute(ql, src, EXACT, units=[Unit(0, 6, 0, 5, 0, 5, c0=0, c1=1), Unit(0, 6, 0, 5, 0, 5, c0=2, c1=4)])
    with pytest.raises(AxsimError, match=r"reduction ranges \[\(0, 2\), \(0, 2\)\]"):
        run_compute(ql, src, EXACT, units=[Unit(0, 6, 0, 5, 0, 5, c0=0, c1=2), Unit(0, 6, 0, 5, 0, 5, c0=0, c1=2)])
    with pytest.raises(AxsimError, match=r"output \(k, p, q\) = \(2, 0, 0\) is in 0 output tiles"):
        run_compute(ql, src, EXACT, units=[Unit(0, 2, 0, 5, 0, 5)])
    with pytest.raises(AxsimError, match="is in 2 output tiles"):
        run_compute(ql, src, EXACT, units=[Unit(0, 6, 0, 5, 0, 5), Unit(0, 6, 0, 2, 0, 5)])


def test_quantize_divides_and_rounds_half_to_even():
    assert quant.quantize(np.float32(0.5), np.float32(1 / 255), 0) == 127  # 0.5·255 would give 128
    assert quant.quantize(np.array([2.5, 3.5, -1.0]), np.float32(1.0), 0).tolist() == [2, 4, 0]
    assert quant.quantize(np.array([1000.0]), np.float32(1.0), 10).tolist() == [255]
    assert quant.requantize(np.array([[5], [-5]]), np.array([0.5], np.float32), 10).ravel().tolist() == [12, 8]


def test_activation_ranges():
    assert quant.activation_range(None, 0.1, 7) == (0, 255)
    assert quant.activation_range("relu", 0.1, 7) == (7, 255)
    assert quant.activation_range("relu6", 0.1, 7) == (7, 67)
    assert quant.activation_range("relu6", 0.01, 0) == (0, 255)


@pytest.mark.parametrize("k", [1, 514, 515, 2000])
def test_exact_gemm_at_extreme_operands_and_chunk_edges(k):
    """All-extreme operands (255 x -128) make every partial sum as large as it can be."""
    a = np.full((3, k), 255, np.uint8)
    w = np.full((k, 2), -128, np.int8)
    w[:, 1] = 127
    got = EXACT.gemm(a, w)
    assert got.tolist() == [[-255 * 128 * k, 255 * 127 * k]] * 3
    rng = np.random.default_rng(k)
    a2 = rng.integers(0, 256, (4, k)).astype(np.uint8)
    w2 = rng.integers(-128, 128, (k, 5)).astype(np.int8)
    np.testing.assert_array_equal(EXACT.gemm(a2, w2), a2.astype(np.int64) @ w2.astype(np.int64))


@pytest.mark.parametrize("name", ["msb3x3_k2", "dyn2x2_k2", "dyn2xmsb3_k2", "top10_k2", "dyn1x1_k4"])
def test_axbxp_gemm_equals_blocked_gemm_of_the_signed_configuration(name):
    """The table fast path (uint8 / int8 codes indexed directly) against simulator.approx.blockops."""
    from dataclasses import replace

    from simulator.approx.blockops import blocked_gemm
    block = blocked.presets()[name]
    cfg = MacConfig(name, "axbxp", block=block)
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (30, 700)).astype(np.uint8)
    w = rng.integers(-128, 128, (700, 9)).astype(np.int8)
    np.testing.assert_array_equal(cfg.gemm(a, w), blocked_gemm(a, w, replace(block, signed=True)))
