"""The int8 inference engine (pure numpy): a quantized network through the MAC kernels.

For every conv / fc layer with input codes ``x`` (scale ``s_x``, zero point
``z_x``), weight codes ``w`` (scales ``s_w`` per output channel) and bias codes ``b``:

    acc[k] = Σ_{c,r,s} mul(x, w[k]) − z_x · Σ_{c,r,s} w[k] + b[k]          (int64, then int32)
    y      = sat(round_half_even(float32(acc) · m[k]) + z_y),  m = float32(s_x·s_w / s_y)

``mul`` is the layer's MAC configuration (:class:`simulator.macs.MacConfig`):
exact, Ax-BxP or a LUT multiplier, applied to the stored activation code and
the sign-magnitude weight. The zero-point correction is exact (as in TFApprox).
Padded positions hold ``z_x`` and go through the multiplier like any other value.

Work units: a layer can be computed as a set of :class:`Unit` s (output-channel
range × output rows × output columns × reduction-channel range), each from its own
weight slice and its own input slice (the window of input it needs), as each PE
does; partial sums of a split reduction are added before requantization
(:func:`simulator.accuracy.exposure_hook.units_from_exposure` derives them from a run's exposure).

Corruption hook: ``corrupt(layer_name, ds, tensor, unit) -> tensor`` is applied to
``ds`` = ``"weights"`` (int8 slice), ``"inputs"`` (uint8 padded input slice),
``"psums"`` (each unit's int32 partial accumulators), ``"acc"`` (the int32 accumulators of
one output tile, partial sums added, before requantization; ``unit`` is the tile) and
``"outputs"`` (uint8 codes); ``unit`` is the :class:`Unit` or ``None`` when the layer runs
whole. Pool layers see ``"inputs"`` (N x C x H x W) and ``"outputs"``; add layers see
``"inputs"`` as both operands stacked (2 x N x C x H x W) and ``"outputs"``; concat layers
(channel concatenation, each operand requantized to the output's scale and zero point,
:func:`~simulator.accuracy.quant.concat_codes`) see only ``"outputs"``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from simulator.accuracy.model import QLayer, QuantModel
from simulator.accuracy.quant import activation_range, add_codes, concat_codes, multiplier, quantize, requantize
from simulator.errors import AxsimError
from simulator.macs import EXACT, MacConfig
from simulator.workload import NETWORK_INPUT

Corrupt = Callable[[str, str, np.ndarray, "Unit | None"], np.ndarray]
MacChoice = Callable[[str], MacConfig] | Mapping[str, MacConfig] | MacConfig | None


@dataclass(frozen=True)
class Unit:
    """Output channels ``k0:k1``, output rows ``p0:p1``, output columns ``q0:q1`` and reduction
    channels ``c0:c1`` (within a group; ``c1 = None``: all) of one layer, as one PE computes them.

    Units with the same output tile and disjoint reduction ranges are partial sums: they are
    added (each seen by the ``psums`` hook first) before requantization; the bias goes to the
    unit with ``c0 == 0``."""

    k0: int
    k1: int
    p0: int
    p1: int
    q0: int
    q1: int
    pe: str = ""  # the processing element that computes it (for exposure lookups)
    c0: int = 0
    c1: int | None = None

@dataclass
class Tensor:
    codes: np.ndarray  # uint8, N x C x H x W
    scale: np.float32
    zero_point: int


def _mac_lookup(macs: MacChoice) -> Callable[[str], MacConfig]:
    if macs is None:
        return lambda name: EXACT
    if isinstance(macs, MacConfig):
        return lambda name: macs
    if isinstance(macs, Mapping):
        return lambda name: macs.get(name, EXACT)
    return macs


def whole(q: QLayer) -> list[Unit]:
    layer = q.layer
    return [Unit(0, layer.out_channels, 0, layer.out_h, 0, layer.out_w)]


def quantize_input(model: QuantModel, x: np.ndarray) -> np.ndarray:
    """Input codes (N x C x H x W uint8) of real-valued samples (N x C x H x W, or N x H x W for C = 1)."""
    x = np.asarray(x)
    c, h, w = model.input_shape
    if x.ndim == 3 and c == 1:
        x = x[:, None]
    if x.ndim == 2 and (h, w) == (1, 1):
        x = x[:, :, None, None]
    if x.shape[1:] != (c, h, w):
        raise AxsimError(f"input samples of shape {x.shape[1:]}: model {model.name!r} takes {(c, h, w)}")
    return quantize(x, model.input_scale, model.input_zero_point)


def _window(start: int, stop: int, pad: int, size: int) -> tuple[slice, tuple[int, int]]:
    """Padded-coordinate range [start, stop) as a slice of the unpadded input plus the padding around it."""
    lo, hi = start - pad, stop - pad
    return slice(max(lo, 0), min(hi, size)), (max(0, -lo), max(0, hi - size))


def _conv_unit(q: QLayer, codes: np.ndarray, zx: int, mac: MacConfig, unit: Unit, tag: Unit | None,
               corrupt: Corrupt | None) -> np.ndarray:
    """int64 partial accumulators of one unit from its weight slice and its (unpadded) input slice:
    ``Σ_{c in c0:c1, r, s} mul(x, w) − z_x·Σ w`` (+ bias if ``c0 == 0``)."""
    layer = q.layer
    sh, sw = layer.stride_h, layer.stride_w
    kg = layer.out_channels // layer.groups
    cg = layer.channels_per_group
    c0, c1 = unit.c0, cg if unit.c1 is None else unit.c1
    g0, g1 = unit.k0 // kg, (unit.k1 - 1) // kg + 1  # groups the channel range touches
    rows, pad_r = _window(unit.p0 * sh, (unit.p1 - 1) * sh + layer.kernel_h, layer.pad_h, codes.shape[2])
    cols, pad_c = _window(unit.q0 * sw, (unit.q1 - 1) * sw + layer.kernel_w, layer.pad_w, codes.shape[3])
    xs = codes[:, g0 * cg:g1 * cg, rows, cols]
    if (c0, c1) != (0, cg):
        n, _, h, w_ = xs.shape
        xs = xs.reshape(n, g1 - g0, cg, h, w_)[:, :, c0:c1].reshape(n, (g1 - g0) * (c1 - c0), h, w_)
    w = q.weight[unit.k0:unit.k1, c0:c1]
    if corrupt is not None:
        w = corrupt(layer.name, "weights", w, tag)
        xs = corrupt(layer.name, "inputs", xs, tag)
    if any(pad_r) or any(pad_c):
        xs = np.pad(xs, ((0, 0), (0, 0), pad_r, pad_c), constant_values=zx)
    if w.ndim == 2:  # fc: K x C weights on a C x 1 x 1 input
        w = w.reshape(w.shape[0], -1, 1, 1)
    if g1 - g0 == 1:
        acc = mac.conv2d(xs, w, (sh, sw), 0, 1)
    elif unit.k0 % kg == 0 and unit.k1 % kg == 0:
        acc = mac.conv2d(xs, w, (sh, sw), 0, g1 - g0)
    else:  # a channel range that cuts groups: one convolution per group it touches
        cc = c1 - c0
        parts = []
        for g in range(g0, g1):
            k_lo, k_hi = max(unit.k0, g * kg) - unit.k0, min(unit.k1, (g + 1) * kg) - unit.k0
            parts.append(mac.conv2d(xs[:, (g - g0) * cc:(g - g0 + 1) * cc], w[k_lo:k_hi], (sh, sw), 0, 1))
        acc = np.concatenate(parts, axis=1)
    wsum = w.reshape(w.shape[0], -1).astype(np.int64).sum(axis=1)
    acc = acc - zx * wsum[None, :, None, None]
    if c0 == 0:
        acc = acc + q.bias[unit.k0:unit.k1].astype(np.int64)[None, :, None, None]
    return acc


def _check_cover(q: QLayer, units: list[Unit]) -> dict[tuple, list[Unit]]:
    """Units grouped by output tile; the tiles partition the outputs and, per tile, the units'
    reduction ranges partition the reduction channels."""
    layer = q.layer
    cg = layer.channels_per_group
    tiles: dict[tuple, list[Unit]] = {}
    for u in units:
        c1 = cg if u.c1 is None else u.c1
        if not (0 <= u.k0 < u.k1 <= layer.out_channels and 0 <= u.p0 < u.p1 <= layer.out_h
                and 0 <= u.q0 < u.q1 <= layer.out_w and 0 <= u.c0 < c1 <= cg):
            raise AxsimError(f"{layer.name}: unit {u} lies outside the layer (K {layer.out_channels}, "
                             f"P {layer.out_h}, Q {layer.out_w}, C/groups {cg})")
        tiles.setdefault((u.k0, u.k1, u.p0, u.p1, u.q0, u.q1), []).append(u)
    count = np.zeros((layer.out_channels, layer.out_h, layer.out_w), dtype=np.int32)
    for (k0, k1, p0, p1, q0, q1), parts in tiles.items():
        count[k0:k1, p0:p1, q0:q1] += 1
        ranges = sorted((u.c0, cg if u.c1 is None else u.c1) for u in parts)
        edges = [0] + [c1 for _, c1 in ranges]
        if [c0 for c0, _ in ranges] != edges[:-1] or edges[-1] != cg:
            raise AxsimError(f"{layer.name}: the units of output tile k {k0}:{k1}, p {p0}:{p1}, q {q0}:{q1} "
                             f"have reduction ranges {ranges}: they must partition 0:{cg}")
    if not np.all(count == 1):
        bad = np.argwhere(count != 1)[0]
        raise AxsimError(f"{layer.name}: output (k, p, q) = {tuple(int(v) for v in bad)} is in "
                         f"{int(count[tuple(bad)])} output tiles; the units' tiles must partition the outputs")
    return tiles


def run_compute(q: QLayer, x: Tensor, mac: MacConfig, corrupt: Corrupt | None = None,
                units: list[Unit] | None = None) -> np.ndarray:
    """Output codes (N x K x P x Q) of a conv or fc layer, computed unit by unit."""
    layer = q.layer
    codes = x.codes
    if layer.kind == "fc":
        n = codes.shape[0]
        flat = codes.reshape(n, -1)
        if flat.shape[1] != layer.in_channels:
            raise AxsimError(f"{layer.name}: fc takes {layer.in_channels} features, its input has {flat.shape[1]}")
        codes = flat[:, :, None, None]
    elif codes.shape[1:] != (layer.in_channels, layer.in_h, layer.in_w):
        raise AxsimError(f"{layer.name}: input of shape {codes.shape[1:]}, the layer takes "
                         f"{(layer.in_channels, layer.in_h, layer.in_w)}")
    tiles = _check_cover(q, units) if units else {None: whole(q)}
    out = np.empty((codes.shape[0], layer.out_channels, layer.out_h, layer.out_w), dtype=np.uint8)
    code_range = activation_range(layer.activation, q.scale, q.zero_point)
    for parts in tiles.values():
        acc = None
        for unit in parts:
            partial = _conv_unit(q, codes, x.zero_point, mac, unit, unit if units else None, corrupt)
            partial = np.clip(partial, -2**31, 2**31 - 1).astype(np.int32)
            if corrupt is not None:
                partial = corrupt(layer.name, "psums", partial, unit if units else None)
            acc = partial.astype(np.int64) if acc is None else acc + partial
        u = parts[0]
        acc = np.clip(acc, -2**31, 2**31 - 1).astype(np.int32)
        if corrupt is not None:  # the accumulator before requantization (accumulation buffer)
            acc = corrupt(layer.name, "acc", acc, Unit(u.k0, u.k1, u.p0, u.p1, u.q0, u.q1))
        m = multiplier(x.scale, q.weight_scale[u.k0:u.k1], q.scale)
        out[:, u.k0:u.k1, u.p0:u.p1, u.q0:u.q1] = requantize(acc, m, q.zero_point, code_range)
    if corrupt is not None:
        out = corrupt(layer.name, "outputs", out, None)
    return out


def _pool(q: QLayer, x: Tensor) -> Tensor:
    """Pooling on codes. Max: the largest code (max commutes with the affine map).
    Average over the R·S window (padding at the zero point, counted):
    ``y = sat(round_half_even(float32(Σ codes − R·S·z_x) · float32(s_x / (R·S·s_y))) + z_y)``.
    Without its own output parameters a pool keeps its input's (then the average is the rounded mean)."""
    from numpy.lib.stride_tricks import sliding_window_view  # noqa: PLC0415
    layer = q.layer
    s_y, z_y = (q.scale, q.zero_point) if q.own_params else (x.scale, x.zero_point)
    ph, pw = layer.pad_h, layer.pad_w
    fill = 0 if layer.pool_mode == "max" else x.zero_point
    xp = np.pad(x.codes, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill) if ph or pw else x.codes
    win = sliding_window_view(xp, (layer.kernel_h, layer.kernel_w), axis=(2, 3))
    win = win[:, :, ::layer.stride_h, ::layer.stride_w][:, :, :layer.out_h, :layer.out_w]
    n = layer.kernel_h * layer.kernel_w
    if layer.pool_mode == "max":
        codes = win.max(axis=(4, 5))
        if (s_y, z_y) == (x.scale, x.zero_point):
            return Tensor(codes, s_y, z_y)
        total, n = codes.astype(np.int64), 1
    else:
        total = win.sum(axis=(4, 5), dtype=np.int64)
    ratio = np.float32(np.float32(x.scale) / (np.float32(n) * np.float32(s_y)))
    y = np.rint((total - n * x.zero_point).astype(np.float32) * ratio).astype(np.int64) + z_y
    return Tensor(np.clip(y, 0, 255).astype(np.uint8), s_y, z_y)


