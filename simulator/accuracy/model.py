"""A quantized network: the workload graph plus its int8 weights and quantization parameters.

Weights file (``.npz``, named by the workload's ``weights:`` key, path relative
to the workload file), one set of arrays per layer ``L``:

=====================  ===========  ==============================================
key                    dtype        shape / meaning
=====================  ===========  ==============================================
``input.scale``        float32      ``()``: scale of the network input (real = s·(q − z))
``input.zero_point``   integer      ``()``: 0..255
``L.weight``           int8         conv ``(K, C/groups, R, S)``, fc ``(K, C)``
``L.bias``             int32        ``(K,)``, scale ``s_x·s_w``, zero point 0
``L.weight_scale``     float32      ``(K,)`` per output channel or ``(1,)`` per tensor
``L.scale``            float32      ``()``: output scale (conv, fc, add)
``L.zero_point``       integer      ``()``: output zero point 0..255 (conv, fc, add)
=====================  ===========  ==============================================

Pool layers keep their input's scale and zero point unless ``L.scale`` and
``L.zero_point`` are given (then their output is requantized). Batch normalisation is
folded into the preceding convolution's weights and bias before quantization.
"""
from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from simulator.config.validation import validate_model
from simulator.errors import AxsimError, InputError, Problem
from simulator.workload import NETWORK_INPUT, Layer, Workload


class _QParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scale: float = Field(gt=0)
    zero_point: int = Field(ge=0, le=255)

    @field_validator("scale")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number > 0")
        return v


@dataclass
class QLayer:
    """One layer with its quantized parameters (weights None for pool and add)."""

    layer: Layer
    inputs: tuple[str, ...]
    scale: np.float32 = np.float32(1.0)
    zero_point: int = 0
    weight: np.ndarray | None = None
    bias: np.ndarray | None = None
    weight_scale: np.ndarray | None = None
    own_params: bool = True  # False: a pool that keeps its input's scale and zero point

    @property
    def name(self) -> str:
        return self.layer.name


@dataclass
class QuantModel:
    """A quantized network, runnable by :func:`simulator.accuracy.engine.infer`."""

    name: str
    input_shape: tuple[int, int, int]
    input_scale: np.float32
    input_zero_point: int
    layers: list[QLayer]
    source: str = ""

    def layer(self, name: str) -> QLayer:
        for q in self.layers:
            if q.name == name:
                return q
        raise KeyError(name)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays of the weights file (inverse of :func:`load_weights`)."""
        out = {"input.scale": np.float32(self.input_scale), "input.zero_point": np.int32(self.input_zero_point)}
        for q in self.layers:
            if q.weight is not None:
                out[f"{q.name}.weight"] = q.weight
                out[f"{q.name}.bias"] = q.bias
                out[f"{q.name}.weight_scale"] = q.weight_scale
            if q.layer.kind != "pool":
                out[f"{q.name}.scale"] = np.float32(q.scale)
                out[f"{q.name}.zero_point"] = np.int32(q.zero_point)
        return out

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        np.savez_compressed(path, **self.arrays())
        return path


def weight_shape(layer: Layer) -> tuple[int, ...]:
    if layer.kind == "fc":
        return (layer.out_channels, layer.in_channels)
    return (layer.out_channels, layer.channels_per_group, layer.kernel_h, layer.kernel_w)


def weights_path(workload: Workload) -> Path:
    if not workload.weights:
        raise AxsimError(f"{workload.source}: the workload has no trained weights (add 'weights: FILE.npz' "
                         "to the workload file, or import an ONNX model with 'axsim import')")
    path = Path(workload.weights)
    return path if path.is_absolute() else Path(workload.source).parent / path


def read_npz(path: Path, what: str) -> dict[str, np.ndarray]:
    """All arrays of an ``.npz`` file (no pickles); a clear error for anything else."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise AxsimError(f"{path}: {what} not found") from None
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(path, [Problem("", f"not a readable .npz archive of arrays ({exc})")]) from None
    except AttributeError:
        raise InputError(path, [Problem("", "a single .npy array, not an .npz archive of named arrays")]) from None


