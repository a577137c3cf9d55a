"""The exposure file (``exposure.npz``, format ``axsim-exposure`` version 1) and the
injection of an exposure into real integer tensors (pure numpy).

One row per *element group* (one copy of one tensor slice with one journey):

- ``group_layer`` (index into ``layers``), ``group_ds`` (index into ``ds_names``),
  ``group_slice`` (the flat slice of :mod:`simulator.mapping.identity`, zero-padded to
  12 integers), ``group_chiplet``/``group_pe`` (the PE that received, or sent, the copy;
  ``-1, -1`` for groups that end in DRAM or a global buffer), ``group_txn``;
- ``p_flip`` (groups x 8): probability that bit ``b`` of every byte of an element is
  corrupted on the journey (applies to the value as stored and moved: int8 weights,
  inputs and outputs, int32 partial sums);
- ``p_acc`` (groups x 8): for outputs, the probability for the accumulator (int32)
  before requantization (accumulation-buffer reads; for a split reduction, the
  journey of the partial sums of part 0); zero for the other data structures.

Persistent faults, one row per stuck cell under an element: ``stuck_group``,
``stuck_element`` (C-order index within the slice), ``stuck_bit`` (bit of the
element's word, 0 = LSB), ``stuck_value`` (0/1), ``stuck_stage`` (0 value, 1 accumulator).

Work, one row per PE and compute transaction: ``work_layer``, ``work_txn``,
``work_chiplet``, ``work_pe``, ``work_slice`` (k, c, rows, cols), ``work_weights``
and ``work_inputs`` (the group ids of the copies the PE computed with; -1 if none).
"""
from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np

from simulator.errors import AxsimError
from simulator.faults.flips import DS, ExposureData
from simulator.faults.inject import apply_stuck, flip_bits
from simulator.mapping.identity import DIMS

FORMAT = "axsim-exposure"
VERSION = 1


def write_exposure(path: str | Path, data: ExposureData) -> Path:
    path = Path(path)
    arrays = {f.name: getattr(data, f.name) for f in fields(data) if f.name not in ("layers", "meta")}
    header = {"format": FORMAT, "version": VERSION, "ds_names": list(DS), **data.meta}
    np.savez_compressed(path, header=np.array(json.dumps(header, sort_keys=True)),
                        layers=np.array(data.layers, dtype=str), **arrays)
    return path


def load_exposure(path: str | Path) -> ExposureData:
    path = Path(path)
    if not path.is_file():
        raise AxsimError(f"{path}: no such exposure file")
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            if header.get("format") != FORMAT or header.get("version") != VERSION:
                raise AxsimError(f"{path}: format {header.get('format')!r} version {header.get('version')!r}: "
                                 f"expected {FORMAT!r} version {VERSION}")
            values = {f.name: z[f.name] for f in fields(ExposureData) if f.name not in ("layers", "meta")}
            layers = [str(x) for x in z["layers"]]
    except (OSError, ValueError, KeyError) as exc:
        raise AxsimError(f"{path}: not a readable exposure file: {exc}") from None
    meta = {k: v for k, v in header.items() if k not in ("format", "version", "ds_names")}
    return ExposureData(layers=layers, meta=meta, **values)


# -- selection -------------------------------------------------------------------------------
def layer_index(data: ExposureData, layer: str | int) -> int:
    if isinstance(layer, int):
        return layer
    try:
        return data.layers.index(layer)
    except ValueError:
        raise AxsimError(f"layer {layer!r} is not in the exposure (layers: {', '.join(data.layers[:5])}, ...)") from None


def groups_of(data: ExposureData, layer: str | int, ds: str) -> np.ndarray:
    """Ids of the groups of ``ds`` in ``layer`` (in the order they were delivered)."""
    return np.flatnonzero((data.group_layer == layer_index(data, layer)) & (data.group_ds == DS.index(ds)))


def group_box(data: ExposureData, gid: int) -> tuple[slice, ...]:
    """Index of group ``gid``'s slice into its tensor (layouts: :mod:`simulator.mapping.identity`)."""
    ds = DS[int(data.group_ds[gid])]
    s = data.group_slice[gid]
    return tuple(slice(int(s[2 * i]), int(s[2 * i + 1])) for i in range(len(DIMS[ds])))


