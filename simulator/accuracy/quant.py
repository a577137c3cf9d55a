"""Affine int8 quantization with the integer semantics of ONNX QLinear operators.

Real value ``r`` and code ``q``: ``r = s·(q − z)``.

* Activations: uint8 codes, per-tensor scale ``s`` and zero point ``z`` (0..255).
* Weights: int8 codes, zero point 0 (symmetric), per-tensor or per-output-channel scale.
* Biases: int32 codes with scale ``s_x·s_w`` and zero point 0.

Quantize (ONNX QuantizeLinear): ``q = sat(round_half_even(float32(r) / float32(s)) + z)``
(a division, not a multiplication by 1/s: 0.5 / (1/255) rounds to 127, 0.5·255 to 128).

Requantize a convolution's int32 accumulator ``acc = Σ (x − z_x)·w + b`` to the
output codes: ``m = float32(float32(s_x·s_w) / s_y)``,
``y = sat(round_half_even(float32(acc)·m) + z_y)`` (onnxruntime's QLinearConv).
A fused ReLU clamps at ``z_y`` (real 0), ReLU6 also at ``z_y + round(6 / s_y)``.
"""
from __future__ import annotations

import numpy as np

U8 = (0, 255)
I8 = (-128, 127)


def f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32)


def quantize(x, scale, zero_point, qrange: tuple[int, int] = U8) -> np.ndarray:
    """``sat(round_half_even(float32(x) / float32(scale)) + zero_point)`` as uint8 (or int8)."""
    q = np.rint(f32(x) / f32(scale)).astype(np.int64) + np.asarray(zero_point, dtype=np.int64)
    dtype = np.uint8 if qrange == U8 else np.int8
    return np.clip(q, *qrange).astype(dtype)


def dequantize(q, scale, zero_point) -> np.ndarray:
    """``float32(scale) · (q − zero_point)``."""
    return f32(scale) * (np.asarray(q, dtype=np.int64) - np.asarray(zero_point, dtype=np.int64)).astype(np.float32)


def multiplier(s_x, s_w, s_y) -> np.ndarray:
    """``float32(float32(s_x·s_w) / s_y)`` per output channel."""
    return (f32(f32(s_x) * f32(s_w)) / f32(s_y)).astype(np.float32)


def activation_range(activation: str | None, s_y: float, z_y: int) -> tuple[int, int]:
    """Output code range of a layer with this fused activation."""
    lo, hi = U8
    if activation in ("relu", "relu6"):
        lo = max(lo, int(z_y))
    if activation == "relu6":
        hi = min(hi, int(z_y) + int(np.rint(np.float32(6.0) / np.float32(s_y))))
    return lo, hi


def requantize(acc: np.ndarray, m: np.ndarray, z_y: int, code_range: tuple[int, int] = U8,
               channel_axis: int = 1) -> np.ndarray:
    """uint8 codes ``sat(round_half_even(float32(acc)·m) + z_y)``; ``m`` per channel along ``channel_axis``."""
    m = f32(m)
    if m.ndim == 1 and acc.ndim > 1:
        shape = [1] * acc.ndim
        shape[channel_axis] = m.size
        m = m.reshape(shape)
    y = np.rint(np.asarray(acc).astype(np.float32) * m).astype(np.int64) + int(z_y)
    return np.clip(y, *code_range).astype(np.uint8)


def add_codes(a, z_a, s_a, b, z_b, s_b, s_y, z_y, code_range: tuple[int, int] = U8) -> np.ndarray:
    """Element-wise sum of two quantized tensors into output codes (as onnxruntime's QLinearAdd):
    ``y = sat(round_half_even(float32(s_a/s_y)·(a − z_a) + float32(s_b/s_y)·(b − z_b)) + z_y)``."""
    ra, rb = f32(f32(s_a) / f32(s_y)), f32(f32(s_b) / f32(s_y))
    da = (np.asarray(a, dtype=np.int32) - int(z_a)).astype(np.float32)
    db = (np.asarray(b, dtype=np.int32) - int(z_b)).astype(np.float32)
    y = np.rint(ra * da + rb * db).astype(np.int64) + int(z_y)
    return np.clip(y, *code_range).astype(np.uint8)


def concat_codes(parts, s_y, z_y, code_range: tuple[int, int] = U8) -> np.ndarray:
    """Channel concatenation (axis 1) of quantized tensors ``parts`` = [(codes, s_i, z_i), ...] into
    output codes (as onnxruntime's QLinearConcat and DequantizeLinear → Concat → QuantizeLinear):
    an operand with the output's parameters is copied, any other is requantized element-wise,
    ``y = sat(round_half_even(float32(s_i·float32(x − z_i)) / float32(s_y)) + z_y)``; then clamped
    to ``code_range`` (a fused activation)."""
    out = []
    for codes, s_i, z_i in parts:
        if (np.float32(s_i), int(z_i)) == (np.float32(s_y), int(z_y)):
            out.append(np.asarray(codes, dtype=np.uint8))
        else:
            out.append(quantize(dequantize(codes, s_i, z_i), s_y, z_y))
    y = np.concatenate(out, axis=1)
    return y if tuple(code_range) == U8 else np.clip(y, *code_range).astype(np.uint8)


def weight_scales(w: np.ndarray, per_channel: bool = True) -> np.ndarray:
    """Symmetric int8 scales ``max|w| / 127`` per output channel (axis 0) or per tensor."""
    w = np.asarray(w, dtype=np.float32)
    amax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1) if per_channel else np.full(w.shape[0], np.abs(w).max())
    return np.where(amax > 0, amax / np.float32(127), np.float32(1.0)).astype(np.float32)


def quantize_weights(w: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """int8 codes of ``w`` with one scale per output channel (axis 0), clipped to -127..127."""
    s = f32(scales).reshape((-1,) + (1,) * (np.ndim(w) - 1))
    return np.clip(np.rint(f32(w) / s), -127, 127).astype(np.int8)


def quantize_bias(b: np.ndarray, s_x: float, s_w: np.ndarray) -> np.ndarray:
    """int32 codes of the bias with scale ``s_x·s_w`` (zero point 0)."""
    return np.rint(np.asarray(b, dtype=np.float64) / (np.float64(np.float32(s_x) * f32(s_w)))).astype(np.int32)


def activation_params(r_min: float, r_max: float) -> tuple[np.float32, int]:
    """(scale, zero point) of a uint8 tensor covering [min(r_min, 0), max(r_max, 0)]."""
    lo, hi = min(float(r_min), 0.0), max(float(r_max), 0.0)
    if hi - lo <= 0:
        return np.float32(1.0), 0
    scale = np.float32((hi - lo) / 255.0)
    zp = int(np.clip(np.rint(-lo / scale), 0, 255))
    return scale, zp
