"""The error exposure of a run as work units and a corruption hook of the int8 engine.

:func:`units_from_exposure` turns the exposure's work records (one per PE and compute
step, :mod:`simulator.faults.exposure`) into :class:`~simulator.accuracy.engine.Unit` s,
so the engine computes every step of every PE; :func:`exposure_ber` is a Monte Carlo
factory of corruption hooks that draws, per Monte Carlo index:

- ``weights`` / ``inputs`` of a conv or fc unit: the copy that PE used in that step
  (its group's ``p_flip`` and stuck cells), drawn once and reused by every step that
  computes with it;
- ``psums``: the int32 partial sums of reduction part ``i > 0`` of an output tile, on
  their way to the reducing chiplet (the ``psums`` groups of part ``i``, intersected
  with the unit's tile);
- ``acc``: the int32 accumulators of an output tile before requantization (the
  ``outputs`` groups' ``p_acc`` and stage-1 stuck cells);
- ``outputs``: the output codes on their way back to DRAM (``p_flip``, stage-0 stuck cells);
- pool and add layers: their ``inputs`` groups (per operand of an add; flips and stuck cells,
  each copy drawn from the clean tensor, the copy delivered last supplying an element where
  copies overlap) and ``outputs``.

Each sample of a batch is corrupted independently (its own pass through the hardware);
stuck cells are the same for all. Every group draws from
``rng_for(run seed, "mc<i>/<layer>/<ds>/<group>")``.

:func:`uniform_exposure` is the synthetic study knob ``--ber``: the same groups and
work units (the same mapping), with one per-bit probability on the chosen data
structures and nothing else — one representation of "which copy each PE computed with"
for both error sources.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

import numpy as np

from simulator.accuracy.engine import Corrupt, Unit
from simulator.faults.exposure import group_box, groups_of, layer_index, stuck_bytes
from simulator.faults.flips import DS, ExposureData
from simulator.faults.inject import apply_stuck, flip_bits
from simulator.faults.seeding import rng_for
from simulator.workload import Layer

STRUCTURES = ("weights", "inputs", "psums", "outputs")


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


def units_of_run(data: ExposureData, layers: Sequence[Layer]) -> dict[str, list[Unit]]:
    """The work units of every conv and fc layer of the exposure."""
    return {layer.name: units_from_exposure(data, layer) for layer in layers if layer.kind in ("conv", "fc")}


def uniform_exposure(data: ExposureData, p_bit: float, structures: Sequence[str]) -> ExposureData:
    """``data``'s groups and work units with probability ``p_bit`` at every bit position of the
    groups of ``structures`` (weights, inputs, psums, outputs), zero elsewhere, no accumulator
    errors and no stuck cells: a synthetic uniform-BER study, not a hardware operating point."""
    bad = [s for s in structures if s not in STRUCTURES]
    if bad:
        raise ValueError(f"unknown data structures {bad}: allowed {STRUCTURES}")
    chosen = np.isin(data.group_ds, [DS.index(s) for s in structures])
    p = np.where(chosen[:, None], np.float32(p_bit), np.float32(0.0)).astype(np.float32)
    p = np.broadcast_to(p, data.p_flip.shape).copy()
    none = np.zeros(0, np.int64)
    return dataclasses.replace(data, p_flip=p, p_acc=np.zeros_like(data.p_acc), stuck_group=none.astype(np.int32),
                               stuck_element=none, stuck_bit=none.astype(np.int8),
                               stuck_value=none.astype(np.int8), stuck_stage=none.astype(np.int8),
                               meta={**data.meta, "uniform_ber": float(p_bit), "uniform_on": list(structures)})


def _stuck(data: ExposureData, gid: int, stage: int = 0):
    sel = np.flatnonzero((data.stuck_group == gid) & (data.stuck_stage == stage))
    return data.stuck_element[sel], data.stuck_bit[sel].astype(np.int64), data.stuck_value[sel]


def _force(t: np.ndarray, flat_index: np.ndarray, bit: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Stuck bits of the elements at ``flat_index`` (C order of ``t``'s last axes, every sample
    along axis 0); ``bit`` is the bit of the element's word (little-endian)."""
    if len(flat_index) == 0:
        return t
    per_sample = int(np.prod(t.shape[1:]))
    n = t.shape[0]
    elems = (np.arange(n)[:, None] * per_sample + np.asarray(flat_index, np.int64)[None, :]).reshape(-1)
    byte, bits, keep = stuck_bytes(t, elems, np.tile(np.asarray(bit, np.int64), n))
    vals = np.tile(np.asarray(value).astype(np.uint8), n)[keep]
    order = np.lexsort((bits, byte))
    return apply_stuck(np.ascontiguousarray(t), byte[order], bits[order], vals[order])


