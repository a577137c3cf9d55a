"""Concatenation layers in the int8 engine and the ONNX import: requantization of operands with
other parameters against a reference loop, and parity with onnxruntime (QDQ and QLinearConcat)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulator.accuracy.engine import infer, quantize_input
from simulator.accuracy.model import load_weights
from simulator.accuracy.quant import concat_codes
from simulator.workload import load_workload

ROOT = Path(__file__).resolve().parents[2]


def _reference_concat(parts, s_y, z_y, lo=0, hi=255):
    """Element by element: copy when the parameters match, else dequantize in float32 (scale times
    the integer difference) and quantize by a float32 division, round half to even, saturate."""
    n, _, h, w = parts[0][0].shape
    chans = sum(p[0].shape[1] for p in parts)
    out = np.zeros((n, chans, h, w), np.int64)
    base = 0
    for codes, s, z in parts:
        for idx in np.ndindex(codes.shape):
            x = int(codes[idx])
            if np.float32(s) == np.float32(s_y) and z == z_y:
                y = x
            else:
                real = np.float32(np.float32(s) * np.float32(x - z))
                y = int(np.rint(np.float32(real / np.float32(s_y)))) + z_y
            out[idx[0], base + idx[1], idx[2], idx[3]] = min(max(y, lo, 0), hi, 255)
        base += codes.shape[1]
    return out


def test_concat_codes_equal_the_reference_loop():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (2, 3, 4, 5), dtype=np.uint8)
    b = rng.integers(0, 256, (2, 2, 4, 5), dtype=np.uint8)
    c = rng.integers(0, 256, (2, 1, 4, 5), dtype=np.uint8)
    parts = [(a, np.float32(0.05), 0), (b, np.float32(0.031), 17), (c, np.float32(0.07), 200)]
    got = concat_codes(parts, np.float32(0.05), 0)
    want = _reference_concat(parts, np.float32(0.05), 0)
    np.testing.assert_array_equal(got, want)
    assert got.shape == (2, 6, 4, 5)
    np.testing.assert_array_equal(got[:, :3], a)  # same parameters: a copy, in input order
    assert not np.array_equal(got[:, 3:5], b)     # other parameters: requantized
    # swapping the operands' parameters changes the result (the scales are not interchangeable)
    swapped = [(a, np.float32(0.05), 0), (b, np.float32(0.07), 200), (c, np.float32(0.031), 17)]
    assert not np.array_equal(concat_codes(swapped, np.float32(0.05), 0), got)


def test_concat_codes_with_an_activation_clamp():
    a = np.array([[[[0, 100, 255]]]], np.uint8)
    got = concat_codes([(a, np.float32(0.1), 50), (a, np.float32(0.1), 50)], np.float32(0.1), 50, (50, 110))
    np.testing.assert_array_equal(got.reshape(-1), [50, 100, 110] * 2)


def test_fire_block_workload_loads_times_and_infers_at_its_recorded_accuracy():
    import json
    from simulator import api
    wl = load_workload(ROOT / "workloads" / "digits_fire.yaml")
    cat = wl.layer("cat")
    assert cat.kind == "concat" and cat.inputs == ("expand1", "expand3") and cat.in_channels == 32
    model = load_weights(wl)
    data = np.load(ROOT / "datasets" / "digits.npz")
    pred = infer(model, quantize_input(model, data["x"].astype(np.float32))).predictions()
    record = json.loads((ROOT / "workloads" / "digits_fire.accuracy.json").read_text())
    assert int((pred == data["y"]).sum()) == record["correct_int8_exact"]
    assert record["correct_int8_exact"] > 0.9 * len(pred)  # far above chance (10%)
    # the concat requantizes: expand3's scale differs from the output's
    q = model.layer("cat")
    assert model.layer("expand3").scale != q.scale and model.layer("expand1").scale == q.scale
    # the DRAM dataflow: the concat is the producers' outputs side by side in DRAM
    res = api.simulate(api.load_arch(ROOT / "arch" / "tiny.yaml"), wl, dataflow="dram", mapping="fixed")
    by = {r.name: r for r in res.layers}
    assert by["cat"].macs == 0 and by["cat"].latency_cycles == 0 and by["cat"].meta["view"] == "dram"


# -- ONNX ------------------------------------------------------------------------------------
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from _onnx_models import Builder  # noqa: E402
from simulator.accuracy.onnx_import import import_onnx  # noqa: E402
from simulator.errors import InputError  # noqa: E402


def _ort_codes(path: Path, x: np.ndarray, scale: float, zp: int) -> np.ndarray:
    so = ort.SessionOptions()
    so.add_session_config_entry("session.x64quantprecision", "1")
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    out = sess.run(None, {"x": x})[0]
    return (np.rint(out / np.float32(scale)) + zp).astype(np.int64).reshape(len(x), -1)


def _qdq_concat_model(axis: int = 1):
    """conv a (scale 0.05, zp 0, ReLU) and conv b (0.03, zp 12) of the same input, Concat of their
    DequantizeLinear outputs, QuantizeLinear at (0.06, 3), then a fully connected layer."""
    b = Builder(np.random.default_rng(11))
    b._zp = {}
    xq = b.q("x", 0.02, 128)
    b._zp[xq] = 128
    ca = b.conv(xq, 0.02, 3, 4, 3, 0.05, 0, pad=1, relu="relu")
    cb = b.conv(xq, 0.02, 3, 5, 1, 0.03, 12)
    out = b.name("concat")
    b.nodes.append(helper.make_node("Concat", [b.act(ca, 0.05, 0), b.act(cb, 0.03, 12)], [out], name=out, axis=axis))
    cq = b._finish(out, 0.06, 3, None)
    fc = b.gemm(cq, 0.06, 9 * 6 * 6, 4, 0.25, 120)
    return b.model((3, 6, 6), fc, 0.25, 4), 0.25, 120


def test_qdq_concat_equals_onnxruntime_bit_for_bit(tmp_path):
    model, scale, zp = _qdq_concat_model()
    path = tmp_path / "c.onnx"
    onnx.save(model, str(path))
    x = np.random.default_rng(5).uniform(-2.5, 2.5, (24, 3, 6, 6)).astype(np.float32)
    workload, qm = import_onnx(path)
    kinds = [layer.kind for layer in workload.layers]
    assert kinds == ["conv", "conv", "concat", "fc"]
    cat = workload.layers[2]
    assert cat.inputs == (workload.layers[0].name, workload.layers[1].name) and cat.in_channels == 9
    ours = infer(qm, quantize_input(qm, x)).output.codes.reshape(len(x), -1).astype(np.int64)
    np.testing.assert_array_equal(ours, _ort_codes(path, x, scale, zp))
    # written as a workload file and its weights, it loads back, infers the same and times
    from simulator import api
    from simulator.accuracy.onnx_import import write_import
    yaml_path, _ = write_import(workload, qm, tmp_path / "imported.yaml")
    again = load_workload(yaml_path)
    assert again.layers == workload.layers
    qm2 = load_weights(again)
    np.testing.assert_array_equal(infer(qm2, quantize_input(qm2, x)).output.codes.reshape(len(x), -1), ours)
    res = api.simulate(api.load_arch(ROOT / "arch" / "tiny.yaml"), again)
    assert [r.kind for r in res.layers] == ["conv", "conv", "concat", "fc"]


def test_concat_along_another_axis_is_a_clear_error(tmp_path):
    model, _, _ = _qdq_concat_model(axis=2)
    path = tmp_path / "c2.onnx"
    onnx.save(model, str(path))
    with pytest.raises(InputError, match="only concatenation along the channels"):
        import_onnx(path)


def test_qlinearconcat_equals_onnxruntime_bit_for_bit(tmp_path):
    """com.microsoft QLinearConcat of two QLinearConv outputs with different parameters."""
    rng = np.random.default_rng(4)
    inits, nodes = [], []

    def const(arr, name):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    nodes.append(helper.make_node("QuantizeLinear", ["x", const(np.float32(0.02), "xs"), const(np.uint8(128), "xz")],
                                  ["xq"]))
    for tag, k, s_y, z_y in (("a", 3, 0.05, 0), ("b", 2, 0.035, 40)):
        w = rng.integers(-127, 128, (k, 2, 3, 3)).astype(np.int8)
        s_w = rng.uniform(0.005, 0.03, k).astype(np.float32)
        nodes.append(helper.make_node(
            "QLinearConv", ["xq", "xs", "xz", const(w, f"w{tag}"), const(s_w, f"ws{tag}"),
                            const(np.zeros(k, np.int8), f"wz{tag}"), const(np.float32(s_y), f"ys{tag}"),
                            const(np.uint8(z_y), f"yz{tag}"), const(rng.integers(-900, 900, k).astype(np.int32), f"b{tag}")],
            [f"y{tag}"], name=f"conv{tag}", pads=[1, 1, 1, 1], kernel_shape=[3, 3]))
    nodes.append(helper.make_node("QLinearConcat", [const(np.float32(0.045), "cs"), const(np.uint8(9), "cz"),
                                                    "ya", "ysa", "yza", "yb", "ysb", "yzb"], ["cat"],
                                  name="cat", domain="com.microsoft", axis=1))
    nodes.append(helper.make_node("DequantizeLinear", ["cat", "cs", "cz"], ["out"]))
    graph = helper.make_graph(nodes, "qlc", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2, 5, 5])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 5, 5, 5])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    path = tmp_path / "qlc.onnx"
    onnx.save(m, str(path))
    x = np.random.default_rng(7).uniform(-2.5, 2.5, (16, 2, 5, 5)).astype(np.float32)
    workload, qm = import_onnx(path)
    assert [layer.kind for layer in workload.layers] == ["conv", "conv", "concat"]
    ours = infer(qm, quantize_input(qm, x)).output.codes.reshape(len(x), -1).astype(np.int64)
    np.testing.assert_array_equal(ours, _ort_codes(path, x, 0.045, 9))


def test_float_model_with_a_concat_is_quantized_and_imported(tmp_path):
    """A float model (two convolutions of one input, Concat, Gemm) quantized at import with
    calibration samples: the concat becomes a layer and the int8 network follows onnxruntime's
    float outputs within quantization error."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(0, 0.3, (3, 2, 3, 3)).astype(np.float32), "wa"),
             numpy_helper.from_array(rng.normal(0, 0.3, (2, 2, 1, 1)).astype(np.float32), "wb"),
             numpy_helper.from_array(rng.normal(0, 0.2, (4, 5 * 4 * 4)).astype(np.float32), "fw")]
    nodes = [helper.make_node("Conv", ["x", "wa"], ["a"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["ar"]),
             helper.make_node("Conv", ["x", "wb"], ["b"]),
             helper.make_node("Concat", ["ar", "b"], ["c"], axis=1),
             helper.make_node("Flatten", ["c"], ["f"]),
             helper.make_node("Gemm", ["f", "fw"], ["y"], transB=1)]
    graph = helper.make_graph(nodes, "fcat", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path = tmp_path / "fcat.onnx"
    onnx.save(m, str(path))
    x = np.random.default_rng(2).uniform(-1, 1, (64, 2, 4, 4)).astype(np.float32)
    wl, qm = import_onnx(path, x)
    assert [layer.kind for layer in wl.layers] == ["conv", "conv", "concat", "fc"]
    assert wl.layers[2].in_channels == 5
    ref = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    ours = infer(qm, quantize_input(qm, x)).real().reshape(len(x), -1)
    assert np.abs(ours - ref).max() < 8 * float(qm.layers[-1].scale) + 0.05 * np.abs(ref).max()
