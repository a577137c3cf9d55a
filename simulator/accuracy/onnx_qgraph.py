"""The quantized ONNX graph walker: QDQ and QLinear operators to axsim layers and int8 arrays.

Each compute operator (Conv, Gemm, MatMul, Add, Concat, pools, or their QLinear forms) becomes one
layer; its input is the quantized activation behind its float input (through
DequantizeLinear, Flatten, Reshape, and QuantizeLinear with unchanged parameters), its output
the QuantizeLinear it feeds (through Relu / Clip, which become the layer's activation).
See :mod:`simulator.accuracy.onnx_import` for the accepted models.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simulator.accuracy import quant
from simulator.accuracy.model import QLayer, QuantModel
from simulator.errors import AxsimError, InputError, Problem
from simulator.workload import NETWORK_INPUT, Layer, Workload

QDQ_OPS = {"Conv", "Gemm", "MatMul", "Add", "Concat", "MaxPool", "AveragePool", "GlobalAveragePool"}
QLINEAR_OPS = {"QLinearConv", "QLinearMatMul", "QGemm", "QLinearAdd", "QLinearConcat", "QLinearAveragePool",
               "QLinearGlobalAveragePool"}
PASS_OPS = {"QuantizeLinear", "DequantizeLinear", "Relu", "Clip", "Flatten", "Reshape", "Identity", "Constant"}
FLOAT_ONLY = {"BatchNormalization"}
SUPPORTED = QDQ_OPS | QLINEAR_OPS | PASS_OPS | FLOAT_ONLY


def onnx_modules():
    try:
        import onnx  # noqa: PLC0415
        from onnx import numpy_helper  # noqa: PLC0415
    except ImportError:  # pragma: no cover - onnx is a dependency
        raise AxsimError("ONNX import needs the 'onnx' package (pip install onnx)") from None
    return onnx, numpy_helper


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip("._") or "layer"


@dataclass
class _Act:
    """A quantized activation tensor: who produces it, its parameters and shape."""

    layer: str
    scale: np.float32
    zero_point: int
    shape: tuple[int, int, int]


@dataclass
class _Graph:
    file: Path
    inits: dict[str, np.ndarray]
    producer: dict[str, object]
    consumers: dict[str, list]
    acts: dict[str, _Act] = field(default_factory=dict)
    layers: list[QLayer] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def const(self, name: str, what: str) -> np.ndarray:
        if name not in self.inits:
            raise InputError(self.file, [Problem(what, f"tensor {name!r} must be a constant (initializer)")])
        return self.inits[name]

    def unique(self, name: str) -> str:
        base, n = safe_name(name), 1
        out = base
        while out in self.names or out == NETWORK_INPUT:
            n += 1
            out = f"{base}_{n}"
        self.names.add(out)
        return out


def node_attrs(node) -> dict:
    onnx, _ = onnx_modules()
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def build_graph(model, file: Path) -> _Graph:
    _, nh = onnx_modules()
    inits = {i.name: nh.to_array(i) for i in model.graph.initializer}
    producer, consumers = {}, {}
    for node in model.graph.node:
        if node.op_type == "Constant":
            inits[node.output[0]] = nh.to_array(node_attrs(node)["value"])
        for o in node.output:
            producer[o] = node
        for i in node.input:
            consumers.setdefault(i, []).append(node)
    return _Graph(file, inits, producer, consumers)


def check_ops(model, file: Path) -> None:
    found: dict[str, int] = {}
    for node in model.graph.node:
        if node.op_type not in SUPPORTED:
            found[node.op_type] = found.get(node.op_type, 0) + 1
    if found:
        listed = ", ".join(f"{op} ({n}x)" for op, n in sorted(found.items()))
        raise InputError(file, [Problem("graph", f"unsupported operators: {listed}; supported: "
                                                 f"{', '.join(sorted(SUPPORTED - {'Constant'}))}")])


def _scalar(g: _Graph, name: str, what: str) -> float | int:
    v = g.const(name, what)
    if v.size != 1:
        raise InputError(g.file, [Problem(what, f"{name!r}: a per-tensor (scalar) parameter is needed, got shape {v.shape}")])
    return v.reshape(()).item()


def _act_params(g: _Graph, scale_name: str, zp_name: str | None, what: str) -> tuple[np.float32, int]:
    s = np.float32(_scalar(g, scale_name, what))
    if zp_name:
        zp_arr = g.const(zp_name, what)
        if zp_arr.dtype != np.uint8:
            raise InputError(g.file, [Problem(what, f"activation zero point {zp_name!r} is {zp_arr.dtype}: "
                                                    "only uint8 activations are supported")])
        return s, int(zp_arr.reshape(()).item())
    return s, 0


def _weight(g: _Graph, w_name: str, s_name: str, zp_name: str | None, what: str, k_axis: int = 0):
    w = g.const(w_name, what)
    if w.dtype != np.int8:
        raise InputError(g.file, [Problem(what, f"weights {w_name!r} are {w.dtype}: only int8 weights are supported")])
    if zp_name and np.any(g.const(zp_name, what) != 0):
        raise InputError(g.file, [Problem(what, f"weights {w_name!r} have a non-zero zero point: "
                                                "only symmetric int8 weights are supported")])
    k = w.shape[k_axis]
    s = np.asarray(g.const(s_name, what), dtype=np.float32).reshape(-1)
    if s.size not in (1, k):
        raise InputError(g.file, [Problem(what, f"weight scale {s_name!r} has {s.size} values for {k} output channels")])
    return w, np.broadcast_to(s, (k,)).astype(np.float32).copy()


def _conv_geometry(g: _Graph, node, shape, w, what: str) -> dict:
    a = node_attrs(node)
    if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        raise InputError(g.file, [Problem(what, "auto_pad is not supported: give explicit pads")])
    if any(d != 1 for d in a.get("dilations", [1, 1])):
        raise InputError(g.file, [Problem(what, f"dilations {a['dilations']}: only 1 is supported")])
    pads = list(a.get("pads", [0, 0, 0, 0]))
    if len(pads) != 4 or pads[0] != pads[2] or pads[1] != pads[3]:
        raise InputError(g.file, [Problem(what, f"pads {pads}: only symmetric 2-D padding is supported")])
    strides = list(a.get("strides", [1, 1]))
    return dict(in_channels=shape[0], in_h=shape[1], in_w=shape[2], out_channels=int(w.shape[0]),
                kernel_h=int(w.shape[2]), kernel_w=int(w.shape[3]), stride_h=int(strides[0]), stride_w=int(strides[1]),
                pad_h=int(pads[0]), pad_w=int(pads[1]), groups=int(a.get("group", 1)))


def _bias(g: _Graph, name: str | None, k: int, s_x, s_w, what: str) -> np.ndarray:
    if not name:
        return np.zeros(k, np.int32)
    node = g.producer.get(name)
    if node is not None and node.op_type == "DequantizeLinear":
        b = g.const(node.input[0], what)
        if b.dtype != np.int32:
            raise InputError(g.file, [Problem(what, f"bias {node.input[0]!r} is {b.dtype}: must be int32")])
        return b.reshape(k).astype(np.int32)
    b = g.const(name, what)
    if b.dtype == np.int32:  # QLinearConv: int32 bias with scale s_x·s_w
        return b.reshape(k)
    return quant.quantize_bias(b.reshape(k), s_x, s_w)


def _source_act(g: _Graph, name: str, what: str) -> tuple[_Act, bool]:
    """The quantized activation behind a float tensor (through DequantizeLinear, Flatten, Reshape)."""
    flattened = False
    requant = []
    while name not in g.acts:
        node = g.producer.get(name)
        if node is None:
            raise InputError(g.file, [Problem(what, f"input {name!r} is not a quantized activation "
                                                   "(expected DequantizeLinear of a QuantizeLinear output)")])
        if node.op_type in ("Flatten", "Reshape"):
            flattened = True
        elif node.op_type == "QuantizeLinear":  # Q(DQ(q)) with the same parameters is the identity
            requant.append(_act_params(g, node.input[1], node.input[2] if len(node.input) > 2 else None, what))
        elif node.op_type not in ("DequantizeLinear", "Identity"):
            raise InputError(g.file, [Problem(what, f"input {name!r} comes from {node.op_type}, "
                                                   "not from a quantized activation")])
        name = node.input[0]
    act = g.acts[name]
    for s, z in requant:
        if (s, z) != (act.scale, act.zero_point):
            raise InputError(g.file, [Problem(what, f"input {name!r} is requantized from scale {act.scale}, zero point "
                                                   f"{act.zero_point} to {s}, {z}: not supported")])
    return act, flattened


def _output_q(g: _Graph, out: str, what: str):
    """Follow a float output through Relu / Clip to its QuantizeLinear: (q tensor, activation, Q node)."""
    activation = None
    name = out
    while True:
        users = g.consumers.get(name, [])
        if len(users) != 1:
            raise InputError(g.file, [Problem(what, f"output {name!r} must feed exactly one QuantizeLinear "
                                                   f"(found {len(users)} consumers)")])
        node = users[0]
        if node.op_type == "QuantizeLinear":
            return node.output[0], activation, node
        if node.op_type == "Relu":
            activation = activation or "relu"
        elif node.op_type == "Clip":
            lo, hi = _clip_bounds(g, node, what)
            if lo != 0.0 or hi not in (6.0, float("inf")):
                raise InputError(g.file, [Problem(what, f"Clip({lo}, {hi}): only Clip(0, 6) (ReLU6) and Clip(0, inf) are supported")])
            activation = "relu6" if hi == 6.0 else (activation or "relu")
        else:
            raise InputError(g.file, [Problem(what, f"output {name!r} goes to {node.op_type}; expected Relu, Clip "
                                                   "or QuantizeLinear")])
        name = node.output[0]


def _clip_bounds(g: _Graph, node, what: str) -> tuple[float, float]:
    a = node_attrs(node)
    lo, hi = a.get("min", float("-inf")), a.get("max", float("inf"))
    if len(node.input) > 1 and node.input[1]:
        lo = float(_scalar(g, node.input[1], what))
    if len(node.input) > 2 and node.input[2]:
        hi = float(_scalar(g, node.input[2], what))
    return float(lo), float(hi)


def _add_layer(g: _Graph, q: QLayer, out_name: str, shape) -> None:
    g.layers.append(q)
    g.acts[out_name] = _Act(q.name, q.scale, q.zero_point, shape)


def _pool_geometry(g: _Graph, node, shape, what: str) -> dict:
    if node.op_type in ("GlobalAveragePool", "QLinearGlobalAveragePool"):
        return dict(kernel_h=shape[1], kernel_w=shape[2], stride_h=1, stride_w=1, pad_h=0, pad_w=0)
    a = node_attrs(node)
    if a.get("ceil_mode", 0):
        raise InputError(g.file, [Problem(what, "ceil_mode 1 is not supported")])
    pads = list(a.get("pads", [0, 0, 0, 0]))
    if len(pads) != 4 or pads[0] != pads[2] or pads[1] != pads[3]:
        raise InputError(g.file, [Problem(what, f"pads {pads}: only symmetric 2-D padding is supported")])
    if node.op_type.endswith("AveragePool") and any(pads) and not a.get("count_include_pad", 0):
        raise InputError(g.file, [Problem(what, "padded average pooling must count the padding (count_include_pad=1)")])
    k = list(a["kernel_shape"])
    s = list(a.get("strides", [1, 1]))
    return dict(kernel_h=int(k[0]), kernel_w=int(k[1]), stride_h=int(s[0]), stride_w=int(s[1]),
                pad_h=int(pads[0]), pad_w=int(pads[1]))


def _node(g: _Graph, node) -> None:
    op = node.op_type
    what = f"graph.node[{node.name or node.output[0]}] ({op})"
    if op in ("Conv", "Gemm", "MatMul", "QLinearConv", "QLinearMatMul", "QGemm"):
        qlin = op.startswith("QLinear") or op == "QGemm"
        x_name = node.input[0]
        if qlin:
            src, _ = _source_act(g, x_name, what)
            w_name, ws, wz = node.input[3], node.input[4], node.input[5]
            if op == "QLinearConv":
                ys, yz = node.input[6], node.input[7]
                b_name = node.input[8] if len(node.input) > 8 else None
            elif op == "QGemm":
                if len(node.input) < 8 or not node.input[7]:
                    raise InputError(g.file, [Problem(what, "QGemm with a float output (no y_scale) is not supported")])
                b_name = node.input[6] or None
                ys, yz = node.input[7], node.input[8] if len(node.input) > 8 else None
            else:
                ys, yz = node.input[6], node.input[7]
                b_name = None
            out, activation = node.output[0], None
            s_y, z_y = _act_params(g, ys, yz, what)
        else:
            src, _ = _source_act(g, x_name, what)
            dq = g.producer.get(node.input[1])
            if dq is None or dq.op_type != "DequantizeLinear":
                raise InputError(g.file, [Problem(what, "weights must come from DequantizeLinear of int8 constants")])
            w_name, ws = dq.input[0], dq.input[1]
            wz = dq.input[2] if len(dq.input) > 2 else None
            b_name = node.input[2] if len(node.input) > 2 and node.input[2] else None
            out, activation, qnode = _output_q(g, node.output[0], what)
            s_y, z_y = _act_params(g, qnode.input[1], qnode.input[2] if len(qnode.input) > 2 else None, what)
        a = node_attrs(node)
        if op in ("Conv", "QLinearConv"):
            w, s_w = _weight(g, w_name, ws, wz, what)
            geo = _conv_geometry(g, node, src.shape, w, what)
            layer = Layer(g.unique(node.name or out), "conv", inputs=(src.layer,), activation=activation, **geo)
        else:
            w_raw = g.const(w_name, what)
            trans = op in ("Gemm", "QGemm") and a.get("transB", 0)
            if op in ("Gemm", "QGemm") and (a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0):
                raise InputError(g.file, [Problem(what, "only Gemm with transA=0, alpha=1, beta=1 is supported")])
            w, s_w = _weight(g, w_name, ws, wz, what, k_axis=0 if trans else 1)
            if not trans:
                w = np.ascontiguousarray(w_raw.T)
            feats = int(np.prod(src.shape))
            if w.shape[1] != feats:
                raise InputError(g.file, [Problem(what, f"weights {w.shape} do not take the {feats} input features")])
            layer = Layer(g.unique(node.name or out), "fc", feats, 1, 1, int(w.shape[0]), inputs=(src.layer,),
                          activation=activation)
        q = QLayer(layer, (src.layer,), s_y, z_y, w, _bias(g, b_name, layer.out_channels, src.scale, s_w, what), s_w)
        _add_layer(g, q, out, (layer.out_channels, layer.out_h, layer.out_w))
    elif op in ("Add", "QLinearAdd"):
        if op == "QLinearAdd":
            a_act, _ = _source_act(g, node.input[0], what)
            b_act, _ = _source_act(g, node.input[3], what)
            s_y, z_y = _act_params(g, node.input[6], node.input[7] if len(node.input) > 7 else None, what)
            out, activation = node.output[0], None
        else:
            a_act, _ = _source_act(g, node.input[0], what)
            b_act, _ = _source_act(g, node.input[1], what)
            out, activation, qnode = _output_q(g, node.output[0], what)
            s_y, z_y = _act_params(g, qnode.input[1], qnode.input[2] if len(qnode.input) > 2 else None, what)
        if a_act.shape != b_act.shape:
            raise InputError(g.file, [Problem(what, f"inputs of shapes {a_act.shape} and {b_act.shape}: "
                                                   "broadcasting adds are not supported")])
        c, h, w_ = a_act.shape
        layer = Layer(g.unique(node.name or out), "add", c, h, w_, c, inputs=(a_act.layer, b_act.layer),
                      activation=activation)
        _add_layer(g, QLayer(layer, layer.inputs, s_y, z_y), out, a_act.shape)
    elif op in ("Concat", "QLinearConcat"):
        _concat(g, node, what)
    elif op in ("MaxPool", "AveragePool", "GlobalAveragePool", "QLinearAveragePool", "QLinearGlobalAveragePool"):
        if op.startswith("QLinear") or (op == "MaxPool" and node.input[0] in g.acts):
            src, _ = _source_act(g, node.input[0], what)
            if op == "MaxPool":
                s_y, z_y, out = src.scale, src.zero_point, node.output[0]
            else:
                s_y, z_y = _act_params(g, node.input[3], node.input[4] if len(node.input) > 4 else None, what)
                out = node.output[0]
        else:
            src, _ = _source_act(g, node.input[0], what)
            out, activation, qnode = _output_q(g, node.output[0], what)
            if activation:
                raise InputError(g.file, [Problem(what, "an activation after pooling is not supported")])
            s_y, z_y = _act_params(g, qnode.input[1], qnode.input[2] if len(qnode.input) > 2 else None, what)
        geo = _pool_geometry(g, node, src.shape, what)
        mode = "max" if op == "MaxPool" else "avg"
        c, h, w_ = src.shape
        layer = Layer(g.unique(node.name or out), "pool", c, h, w_, c, pool_mode=mode, inputs=(src.layer,), **geo)
        q = QLayer(layer, (src.layer,), s_y, z_y, own_params=(s_y, z_y) != (src.scale, src.zero_point))
        _add_layer(g, q, out, (c, layer.out_h, layer.out_w))


def _concat(g: _Graph, node, what: str) -> None:
    """Concat along the channels (axis 1) of quantized activations: QDQ (DequantizeLinear inputs,
    QuantizeLinear output) or com.microsoft QLinearConcat (Y_scale, Y_zero_point, then
    (X, scale, zero point) per input)."""
    axis = node_attrs(node).get("axis")
    if axis not in (1, -3):
        raise InputError(g.file, [Problem(what, f"axis {axis}: only concatenation along the channels (axis 1) "
                                                "is supported")])
    if node.op_type == "QLinearConcat":
        srcs = [_source_act(g, node.input[i], what)[0] for i in range(2, len(node.input), 3)]
        s_y, z_y = _act_params(g, node.input[0], node.input[1], what)
        out, activation = node.output[0], None
    else:
        srcs = [_source_act(g, name, what)[0] for name in node.input]
        out, activation, qnode = _output_q(g, node.output[0], what)
        s_y, z_y = _act_params(g, qnode.input[1], qnode.input[2] if len(qnode.input) > 2 else None, what)
    if len(srcs) < 2 or len({a.shape[1:] for a in srcs}) != 1 or NETWORK_INPUT in {a.layer for a in srcs}:
        raise InputError(g.file, [Problem(what, f"inputs of shapes {[a.shape for a in srcs]}: a concat needs two or "
                                                "more layer outputs (not the network input) of one height and width")])
    c, (h, w_) = sum(a.shape[0] for a in srcs), srcs[0].shape[1:]
    layer = Layer(g.unique(node.name or out), "concat", c, h, w_, c, inputs=tuple(a.layer for a in srcs),
                  activation=activation)
    _add_layer(g, QLayer(layer, layer.inputs, s_y, z_y), out, (c, h, w_))


def input_shape(model, file: Path) -> tuple[str, tuple[int, int, int]]:
    inits = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in inits]
    if len(inputs) != 1:
        raise InputError(file, [Problem("graph.input", f"{len(inputs)} inputs: exactly one network input is supported")])
    dims = [d.dim_value if d.HasField("dim_value") else None for d in inputs[0].type.tensor_type.shape.dim]
    if len(dims) == 4 and all(dims[1:]):
        return inputs[0].name, (dims[1], dims[2], dims[3])
    if len(dims) == 2 and dims[1]:
        return inputs[0].name, (dims[1], 1, 1)
    raise InputError(file, [Problem("graph.input", f"{inputs[0].name!r} has shape {dims}: need N x C x H x W "
                                                   "(or N x F) with known C, H, W")])


def import_quantized(model, file: Path, name: str) -> tuple[Workload, QuantModel]:
    check_ops(model, file)
    g = build_graph(model, file)
    in_name, in_shape = input_shape(model, file)
    users = g.consumers.get(in_name, [])
    if len(users) != 1 or users[0].op_type != "QuantizeLinear":
        raise InputError(file, [Problem("graph.input", f"{in_name!r} must feed exactly one QuantizeLinear "
                                                       "(a float model needs --calibration)")])
    qn = users[0]
    s_in, z_in = _act_params(g, qn.input[1], qn.input[2] if len(qn.input) > 2 else None, "graph.input")
    g.acts[qn.output[0]] = _Act(NETWORK_INPUT, s_in, z_in, in_shape)
    for node in model.graph.node:
        if node.op_type in QDQ_OPS or node.op_type in QLINEAR_OPS:
            _node(g, node)
    if not g.layers:
        raise InputError(file, [Problem("graph", "no conv, fc, add or pool layer found")])
    workload = Workload(name, tuple(q.layer for q in g.layers), str(file), weights=f"{name}.npz")
    return workload, QuantModel(name, in_shape, s_in, z_in, g.layers, str(file))


