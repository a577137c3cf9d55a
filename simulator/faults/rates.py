"""The interface between operating points and error exposure: per-bit flip probabilities.

Bit positions are positions within a byte (index 0 = least significant bit of
every byte); a wider word (a 24-bit partial sum, an int32) repeats the byte
pattern, so an array of shape ``(BYTE_BITS,)`` describes every word width.
Bit groups of a link (e.g. bits 0-3 of every byte at a low swing) are therefore
a per-position array.

- :meth:`ErrorRates.link`: probability that a bit at each position flips in one
  traversal of one link (transient).
- :meth:`ErrorRates.sram_read`: probability that a bit flips in one read of a
  buffer holding data structure ``ds`` (transient).
- :meth:`ErrorRates.sram_stuck`: probability that a bit cell of that buffer is
  stuck (persistent; the stuck value is 0 or 1 with equal probability).

:func:`zero_rates` is the nominal operating point of an architecture without
error models: every probability is 0.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

BYTE_BITS = 8
Node = tuple[int, int]
#: buffer kinds, as in the technology table's component classes
BUFFER_KINDS = ("global_buffer", "weight_buffer", "input_buffer", "accumulation_buffer")


class ErrorRates(Protocol):
    def link(self, network: str, src: Node, dst: Node) -> np.ndarray:
        """(BYTE_BITS,) flip probability per traversal of link ``src -> dst``.

        ``network`` is ``"nop"`` or the chiplet NoC's component name ``"chiplet[r,c].noc"``."""

    def sram_read(self, buffer: str, ds: str) -> np.ndarray:
        """(BYTE_BITS,) transient flip probability per read of ``buffer`` holding ``ds``."""

    def sram_stuck(self, buffer: str, ds: str) -> np.ndarray:
        """(BYTE_BITS,) probability that a cell of ``buffer`` holding ``ds`` is stuck (persistent)."""


class _Zero:
    _z = np.zeros(BYTE_BITS)
    _z.setflags(write=False)

    def link(self, network: str, src: Node, dst: Node) -> np.ndarray:
        return self._z

    def sram_read(self, buffer: str, ds: str) -> np.ndarray:
        return self._z

    def sram_stuck(self, buffer: str, ds: str) -> np.ndarray:
        return self._z


def zero_rates() -> ErrorRates:
    """Error rates of a nominal operating point: nothing ever flips."""
    return _Zero()


def combine(*probabilities: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """p = 1 - prod_i (1 - p_i)^n_i per bit position (independent transient events).

    ``probabilities``: arrays of shape (BYTE_BITS,); ``counts``: how many times each
    event happens (default once each)."""
    if not probabilities:
        return np.zeros(BYTE_BITS)
    p = np.stack(probabilities)
    n = np.ones(len(probabilities)) if counts is None else np.asarray(counts, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):  # p = 1: log(0) = -inf, a certain flip
        terms = np.where(n[:, None] > 0, n[:, None] * np.log1p(-np.clip(p, 0.0, 1.0)), 0.0)
    return -np.expm1(terms.sum(axis=0))