# -- injection -------------------------------------------------------------------------------
def stuck_bytes(values: np.ndarray, element: np.ndarray, bit: np.ndarray):
    """(byte index, bit within the byte) of bit ``bit`` of flat element ``element`` of ``values``
    (little-endian words, as numpy stores integers on the machines axsim runs on), and the mask
    of the cells kept."""
    size = values.dtype.itemsize
    bit = np.asarray(bit, np.int64)
    keep = bit < size * 8  # a 24-bit accumulator cell beyond an int8 value's width: not stored
    return (np.asarray(element, np.int64)[keep] * size + bit[keep] // 8), bit[keep] % 8, keep


def corrupt(values: np.ndarray, p_bit: np.ndarray, rng: np.random.Generator,
            stuck: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """A corrupted copy of ``values``: transient flips with probability ``p_bit[b]`` at bit ``b``
    of every byte, then the stuck bits (a bit under a stuck cell always reads its stuck value)."""
    out = flip_bits(values, p_bit, rng) if np.any(p_bit) else np.array(values, copy=True)
    if stuck is not None and len(stuck[0]):
        byte, bit, keep = stuck_bytes(out, stuck[0], stuck[1])
        order = np.lexsort((bit, byte))
        out = apply_stuck(out, byte[order], bit[order], np.asarray(stuck[2])[keep][order].astype(np.uint8))
    return out


def corrupt_group(data: ExposureData, gid: int, values: np.ndarray, rng: np.random.Generator,
                  stage: str = "value") -> np.ndarray:
    """Corrupt the elements of group ``gid`` (``values`` has the slice's shape).

    ``stage``: ``"value"`` (``p_flip`` and the stuck cells of stage 0) or ``"acc"`` (the
    accumulator of an output before requantization: ``p_acc`` and stage-1 stuck cells)."""
    st = 1 if stage == "acc" else 0
    expected = tuple(b.stop - b.start for b in group_box(data, gid))
    if values.shape != expected:
        raise AxsimError(f"group {gid}: values of shape {values.shape}, the slice has shape {expected}")
    sel = np.flatnonzero((data.stuck_group == gid) & (data.stuck_stage == st))
    stuck = (data.stuck_element[sel], data.stuck_bit[sel], data.stuck_value[sel]) if len(sel) else None
    return corrupt(values, (data.p_acc if st else data.p_flip)[gid], rng, stuck)


def pe_copies(data: ExposureData, layer: str | int, ds: str, tensor: np.ndarray,
              rng: np.random.Generator) -> dict[int, np.ndarray]:
    """Each PE's own corrupted copy of its slice of ``tensor``, by group id.

    ``tensor`` in the layout of ``ds``: weights (K, C/groups, R, S); inputs
    (T, groups, C/groups, rows, cols) of the zero-padded input (see :func:`input_tensor`).
    A copy is drawn once and reused by every step that computes with it, as in the hardware."""
    return {int(g): corrupt_group(data, int(g), tensor[group_box(data, int(g))], rng)
            for g in groups_of(data, layer, ds)}


def corrupt_outputs(data: ExposureData, layer: str | int, outputs: np.ndarray, rng: np.random.Generator,
                    stage: str = "value") -> np.ndarray:
    """``outputs`` (K, rows, cols) with every output group corrupted on its way to DRAM
    (``stage="acc"``: the int32 accumulators before requantization)."""
    out = np.array(outputs, copy=True)
    for g in groups_of(data, layer, "outputs"):
        box = group_box(data, int(g))
        out[box] = corrupt_group(data, int(g), out[box], rng, stage)
    return out


def input_tensor(x: np.ndarray, groups: int, pad_h: int, pad_w: int, pad_value: int = 0) -> np.ndarray:
    """The inputs layout of the traces from a batch ``x`` of shape (N, C, H, W): zero-padded
    (``pad_value``), samples stacked along the rows, channels split into groups:
    shape (1, groups, C/groups, N*(H+2*pad_h), W+2*pad_w). Stack two for an element-wise add."""
    n, c, h, w = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (pad_h, pad_h), (pad_w, pad_w)), constant_values=pad_value)
    stacked = padded.transpose(1, 0, 2, 3).reshape(c, n * (h + 2 * pad_h), w + 2 * pad_w)
    return stacked.reshape(1, groups, c // groups, *stacked.shape[1:])
