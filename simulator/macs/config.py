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
from simulator.approx.blockops import _combined_fn, _transform_fn
from simulator.approx.conv import conv2d_via_gemm
from simulator.approx.encoded import Encoding, encoded_conv2d, encoded_gemm
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

    @cached_property
    def signed_table_t(self) -> np.ndarray:
        """(256, 256) int64 ``[w + 128, a] = sign(w) · T[a, |w|]``: the LUT kernels' table layout."""
        return np.ascontiguousarray(self.signed_table.T.astype(np.int64))

    def gemm(self, a: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``sum_k mul(a[m, k], w[k, n])`` (a: uint8 codes M x K, w: int8 codes K x N) as int64."""
        a = np.asarray(a)
        w = np.asarray(w)
        if a.dtype != np.uint8 or w.dtype != np.int8:
            raise AxsimError(f"MAC configuration {self.name!r}: activations must be uint8 and weights int8 "
                             f"(got {a.dtype} and {w.dtype})")
        if a.ndim != 2 or w.ndim != 2 or a.shape[1] != w.shape[0]:
            raise AxsimError(f"gemm shapes {a.shape} and {w.shape} do not match (need M x K and K x N)")
        if self.type != "lut":
            return encoded_gemm(self.encoding, a, w)
        from simulator.approx.kernels import table_gemm_t  # noqa: PLC0415 (numba only when asked for)
        return table_gemm_t(np.ascontiguousarray(a.T), _weight_rows(w), self.signed_table_t).T

    @cached_property
    def encoding(self) -> Encoding | None:
        """The product as ``Σ_p f_p(a)·g_p(w)`` (:class:`simulator.approx.encoded.Encoding`), checked
        against :meth:`multiply` on all 65,536 operand pairs; None for LUT multipliers.

        Exact: ``a · w``. Ax-BxP keeping whole blocks: the product of the transformed operands
        (one term). Other static pair sets: one term per activation block group
        ``i`` (``plane_i(a) · Σ_{j:(i,j) in P} w_j 2^{K(i+j)}``), or per weight block group
        if there are fewer of those."""
        if self.type == "lut":
            return None
        codes_a = np.arange(256, dtype=np.int64)
        codes_w = np.arange(256, dtype=np.uint8).view(np.int8).astype(np.int64)
        if self.type == "exact":
            fa, gw = [codes_a], [codes_w]
        elif self.signed_block.keeps_whole_blocks():
            cfg = self.signed_block
            fa, gw = [_transform_fn(cfg, "a")(codes_a)], [_transform_fn(cfg, "w")(codes_w)]
        else:
            cfg = self.signed_block
            pairs = sorted(cfg.pairs)
            by_a = len({i for i, _ in pairs}) <= len({j for _, j in pairs})
            groups: dict[int, list[int]] = {}
            for i, j in pairs:
                groups.setdefault(i if by_a else j, []).append(j if by_a else i)
            fa, gw = [], []
            for key, others in sorted(groups.items()):
                blocks_a, blocks_w = ([key], others) if by_a else (others, [key])
                fa.append(_combined_fn(cfg, None, blocks_a)(codes_a))
                gw.append(_combined_fn(cfg, None, blocks_w)(codes_w))
        enc = Encoding(np.stack(fa, axis=1), np.stack(gw, axis=1), self.name)
        w = np.arange(-128, 128)
        if not np.array_equal(enc.products(), self.multiply(codes_a[:, None], w[None, :])):
            raise AxsimError(f"MAC configuration {self.name!r}: internal error: its GEMM encoding "
                             "does not reproduce its products")
        return enc

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

        Exact and Ax-BxP configurations run :func:`simulator.approx.encoded.encoded_conv2d`
        (one exact float32 GEMM per row block, all product terms fused along the reduction);
        LUT multipliers the numba kernel of :mod:`simulator.approx.kernels` per row block."""
        x, w = np.asarray(x), np.asarray(w)
        if self.type != "lut" and x.dtype == np.uint8 and w.dtype == np.int8 and x.ndim == 4 and w.ndim == 4:
            return encoded_conv2d(self.encoding, x, w, stride, padding, groups, pad_value)
        if self.type == "lut" and x.dtype == np.uint8 and w.dtype == np.int8:
            from simulator.approx.kernels import table_conv2d  # noqa: PLC0415 (numba only when asked for)
            return table_conv2d(x, _weight_rows(w), self.signed_table_t, stride, padding, 1, groups, pad_value)
        return conv2d_via_gemm(x, w, self.gemm, stride, padding, 1, groups, pad_value)


def _weight_rows(w: np.ndarray) -> np.ndarray:
    """Rows of :attr:`MacConfig.signed_table_t` of int8 weight codes: ``w + 128`` as uint8."""
    return (w.view(np.uint8) ^ np.uint8(0x80))


EXACT = MacConfig("exact")