def _corrupt_box(t: np.ndarray, origin: Sequence[int], box: Sequence[slice], p: np.ndarray,
                 stuck: tuple, rng: np.random.Generator) -> np.ndarray:
    """``t`` (samples x dims, its first element at ``origin`` of the tensor) with the part of the
    group ``box`` (tensor coordinates) it holds corrupted: flips with ``p`` per bit of every byte,
    then the group's stuck cells (C-order element indices within ``box``) that fall inside."""
    part = _corrupt_part(t, origin, box, p, stuck, rng)
    if part is None:
        return t
    out = np.array(t, copy=True)
    out[part[0]] = part[1]
    return out


def _corrupt_part(t: np.ndarray, origin: Sequence[int], box: Sequence[slice], p: np.ndarray,
                  stuck: tuple, rng: np.random.Generator) -> tuple[tuple, np.ndarray] | None:
    """(index into ``t``, the corrupted copy of that part) for :func:`_corrupt_box`; None if ``t``
    holds nothing of ``box``."""
    lo = [max(b.start, o) for b, o in zip(box, origin)]
    hi = [min(b.stop, o + s) for b, o, s in zip(box, origin, t.shape[1:])]
    if any(h <= low for low, h in zip(lo, hi)):
        return None
    local = (slice(None), *(slice(a - o, b - o) for a, b, o in zip(lo, hi, origin)))
    sub = flip_bits(t[local], p, rng) if np.any(p) else np.array(t[local], copy=True)
    element, bit, value = stuck
    if len(element):
        shape = tuple(b.stop - b.start for b in box)
        coords = np.unravel_index(np.asarray(element, np.int64), shape)
        absolute = [c + b.start for c, b in zip(coords, box)]
        inside = np.all([(a >= low) & (a < h) for a, low, h in zip(absolute, lo, hi)], axis=0)
        if np.any(inside):
            flat = np.ravel_multi_index(tuple(a[inside] - low for a, low in zip(absolute, lo)),
                                        tuple(h - low for low, h in zip(lo, hi)))
            sub = _force(sub, flat, bit[inside], value[inside])
    return local, sub


def _operand_boxes(box: tuple[slice, ...], layer: Layer, stuck: tuple) -> list[tuple[int, tuple, tuple]]:
    """An inputs box (t, g, c, rows, cols) of a pool / add layer (one group per channel: c = 0:1,
    padded coordinates) as (operand, (channels, rows, cols) box of the unpadded input, the stuck
    cells of that operand as C-order indices within that box) per operand it covers. Stuck cells
    on padding (made at the destination, not stored) are dropped."""
    t, g, c, rows, cols = box
    r0, c0 = max(rows.start - layer.pad_h, 0), max(cols.start - layer.pad_w, 0)
    r1, c1 = min(rows.stop - layer.pad_h, layer.in_h), min(cols.stop - layer.pad_w, layer.in_w)
    if r1 <= r0 or c1 <= c0:
        return []
    element, bit, value = stuck
    shape = tuple(b.stop - b.start for b in box)
    ti, gi, ci, yi, xi = np.unravel_index(np.asarray(element, np.int64), shape)
    y, x = yi + rows.start - layer.pad_h, xi + cols.start - layer.pad_w
    stored = (y >= r0) & (y < r1) & (x >= c0) & (x < c1)
    out = []
    for op in range(t.start, t.stop):
        sel = stored & (ti + t.start == op)
        local = np.ravel_multi_index((gi[sel] + ci[sel], y[sel] - r0, x[sel] - c0),
                                     (g.stop - g.start, r1 - r0, c1 - c0)) if sel.any() else element[:0]
        out.append((op, (slice(g.start, g.stop), slice(r0, r1), slice(c0, c1)), (local, bit[sel], value[sel])))
    return out


