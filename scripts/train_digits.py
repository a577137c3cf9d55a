"""Train, quantize and record the digits CNN (numpy only, fixed seed).

    .venv/bin/python scripts/train_digits.py            # writes workloads/digits_cnn.npz and .accuracy.json

Network (``workloads/digits_cnn.yaml``), input 1 x 8 x 8 pixels 0..16:
conv1 3x3 1->8 pad 1, ReLU; conv2 3x3 8->16 stride 2 pad 1, ReLU;
conv3 3x3 16->32 stride 2 pad 1, ReLU; fc 128->10 (logits).
Training: float32, cross-entropy, Adam (lr 3e-3, betas 0.9/0.999), batch 32,
40 epochs, He-normal initialisation, every draw from ``numpy.random.default_rng(SEED)``.
Post-training quantization: int8 symmetric per-channel weights, uint8 activations
with scale = max over the training set / 255 (ReLU outputs, zero point 0); the
logits get an affine uint8 range from their training-set min and max.
Retraining on another BLAS build may change the last bits of the float weights;
the shipped ``.npz`` is the reference and its accuracy is recorded beside it.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.accuracy import quant  # noqa: E402
from simulator.accuracy.engine import infer, quantize_input  # noqa: E402
from simulator.accuracy.model import QLayer, QuantModel  # noqa: E402
from simulator.workload import load_workload  # noqa: E402

SEED = 8
EPOCHS = 40
BATCH = 32
LR = 3e-3
PIXEL_MAX = 16.0
CONVS = [("conv1", 1, 8, 1), ("conv2", 8, 16, 2), ("conv3", 16, 32, 2)]  # name, C, K, stride


def im2col(x, stride):
    """x: N x C x H x W (padding 1, kernel 3) -> (N*P*Q, C*9), P, Q."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    p, q = (h - 1) // stride + 1, (w - 1) // stride + 1
    cols = np.empty((n, p, q, c, 3, 3), dtype=x.dtype)
    for r in range(3):
        for s in range(3):
            cols[:, :, :, :, r, s] = xp[:, :, r:r + stride * p:stride, s:s + stride * q:stride].transpose(0, 2, 3, 1)
    return cols.reshape(n * p * q, c * 9), p, q


def col2im(dcols, shape, stride, p, q):
    n, c, h, w = shape
    d = dcols.reshape(n, p, q, c, 3, 3)
    dxp = np.zeros((n, c, h + 2, w + 2), dtype=dcols.dtype)
    for r in range(3):
        for s in range(3):
            dxp[:, :, r:r + stride * p:stride, s:s + stride * q:stride] += d[:, :, :, :, r, s].transpose(0, 3, 1, 2)
    return dxp[:, :, 1:-1, 1:-1]


def init(rng):
    params = {}
    for name, c, k, _ in CONVS:
        params[f"{name}.w"] = (rng.standard_normal((k, c, 3, 3)) * np.sqrt(2 / (9 * c))).astype(np.float32)
        params[f"{name}.b"] = np.zeros(k, np.float32)
    params["fc.w"] = (rng.standard_normal((10, 128)) * np.sqrt(1 / 128)).astype(np.float32)
    params["fc.b"] = np.zeros(10, np.float32)
    return params


def forward(params, x, cache=None):
    h = x
    for name, _, k, stride in CONVS:
        cols, p, q = im2col(h, stride)
        z = cols @ params[f"{name}.w"].reshape(k, -1).T + params[f"{name}.b"]
        out = np.maximum(z, 0).reshape(x.shape[0], p, q, k).transpose(0, 3, 1, 2)
        if cache is not None:
            cache.append((name, h.shape, cols, z, stride, p, q))
        h = out
    flat = h.reshape(x.shape[0], -1)
    if cache is not None:
        cache.append(("fc", flat))
    return flat @ params["fc.w"].T + params["fc.b"], h


