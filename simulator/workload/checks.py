"""Whole-workload checks: dimension bounds and shape chaining between layers.

Bounds. Every dimension has a sane upper bound (:data:`LIMITS`), far above
any real network (ImageNet models: at most a few thousand channels and 224 to
600 pixels a side) but low enough that a typo such as ``10**30`` is an error
rather than a run that never finishes.

Chaining. A layer's input is what its producer outputs: for a convolution,
pooling or addition its ``input: [C, H, W]`` must equal the producer's
``[K, P, Q]``; a fully connected layer takes the flattened output
(``in_features == K * P * Q``); a concatenation's producers all output
``H x W`` and their channels add up to its ``C``. Each layer names its producers; the check
takes them as a list of producer indices per layer (empty: the network
input, not checked), so any way of naming producers (the previous layer by
default, or named inputs) plugs in.
"""
from __future__ import annotations

from typing import Sequence

from ..errors import Problem, join_path, show
from .layer import NETWORK_INPUT, Layer

MAX_CHANNELS = 1 << 20   # channels and features: 1,048,576
MAX_SPATIAL = 1 << 16    # height, width, kernel, stride, padding: 65,536
MAX_BATCH = 1 << 16
LIMITS: dict[str, int] = {"in_channels": MAX_CHANNELS, "out_channels": MAX_CHANNELS,
                          "in_h": MAX_SPATIAL, "in_w": MAX_SPATIAL, "kernel_h": MAX_SPATIAL,
                          "kernel_w": MAX_SPATIAL, "stride_h": MAX_SPATIAL, "stride_w": MAX_SPATIAL,
                          "pad_h": MAX_SPATIAL, "pad_w": MAX_SPATIAL}
_WHAT = {"in_channels": "input channels", "out_channels": "output channels", "in_h": "input height",
         "in_w": "input width", "kernel_h": "kernel size", "kernel_w": "kernel size", "stride_h": "stride",
         "stride_w": "stride", "pad_h": "padding", "pad_w": "padding"}


def _key_of(layer: Layer, field: str) -> str:
    """The file key that holds a Layer field (YAML format)."""
    if layer.kind == "fc":
        return {"in_channels": "in_features", "out_channels": "out_features"}.get(field, field)
    return {"in_channels": "input[0]", "in_h": "input[1]", "in_w": "input[2]", "out_channels": "out_channels",
            "kernel_h": "kernel", "kernel_w": "kernel", "stride_h": "stride", "stride_w": "stride",
            "pad_h": "padding", "pad_w": "padding"}[field]


def bound_problems(layers: Sequence[Layer], paths: Sequence[str]) -> list[Problem]:
    """Dimensions above :data:`LIMITS` (one problem per offending key)."""
    out: list[Problem] = []
    for layer, path in zip(layers, paths):
        seen = set()
        for field, limit in LIMITS.items():
            value = getattr(layer, field)
            key = _key_of(layer, field)
            if value > limit and key not in seen:
                seen.add(key)
                out.append(Problem(f"{path}.{key}", f"{show(value)}: must be at most {limit:,} "
                                                    f"(a sanity bound on the {_WHAT[field]})"))
    return out


def output_shape(layer: Layer) -> tuple[int, int, int]:
    return layer.out_channels, layer.out_h, layer.out_w


def _takes(layer: Layer, shape: tuple[int, int, int]) -> bool:
    if layer.kind == "fc":
        return layer.in_channels == shape[0] * shape[1] * shape[2]
    return (layer.in_channels, layer.in_h, layer.in_w) == shape


def _describe_input(layer: Layer) -> str:
    if layer.kind == "fc":
        return f"in_features {layer.in_channels}"
    return f"input [{layer.in_channels}, {layer.in_h}, {layer.in_w}]"


