"""Encoded weight matrices kept between calls, keyed by the weights' content.

An exact or Ax-BxP convolution encodes its int8 weights into float32 term matrices
(:meth:`simulator.approx.encoded.Encoding.weight_matrix`) on every call; a network evaluated
over many Monte Carlo seeds, or a benchmark, calls each layer with the same weights again.
The cache maps (encoding, layout, shape, SHA-1 of the weight bytes) to the encoded matrices, so
weights changed in place or corrupted copies are new keys (never a stale result). It holds at
most :data:`CAPACITY_BYTES` of matrices, least recently used out first; entries larger than a
quarter of it are not kept, and weights under :data:`MIN_BYTES` (per-PE slices of a small
layer) are encoded directly. Thread safe (one lock around the dictionary).
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Callable

import numpy as np

#: bytes of encoded matrices kept (a 3 x 3 conv of ResNet-50 layer4, 2.4 M weights, takes 9.4 MB per term)
CAPACITY_BYTES = 256 << 20

#: weights smaller than this (bytes) are encoded on every call, not looked up
MIN_BYTES = 16 << 10

_entries: OrderedDict[tuple, tuple[object, int]] = OrderedDict()
_lock = threading.Lock()
_stats = {"hits": 0, "misses": 0, "bytes": 0}


def _nbytes(value) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return 0


def cached(owner: object, layout: tuple, w: np.ndarray, build: Callable[[], object]):
    """``build()``'s result for weights ``w`` under ``owner`` (an encoding) and ``layout`` (how the
    caller arranges them: kind, groups, taps), from the cache when the same bytes were seen."""
    if w.nbytes < MIN_BYTES:  # encoding a few weights costs less than looking them up
        return build()
    w = np.ascontiguousarray(w)
    key = (id(owner), layout, w.shape, w.dtype.str, hashlib.sha1(w.data).digest())
    with _lock:
        hit = _entries.get(key)
        if hit is not None and hit[0][0] is owner:
            _entries.move_to_end(key)
            _stats["hits"] += 1
            return hit[0][1]
    value = build()
    size = _nbytes(value)
    with _lock:
        _stats["misses"] += 1
        if size <= CAPACITY_BYTES // 4 and key not in _entries:
            _entries[key] = ((owner, value), size)
            _stats["bytes"] += size
            while _stats["bytes"] > CAPACITY_BYTES:
                _, (_, old) = _entries.popitem(last=False)
                _stats["bytes"] -= old
    return value


def clear() -> None:
    """Forget every entry (benchmarks measuring the encoding of the weights call this)."""
    with _lock:
        _entries.clear()
        _stats.update(hits=0, misses=0, bytes=0)


def stats() -> dict[str, int]:
    """Hits, misses and bytes held since the last :func:`clear`."""
    with _lock:
        return dict(_stats)
