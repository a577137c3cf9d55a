"""Convolution as GEMM (im2col), shared by the blocked and LUT models.

Layouts: input NCHW, weights KCRS (K output channels, C/groups input channels,
R x S kernel), output N x K x OH x OW with
``OH = (H + 2*pad_h - dil_h*(R - 1) - 1) // stride_h + 1`` (same for OW).
Padding uses ``pad_value`` (for affine-quantized activations, the zero point).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from simulator.errors import AxsimError


def _pair(v: int | tuple[int, int], name: str) -> tuple[int, int]:
    t = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(t) != 2 or not all(isinstance(x, (int, np.integer)) for x in t):
        raise AxsimError(f"{name}: {v}: must be an integer or a pair of integers")
    return int(t[0]), int(t[1])


def padded_windows(x: np.ndarray, r: int, s: int, stride, padding, dilation, pad_value: int
                   ) -> tuple[np.ndarray, tuple[int, int, int, int, int, int]]:
    """Checked stride/padding/dilation, the NCHW input padded with ``pad_value``, and
    ``(sh, sw, dh, dw, eh, ew)`` with (eh, ew) the dilated kernel extent."""
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    dh, dw = _pair(dilation, "dilation")
    if min(sh, sw, dh, dw) < 1 or min(ph, pw) < 0:
        raise AxsimError(f"stride {stride} and dilation {dilation} must be >= 1, padding {padding} >= 0")
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value)
    eh, ew = dh * (r - 1) + 1, dw * (s - 1) + 1
    if x.shape[2] < eh or x.shape[3] < ew:
        raise AxsimError(f"kernel {r}x{s} (dilation {dh}x{dw}) is larger than the padded input "
                         f"{x.shape[2]}x{x.shape[3]}")
    return x, (sh, sw, dh, dw, eh, ew)


def im2col(x: np.ndarray, r: int, s: int, stride=1, padding=0, dilation=1,
           pad_value: int = 0) -> tuple[np.ndarray, int, int]:
    """Rows = output pixels (n, oh, ow), columns = (c, r, s). Returns (cols, OH, OW)."""
    n, c, h, w = x.shape
    x, (sh, sw, dh, dw, eh, ew) = padded_windows(x, r, s, stride, padding, dilation, pad_value)
    win = sliding_window_view(x, (eh, ew), axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    oh, ow = win.shape[2], win.shape[3]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * r * s)
    return cols, oh, ow


def check_conv_shapes(x: np.ndarray, w: np.ndarray, groups: int) -> tuple[int, int, int, int, int, int]:
    """(N, C, K, C/groups, R, S) of an NCHW input and KCRS weights, or a clear error."""
    if x.ndim != 4 or w.ndim != 4:
        raise AxsimError(f"conv2d needs NCHW input and KCRS weights, got shapes {x.shape} and {w.shape}")
    n, c, _, _ = x.shape
    k, cg, r, s = w.shape
    if groups < 1 or c % groups or k % groups or cg * groups != c:
        raise AxsimError(f"conv2d: input channels {c}, weight shape {w.shape} and groups {groups} "
                         "do not match (need C = groups * weight.shape[1], K divisible by groups)")
    return n, c, k, cg, r, s


def conv2d_via_gemm(x: np.ndarray, w: np.ndarray, gemm: Callable[[np.ndarray, np.ndarray], np.ndarray],
                    stride=1, padding=0, dilation=1, groups: int = 1,
                    pad_value: int = 0) -> np.ndarray:
    """Grouped 2-D convolution computed as ``gemm(cols, weights)`` per group."""
    x = np.asarray(x)
    w = np.asarray(w)
    n, c, k, cg, r, s = check_conv_shapes(x, w, groups)
    kg = k // groups
    outs = []
    for g in range(groups):
        cols, oh, ow = im2col(x[:, g * cg:(g + 1) * cg], r, s, stride, padding, dilation, pad_value)
        wg = w[g * kg:(g + 1) * kg].reshape(kg, cg * r * s).T
        res = np.asarray(gemm(cols, wg))
        outs.append(res.reshape(n, oh, ow, kg).transpose(0, 3, 1, 2))
    out = outs[0] if groups == 1 else np.concatenate(outs, axis=1)
    return np.ascontiguousarray(out)
