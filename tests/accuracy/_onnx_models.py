"""Small quantized ONNX models built with onnx.helper for the parity tests."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class Builder:
    def __init__(self, rng: np.random.Generator):
        self.rng, self.nodes, self.inits, self.n = rng, [], [], 0

    def name(self, base: str) -> str:
        self.n += 1
        return f"{base}{self.n}"

    def const(self, arr, base="c") -> str:
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def q(self, x: str, scale: float, zp: int) -> str:
        out = self.name("q")
        self.nodes.append(helper.make_node("QuantizeLinear", [x, self.const(np.float32(scale)),
                                                              self.const(np.uint8(zp))], [out]))
        return out

    def dq(self, x: str, scale, zp=None, axis=None) -> str:
        out = self.name("dq")
        ins = [x, self.const(np.asarray(scale, np.float32))]
        if zp is not None:
            ins.append(self.const(zp))
        kw = {"axis": axis} if axis is not None else {}
        self.nodes.append(helper.make_node("DequantizeLinear", ins, [out], **kw))
        return out

    def act(self, q: str, scale: float, zp: int) -> str:
        return self.dq(q, np.float32(scale), np.uint8(zp))

    def conv(self, xq: str, s_x: float, cin: int, k: int, ksize: int, s_y: float, z_y: int, stride=1, pad=0,
             group=1, relu=None, per_channel=True) -> str:
        x = self.act(xq, s_x, self._zp[xq])
        w = self.rng.integers(-127, 128, (k, cin // group, ksize, ksize)).astype(np.int8)
        s_w = self.rng.uniform(0.005, 0.03, k if per_channel else 1).astype(np.float32)
        wdq = self.dq(self.const(w, "w"), s_w if per_channel else s_w[0], np.zeros(k if per_channel else (), np.int8)
                      if per_channel else np.int8(0), 0 if per_channel else None)
        b = self.rng.integers(-2000, 2000, k).astype(np.int32)
        s_b = (np.float32(s_x) * np.broadcast_to(s_w, (k,))).astype(np.float32)
        bdq = self.dq(self.const(b, "b"), s_b, np.zeros(k, np.int32), 0)
        out = self.name("conv")
        self.nodes.append(helper.make_node("Conv", [x, wdq, bdq], [out], name=out, strides=[stride, stride],
                                           pads=[pad] * 4, group=group, kernel_shape=[ksize, ksize]))
        return self._finish(out, s_y, z_y, relu)

    def _finish(self, out: str, s_y: float, z_y: int, relu) -> str:
        if relu == "relu":
            r = self.name("relu")
            self.nodes.append(helper.make_node("Relu", [out], [r]))
            out = r
        elif relu == "relu6":
            r = self.name("clip")
            self.nodes.append(helper.make_node("Clip", [out, self.const(np.float32(0)), self.const(np.float32(6))], [r]))
            out = r
        q = self.q(out, s_y, z_y)
        self._zp[q] = z_y
        return q

    _zp: dict = {}

    def add(self, a: str, sa: float, b: str, sb: float, s_y: float, z_y: int, relu=None) -> str:
        out = self.name("add")
        self.nodes.append(helper.make_node("Add", [self.act(a, sa, self._zp[a]), self.act(b, sb, self._zp[b])], [out],
                                           name=out))
        return self._finish(out, s_y, z_y, relu)

    def pool(self, xq: str, s_x: float, op: str, k: int, stride: int, s_y=None, z_y=None, pad=0) -> str:
        out = self.name(op.lower())
        kw = {} if op == "GlobalAveragePool" else {"kernel_shape": [k, k], "strides": [stride, stride],
                                                    "pads": [pad] * 4}
        self.nodes.append(helper.make_node(op, [self.act(xq, s_x, self._zp[xq])], [out], name=out, **kw))
        return self._finish(out, s_x if s_y is None else s_y, self._zp[xq] if z_y is None else z_y, None)

    def gemm(self, xq: str, s_x: float, feats: int, n: int, s_y: float, z_y: int) -> str:
        x = self.act(xq, s_x, self._zp[xq])
        f = self.name("flat")
        self.nodes.append(helper.make_node("Flatten", [x], [f], axis=1))
        w = self.rng.integers(-127, 128, (n, feats)).astype(np.int8)
        s_w = self.rng.uniform(0.005, 0.03, n).astype(np.float32)
        wdq = self.dq(self.const(w, "w"), s_w, np.zeros(n, np.int8), 0)
        b = self.rng.integers(-2000, 2000, n).astype(np.int32)
        bdq = self.dq(self.const(b, "b"), (np.float32(s_x) * s_w).astype(np.float32), np.zeros(n, np.int32), 0)
        out = self.name("gemm")
        self.nodes.append(helper.make_node("Gemm", [f, wdq, bdq], [out], name=out, transB=1))
        return self._finish(out, s_y, z_y, None)

    def model(self, in_shape, out_q: str, s_out: float, n_out: int) -> onnx.ModelProto:
        final = self.act(out_q, s_out, self._zp[out_q])
        graph = helper.make_graph(self.nodes, "parity",
                                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, *in_shape])],
                                  [helper.make_tensor_value_info(final, TensorProto.FLOAT, [None, n_out])], self.inits)
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def residual_cnn(seed: int = 0):
    """conv 3x3 + ReLU, depthwise 3x3 s1 + ReLU6, pointwise 1x1, residual add + ReLU, max pool,
    flatten, fully connected. Returns (model, output scale, output zero point)."""
    b = Builder(np.random.default_rng(seed))
    b._zp = {}
    xq = b.q("x", 0.02, 128)
    b._zp[xq] = 128
    c1 = b.conv(xq, 0.02, 3, 8, 3, 0.05, 0, pad=1, relu="relu")
    dw = b.conv(c1, 0.05, 8, 8, 3, 0.04, 0, pad=1, group=8, relu="relu6")
    pw = b.conv(dw, 0.04, 8, 8, 1, 0.06, 120)
    s = b.add(c1, 0.05, pw, 0.06, 0.07, 0, relu="relu")
    mp = b.pool(s, 0.07, "MaxPool", 2, 2)
    fc = b.gemm(mp, 0.07, 8 * 4 * 4, 5, 0.3, 128)
    return b.model((3, 8, 8), fc, 0.3, 5), 0.3, 128


def strided_cnn(seed: int = 1):
    """A strided, per-tensor-weight convolution and a global average pool."""
    b = Builder(np.random.default_rng(seed))
    b._zp = {}
    xq = b.q("x", 0.03, 100)
    b._zp[xq] = 100
    c1 = b.conv(xq, 0.03, 2, 6, 3, 0.08, 10, stride=2, pad=1, per_channel=False)
    g = b.pool(c1, 0.08, "GlobalAveragePool", 0, 1, 0.04, 5)
    fc = b.gemm(g, 0.04, 6, 4, 0.2, 100)
    return b.model((2, 9, 9), fc, 0.2, 4), 0.2, 100


def avg_pool(seed: int = 2):
    """Input -> average pool 2x2 s2 with its own output scale."""
    b = Builder(np.random.default_rng(seed))
    b._zp = {}
    xq = b.q("x", 0.05, 7)
    b._zp[xq] = 7
    ap = b.pool(xq, 0.05, "AveragePool", 2, 2, 0.03, 11)
    final = b.act(ap, 0.03, 11)
    graph = helper.make_graph(b.nodes, "avg", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4, 6, 6])],
                              [helper.make_tensor_value_info(final, TensorProto.FLOAT, [None, 4, 3, 3])], b.inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m, 0.03, 11