def exposure_ber(data: ExposureData, layers: dict[str, Layer], run_seed: int = 0) -> Callable[[int], Corrupt]:
    """A factory: Monte Carlo index -> corruption hook drawing the exposure's errors.

    ``layers``: the workload's layers by name (for padding, strides and groups)."""
    parts: dict[tuple, dict[tuple, int]] = {}  # (layer) -> {unit key: reduction part index}

    def part_of(layer: str, unit: Unit) -> int:
        if layer not in parts:
            li = layer_index(data, layer)
            tiles: dict[tuple, list[int]] = {}
            for row in np.flatnonzero(data.work_layer == li):
                k0, k1, c0, c1, y0, y1, x0, x1 = (int(v) for v in data.work_slice[row])
                tiles.setdefault((k0, k1, y0, y1, x0, x1), []).append(c0)
            parts[layer] = {(tile, c0): i for tile, cs in tiles.items() for i, c0 in enumerate(sorted(set(cs)))}
        return parts[layer].get(((unit.k0, unit.k1, unit.p0, unit.p1, unit.q0, unit.q1), unit.c0), 0)

    def factory(mc: int) -> Corrupt:
        cache: dict[tuple, np.ndarray] = {}

        def rng(layer: str, ds: str, gid: int) -> np.random.Generator:
            return rng_for(run_seed, f"mc{mc}/{layer}/{ds}/{gid}")

        def corrupt(layer: str, ds: str, t: np.ndarray, unit: Unit | None = None) -> np.ndarray:
            ly = layers[layer]
            if ly.kind not in ("conv", "fc"):
                return _pool_add(layer, ds, t) if ds in ("inputs", "outputs") else t
            if ds == "outputs":
                return _outputs(layer, t)
            if ds == "acc" and unit is not None:
                return _acc(layer, t, unit)
            if ds == "psums" and unit is not None and unit.c0 > 0:
                return _psums(layer, t, unit)
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
            for gid in groups_of(data, layer, "outputs"):  # a layer the exposure lacks: a clear error
                gid = int(gid)
                out = _corrupt_box(out, (0, 0, 0), group_box(data, gid), data.p_flip[gid], _stuck(data, gid),
                                   rng(layer, "outputs", gid))
            return out

        def _acc(layer: str, acc: np.ndarray, tile: Unit) -> np.ndarray:
            for gid in groups_of(data, layer, "outputs"):
                gid = int(gid)
                acc = _corrupt_box(acc, (tile.k0, tile.p0, tile.q0), group_box(data, gid), data.p_acc[gid],
                                   _stuck(data, gid, 1), rng(layer, "acc", gid))
            return acc

        def _psums(layer: str, psum: np.ndarray, unit: Unit) -> np.ndarray:
            part = part_of(layer, unit)
            for gid in groups_of(data, layer, "psums"):
                gid = int(gid)
                box = group_box(data, gid)
                if not box[0].start <= part < box[0].stop:
                    continue
                psum = _corrupt_box(psum, (unit.k0, unit.p0, unit.q0), box[1:], data.p_flip[gid],
                                    _stuck(data, gid), rng(layer, "psums", gid))
            return psum

        def _pool_add(layer: str, ds: str, t: np.ndarray) -> np.ndarray:
            """Input copies of a pool / add (each operand of an add): every group is drawn from the
            clean tensor and written over its box in delivery order, so where copies overlap the
            copy delivered last supplies the element (one copy's errors per element, never the sum
            of several); the output groups go through :func:`_outputs`."""
            if ds == "outputs":
                return _outputs(layer, t)
            ly = layers[layer]
            stacked = t if ly.kind == "add" else t[None]  # (operands, N, C, H, W)
            out = np.array(stacked, copy=True)
            for gid in groups_of(data, layer, "inputs"):
                gid = int(gid)
                for op, box, stuck in _operand_boxes(group_box(data, gid), ly, _stuck(data, gid)):
                    if op < out.shape[0]:
                        part = _corrupt_part(stacked[op], (0, 0, 0), box, data.p_flip[gid], stuck,
                                             rng(layer, f"inputs{op}", gid))
                        if part is not None:
                            out[op][part[0]] = part[1]
            return out if ly.kind == "add" else out[0]

        return corrupt
    return factory
