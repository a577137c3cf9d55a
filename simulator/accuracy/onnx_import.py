"""Import ONNX models into a workload (YAML) plus its int8 weights (``.npz``).

Accepted models:

* **QDQ** (QuantizeLinear / DequantizeLinear around float operators, as written by
  ``onnxruntime.quantization.quantize_static(..., quant_format=QDQ)``): Conv, Gemm,
  MatMul, Add, Concat (channels), MaxPool, AveragePool, GlobalAveragePool, with Relu / Clip(0, 6) between an
  operator and its QuantizeLinear, Flatten / Reshape before a Gemm or MatMul.
* **QLinear** operators: QLinearConv, QLinearMatMul, QLinearAdd, QLinearConcat, QLinearAveragePool,
  QLinearGlobalAveragePool, MaxPool on uint8, QuantizeLinear at the input,
  DequantizeLinear at the output.
* **float** models: batch normalisation is folded into the preceding convolution, then
  the model is quantized by onnxruntime's static quantizer (QDQ, uint8 activations,
  int8 symmetric per-channel weights) with calibration samples from an ``.npz`` (array ``x``).

Requirements checked with clear errors: uint8 activations, int8 weights with zero point 0,
symmetric padding, dilation 1, NCHW inputs. Unsupported operators are listed in one error.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from simulator.accuracy.model import QuantModel
from simulator.accuracy.onnx_qgraph import (QLINEAR_OPS, build_graph, check_ops, import_quantized, input_shape,
                                            node_attrs, onnx_modules, safe_name)
from simulator.errors import AxsimError, InputError, Problem
from simulator.workload import Workload


def load_onnx(path: str | Path):
    onnx, _ = onnx_modules()
    path = Path(path)
    if not path.is_file():
        raise AxsimError(f"{path}: ONNX model not found")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - protobuf raises several types
        raise InputError(path, [Problem("", f"not a readable ONNX model ({type(exc).__name__}: {exc})")]) from None
    if not model.graph.node:
        raise InputError(path, [Problem("graph", "the model has no nodes")])
    return model


def fold_batchnorm(model):
    """Conv followed by BatchNormalization (constants) -> one Conv with scaled weights and a bias."""
    onnx, nh = onnx_modules()
    g = build_graph(model, Path("<model>"))
    drop = []
    for bn in [n for n in model.graph.node if n.op_type == "BatchNormalization"]:
        conv = g.producer.get(bn.input[0])
        if conv is None or conv.op_type != "Conv" or len(g.consumers.get(conv.output[0], [])) != 1:
            raise AxsimError(f"BatchNormalization {bn.name!r} does not follow a Conv: it cannot be folded")
        gamma, beta, mean, var = (g.inits[n].astype(np.float64) for n in bn.input[1:5])
        eps = node_attrs(bn).get("epsilon", 1e-5)
        factor = gamma / np.sqrt(var + eps)
        w = g.inits[conv.input[1]].astype(np.float64)
        b = g.inits[conv.input[2]].astype(np.float64) if len(conv.input) > 2 and conv.input[2] else np.zeros(w.shape[0])
        wname, bname = conv.input[1] + "_bnfold", (conv.name or conv.output[0]) + "_bias_bnfold"
        model.graph.initializer.append(nh.from_array((w * factor[:, None, None, None]).astype(np.float32), wname))
        model.graph.initializer.append(nh.from_array(((b - mean) * factor + beta).astype(np.float32), bname))
        x_in = conv.input[0]
        del conv.input[:]
        conv.input.extend([x_in, wname, bname])
        conv.output[0] = bn.output[0]
        drop.append(bn)
    for bn in drop:
        model.graph.node.remove(bn)
    return model


def quantize_float(model, calibration: np.ndarray, file: Path):
    """QDQ model from a float model: onnxruntime's static quantizer with these calibration samples."""
    onnx, _ = onnx_modules()
    try:
        from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,  # noqa: PLC0415
                                              quantize_static)
    except ImportError:  # pragma: no cover
        raise AxsimError("quantizing a float ONNX model needs onnxruntime (pip install onnxruntime)") from None
    in_name, in_shape = input_shape(model, file)
    x = calibration.astype(np.float32)
    if x.ndim == 3 and in_shape[0] == 1:
        x = x[:, None]
    if x.shape[1:] != in_shape and x.reshape(len(x), -1).shape[1:] != (int(np.prod(in_shape)),):
        raise AxsimError(f"calibration samples of shape {x.shape[1:]}: the model takes {in_shape}")

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(x[i:i + 1].reshape((1,) + in_shape if len(in_shape) == 3 else (1, -1)) for i in range(len(x)))

        def get_next(self):
            v = next(self.it, None)
            return None if v is None else {in_name: v}

    model = fold_batchnorm(model)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "float.onnx", Path(tmp) / "qdq.onnx"
        onnx.save(model, str(src))
        quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        extra_options={"WeightSymmetric": True, "ActivationSymmetric": False})
        return onnx.load(str(dst))


def import_onnx(path: str | Path, calibration: np.ndarray | None = None,
                name: str | None = None) -> tuple[Workload, QuantModel]:
    """A workload and its quantized model from an ONNX file (float models need ``calibration``)."""
    path = Path(path)
    model = load_onnx(path)
    name = safe_name(name or path.stem)
    ops = {n.op_type for n in model.graph.node}
    if not ops & ({"QuantizeLinear"} | QLINEAR_OPS):
        check_ops(model, path)
        if calibration is None:
            raise AxsimError(f"{path}: a float model: give calibration samples (--calibration CAL.npz with array x) "
                             "to quantize it")
        model = quantize_float(model, calibration, path)
    return import_quantized(model, path, name)


def write_import(workload: Workload, model: QuantModel, yaml_path: str | Path) -> tuple[Path, Path]:
    """Write the workload YAML and its weights ``.npz`` beside it."""
    from simulator.workload import workload_to_yaml  # noqa: PLC0415
    yaml_path = Path(yaml_path)
    npz = yaml_path.with_suffix(".npz")
    wl = Workload(workload.name, workload.layers, str(yaml_path), workload.batch,
                  f"imported from {Path(workload.source).name}", weights=npz.name)
    yaml_path.parent.mkdir(parents=True, exist_ok=True)
    yaml_path.write_text(workload_to_yaml(wl))
    model.save(npz)
    return yaml_path, npz