def _array(arrays: dict, key: str, dtype_kind: str, shape: tuple[int, ...] | None,
           problems: list[Problem]) -> np.ndarray | None:
    if key not in arrays:
        problems.append(Problem(key, "missing array"))
        return None
    arr = arrays[key]
    ok_dtype = {"i8": arr.dtype == np.int8, "i32": arr.dtype == np.int32,
                "f": np.issubdtype(arr.dtype, np.floating), "i": np.issubdtype(arr.dtype, np.integer)}[dtype_kind]
    if not ok_dtype:
        want = {"i8": "int8", "i32": "int32", "f": "a float dtype", "i": "an integer dtype"}[dtype_kind]
        problems.append(Problem(key, f"dtype {arr.dtype}: must be {want}"))
        return None
    if shape is not None and arr.shape != shape:
        problems.append(Problem(key, f"shape {arr.shape}: must be {shape}"))
        return None
    return arr


def _qparams(arrays: dict, prefix: str, file: Path, problems: list[Problem]) -> tuple[np.float32, int] | None:
    s = _array(arrays, f"{prefix}.scale", "f", (), problems)
    z = _array(arrays, f"{prefix}.zero_point", "i", (), problems)
    if s is None or z is None:
        return None
    try:
        p = validate_model(_QParams, {"scale": float(s), "zero_point": int(z)}, file, prefix)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    return np.float32(p.scale), p.zero_point


def load_weights(workload: Workload, path: str | Path | None = None) -> QuantModel:
    """The quantized model of ``workload`` from its weights file (every problem reported at once)."""
    if path is None:
        path = weights_path(workload)
        if not path.is_file():
            raise InputError(workload.source, [Problem("weights", f"{workload.weights!r}: weights file not found "
                                                                  f"(looked for {path})")])
    path = Path(path)
    arrays = read_npz(path, "weights file")
    problems: list[Problem] = []
    first = workload.layers[0]
    if first.kind == "fc":
        in_shape = (first.in_channels, 1, 1)
    else:
        in_shape = (first.in_channels, first.in_h, first.in_w)
    qin = _qparams(arrays, "input", path, problems)
    producers = workload.producers()
    layers: list[QLayer] = []
    known = {NETWORK_INPUT} | {layer.name for layer in workload.layers}
    for layer in workload.layers:
        q = QLayer(layer, producers[layer.name])
        if layer.kind in ("conv", "fc"):
            q.weight = _array(arrays, f"{layer.name}.weight", "i8", weight_shape(layer), problems)
            q.bias = _array(arrays, f"{layer.name}.bias", "i32", (layer.out_channels,), problems)
            ws = _array(arrays, f"{layer.name}.weight_scale", "f", None, problems)
            if ws is not None:
                if ws.shape not in ((layer.out_channels,), (1,)):
                    problems.append(Problem(f"{layer.name}.weight_scale", f"shape {ws.shape}: must be "
                                            f"({layer.out_channels},) (per channel) or (1,) (per tensor)"))
                elif not (np.all(np.isfinite(ws)) and np.all(ws > 0)):
                    problems.append(Problem(f"{layer.name}.weight_scale", "every scale must be finite and > 0"))
                else:
                    q.weight_scale = np.broadcast_to(ws.astype(np.float32), (layer.out_channels,)).copy()
        if layer.kind == "pool" and f"{layer.name}.scale" not in arrays:
            q.own_params = False
        else:
            params = _qparams(arrays, layer.name, path, problems)
            if params is not None:
                q.scale, q.zero_point = params
        layers.append(q)
    extra = sorted(k for k in arrays if k.rsplit(".", 1)[0] not in known)
    for key in extra[:5]:
        problems.append(Problem(key, f"array for no layer of {workload.source} "
                                     f"(layers: {', '.join(layer.name for layer in workload.layers[:4])}, ...)"))
    if problems:
        raise InputError(path, problems)
    assert qin is not None
    return QuantModel(workload.name, in_shape, qin[0], qin[1], layers, str(path))
