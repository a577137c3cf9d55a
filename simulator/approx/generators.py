"""Built-in 8x8-bit unsigned approximate multipliers, generated as tables.

Each generator returns a :class:`~simulator.approx.lut.LutMultiplier` whose
``table[a, b]`` follows the definition documented in ``docs/approx.md``:

* :func:`exact`: ``a * b``.
* :func:`truncated`: product truncation, ``floor(a*b / 2**t) * 2**t`` (the ``t``
  least-significant product bits are zeroed after an exact multiplication).
* :func:`operand_truncated`: ``(a with ta low bits zeroed) * (b with tw low bits zeroed)``.
* :func:`broken_array`: broken-array multiplier (Mahdiani et al., TCAS-I 2010):
  the partial-product bit ``a_i b_j`` (column ``i + j``, row ``j``) is omitted
  when ``j < hbl`` (horizontal break) or ``i + j < vbl`` (vertical break).
* :func:`drum`: DRUM-k (Hashemi, Bahar, Reda, ICCAD 2015).
* :func:`mitchell`: Mitchell's logarithmic multiplier (IRE Trans. EC 1962).
* :func:`from_block_config`: any unsigned 8-bit Ax-BxP configuration.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from simulator.approx.blocked import BlockConfig
from simulator.approx.blockops import blocked_multiply
from simulator.approx.lut import SIDE, LutMultiplier
from simulator.errors import AxsimError, InputError, Problem, join_path, show

_V = np.arange(SIDE, dtype=np.int64)
_A = _V[:, None]
_B = _V[None, :]
_BITLEN = np.array([v.bit_length() for v in range(SIDE)], dtype=np.int64)


def _need_int(name: str, value: Any, lo: int, hi: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not lo <= value <= hi:
        raise AxsimError(f"{name}: {show(value)}: must be an integer in {lo}..{hi}")
    return int(value)


def _lut(products: np.ndarray, name: str) -> LutMultiplier:
    return LutMultiplier(np.broadcast_to(products, (SIDE, SIDE)).astype(np.uint16), name)


def exact() -> LutMultiplier:
    return _lut(_A * _B, "exact")


def truncated(t: int) -> LutMultiplier:
    """Exact product with its ``t`` least-significant bits zeroed."""
    t = _need_int("t", t, 0, 16)
    return _lut(((_A * _B) >> t) << t, f"trunc{t}")


def operand_truncated(ta: int, tw: int) -> LutMultiplier:
    """Exact product of operands whose ``ta`` / ``tw`` low bits are zeroed."""
    ta, tw = _need_int("ta", ta, 0, 8), _need_int("tw", tw, 0, 8)
    return _lut(((_A >> ta) << ta) * ((_B >> tw) << tw), f"optrunc{ta}x{tw}")


def broken_array(hbl: int = 0, vbl: int = 0) -> LutMultiplier:
    """Broken-array multiplier: drop ``a_i b_j`` if ``j < hbl`` or ``i + j < vbl``."""
    hbl, vbl = _need_int("hbl", hbl, 0, 8), _need_int("vbl", vbl, 0, 15)
    out = np.zeros((SIDE, SIDE), dtype=np.int64)
    for j in range(hbl, 8):
        for i in range(max(0, vbl - j), 8):
            out += (((_A >> i) & 1) * ((_B >> j) & 1)) << (i + j)
    return _lut(out, f"bam_h{hbl}_v{vbl}")


def drum_operand(x: np.ndarray, k: int) -> np.ndarray:
    """DRUM operand approximation: keep the ``k`` bits from the leading one down,
    force the lowest kept bit to 1 (unbiasing) and zero the bits below it.
    Values below ``2**k`` are kept exactly."""
    x = np.asarray(x, dtype=np.int64)
    shift = np.maximum(_BITLEN[x] - k, 0)
    return np.where(shift > 0, ((x >> shift) | 1) << shift, x)


def drum(k: int) -> LutMultiplier:
    """DRUM-k: exact product of the two DRUM-approximated operands."""
    k = _need_int("k", k, 1, 8)
    return _lut(drum_operand(_A, k) * drum_operand(_B, k), f"drum{k}")


def mitchell() -> LutMultiplier:
    """Mitchell's logarithmic product, computed exactly in integers.

    With ``a = 2**k1 + f1`` and ``b = 2**k2 + f2`` (``f < 2**k``) and
    ``s = f1 * 2**k2 + f2 * 2**k1``: ``P = 2**(k1+k2) + s`` if
    ``s < 2**(k1+k2)`` (i.e. ``x1 + x2 < 1``), else ``P = 2 * s``; ``P = 0`` if
    an operand is 0.
    """
    k1 = np.maximum(_BITLEN[_A] - 1, 0)
    k2 = np.maximum(_BITLEN[_B] - 1, 0)
    f1, f2 = _A - (1 << k1), _B - (1 << k2)
    s = (f1 << k2) + (f2 << k1)
    base = 1 << (k1 + k2)
    p = np.where(s < base, base + s, 2 * s)
    return _lut(np.where((_A == 0) | (_B == 0), 0, p), "mitchell")


def from_block_config(cfg: BlockConfig) -> LutMultiplier:
    """Table of an unsigned 8-bit Ax-BxP configuration (``table[a, w]``)."""
    if cfg.bits != 8 or cfg.signed:
        raise AxsimError(f"{cfg.name}: only unsigned 8-bit block configurations can be exported "
                         f"as a table (bits={cfg.bits}, signed={cfg.signed})")
    return _lut(blocked_multiply(_A, _B, cfg), cfg.name)


GENERATORS = {
    "exact": (exact, ()),
    "truncated": (truncated, ("t",)),
    "operand_truncated": (operand_truncated, ("ta", "tw")),
    "broken_array": (broken_array, ("hbl", "vbl")),
    "drum": (drum, ("k",)),
    "mitchell": (mitchell, ()),
}


def generate(spec: Any, file: str = "<dict>", path: str = "") -> LutMultiplier:
    """Build from a mapping such as ``{kind: drum, k: 4}`` (problems raise InputError)."""
    at = lambda key: join_path(path, key) if path else key  # noqa: E731
    if not isinstance(spec, Mapping):
        raise InputError(file, [Problem(path, f"{show(spec)}: must be a mapping with a 'kind' key")])
    kind = spec.get("kind")
    if kind not in GENERATORS:
        raise InputError(file, [Problem(at("kind"), f"{show(kind)}: must be one of {', '.join(GENERATORS)}")])
    func, params = GENERATORS[kind]
    extra = [k for k in spec if k != "kind" and k not in params]
    if extra:
        raise InputError(file, [Problem(at(str(k)), f"unknown parameter for {kind}; allowed: "
                                                  f"{', '.join(params) or 'none'}") for k in extra])
    try:
        return func(**{k: spec[k] for k in params if k in spec})
    except AxsimError as exc:
        key = str(exc).split(":", 1)[0]
        raise InputError(file, [Problem(at(key), str(exc).split(": ", 1)[1])]) from None
    except TypeError:
        missing = [k for k in params if k not in spec]
        raise InputError(file, [Problem(at(k), f"missing parameter of {kind}") for k in missing]) from None
