"""One MAC configuration, two views: the functional kernel and the timing/energy model.

A :class:`MacConfig` is what an approximation file names (``exact``, an
Ax-BxP :class:`~simulator.approx.blocked.BlockConfig`, or a LUT multiplier).
It yields

* :meth:`MacConfig.timing` -- the :class:`~simulator.hw.pe.MacModel` the PE
  array uses for cycles, energy actions and stored bits (name as in traces);
* :meth:`MacConfig.gemm` / :meth:`MacConfig.conv2d` -- the functional
  multiply-accumulate of quantized operands used by the inference engine.

Operands of the functional kernel (int8 inference, ``docs/accuracy.md``):
activations are the stored uint8 codes (0..255, zero point included), weights
the stored int8 codes (-128..127, symmetric). The multiplier sees the
activation code and the weight in sign-magnitude form: the magnitude goes
through the multiplier, the sign is applied to the product (as Ax-BxP's
signed mode does). Exact: ``a·w``; Ax-BxP: the blocked product of the
configuration made signed (same block pairs, 8-bit magnitudes);
LUT: ``sign(w)·T[a, |w|]``. Sums are exact integers (int64).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from simulator.approx.blocked import BlockConfig
from simulator.approx.blockops import _transform_fn, blocked_gemm
from simulator.approx.conv import conv2d_via_gemm
from simulator.approx.intgemm import IntOperand, chunk_plan, exact_int_gemm, gemm_operands
from simulator.config.arch import PE
from simulator.errors import AxsimError
from simulator.hw.pe import MacModel

TYPES = ("axbxp", "lut", "exact")


@dataclass(frozen=True, eq=False)
class MacConfig:
    """A named MAC configuration: ``type`` is ``exact``, ``axbxp`` (``block``) or ``lut`` (``lut``)."""

    name: str
    type: str = "exact"
    block: BlockConfig | None = None
    relative_power: float | None = None
    lut: Any = None  # simulator.approx.lut.LutMultiplier
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise AxsimError(f"MAC configuration {self.name!r}: type {self.type!r}: must be one of {', '.join(TYPES)}")
        if (self.type == "axbxp") != (self.block is not None):
            raise AxsimError(f"MAC configuration {self.name!r}: an axbxp configuration needs a block configuration")
        if self.type == "lut" and (self.lut is None or self.relative_power is None):
            raise AxsimError(f"MAC configuration {self.name!r}: a lut configuration needs a table and its power")

    @property
    def is_exact(self) -> bool:
        """True if every product is exact (also for an Ax-BxP set of all block pairs)."""
        return self.type == "exact" or (self.type == "axbxp" and self.block.is_exact)

    # ---- timing / energy view ------------------------------------------------------------
    def timing(self, pe: PE) -> MacModel:
        """The PE-array model of this configuration on PEs ``pe`` (raises if the PE cannot run it)."""
        from simulator.macs.timing import block_mac_model, exact_model, lut_mac_model  # noqa: PLC0415
        if self.type == "axbxp":
            return block_mac_model(self.block, pe, self.name)
        if self.type == "lut":
            return lut_mac_model(self.name, self.relative_power, pe)
        model = exact_model(pe)
        return model if model.name == self.name else replace(model, name=self.name)

    # ---- functional view -----------------------------------------------------------------
    @cached_property
    def signed_block(self) -> BlockConfig:
        """The Ax-BxP configuration on 8-bit sign-magnitude operands (same block pairs)."""
        if self.block.bits != 8:
            raise AxsimError(f"MAC configuration {self.name!r}: the int8 inference engine needs 8-bit "
                             f"operands, the configuration has {self.block.bits}")
        return replace(self.block, signed=True)

    @cached_property
    def signed_table(self) -> np.ndarray:
        """(256, 256) int32: ``[a, w + 128] = sign(w) · T[a, |w|]`` for w in -128..127."""
        w = np.arange(-128, 128)
        t = self.lut.table.astype(np.int32)[:, np.abs(w)] * np.sign(w).astype(np.int32)
        return np.ascontiguousarray(t)

    def gemm(self, a: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``sum_k mul(a[m, k], w[k, n])`` (a: uint8 codes M x K, w: int8 codes K x N) as int64."""
        a = np.asarray(a)
        w = np.asarray(w)
        if a.dtype != np.uint8 or w.dtype != np.int8:
            raise AxsimError(f"MAC configuration {self.name!r}: activations must be uint8 and weights int8 "
                             f"(got {a.dtype} and {w.dtype})")
        if self.type == "exact":
            return _exact_u8s8(a, w)
        if self.type == "axbxp":
            if self.signed_block.keeps_whole_blocks():
                return gemm_operands(*self._operand_tables(a, w))
            return blocked_gemm(a, w, self.signed_block)
        from simulator.approx.kernels import _lut_gemm_kernel  # noqa: PLC0415 (numba only when asked for)
        if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[0]:
            raise AxsimError(f"gemm shapes {a.shape} and {w.shape} do not match (need M x K and K x N)")
        out = np.zeros((a.shape[0], w.shape[1]), dtype=np.int64)
        if out.size and a.shape[1]:
            idx = np.ascontiguousarray((w.astype(np.int16) + 128).astype(np.uint8))
            _lut_gemm_kernel(np.ascontiguousarray(a), idx, self.signed_table, out)
        return out

    @cached_property
    def _tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Each operand's transformed value tabulated over its stored code: activations indexed
        by the uint8 code, weights by the int8 code's bit pattern (``w.view(uint8)``)."""
        cfg = self.signed_block
        ta = _transform_fn(cfg, "a")(np.arange(256, dtype=np.int64))
        tw = _transform_fn(cfg, "w")(np.arange(256, dtype=np.uint8).view(np.int8).astype(np.int64))
        return ta, tw

    def _operand_tables(self, a: np.ndarray, w: np.ndarray) -> tuple[IntOperand, IntOperand]:
        """The Ax-BxP product as an exact product of transformed operands (whole-block configurations)."""
        ta, tw = self._tables
        return IntOperand(table=ta, index=a), IntOperand(table=tw, index=w.view(np.uint8))

    def multiply(self, a: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Elementwise products (the definition the GEMM sums), int64."""
        a = np.asarray(a).astype(np.int64)
        w = np.asarray(w).astype(np.int64)
        if self.type == "exact":
            return a * w
        if self.type == "axbxp":
            from simulator.approx.blockops import blocked_multiply  # noqa: PLC0415
            return blocked_multiply(a, w, self.signed_block)
        return np.sign(w) * self.lut.table[a, np.abs(w)].astype(np.int64)

    def conv2d(self, x: np.ndarray, w: np.ndarray, stride=1, padding=0, groups: int = 1,
               pad_value: int = 0) -> np.ndarray:
        """Grouped convolution (uint8 NCHW codes, int8 KCRS codes), padding with ``pad_value``.

        Exact and whole-block Ax-BxP configurations transform each operand elementwise,
        so the transform (to float32, common power-of-two factor shifted out) is applied to
        the input tensor before im2col (R·S times fewer elements) and the result is an
        exact GEMM in float32 chunks (:func:`simulator.approx.intgemm.chunk_plan`)."""
        x, w = np.asarray(x), np.asarray(w)
        fast = self.type == "exact" or (self.type == "axbxp" and self.signed_block.keeps_whole_blocks())
        if not fast or x.dtype != np.uint8 or w.dtype != np.int8 or x.ndim != 4 or w.ndim != 4:
            return conv2d_via_gemm(x, w, self.gemm, stride, padding, 1, groups, pad_value)
        (ta, sa, ba), (tw, sw, bw) = self._float_tables
        k = w.shape[1] * w.shape[2] * w.shape[3]
        dtype, chunk = chunk_plan(k, ba, bw)
        xf = ta.astype(dtype)[x]
        wf = tw.astype(dtype)[w.view(np.uint8)]

        def gemm(cols: np.ndarray, wm: np.ndarray) -> np.ndarray:
            if chunk >= cols.shape[1]:
                return (cols @ wm).astype(np.int64)
            out = np.zeros((cols.shape[0], wm.shape[1]), dtype=np.int64)
            for k0 in range(0, cols.shape[1], chunk):
                out += (cols[:, k0:k0 + chunk] @ wm[k0:k0 + chunk]).astype(np.int64)
            return out

        out = conv2d_via_gemm(xf, wf, gemm, stride, padding, 1, groups, float(ta[pad_value]))
        return out << (sa + sw) if sa + sw else out

    @cached_property
    def _float_tables(self):
        """Per operand: (stored code -> transformed value >> shift, shift, bound) for exact
        and whole-block configurations; weights indexed by the int8 code's bit pattern."""
        if self.type == "exact":
            ta = np.arange(256, dtype=np.int64)
            tw = np.arange(256, dtype=np.uint8).view(np.int8).astype(np.int64)
        else:
            ta, tw = self._tables
        out = []
        for t in (ta, tw):
            op = IntOperand(values=t)
            out.append((t >> op.shift, op.shift, op.bound))
        return tuple(out)


EXACT = MacConfig("exact")

#: terms per float32 GEMM chunk: |a·w| <= 255·128, so partial sums stay below 2**24 (exact)
U8S8_CHUNK = (1 << 24) // (255 * 128)


def _exact_u8s8(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Exact ``a @ w`` of uint8 and int8 matrices on float32 BLAS, the reduction split into
    chunks of ``U8S8_CHUNK`` terms (known operand bounds: no scan of the data)."""
    if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[0]:
        return exact_int_gemm(a, w)  # raises with the shapes
    k = a.shape[1]
    af, wf = a.astype(np.float32), w.astype(np.float32)
    if k <= U8S8_CHUNK:
        return (af @ wf).astype(np.int64)
    out = np.zeros((a.shape[0], w.shape[1]), dtype=np.int64)
    for k0 in range(0, k, U8S8_CHUNK):
        out += (af[:, k0:k0 + U8S8_CHUNK] @ wf[k0:k0 + U8S8_CHUNK]).astype(np.int64)
    return out