@dataclass
class Inference:
    """Outputs of one inference: the last layer's codes and, if kept, every layer's tensor."""

    output: Tensor
    tensors: dict[str, Tensor]

    def real(self, name: str | None = None) -> np.ndarray:
        t = self.output if name is None else self.tensors[name]
        return t.scale * (t.codes.astype(np.float32) - np.float32(t.zero_point))

    def predictions(self) -> np.ndarray:
        """Class of each sample: the index of the largest output code (first on ties)."""
        return self.output.codes.reshape(self.output.codes.shape[0], -1).argmax(axis=1)


def infer(model: QuantModel, x_codes: np.ndarray, macs: MacChoice = None, corrupt: Corrupt | None = None,
          units: Mapping[str, list[Unit]] | None = None, keep: bool = False) -> Inference:
    """Run ``model`` on input codes (N x C x H x W uint8; see :func:`quantize_input`)."""
    mac_of = _mac_lookup(macs)
    tensors: dict[str, Tensor] = {NETWORK_INPUT: Tensor(np.asarray(x_codes, dtype=np.uint8),
                                                        model.input_scale, model.input_zero_point)}
    last_use = {name: i for i, q in enumerate(model.layers) for name in q.inputs}
    last = None
    for i, q in enumerate(model.layers):
        layer = q.layer
        srcs = [tensors[name] for name in q.inputs]
        if layer.kind in ("conv", "fc"):
            codes = run_compute(q, srcs[0], mac_of(layer.name), corrupt, (units or {}).get(layer.name))
            out = Tensor(codes, q.scale, q.zero_point)
        elif layer.kind == "pool":
            src = srcs[0]
            if corrupt is not None:
                src = Tensor(corrupt(layer.name, "inputs", src.codes, None), src.scale, src.zero_point)
            out = _pool(q, src)
            if corrupt is not None:
                out.codes = corrupt(layer.name, "outputs", out.codes, None)
        elif layer.kind == "concat":  # a view on the hardware: only the moves of its operands' copies corrupt
            rng = activation_range(layer.activation, q.scale, q.zero_point)
            codes = concat_codes([(t.codes, t.scale, t.zero_point) for t in srcs], q.scale, q.zero_point, rng)
            if corrupt is not None:
                codes = corrupt(layer.name, "outputs", codes, None)
            out = Tensor(codes, q.scale, q.zero_point)
        else:  # add
            if len(srcs) != 2:
                raise AxsimError(f"{layer.name}: an add layer needs two named inputs (inputs: [a, b])")
            a, b = srcs
            ac, bc = a.codes, b.codes
            if corrupt is not None:  # both operands at once: (2, N, C, H, W)
                ac, bc = corrupt(layer.name, "inputs", np.stack([ac, bc]), None)
            rng = activation_range(layer.activation, q.scale, q.zero_point)
            codes = add_codes(ac, a.zero_point, a.scale, bc, b.zero_point, b.scale, q.scale, q.zero_point, rng)
            if corrupt is not None:
                codes = corrupt(layer.name, "outputs", codes, None)
            out = Tensor(codes, q.scale, q.zero_point)
        tensors[layer.name] = out
        last = out
        if not keep:
            for name in q.inputs:
                if last_use.get(name) == i:
                    tensors.pop(name, None)
    assert last is not None
    return Inference(last, tensors if keep else {})
