"""8x8-bit table (LUT) multipliers: EvoApprox8b / TFApprox style.

A :class:`LutMultiplier` is a 256 x 256 table of 16-bit products,
``table[a, b]`` = product of activation ``a`` and weight ``b`` (both uint8),
plus a name and optionally its power relative to the exact multiplier.

File formats (import and export):

* TFApprox binary (Vaverka et al., DATE 2020): exactly 65,536 little-endian
  uint16 values (131,072 bytes), index ``a * 256 + b``.
* NumPy ``.npy``: shape (256, 256) or (65536,), integer dtype, values 0..65535.
* EvoApprox C source (``.c``): compiled, see :mod:`simulator.approx.cimport`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from simulator.errors import AxsimError, InputError, Problem, show

SIDE = 256
ENTRIES = SIDE * SIDE
TFAPPROX_BYTES = 2 * ENTRIES
FORMATS = ("bin", "npy", "c")


@dataclass(frozen=True, eq=False)
class LutMultiplier:
    """A 256 x 256 uint16 product table (read-only), a name and relative power."""

    table: np.ndarray
    name: str = "lut"
    relative_power: float | None = None

    def __post_init__(self) -> None:
        problems = table_problems(self.table)
        if problems:
            raise AxsimError(f"multiplier {self.name!r}: " + "; ".join(p.message for p in problems))
        t = np.array(self.table, dtype=np.uint16).reshape(SIDE, SIDE)
        t.flags.writeable = False
        object.__setattr__(self, "table", t)
        rp = self.relative_power
        if rp is not None and not (isinstance(rp, (int, float)) and not isinstance(rp, bool) and rp >= 0):
            raise AxsimError(f"multiplier {self.name!r}: relative_power {show(rp)}: must be a number >= 0")

    def multiply(self, a, b) -> np.ndarray:
        """Elementwise ``table[a, b]`` (broadcasting); operands must be in 0..255."""
        a, b = check_uint8(a, "activation"), check_uint8(b, "weight")
        return self.table[a, b].astype(np.int64)

    __call__ = multiply

    def weight_stationary(self) -> np.ndarray:
        """``table.T`` as a contiguous array: row ``b`` is the column of weight ``b``."""
        return np.ascontiguousarray(self.table.T)

    def same_table(self, other: "LutMultiplier") -> bool:
        return bool(np.array_equal(self.table, other.table))

    def metrics(self):
        from simulator.approx.metrics import error_metrics
        return error_metrics(self.table)


def check_uint8(x, what: str) -> np.ndarray:
    """The operand as an array indexable into the table; raises if out of 0..255."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.integer):
        raise AxsimError(f"{what}: dtype {x.dtype}: must be an integer array with values 0..255")
    if x.size and (int(x.min()) < 0 or int(x.max()) > 255):
        bad = int(x.min()) if int(x.min()) < 0 else int(x.max())
        raise AxsimError(f"{what}: value {bad} out of range: an 8-bit table multiplier allows 0..255")
    return x.astype(np.uint8)


def table_problems(arr) -> list[Problem]:
    """Problems of a candidate table (shape, dtype, value range); empty if fine."""
    arr = np.asarray(arr)
    if arr.shape not in ((SIDE, SIDE), (ENTRIES,)):
        return [Problem("", f"shape {arr.shape}: must be (256, 256) or (65536,)")]
    if not np.issubdtype(arr.dtype, np.integer):
        return [Problem("", f"dtype {arr.dtype}: must be an integer dtype with values 0..65535")]
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi > 0xFFFF:
        bad = lo if lo < 0 else hi
        idx = int(np.flatnonzero(arr.ravel() == bad)[0])
        return [Problem("", f"value {bad} at a={idx // SIDE}, b={idx % SIDE}: "
                            "products must be in 0..65535 (uint16)")]
    return []


def _name(path: Path, name: str | None) -> str:
    return name if name else path.stem


def load_binary(path, name: str | None = None, relative_power: float | None = None) -> LutMultiplier:
    """Read a TFApprox binary table (65,536 little-endian uint16, index a*256 + b)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, [Problem("", f"cannot read the file: {exc.strerror or exc}")]) from None
    if len(data) != TFAPPROX_BYTES:
        raise InputError(path, [Problem("", f"size {len(data)} bytes: a TFApprox table must be exactly "
                                            f"{TFAPPROX_BYTES} bytes (65,536 little-endian uint16)")])
    table = np.frombuffer(data, dtype="<u2").reshape(SIDE, SIDE)
    return LutMultiplier(table, _name(path, name), relative_power)


def load_npy(path, name: str | None = None, relative_power: float | None = None) -> LutMultiplier:
    """Read a ``.npy`` table: shape (256, 256) or (65536,), integers 0..65535."""
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except OSError as exc:
        raise InputError(path, [Problem("", f"cannot read the file: {exc.strerror or exc}")]) from None
    except ValueError as exc:
        raise InputError(path, [Problem("", f"not a valid .npy array without pickled objects ({exc})")]) from None
    if not isinstance(arr, np.ndarray):
        raise InputError(path, [Problem("", "must hold a single array, not an archive")])
    problems = table_problems(arr)
    if problems:
        raise InputError(path, problems)
    return LutMultiplier(arr.astype(np.uint16), _name(path, name), relative_power)


def load_table(path, name: str | None = None, relative_power: float | None = None,
               fmt: str | None = None) -> LutMultiplier:
    """Load by format (``bin``, ``npy``, ``c``; default from the file suffix, else ``bin``)."""
    path = Path(path)
    fmt = fmt or {".npy": "npy", ".c": "c"}.get(path.suffix.lower(), "bin")
    if fmt == "npy":
        return load_npy(path, name, relative_power)
    if fmt == "bin":
        return load_binary(path, name, relative_power)
    if fmt == "c":
        from simulator.approx.cimport import compile_c_multiplier
        lut = compile_c_multiplier(path, name=name)
        return LutMultiplier(lut.table, lut.name, relative_power)
    raise AxsimError(f"table format {fmt!r}: must be one of {', '.join(FORMATS)}")


def save_binary(lut: LutMultiplier, path) -> Path:
    path = Path(path)
    path.write_bytes(lut.table.astype("<u2").tobytes())
    return path


def save_npy(lut: LutMultiplier, path) -> Path:
    path = Path(path)
    np.save(path, lut.table)
    return path


def lut_gemm_reference(a, w, lut: LutMultiplier, rows_per_chunk: int = 256) -> np.ndarray:
    """Pure numpy ``sum_k table[A[m,k], W[k,n]]`` by fancy indexing (slow, simple)."""
    a, w = check_uint8(a, "activation"), check_uint8(w, "weight")
    if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[0]:
        raise AxsimError(f"lut_gemm shapes {a.shape} and {w.shape} do not match (need M x K and K x N)")
    out = np.empty((a.shape[0], w.shape[1]), dtype=np.int64)
    for m0 in range(0, a.shape[0], rows_per_chunk):
        blk = a[m0:m0 + rows_per_chunk]
        out[m0:m0 + rows_per_chunk] = lut.table[blk[:, :, None], w[None, :, :]].sum(axis=1, dtype=np.int64)
    return out