def _expected(layer: Layer, shape: tuple[int, int, int]) -> str:
    if layer.kind == "fc":
        return f"in_features: {shape[0] * shape[1] * shape[2]} (flattened {list(shape)})"
    return f"input: {list(shape)}"


def previous_layer_producers(n: int) -> list[list[int]]:
    """The default: each layer takes the previous layer's output; the first one the network input."""
    return [[i - 1] if i else [] for i in range(n)]


def chain_problems(layers: Sequence[Layer], producers: Sequence[Sequence[int]], paths: Sequence[str],
                   hint: str = "") -> list[Problem]:
    """Layers whose input is not what their producers output."""
    out: list[Problem] = []
    for i, (layer, prods) in enumerate(zip(layers, producers)):
        if layer.kind == "concat":
            if prods or NETWORK_INPUT in layer.inputs:
                out += concat_problems(layer, [layers[j] for j in prods], paths[i])
            continue
        for j in prods:
            src = layers[j]
            shape = output_shape(src)
            if not _takes(layer, shape):
                key = "in_features" if layer.kind == "fc" else "input"
                out.append(Problem(f"{paths[i]}.{key}",
                                   f"{_describe_input(layer)} of layer {layer.name!r} is not what its producer "
                                   f"{src.name!r} outputs {list(shape)}; expected {_expected(layer, shape)}"
                                   f"{hint}"))
    return out


def producers_from_names(layers: Sequence[Layer], named: Sequence[object | None], paths: Sequence[str]
                         ) -> tuple[list[list[int]], list[Problem]]:
    """Producer indices from per-layer lists of earlier layer names (``None``: the previous layer).

    The name :data:`NETWORK_INPUT` means the network's input (not checked).
    """
    index = {layer.name: i for i, layer in enumerate(layers)}
    producers = previous_layer_producers(len(layers))
    problems: list[Problem] = []
    for i, names in enumerate(named):
        if names is None:
            continue
        path = join_path(paths[i], "inputs")
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
            problems.append(Problem(path, f"{show(names)}: must be a list of names of earlier layers "
                                          f"(or {NETWORK_INPUT!r} for the network input)"))
            continue
        prods = []
        for name in names:
            if name == NETWORK_INPUT:
                continue
            j = index.get(name)
            if j is None or j >= i:
                problems.append(Problem(path, f"{show(name)}: not the name of an earlier layer "
                                              f"(or {NETWORK_INPUT!r} for the network input)"))
            else:
                prods.append(j)
        producers[i] = prods
    return producers, problems


def concat_problems(layer: Layer, producers: Sequence[Layer], path: str) -> list[Problem]:
    """A concatenation's operands: earlier layers (not the network input) with the layer's height
    and width, whose channels add up to its input channels."""
    if NETWORK_INPUT in layer.inputs:
        return [Problem(f"{path}.inputs", f"{list(layer.inputs)}: the operands of a concat must be earlier "
                                          f"layers, not {NETWORK_INPUT!r} (their shapes give the channel split)")]
    out: list[Problem] = []
    for src in producers:
        if (src.out_h, src.out_w) != (layer.in_h, layer.in_w):
            out.append(Problem(f"{path}.input", f"[{layer.in_channels}, {layer.in_h}, {layer.in_w}]: concat "
                                                f"{layer.name!r} joins along the channels, but its input {src.name!r} "
                                                f"outputs {list(output_shape(src))}: height and width must be "
                                                f"{layer.in_h} x {layer.in_w} for every input"))
    total = sum(src.out_channels for src in producers)
    if not out and total != layer.in_channels:
        parts = " + ".join(f"{src.out_channels} ({src.name})" for src in producers)
        out.append(Problem(f"{path}.input", f"[{layer.in_channels}, {layer.in_h}, {layer.in_w}]: the channels of "
                                            f"concat {layer.name!r} must be the sum of its inputs' channels "
                                            f"{parts} = {total}; expected input: [{total}, {layer.in_h}, {layer.in_w}]"))
    return out
