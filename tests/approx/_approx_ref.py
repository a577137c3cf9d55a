"""Independent brute-force definitions used as oracles by the approx tests."""
from __future__ import annotations

import numpy as np


def blocks_of(mag: int, n: int, k: int) -> list[int]:
    return [(mag >> (k * i)) & ((1 << k) - 1) for i in range(n)]


def brute_blocked(a: int, w: int, cfg) -> int:
    """Blocked product by a Python double loop over block pairs."""
    n, k = cfg.n_blocks, cfg.block_bits
    sign = (-1 if a < 0 else 1) * (-1 if w < 0 else 1)
    xa, xw = blocks_of(abs(a), n, k), blocks_of(abs(w), n, k)
    def window(blocks, keep):
        lead = max([i for i, b in enumerate(blocks) if b] or [0])
        start = max(lead - keep + 1, 0)
        return range(start, min(start + keep, n))

    def kept(blocks, which):
        """Blocks an operand keeps under its own policy (dynamic window or static set)."""
        if cfg.operand_policy(which) == "dynamic":
            return window(blocks, cfg.operand_keep(which))
        chosen = cfg.static_blocks_a if which == "a" else cfg.static_blocks_w
        return range(n) if chosen is None else sorted(chosen)

    if cfg.policy == "static":
        pairs = cfg.pairs
    else:  # dynamic, or mixed (one operand static, the other dynamic)
        pairs = [(i, j) for i in kept(xa, "a") for j in kept(xw, "w")]
    total = 0
    for i in range(n):
        for j in range(n):
            if (i, j) in pairs:
                total += xa[i] * xw[j] * 2 ** (k * (i + j))
    return sign * total


def brute_gemm(a: np.ndarray, w: np.ndarray, mult) -> np.ndarray:
    m, kk = a.shape
    n = w.shape[1]
    out = np.zeros((m, n), dtype=np.int64)
    for i in range(m):
        for j in range(n):
            out[i, j] = sum(int(mult(int(a[i, t]), int(w[t, j]))) for t in range(kk))
    return out


def brute_conv2d(x, w, mult, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1, pad_value=0):
    """Direct convolution loop; ``mult(xs, ws)`` multiplies two equal-shape arrays elementwise."""
    n, c, h, wd = x.shape
    k, cg, r, s = w.shape
    xp = np.full((n, c, h + 2 * padding[0], wd + 2 * padding[1]), pad_value, dtype=np.int64)
    xp[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + wd] = x
    oh = (h + 2 * padding[0] - dilation[0] * (r - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * padding[1] - dilation[1] * (s - 1) - 1) // stride[1] + 1
    kg = k // groups
    out = np.zeros((n, k, oh, ow), dtype=np.int64)
    for b in range(n):
        for ko in range(k):
            g = ko // kg
            for y in range(oh):
                for xx in range(ow):
                    ys = y * stride[0] + dilation[0] * np.arange(r)
                    xs = xx * stride[1] + dilation[1] * np.arange(s)
                    patch = xp[b, g * cg:(g + 1) * cg][:, ys][:, :, xs]
                    out[b, ko, y, xx] = int(np.sum(mult(patch, w[ko].astype(np.int64))))
    return out
