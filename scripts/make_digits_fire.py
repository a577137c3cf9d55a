"""Weights of the fire-block digits network (numpy only, fixed seed): a random-feature network.

    .venv/bin/python scripts/make_digits_fire.py   # writes workloads/digits_fire.npz and .accuracy.json

Network (``workloads/digits_fire.yaml``), input 1 x 8 x 8 pixels 0..16: conv1 3x3 1->16 pad 1,
ReLU; squeeze 1x1 16->8, ReLU; expand1 1x1 8->16 and expand3 3x3 8->16 pad 1 (both ReLU, both
reading squeeze); cat = concat [expand1, expand3] (32 channels); max pool 2x2 stride 2; fc 512->10.
The convolutions keep their He-normal initialisation from ``numpy.random.default_rng(SEED)``;
only the classifier is trained (float32, softmax cross-entropy, Adam lr 1e-2, full batch,
EPOCHS steps) on the fixed features of the training split. Post-training quantization as
``scripts/train_digits.py``: int8 symmetric per-channel weights, uint8 activations with
scale = training-set maximum / 255 (zero point 0); the concatenation takes the larger of its
operands' scales, so the other operand is requantized; the logits get an affine range.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.accuracy import quant  # noqa: E402
from simulator.accuracy.engine import infer, quantize_input  # noqa: E402
from simulator.accuracy.model import QLayer, QuantModel  # noqa: E402
from simulator.workload import load_workload  # noqa: E402

SEED = 8
EPOCHS = 300
LR = 1e-2
PIXEL_MAX = 16.0
CONVS = {"conv1": (1, 16, 3), "squeeze": (16, 8, 1), "expand1": (8, 16, 1), "expand3": (8, 16, 3)}


def conv(x, w, b):
    """Stride 1, 'same' padding (kernel 1 or 3), float32."""
    pad = w.shape[2] // 2
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) if pad else x
    win = sliding_window_view(xp, w.shape[2:], axis=(2, 3))  # N C H W R S
    return np.einsum("nchwrs,kcrs->nkhw", win, w, optimize=True) + b[None, :, None, None]


def features(params, x):
    """Float activations of every layer before the classifier (N x 1 x 8 x 8 pixels 0..16)."""
    acts = {}
    acts["conv1"] = np.maximum(conv(x, *params["conv1"]), 0)
    acts["squeeze"] = np.maximum(conv(acts["conv1"], *params["squeeze"]), 0)
    acts["expand1"] = np.maximum(conv(acts["squeeze"], *params["expand1"]), 0)
    acts["expand3"] = np.maximum(conv(acts["squeeze"], *params["expand3"]), 0)
    cat = np.concatenate([acts["expand1"], acts["expand3"]], axis=1)
    n, c, h, w = cat.shape
    acts["pool"] = cat.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
    return acts


def train_classifier(f, y, rng):
    w = (rng.standard_normal((10, f.shape[1])) * np.sqrt(1 / f.shape[1])).astype(np.float32)
    b = np.zeros(10, np.float32)
    state = {k: [np.zeros_like(v), np.zeros_like(v)] for k, v in (("w", w), ("b", b))}
    for step in range(1, EPOCHS + 1):
        z = f @ w.T + b
        z -= z.max(axis=1, keepdims=True)
        prob = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        prob[np.arange(len(y)), y] -= 1
        prob /= len(y)
        for key, p, g in (("w", w, prob.T @ f), ("b", b, prob.sum(axis=0))):
            m, v = state[key]
            m[:] = 0.9 * m + 0.1 * g
            v[:] = 0.999 * v + 0.001 * g ** 2
            p -= (LR * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)).astype(np.float32)
    return w, b


def quantize_model(params, workload, acts, logits) -> QuantModel:
    prods = workload.producers()
    out_q = {name: quant.activation_params(0.0, float(acts[name].max())) for name in CONVS}
    out_q["cat"] = max(out_q["expand1"], out_q["expand3"])
    out_q["fc"] = quant.activation_params(float(logits.min()), float(logits.max()))
    s_in = np.float32(PIXEL_MAX / 255)
    layers = []
    for layer in workload.layers:
        name = layer.name
        if name == "pool":  # max pooling keeps its input's parameters
            layers.append(QLayer(layer, prods[name], *out_q["cat"], own_params=False))
            continue
        s_y, z_y = out_q[name]
        if layer.kind == "concat":
            layers.append(QLayer(layer, prods[name], s_y, z_y))
            continue
        w, b = params[name]
        s_x = s_in if name == "conv1" else out_q["cat" if name == "fc" else prods[name][0]][0]
        s_w = quant.weight_scales(w)
        layers.append(QLayer(layer, prods[name], s_y, z_y, quant.quantize_weights(w, s_w),
                             quant.quantize_bias(b, s_x, s_w), s_w))
    return QuantModel(workload.name, (1, 8, 8), s_in, 0, layers)


def main() -> None:
    data = np.load(ROOT / "datasets" / "digits.npz")
    rng = np.random.default_rng(SEED)
    params = {name: ((rng.standard_normal((k, c, r, r)) * np.sqrt(2 / (c * r * r))).astype(np.float32),
                     np.zeros(k, np.float32)) for name, (c, k, r) in CONVS.items()}
    x_train = data["x_train"][:, None].astype(np.float32)
    acts = features(params, x_train)
    f_train = acts["pool"].reshape(len(x_train), -1)
    params["fc"] = train_classifier(f_train, data["y_train"].astype(np.int64), rng)
    logits = f_train @ params["fc"][0].T + params["fc"][1]
    x_test = data["x"][:, None].astype(np.float32)
    f_test = features(params, x_test)["pool"].reshape(len(x_test), -1)
    float_acc = float(((f_test @ params["fc"][0].T + params["fc"][1]).argmax(axis=1) == data["y"]).mean())
    workload = load_workload(ROOT / "workloads" / "digits_fire.yaml")
    model = quantize_model(params, workload, acts, logits)
    model.save(ROOT / "workloads" / "digits_fire.npz")
    pred = infer(model, quantize_input(model, x_test)).predictions()
    correct = int((pred == data["y"]).sum())
    record = {"model": "workloads/digits_fire.npz", "dataset": "datasets/digits.npz (x, y: the test split)",
              "samples": int(len(pred)), "correct_int8_exact": correct,
              "accuracy_int8_exact": correct / len(pred), "accuracy_float32": float_acc,
              "trained": "classifier only (random-feature convolutions)",
              "seed": SEED, "epochs": EPOCHS, "script": "scripts/make_digits_fire.py"}
    (ROOT / "workloads" / "digits_fire.accuracy.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
