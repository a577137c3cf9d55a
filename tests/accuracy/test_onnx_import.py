"""ONNX import: parity of the exact int8 path with onnxruntime, and clear errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from simulator.accuracy.engine import infer, quantize_input  # noqa: E402
from simulator.accuracy.model import load_weights  # noqa: E402
from simulator.accuracy.onnx_import import import_onnx  # noqa: E402
from simulator.cli import main  # noqa: E402
from simulator.errors import AxsimError, InputError  # noqa: E402
from simulator.workload import load_workload  # noqa: E402

from _onnx_models import avg_pool, residual_cnn, strided_cnn  # noqa: E402


def _ort_codes(path: Path, x: np.ndarray, scale: float, zp: int) -> np.ndarray:
    """onnxruntime's output codes with its exact integer kernels (session.x64quantprecision = 1:
    the default u8s8 kernels on AVX2 saturate pairs of products in int16)."""
    so = ort.SessionOptions()
    so.add_session_config_entry("session.x64quantprecision", "1")
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    out = sess.run(None, {"x": x})[0]
    return (np.rint(out / np.float32(scale)) + zp).astype(np.int64).reshape(len(x), -1)


@pytest.mark.parametrize("build, shape", [(residual_cnn, (3, 8, 8)), (strided_cnn, (2, 9, 9))])
def test_exact_path_equals_onnxruntime_bit_for_bit(build, shape, tmp_path):
    model, scale, zp = build()
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    x = np.random.default_rng(5).uniform(-2.5, 2.5, (24, *shape)).astype(np.float32)
    workload, qm = import_onnx(path)
    ours = infer(qm, quantize_input(qm, x)).output.codes.reshape(len(x), -1).astype(np.int64)
    np.testing.assert_array_equal(ours, _ort_codes(path, x, scale, zp))
    kinds = [layer.kind for layer in workload.layers]
    assert kinds.count("conv") >= 1 and kinds[-1] == "fc"
    if build is residual_cnn:
        assert kinds == ["conv", "conv", "conv", "add", "pool", "fc"]
        assert workload.layers[1].is_depthwise and workload.layers[1].activation == "relu6"
        assert workload.layers[3].inputs == (workload.layers[0].name, workload.layers[2].name)


def test_average_pool_within_one_lsb(tmp_path):
    """onnxruntime averages dequantized floats; the engine rounds the integer form once: ties may
    round differently, so codes agree within 1 LSB."""
    model, scale, zp = avg_pool()
    path = tmp_path / "a.onnx"
    onnx.save(model, str(path))
    x = np.random.default_rng(6).uniform(-0.5, 12, (32, 4, 6, 6)).astype(np.float32)
    _, qm = import_onnx(path)
    ours = infer(qm, quantize_input(qm, x)).output.codes.reshape(len(x), -1).astype(np.int64)
    diff = np.abs(ours - _ort_codes(path, x, scale, zp))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.9


def test_import_command_writes_a_workload_that_times_and_infers(tmp_path):
    model, scale, zp = residual_cnn()
    path = tmp_path / "res.onnx"
    onnx.save(model, str(path))
    out = tmp_path / "wl" / "res.yaml"
    assert main(["import", str(path), "--out", str(out)]) == 0
    wl = load_workload(out)
    qm = load_weights(wl)
    x = np.random.default_rng(1).uniform(-2, 2, (4, 3, 8, 8)).astype(np.float32)
    np.testing.assert_array_equal(infer(qm, quantize_input(qm, x)).output.codes.reshape(4, -1),
                                  _ort_codes(path, x, scale, zp))
    assert main(["run", "--arch", "arch/simba.yaml", "--workload", str(out), "--quiet",
                 "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "summary.json").exists()


def _float_model(ops_extra=()):
    rng = np.random.default_rng(0)
    w = rng.normal(0, 0.3, (4, 1, 3, 3)).astype(np.float32)
    inits = [onnx.numpy_helper.from_array(w, "w"),
             onnx.numpy_helper.from_array(rng.normal(0, 0.1, 4).astype(np.float32), "b"),
             onnx.numpy_helper.from_array(rng.uniform(0.5, 2, 4).astype(np.float32), "g"),
             onnx.numpy_helper.from_array(rng.normal(0, 0.1, 4).astype(np.float32), "beta"),
             onnx.numpy_helper.from_array(rng.normal(0, 0.1, 4).astype(np.float32), "mu"),
             onnx.numpy_helper.from_array(rng.uniform(0.5, 2, 4).astype(np.float32), "var"),
             onnx.numpy_helper.from_array(rng.normal(0, 0.3, (3, 64)).astype(np.float32), "fw")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "g", "beta", "mu", "var"], ["bn"]),
             helper.make_node("Relu", ["bn"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"]),
             helper.make_node("Gemm", ["f", "fw"], ["y"], transB=1), *ops_extra]
    graph = helper.make_graph(nodes, "float", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1, 4, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def test_float_model_is_quantized_with_calibration(tmp_path):
    path = tmp_path / "f.onnx"
    model = _float_model()
    onnx.save(model, str(path))
    x = np.random.default_rng(2).uniform(0, 1, (64, 1, 4, 4)).astype(np.float32)
    with pytest.raises(AxsimError, match="give calibration samples"):
        import_onnx(path)
    wl, qm = import_onnx(path, x)
    assert [layer.kind for layer in wl.layers] == ["conv", "fc"]
    # the quantizer drops the ReLU when the output range starts at 0 (zero point 0: saturation is the ReLU)
    assert wl.layers[0].activation == "relu" or qm.layers[0].zero_point == 0
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref = sess.run(None, {"x": x})[0]
    ours = infer(qm, quantize_input(qm, x)).real().reshape(len(x), -1)
    # quantization error only: the float outputs agree to a few output steps
    assert np.abs(ours - ref).max() < 8 * float(qm.layers[-1].scale) + 0.05 * np.abs(ref).max()


def test_unsupported_operators_are_listed_once(tmp_path):
    m = _float_model([helper.make_node("Softmax", ["y"], ["s"]), helper.make_node("Sigmoid", ["y"], ["t"])])
    path = tmp_path / "u.onnx"
    onnx.save(m, str(path))
    with pytest.raises(InputError) as err:
        import_onnx(path, np.zeros((2, 1, 4, 4), np.float32))
    assert str(err.value).count("\n") == 0
    assert "u.onnx: graph: unsupported operators: Sigmoid (1x), Softmax (1x)" in str(err.value)


def test_broken_onnx_file(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\x01garbage that is not a protobuf")
    with pytest.raises(InputError, match="bad.onnx: not a readable ONNX model"):
        import_onnx(bad)
    assert main(["import", str(bad)]) == 2
    assert "bad.onnx: not a readable ONNX model" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "none.onnx")]) == 2
    assert "ONNX model not found" in capsys.readouterr().err


def test_qlinear_operator_model_parity(tmp_path):
    """A QLinearConv / QLinearMatMul model written by onnxruntime's quantizer (QOperator format)."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    from simulator.accuracy.onnx_import import fold_batchnorm
    x = np.random.default_rng(3).uniform(0, 1, (32, 1, 4, 4)).astype(np.float32)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(x[i:i + 1] for i in range(len(x)))

        def get_next(self):
            v = next(self.it, None)
            return None if v is None else {"x": v}

    src, dst = tmp_path / "f.onnx", tmp_path / "q.onnx"
    onnx.save(fold_batchnorm(_float_model()), str(src))
    quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QOperator, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    ops = {n.op_type for n in onnx.load(str(dst)).graph.node}
    assert "QLinearConv" in ops
    _, qm = import_onnx(dst)
    last = qm.layers[-1]
    ours = infer(qm, quantize_input(qm, x)).output.codes.reshape(len(x), -1).astype(np.int64)
    np.testing.assert_array_equal(ours, _ort_codes(dst, x, float(last.scale), last.zero_point))
