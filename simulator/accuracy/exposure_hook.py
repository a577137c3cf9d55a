"""The error exposure of a run as work units and a corruption hook of the int8 engine.

:func:`units_from_exposure` turns the exposure's work records (one per PE and compute
step, :mod:`simulator.faults.exposure`) into :class:`~simulator.accuracy.engine.Unit` s,
so the engine computes every step of every PE; :func:`exposure_ber` is a Monte Carlo
factory of corruption hooks (like :func:`simulator.accuracy.evaluate.uniform_ber`) that
corrupts, for each unit, the weight and input copies that PE used in that step, each
copy drawn once per Monte Carlo index and reused by every step that computes with it,
and the outputs on their way back to DRAM. Each sample of a batch is corrupted
independently (its own pass through the hardware); stuck cells are the same for all.

Not applied through the hook: the accumulator stage (``p_acc``, stuck cells of stage 1)
and the partial sums of a reduction split across PEs (``psums`` groups), whose journeys
cover all the steps of a PE's output tile rather than one unit; pool and add layers
(their inputs are corrupted only as the outputs of the layer before).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from simulator.accuracy.engine import Corrupt, Unit
from simulator.faults.exposure import group_box, groups_of, layer_index
from simulator.faults.flips import ExposureData
from simulator.faults.inject import apply_stuck, flip_bits
from simulator.faults.seeding import rng_for
from simulator.workload import Layer


def _pe_name(chip, pe) -> str:
    return "chiplet[{},{}].pe[{},{}]".format(*chip, *pe)


def units_from_exposure(data: ExposureData, layer: Layer) -> list[Unit]:
    """One unit per PE and compute step of ``layer`` (output tile k x rows x cols, reduction c),
    tagged ``chiplet[r,c].pe[x,y] #<work row>``; idle PEs of an uneven split are left out."""
    li = layer_index(data, layer.name)
    out = []
    for row in np.flatnonzero(data.work_layer == li):
        k0, k1, c0, c1, y0, y1, x0, x1 = (int(v) for v in data.work_slice[row])
        if k1 <= k0 or y1 <= y0:
            continue
        out.append(Unit(k0, k1, y0, y1, x0, x1, f"{_pe_name(data.work_chiplet[row], data.work_pe[row])} #{row}",
                        c0, c1))
    return out


def _stuck(data: ExposureData, gid: int):
    sel = np.flatnonzero((data.stuck_group == gid) & (data.stuck_stage == 0))
    return data.stuck_element[sel], data.stuck_bit[sel].astype(np.int64), data.stuck_value[sel]


def _force(t: np.ndarray, flat_index: np.ndarray, bit: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Stuck bits of int8/uint8 elements at ``flat_index`` (C order of ``t``'s last axes, every sample)."""
    if len(flat_index) == 0:
        return t
    per_sample = int(np.prod(t.shape[1:]))
    n = t.shape[0]
    byte = (np.arange(n)[:, None] * per_sample + flat_index[None, :]).reshape(-1)
    bits = np.tile(bit % 8, n)
    vals = np.tile(value.astype(np.uint8), n)
    order = np.lexsort((bits, byte))
    return apply_stuck(t, byte[order], bits[order], vals[order])


def exposure_ber(data: ExposureData, layers: dict[str, Layer], run_seed: int = 0) -> Callable[[int], Corrupt]:
    """A factory: Monte Carlo index -> corruption hook drawing the exposure's errors.

    ``layers``: the workload's layers by name (for padding and strides)."""
    def factory(mc: int) -> Corrupt:
        cache: dict[tuple, np.ndarray] = {}

        def rng(layer: str, ds: str, gid: int) -> np.random.Generator:
            return rng_for(run_seed, f"mc{mc}/{layer}/{ds}/{gid}")

        def corrupt(layer: str, ds: str, t: np.ndarray, unit: Unit | None = None) -> np.ndarray:
            if ds == "outputs" and unit is None:
                return _outputs(layer, t)
            if unit is None or ds not in ("weights", "inputs") or "#" not in unit.pe:
                return t
            row = int(unit.pe.rsplit("#", 1)[1])
            gid = int(data.work_weights[row] if ds == "weights" else data.work_inputs[row])
            if gid < 0:
                return t
            key = (layer, ds, gid)
            if key not in cache:  # one copy per group, reused by every step that uses it
                cache[key] = _weights(layer, gid, t) if ds == "weights" else _inputs(layer, gid, t)
            return cache[key]

        def _weights(layer: str, gid: int, w: np.ndarray) -> np.ndarray:
            box = group_box(data, gid)
            shape = tuple(b.stop - b.start for b in box)
            out = flip_bits(w.reshape(shape), data.p_flip[gid], rng(layer, "weights", gid))
            e, b, v = _stuck(data, gid)
            return _force(out[None], e, b, v)[0].reshape(w.shape)

        def _inputs(layer: str, gid: int, xs: np.ndarray) -> np.ndarray:
            ly = layers[layer]
            out = flip_bits(xs, data.p_flip[gid], rng(layer, "inputs", gid))
            e, b, v = _stuck(data, gid)
            if len(e):  # element of the padded slice (t, g, c, rows, cols) -> element of xs
                _, g, c, rows, cols = (np.arange(s.start, s.stop) for s in group_box(data, gid))
                shape = (1, len(g), len(c), len(rows), len(cols))
                _, gi, ci, yi, xi = np.unravel_index(e, shape)
                y, x = rows[yi] - ly.pad_h, cols[xi] - ly.pad_w
                y_off, x_off = max(0, int(rows[0]) - ly.pad_h), max(0, int(cols[0]) - ly.pad_w)
                inside = (y >= 0) & (y < ly.in_h) & (x >= 0) & (x < ly.in_w)  # padding is not stored
                ch = gi * len(c) + ci
                h, w = out.shape[2], out.shape[3]
                flat = (ch * h + (y - y_off)) * w + (x - x_off)
                out = _force(out, flat[inside], b[inside], v[inside])
            return out

        def _outputs(layer: str, out: np.ndarray) -> np.ndarray:
            gids = groups_of(data, layer, "outputs")  # a layer the exposure lacks: a clear error
            out = np.array(out, copy=True)
            for gid in gids:
                box = group_box(data, int(gid))
                sub = flip_bits(out[(slice(None), *box)], data.p_flip[gid], rng(layer, "outputs", int(gid)))
                e, b, v = _stuck(data, int(gid))
                out[(slice(None), *box)] = _force(sub, e, b, v)
            return out

        return corrupt
    return factory

