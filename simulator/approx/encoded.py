"""Exact GEMM and convolution of 8-bit codes for separable products, on float32 BLAS.

A product of an activation code ``a`` (0..255) and a weight code ``w`` (int8) is
*separable in P terms* if ``mul(a, w) = Σ_p f_p(a) · g_p(w)`` for integer functions
``f_p``, ``g_p``. Exact multiplication (P = 1), every Ax-BxP configuration that keeps
whole blocks of each operand (P = 1: transformed operands) and every static pair set
(P = the number of activation or weight block groups of
:func:`simulator.approx.blockops.blocked_gemm`'s plane method) are separable.
:class:`Encoding` tabulates ``f`` and ``g`` over the 256 codes
(:attr:`simulator.macs.MacConfig.encoding` checks the identity on all 65,536 operand pairs).

One GEMM for all P terms: the activation matrix holds the P values ``f_p(a)`` of each
element in P column blocks (term-major reduction index ``p·K + k``) and the weight matrix
the matching ``g_p(w)``, so ``Σ_p Σ_k f_p(a_k)·g_p(w_k)`` is a single BLAS call with a P-times
longer reduction instead of P calls and P-1 additions of int64 results.

Exactness (float32 represents every integer of magnitude <= 2**24):
common power-of-two factors are shifted out of each side (``f = f' << s_a``,
``g = g' << s_w``) and each activation term is centred, ``f'_p = (f'_p − c_p) + c_p`` with
``c_p`` the midpoint of its range, so ``|f'_p − c_p| <= A_p``. Every partial sum of a set of
reduction rows is then bounded by the sum of their bounds ``A_p·G_p`` (``G_p = max |g'_p|``),
whatever order BLAS adds in; the rows are cut greedily into runs whose bounds add up to at
most 2**24 (:meth:`Encoding.cuts`, :meth:`Encoding.tap_plan`), each run's float32 result is
exact and the runs are added in int64. The centring is undone per output column with
``Σ_p c_p Σ_k g'_p(w_k)`` (float64 column sums of the encoded weights, exact below 2**53).
For exact int8 (A = G = 128) a run holds 1,024 elements instead of 514 uncentred.

Work is split into row blocks run on :mod:`simulator.approx.threads` with one BLAS thread each.
Encoded weight matrices are kept between calls with the same weights
(:mod:`simulator.approx.weight_cache`, keyed by their content).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from simulator.approx.conv import _pair, check_conv_shapes
from simulator.approx.encoded_taps import tap_gemms, tap_slab
from simulator.approx.threads import run_blocks, single_threaded_blas, workers
from simulator.approx.weight_cache import cached
from simulator.errors import AxsimError

F32_EXACT = 1 << 24
#: a row block's float32 activation matrix is kept near this size (bytes: L2-sized blocks)
BLOCK_BYTES = 1 << 20
#: below this many rows a GEMM is not split
MIN_ROWS = 256


def _shift(t: np.ndarray) -> int:
    ored = int(np.bitwise_or.reduce(np.abs(t), axis=None))
    return 0 if ored == 0 else (ored & -ored).bit_length() - 1


@dataclass(frozen=True, eq=False)
class Encoding:
    """``mul(a, w) = Σ_p a_terms[a, p] · w_terms[w.view(uint8), p]`` (int64 tables, 256 x P)."""

    a_terms: np.ndarray
    w_terms: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        a, w = np.asarray(self.a_terms), np.asarray(self.w_terms)
        if a.ndim != 2 or a.shape[0] != 256 or w.shape != a.shape or not (
                np.issubdtype(a.dtype, np.integer) and np.issubdtype(w.dtype, np.integer)):
            raise AxsimError(f"encoding {self.name!r}: term tables must be integer arrays of equal shape "
                             f"(256, P), got {a.shape} {a.dtype} and {w.shape} {w.dtype}")
        object.__setattr__(self, "a_terms", a.astype(np.int64))
        object.__setattr__(self, "w_terms", w.astype(np.int64))
        if int(self.plane_bounds.max()) > F32_EXACT:
            raise AxsimError(f"encoding {self.name!r}: term bounds {self.plane_bounds.tolist()} exceed 2**24; "
                             "the products cannot be computed exactly in float32")

    @property
    def terms(self) -> int:
        return self.a_terms.shape[1]

    def products(self) -> np.ndarray:
        """(256, 256) int64 ``[a, w + 128]``: the product the encoding computes, for checks."""
        w_idx = np.arange(-128, 128).astype(np.int8).view(np.uint8)
        return self.a_terms @ self.w_terms[w_idx].T

    @cached_property
    def shifts(self) -> tuple[int, int]:
        return _shift(self.a_terms), _shift(self.w_terms)

    @cached_property
    def centres(self) -> np.ndarray:
        fa = self.a_terms >> self.shifts[0]
        return (fa.max(axis=0) + fa.min(axis=0)) // 2

    @cached_property
    def a_f32(self) -> np.ndarray:
        """(256, P) float32: centred, shifted activation terms."""
        return ((self.a_terms >> self.shifts[0]) - self.centres).astype(np.float32)

    @cached_property
    def a_f32_t(self) -> np.ndarray:
        """(P, 256) float32: :attr:`a_f32` transposed (one contiguous table per term)."""
        return np.ascontiguousarray(self.a_f32.T)

    @cached_property
    def w_f32(self) -> np.ndarray:
        """(256, P) float32: shifted weight terms, indexed by the weight code's bit pattern."""
        return (self.w_terms >> self.shifts[1]).astype(np.float32)

    @cached_property
    def w_centred(self) -> np.ndarray:
        """(256,) int64 ``Σ_p c_p·g'_p(w)``: one weight's share of the centring correction."""
        return (self.w_terms >> self.shifts[1]) @ self.centres

    @cached_property
    def plane_bounds(self) -> np.ndarray:
        """(P,) ``A_p · G_p``: the largest magnitude one element adds through term ``p``."""
        a_max = np.abs(self.a_f32.astype(np.int64)).max(axis=0)
        w_max = np.abs(self.w_f32.astype(np.int64)).max(axis=0)
        return a_max * w_max

    # ---- operands ---------------------------------------------------------------------
    def weight_matrix(self, w2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(P·K x N float32 encoded weights, rows term-major ``p·K + k``; N int64 corrections)
        of int8 weights given as ``w2`` (N x K: one row per output)."""
        n, k = w2.shape
        idx = w2.view(np.uint8)
        mat = np.empty((n, self.terms * k), dtype=np.float32)
        for p in range(self.terms):
            np.take(self.w_f32[:, p], idx, out=mat[:, p * k:(p + 1) * k], mode="wrap")
        corr = np.take(self.w_centred, idx, mode="wrap").sum(axis=1)  # Σ_p c_p Σ_k g'_p(w_k), int64
        return mat.T, corr

    def tap_weights(self, w: np.ndarray, groups: int) -> list[list[tuple[np.ndarray, np.ndarray]]]:
        """Per group, per kernel tap ``(i, j)`` (row-major), :meth:`weight_matrix` of the tap's
        weights ``w[g·K/groups:(g+1)·K/groups, :, i, j]`` (int8 K x C/groups x R x S), all taps in
        one pass per term."""
        k, cg, r, s = w.shape
        kg, taps = k // groups, r * s
        idx = np.ascontiguousarray(w.transpose(2, 3, 0, 1)).reshape(taps, k, cg).view(np.uint8)
        enc = np.empty((taps, k, self.terms, cg), dtype=np.float32)
        for p in range(self.terms):
            np.take(self.w_f32[:, p], idx, out=enc[:, :, p], mode="wrap")
        corr = np.take(self.w_centred, idx, mode="wrap").sum(axis=2)   # taps x K, int64
        flat = enc.reshape(taps, k, self.terms * cg)
        return [[(flat[t, g * kg:(g + 1) * kg].T, corr[t, g * kg:(g + 1) * kg]) for t in range(taps)]
                for g in range(groups)]

    def encode(self, codes: np.ndarray) -> np.ndarray:
        """(P, *codes.shape) float32: the centred activation terms of uint8 ``codes``."""
        out = np.empty((self.terms,) + codes.shape, dtype=np.float32)
        for p in range(self.terms):
            np.take(self.a_f32[:, p], codes, out=out[p], mode="wrap")
        return out

    def cuts(self, k: int) -> list[tuple[int, int]]:
        """Row ranges of a term-major reduction (P blocks of ``k`` rows) whose sums stay exact."""
        out, r0, total, budget = [], 0, 0, F32_EXACT
        for p, b in enumerate(self.plane_bounds.tolist()):
            row, end = p * k, (p + 1) * k
            while row < end:
                room = (budget - total) // b if b else end - row
                if room == 0:
                    out.append((r0, row))
                    r0, total = row, 0
                    continue
                step = min(room, end - row)
                row += step
                total += step * b
        out.append((r0, self.terms * k))
        return out

    def tap_plan(self, k: int, taps: int) -> list[list[tuple[int, int, int]]]:
        """Exact float32 accumulation groups of a reduction over ``taps`` GEMMs of ``P·k`` rows
        (term-major): each group is a list of (tap, first row, end row) whose sums together stay
        <= 2**24; groups are added in int64."""
        groups: list[list[tuple[int, int, int]]] = [[]]
        total = 0
        for t in range(taps):
            for p, b in enumerate(self.plane_bounds.tolist()):
                row, end = p * k, (p + 1) * k
                while row < end:
                    room = (F32_EXACT - total) // b if b else end - row
                    if room == 0:
                        groups.append([])
                        total = 0
                        continue
                    step = min(room, end - row)
                    cur = groups[-1]
                    if cur and cur[-1][0] == t and cur[-1][2] == row:
                        cur[-1] = (t, cur[-1][1], row + step)
                    else:
                        cur.append((t, row, row + step))
                    row += step
                    total += step * b
        return groups

    def finish(self, acc: np.ndarray, corr: np.ndarray) -> np.ndarray:
        """Undo centring and shifts of an int64 accumulator (rows x N), in place."""
        acc += corr
        s = self.shifts[0] + self.shifts[1]
        if s:
            acc <<= s
        return acc


def chunked_matmul(a: np.ndarray, w: np.ndarray, cuts: list[tuple[int, int]]) -> np.ndarray:
    """Exact int64 ``a @ w`` of float32 matrices holding integers, the reduction cut at ``cuts``
    (row ranges of ``w`` over which the caller guarantees every partial sum stays <= 2**24)."""
    if len(cuts) == 1:
        return np.matmul(a, w).astype(np.int64)
    out = np.zeros((a.shape[0], w.shape[1]), dtype=np.int64)
    buf = np.empty((a.shape[0], w.shape[1]), dtype=np.float32)
    for k0, k1 in cuts:
        np.matmul(a[:, k0:k1], w[k0:k1], out=buf)
        np.add(out, buf, out=out, casting="unsafe")
    return out


def _row_blocks(total: int, bytes_per_item: int, rows_per_item: int = 1) -> list[tuple[int, int]]:
    """Split ``total`` items (GEMM rows, output rows, samples) into blocks near BLOCK_BYTES,
    and into at least two per worker if every block still gets MIN_ROWS GEMM rows."""
    n = max(1, -(-total * bytes_per_item // BLOCK_BYTES))
    min_items = -(-MIN_ROWS // max(1, rows_per_item))
    if total >= 2 * min_items:
        n = max(n, min(2 * workers(), total // min_items))
    n = min(n, total)
    step = -(-total // n)
    return [(r0, min(r0 + step, total)) for r0 in range(0, total, step)]


def encoded_gemm(enc: Encoding, a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``Σ_k mul(a[m, k], w[k, n])`` (uint8 M x K, int8 K x N) as int64."""
    m, k = a.shape
    n = w.shape[1]
    out = np.zeros((m, n), dtype=np.int64)
    if m == 0 or n == 0 or k == 0:
        return out
    wm, corr = cached(enc, ("gemm",), w, lambda: enc.weight_matrix(w.T))
    cuts = enc.cuts(k)

    def block(b: tuple[int, int]) -> None:
        r0, r1 = b
        am = enc.encode(a[r0:r1]).transpose(1, 0, 2).reshape(r1 - r0, -1)
        out[r0:r1] = enc.finish(chunked_matmul(am, wm, cuts), corr)

    with single_threaded_blas():
        run_blocks(block, _row_blocks(m, 4 * k * enc.terms))
    return out


#: the tap method is used when a tap's GEMM has at least this many reduction rows (P·C/groups)
MIN_TAP_ROWS = 32


def encoded_conv2d(enc: Encoding, x: np.ndarray, w: np.ndarray, stride=1, padding=0, groups: int = 1,
                   pad_value: int = 0) -> np.ndarray:
    """Grouped convolution (uint8 NCHW codes, int8 KCRS codes, padding with code ``pad_value``)
    as int64 N x K x OH x OW, in row blocks (samples × output rows), each from its own input slab
    encoded with one table lookup per element and term.

    Tap method (``P·C/groups >= MIN_TAP_ROWS``): no im2col matrix. The encoded slab is split into
    its ``stride_h·stride_w`` phase images (``x[a::sh, b::sw]``), each flattened to a
    ``(P·C) x (rows·Wq)`` matrix; kernel tap ``(r, s)`` reads phase ``(r % sh, s % sw)`` shifted by
    ``(r // sh)·Wq + s // sw`` elements, a strided view BLAS takes as it is, so the convolution is
    ``R·S`` GEMMs accumulated in float32 (within the exact bound, :meth:`Encoding.tap_plan`).
    Outputs are computed on the full phase width ``Wq`` and the ``Wq − OW`` extra columns
    (and, for several samples per block, the extra rows) are dropped.
    Otherwise (small reductions) im2col with term-major columns ``(p, c, r, s)``.
    When there are fewer (group, row block) pairs than workers, the output channels are split
    too (blocks of at least 32 channels; each block encodes its input slab itself)."""
    sh, sw = _pair(stride, "stride")
    ph, pw = _pair(padding, "padding")
    if min(sh, sw) < 1 or min(ph, pw) < 0:
        raise AxsimError(f"stride {stride} must be >= 1 and padding {padding} >= 0")
    if not 0 <= pad_value <= 255:
        raise AxsimError(f"pad_value {pad_value}: must be an activation code in 0..255")
    nb, c, k, cg, r, s = check_conv_shapes(x, w, groups)
    h, wd = x.shape[2], x.shape[3]
    if h + 2 * ph < r or wd + 2 * pw < s:
        raise AxsimError(f"kernel {r}x{s} is larger than the padded input {h + 2 * ph}x{wd + 2 * pw}")
    oh, ow = (h + 2 * ph - r) // sh + 1, (wd + 2 * pw - s) // sw + 1
    kg = k // groups
    out = np.zeros((nb, k, oh, ow), dtype=np.int64)
    if out.size == 0:
        return out
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=pad_value) if ph or pw else x
    p_terms = enc.terms
    taps = enc.terms * cg >= MIN_TAP_ROWS
    red = cg * r * s * p_terms
    # bytes per output row of a block: its im2col rows, or (taps) a quarter of its encoded slab
    # rows (a tap block re-reads its slab R·S times from cache; larger blocks waste fewer rows
    # on the slab's halo, one extra phase row per block for a 3 x 3 kernel at stride 2)
    row_bytes = 4 * p_terms * cg * (xp.shape[3] * sh // 4 if taps else r * s * ow)
    if nb < 2 * workers():  # few samples: blocks of output rows within each sample
        spans = [(n0, n0 + 1, p0, p1) for n0 in range(nb) for p0, p1 in _row_blocks(oh, row_bytes, ow)]
    else:
        spans = [(n0, n1, 0, oh) for n0, n1 in _row_blocks(nb, row_bytes * oh, oh * ow)]
    if taps:
        mats = cached(enc, ("taps", groups), w, lambda: enc.tap_weights(w, groups))
        plan = enc.tap_plan(cg, r * s)
    else:
        mats = cached(enc, ("im2col", groups), w, lambda: [
            [enc.weight_matrix(w[g * kg:(g + 1) * kg].reshape(kg, cg * r * s))] for g in range(groups)])
        cuts = enc.cuts(cg * r * s)

    # too few row blocks for the workers (a small image, one sample): split the output channels too
    parts = 1 if len(spans) * groups >= workers() else max(1, min(2 * workers() // (len(spans) * groups), kg // 32))
    step = -(-kg // parts)
    channel_parts = [(c0, min(c0 + step, kg)) for c0 in range(0, kg, step)]

    def slab_of(g: int, n0: int, n1: int, p0: int, p1: int) -> np.ndarray:
        return xp[n0:n1, g * cg:(g + 1) * cg, p0 * sh:(p1 - 1) * sh + r]

    # channel blocks of one (group, row block) share its encoded slab, encoded once up front
    shared = {(g, *span): tap_slab(slab_of(g, *span), enc, r, s, sh, sw)
              for g in range(groups) for span in spans} if taps and len(channel_parts) > 1 else {}

    def block(b: tuple[int, int, int, int, int, int, int]) -> None:
        g, n0, n1, p0, p1, c0, c1 = b
        slab = shared.get((g, n0, n1, p0, p1))
        if slab is None:
            slab = slab_of(g, n0, n1, p0, p1)
        mg = mats[g] if (c0, c1) == (0, kg) else [(m[:, c0:c1], corr[c0:c1]) for m, corr in mats[g]]
        corr = sum(m[1] for m in mg)
        if taps:
            res = tap_gemms(slab, enc, mg, plan, r, s, sh, sw, p1 - p0, ow)
        else:
            e = enc.encode(slab)                                 # P x n x cg x rows x cols
            win = sliding_window_view(e, (r, s), axis=(3, 4))[:, :, :, ::sh, ::sw]
            cols = win.transpose(1, 3, 4, 0, 2, 5, 6).reshape((n1 - n0) * (p1 - p0) * ow, red)
            res = chunked_matmul(cols, mg[0][0], cuts).reshape(n1 - n0, p1 - p0, ow, c1 - c0)
        res = enc.finish(res, corr)
        out[n0:n1, g * kg + c0:g * kg + c1, p0:p1] = res.transpose(0, 3, 1, 2)

    with single_threaded_blas():
        run_blocks(block, [(g, *span, *part) for g in range(groups) for span in spans for part in channel_parts])
    return out
