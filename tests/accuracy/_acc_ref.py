"""Independent references for the int8 engine: explicit integer loops, random quantized models."""
from __future__ import annotations

import numpy as np

from simulator.accuracy.model import QLayer, QuantModel
from simulator.workload import Layer, Workload


def ref_conv(x, zx, sx, w, bias, s_w, s_y, z_y, stride, pad, groups, activation=None, mul=None):
    """Output codes by explicit loops: acc = Σ mul(x, w) − zx·Σ w + b with x padded at zx,
    requantized as float32(acc)·float32(float32(sx·s_w)/s_y), round half to even."""
    n, c, h, wd = x.shape
    k, cg, r, s = w.shape
    kg = k // groups
    xp = np.full((n, c, h + 2 * pad, wd + 2 * pad), zx, dtype=np.int64)
    xp[:, :, pad:pad + h, pad:pad + wd] = x
    oh, ow = (h + 2 * pad - r) // stride + 1, (wd + 2 * pad - s) // stride + 1
    out = np.zeros((n, k, oh, ow), dtype=np.uint8)
    lo, hi = 0, 255
    if activation in ("relu", "relu6"):
        lo = z_y
    if activation == "relu6":
        hi = min(255, z_y + int(np.rint(np.float32(6.0) / np.float32(s_y))))
    for b in range(n):
        for kk in range(k):
            g = kk // kg
            m = np.float32(np.float32(np.float32(sx) * np.float32(s_w[kk])) / np.float32(s_y))
            for i in range(oh):
                for j in range(ow):
                    acc = int(bias[kk])
                    for cc in range(cg):
                        for rr in range(r):
                            for ss in range(s):
                                xv = int(xp[b, g * cg + cc, i * stride + rr, j * stride + ss])
                                wv = int(w[kk, cc, rr, ss])
                                acc += (xv * wv if mul is None else int(mul(xv, wv))) - zx * wv
                    y = int(np.rint(np.float32(acc) * m)) + z_y
                    out[b, kk, i, j] = min(max(y, lo), hi)
    return out


def random_model(rng: np.random.Generator) -> tuple[QuantModel, Workload]:
    """A graph with every layer type: conv (strided, padded), depthwise conv with ReLU6,
    a residual add, max and average pooling, and a classifier."""
    layers = [
        Layer("c1", "conv", 3, 7, 7, 8, 3, 3, 1, 1, 1, 1, activation="relu"),
        Layer("dw", "conv", 8, 7, 7, 8, 3, 3, 2, 2, 1, 1, groups=8, activation="relu6"),
        Layer("pw", "conv", 8, 4, 4, 8, 1, 1),
        Layer("skip", "pool", 8, 7, 7, 8, 3, 3, 2, 2, 1, 1, pool_mode="max", inputs=("c1",)),
        Layer("add", "add", 8, 4, 4, 8, inputs=("pw", "skip"), activation="relu"),
        Layer("avg", "pool", 8, 4, 4, 8, 2, 2, 2, 2, pool_mode="avg"),
        Layer("fc", "fc", 32, 1, 1, 5),
    ]
    wl = Workload("random", tuple(layers), "<test>")
    prod = wl.producers()
    qls = []
    for layer in layers:
        q = QLayer(layer, prod[layer.name])
        if layer.kind in ("conv", "fc"):
            shape = (layer.out_channels, layer.in_channels) if layer.kind == "fc" else \
                (layer.out_channels, layer.channels_per_group, layer.kernel_h, layer.kernel_w)
            q.weight = rng.integers(-127, 128, shape).astype(np.int8)
            q.bias = rng.integers(-3000, 3000, layer.out_channels).astype(np.int32)
            q.weight_scale = rng.uniform(0.002, 0.02, layer.out_channels).astype(np.float32)
        if layer.kind == "pool":
            q.own_params = False
        else:
            q.scale = np.float32(rng.uniform(0.02, 0.2))
            q.zero_point = int(rng.integers(0, 40)) if layer.activation else int(rng.integers(100, 160))
        qls.append(q)
    return QuantModel("random", (3, 7, 7), np.float32(0.05), 17, qls), wl