def grads(params, x, y):
    cache = []
    logits, _ = forward(params, x, cache)
    z = logits - logits.max(axis=1, keepdims=True)
    prob = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    loss = -np.log(prob[np.arange(len(y)), y] + 1e-12).mean()
    d = prob
    d[np.arange(len(y)), y] -= 1
    d /= len(y)
    g = {"fc.w": d.T @ cache[-1][1], "fc.b": d.sum(axis=0)}
    dh = (d @ params["fc.w"]).reshape(x.shape[0], 32, 2, 2)
    for name, shape, cols, zc, stride, p, q in reversed(cache[:-1]):
        k = params[f"{name}.w"].shape[0]
        dz = dh.transpose(0, 2, 3, 1).reshape(-1, k) * (zc > 0)
        g[f"{name}.w"] = (dz.T @ cols).reshape(params[f"{name}.w"].shape)
        g[f"{name}.b"] = dz.sum(axis=0)
        dh = col2im(dz @ params[f"{name}.w"].reshape(k, -1), shape, stride, p, q)
    return loss, g


def train(x, y):
    rng = np.random.default_rng(SEED)
    params = init(rng)
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(val) for k, val in params.items()}
    step = 0
    for epoch in range(EPOCHS):
        order = rng.permutation(len(y))
        total = 0.0
        for i in range(0, len(y), BATCH):
            idx = order[i:i + BATCH]
            loss, g = grads(params, x[idx], y[idx])
            total += loss * len(idx)
            step += 1
            for key in params:
                m[key] = 0.9 * m[key] + 0.1 * g[key]
                v[key] = 0.999 * v[key] + 0.001 * g[key] ** 2
                mh, vh = m[key] / (1 - 0.9 ** step), v[key] / (1 - 0.999 ** step)
                params[key] -= (LR * mh / (np.sqrt(vh) + 1e-8)).astype(np.float32)
        if epoch % 10 == 9:
            print(f"epoch {epoch + 1}: loss {total / len(y):.4f}")
    return params


def quantize_model(params, workload, x_cal):
    """Post-training quantization; the network input is raw pixels 0..16."""
    acts = {}
    h = x_cal
    for name, _, k, stride in CONVS:
        cols, p, q = im2col(h, stride)
        h = np.maximum(cols @ params[f"{name}.w"].reshape(k, -1).T + params[f"{name}.b"], 0)
        h = h.reshape(x_cal.shape[0], p, q, k).transpose(0, 3, 1, 2)
        acts[name] = (0.0, float(h.max()))
    logits = h.reshape(x_cal.shape[0], -1) @ params["fc.w"].T + params["fc.b"]
    acts["fc"] = (float(logits.min()), float(logits.max()))
    s_in = np.float32(PIXEL_MAX / 255)  # raw pixel codes: q = round(pixel * 255 / 16)
    layers = []
    s_x = s_in
    for layer in workload.layers:
        w = params[f"{layer.name}.w"]
        if layer.name == "conv1":
            w = w / np.float32(PIXEL_MAX)  # trained on pixels / 16, applied to raw pixels
        s_w = quant.weight_scales(w)
        s_y, z_y = quant.activation_params(*acts[layer.name])
        layers.append(QLayer(layer, workload.producers()[layer.name], s_y, z_y, quant.quantize_weights(w, s_w),
                             quant.quantize_bias(params[f"{layer.name}.b"], s_x, s_w), s_w))
        s_x = s_y
    return QuantModel(workload.name, (1, 8, 8), s_in, 0, layers)


def main() -> None:
    data = np.load(ROOT / "datasets" / "digits.npz")
    x_train = data["x_train"][:, None].astype(np.float32) / PIXEL_MAX
    params = train(x_train, data["y_train"].astype(np.int64))
    x_test = data["x"][:, None].astype(np.float32)
    float_acc = float((forward(params, x_test / PIXEL_MAX)[0].argmax(axis=1) == data["y"]).mean())
    workload = load_workload(ROOT / "workloads" / "digits_cnn.yaml")
    model = quantize_model(params, workload, x_train)
    model.save(ROOT / "workloads" / "digits_cnn.npz")
    pred = infer(model, quantize_input(model, x_test)).predictions()
    correct = int((pred == data["y"]).sum())
    record = {"model": "workloads/digits_cnn.npz", "dataset": "datasets/digits.npz (x, y: the test split)",
              "samples": int(len(pred)), "correct_int8_exact": correct,
              "accuracy_int8_exact": correct / len(pred), "accuracy_float32": float_acc,
              "seed": SEED, "epochs": EPOCHS, "script": "scripts/train_digits.py"}
    (ROOT / "workloads" / "digits_cnn.accuracy.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
