"""Error metrics of 8x8-bit multipliers, as EvoApprox8b defines them.

Over all 65,536 operand pairs ``(a, b)`` with exact product ``e = a*b`` and
approximate product ``p``, error ``d = |p - e|``; all values in percent:

* ``mae  = mean(d) / 2**16``, ``wce = max(d) / 2**16``;
* ``mre  = mean(d / e)`` over the pairs with ``e != 0`` (the 511 pairs with an
  operand 0 are left out; their absolute error still counts in MAE/WCE/EP);
* ``wcre = max(d / e)`` over the same pairs;
* ``ep   = share of pairs with p != e``;
* ``me   = mean(p - e) / 2**16`` (signed bias; not an EvoApprox column).

The convention reproduces the EvoApproxLib figures: the constant-zero
multiplier ``mul8u_E9R`` has MAE 24.81, WCE 99.22, MRE 100, EP 99.22, WCRE 100.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

SCALE = float(1 << 16)


@dataclass(frozen=True)
class ErrorMetrics:
    mae: float
    wce: float
    mre: float
    ep: float
    wcre: float
    me: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def error_metrics(table) -> ErrorMetrics:
    """Metrics (percent) of a 256 x 256 product table or a LutMultiplier."""
    table = getattr(table, "table", table)
    p = np.asarray(table, dtype=np.int64).reshape(256, 256)
    v = np.arange(256, dtype=np.int64)
    e = v[:, None] * v[None, :]
    diff = p - e
    d = np.abs(diff)
    nz = e != 0
    rel = d[nz] / e[nz]
    return ErrorMetrics(
        mae=100.0 * float(d.mean()) / SCALE,
        wce=100.0 * float(d.max()) / SCALE,
        mre=100.0 * float(rel.mean()),
        ep=100.0 * float(np.count_nonzero(d)) / d.size,
        wcre=100.0 * float(rel.max()),
        me=100.0 * float(diff.mean()) / SCALE,
    )
