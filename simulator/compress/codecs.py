"""Weight-compression schemes on int8 weights: exact compressed sizes from the real values.

Each scheme returns a :class:`Compressed`: the number of bits the compressed
weights occupy (what would be stored and moved), the weights the hardware
sees after decompression (equal to the input for lossless schemes), and for the
lossless bit-stream codes the packed stream itself, so that a decoder can
check the size is real.

Lossless
  * ``zrle`` — zero run-length: a stream of tokens, each a flag bit then
    either a literal non-zero int8 (flag 0, 8 bits) or a run of ``1 ..
    2**run_bits`` zeros (flag 1, ``run_bits`` bits holding length − 1); longer
    runs are split. Size = Σ tokens (9 bits per literal, ``1 + run_bits`` per
    run).
  * ``huffman`` — a canonical Huffman code (Huffman, Proc. IRE 1952) of the
    int8 values: size = Σ_v count(v)·len(v) + a header of 256 code lengths of
    8 bits each. The code is optimal among prefix codes of single values.

Lossy (their effect on accuracy is for the functional model to measure)
  * ``prune`` — magnitude pruning: the ``round(sparsity·n)`` weights of
    smallest magnitude become 0 (ties broken by position), then ``zrle``.
  * ``lowbits`` — the ``k`` low-order bits are shared (dropped): each weight is
    rounded to the nearest multiple of ``2**k`` (half away from zero, clipped to
    the int8 range) and stored in ``8 − k`` bits.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

HEADER_BITS_HUFFMAN = 256 * 8


@dataclass(frozen=True)
class Compressed:
    scheme: str
    elements: int
    bits: int
    values: np.ndarray          # int8 weights after decompression
    stream: bytes | None = None  # packed bit stream (zrle, prune)

    @property
    def ratio(self) -> float:
        """Uncompressed bits (8 per weight) over compressed bits."""
        return 8 * self.elements / self.bits if self.bits else float("inf")

    @property
    def bytes(self) -> int:
        return -(-self.bits // 8)


def _int8(weights) -> np.ndarray:
    w = np.asarray(weights)
    if w.dtype != np.int8:
        raise ValueError(f"weights must be int8, got {w.dtype}")
    return w.ravel()


def _tokens(w: np.ndarray, run_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """(flags, payloads) of the zero run-length code, in stream order (vectorised)."""
    n = w.size
    if n == 0:
        return np.zeros(0, np.uint8), np.zeros(0, np.int64)
    zero = w == 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], zero.view(np.int8), [0]))))
    starts, ends = edges[::2], edges[1::2]            # zero runs [start, end)
    cap = 1 << run_bits
    lengths = ends - starts
    pieces = -(-lengths // cap)                        # runs split into pieces of at most cap zeros
    run_pos = np.repeat(starts, pieces) + (np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces,
                                                                             pieces)) * cap
    run_len = np.minimum(cap, np.repeat(ends, pieces) - run_pos)
    lit_pos = np.flatnonzero(~zero)
    pos = np.concatenate((lit_pos, run_pos))
    order = np.argsort(pos, kind="stable")
    flags = np.concatenate((np.zeros(lit_pos.size, np.uint8), np.ones(run_pos.size, np.uint8)))[order]
    payload = np.concatenate((w[lit_pos].astype(np.int64) & 0xFF, run_len - 1))[order]
    return flags, payload


def _pack(flags: np.ndarray, payload: np.ndarray, run_bits: int) -> tuple[bytes, int]:
    widths = np.where(flags == 1, run_bits, 8)
    total = int((1 + widths).sum())
    width = 1 + max(8, run_bits)
    shifts = np.arange(width - 1, -1, -1)
    value = (flags.astype(np.int64) << widths) | payload           # flag bit, then payload MSB first
    bits = (value[:, None] >> shifts[None, :]) & 1                  # right-aligned in `width` columns
    keep = shifts[None, :] <= widths[:, None]                       # the 1 + width low columns
    return np.packbits(bits[keep].astype(np.uint8)).tobytes(), total


def zrle(weights, run_bits: int = 4, stream: bool = True) -> Compressed:
    """Zero run-length code; ``stream=False`` counts the bits without packing them (large layers)."""
    if not 1 <= run_bits <= 16:
        raise ValueError(f"run_bits {run_bits}: must be in 1..16")
    w = _int8(weights)
    flags, payload = _tokens(w, run_bits)
    if not stream:
        return Compressed("zrle", w.size, int(flags.size + np.where(flags == 1, run_bits, 8).sum()), w.copy())
    packed, bits = _pack(flags, payload, run_bits)
    return Compressed("zrle", w.size, bits, w.copy(), packed)


def zrle_decode(stream: bytes, bits: int, run_bits: int = 4) -> np.ndarray:
    """Decode a zero run-length stream (a reference decoder: plain loop)."""
    b = np.unpackbits(np.frombuffer(stream, np.uint8))[:bits]
    out: list[int] = []
    i = 0
    while i < bits:
        flag = b[i]
        width = run_bits if flag else 8
        value = int("".join(map(str, b[i + 1:i + 1 + width])), 2)
        i += 1 + width
        if flag:
            out.extend([0] * (value + 1))
        else:
            out.append(value - 256 if value >= 128 else value)
    return np.array(out, dtype=np.int8)


def huffman_lengths(counts: np.ndarray) -> np.ndarray:
    """Code length of each symbol of a Huffman code for ``counts`` (0 for absent symbols;
    a single present symbol gets length 1)."""
    counts = np.asarray(counts, dtype=np.int64)
    present = np.flatnonzero(counts)
    lengths = np.zeros(counts.size, dtype=np.int64)
    if present.size == 1:
        lengths[present] = 1
        return lengths
    heap = [(int(counts[s]), int(s), [int(s)]) for s in present]
    heapq.heapify(heap)
    while len(heap) > 1:
        c1, k1, s1 = heapq.heappop(heap)
        c2, k2, s2 = heapq.heappop(heap)
        lengths[s1 + s2] += 1
        heapq.heappush(heap, (c1 + c2, min(k1, k2), s1 + s2))
    return lengths


def huffman(weights) -> Compressed:
    w = _int8(weights)
    counts = np.bincount(w.view(np.uint8), minlength=256)
    lengths = huffman_lengths(counts)
    bits = int((counts * lengths).sum()) + HEADER_BITS_HUFFMAN
    return Compressed("huffman", w.size, bits, w.copy())


def prune(weights, sparsity: float, run_bits: int = 4, stream: bool = True) -> Compressed:
    if not 0 <= sparsity <= 1:
        raise ValueError(f"sparsity {sparsity}: must be in [0, 1]")
    w = _int8(weights).copy()
    k = int(round(sparsity * w.size))
    if k:
        order = np.argsort(np.abs(w.astype(np.int16)), kind="stable")
        w[order[:k]] = 0
    out = zrle(w, run_bits, stream)
    return Compressed("prune", w.size, out.bits, w, out.stream)


def lowbits(weights, k: int) -> Compressed:
    if not 0 <= k <= 7:
        raise ValueError(f"k {k}: must be in 0..7")
    w = _int8(weights).astype(np.int16)
    step = 1 << k
    mag = (np.abs(w) + step // 2) // step * step if k else np.abs(w)
    shared = np.clip(np.sign(w) * mag, -128, 128 - step).astype(np.int8)
    return Compressed("lowbits", w.size, w.size * (8 - k), shared)
