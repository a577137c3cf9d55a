"""Layers and workloads: the shapes every other part of axsim works from.

A :class:`Layer` holds one operator of a network with its input shape and its
convolution geometry; everything else (output size, MACs, tensor sizes) is
derived. Fully connected layers are stored as 1x1 convolutions on a 1x1 input
(``in_channels`` = in features, ``out_channels`` = out features), so mappers
see only two compute shapes: convolutions (possibly grouped) and vector
operations (pooling and element-wise additions). A concatenation (``concat``)
joins its inputs along the channels: ``in_channels`` = ``out_channels`` = the
sum of its operands' channels; it computes nothing (a view of its operands).

Notation (as in Timeloop / SCALE-Sim): C input channels, H x W input size,
K output channels, R x S kernel, P x Q output size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Literal, get_args

LayerKind = Literal["conv", "fc", "pool", "add", "concat"]
LAYER_KINDS: tuple[str, ...] = get_args(LayerKind)
POOL_MODES: tuple[str, ...] = ("max", "avg")
ACTIVATIONS: tuple[str, ...] = ("relu", "relu6")
NETWORK_INPUT = "input"  # the name by which a layer takes the network's input


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer; sizes are per sample (batch 1).

    Constructing an inconsistent layer (for instance a pool layer whose
    ``out_channels`` differs from ``in_channels``) raises ``ValueError``: the
    file loaders validate user input beforehand and report it as
    :class:`~simulator.errors.InputError`.
    """

    name: str
    kind: LayerKind
    in_channels: int  # C
    in_h: int  # H
    in_w: int  # W
    out_channels: int  # K (pool/add: equals in_channels)
    kernel_h: int = 1  # R
    kernel_w: int = 1  # S
    stride_h: int = 1
    stride_w: int = 1
    pad_h: int = 0
    pad_w: int = 0
    groups: int = 1  # depthwise: groups == in_channels == out_channels
    pool_mode: str | None = None  # "max" | "avg" for pool layers
    inputs: tuple[str, ...] = ()  # producers by name (empty: the previous layer, or the network input)
    activation: str | None = None  # "relu" | "relu6", applied to the output

    def __post_init__(self) -> None:
        problems = _inconsistencies(self)
        if problems:
            raise ValueError(f"layer {self.name!r}: " + "; ".join(problems))

    # -- convenience constructors -------------------------------------------------
    @classmethod
    def fc(cls, name: str, in_features: int, out_features: int) -> "Layer":
        """A fully connected layer, stored as a 1x1 convolution on a 1x1 input."""
        return cls(name, "fc", in_features, 1, 1, out_features)

    # -- derived geometry ---------------------------------------------------------
    @property
    def out_h(self) -> int:
        """P = (H + 2*pad_h - R) // stride_h + 1."""
        return (self.in_h + 2 * self.pad_h - self.kernel_h) // self.stride_h + 1

    @property
    def out_w(self) -> int:
        """Q = (W + 2*pad_w - S) // stride_w + 1."""
        return (self.in_w + 2 * self.pad_w - self.kernel_w) // self.stride_w + 1

    @property
    def channels_per_group(self) -> int:
        """C / groups: input channels seen by one filter."""
        return self.in_channels // self.groups

    @property
    def out_channels_per_group(self) -> int:
        """K / groups."""
        return self.out_channels // self.groups

    @property
    def is_depthwise(self) -> bool:
        """A depthwise convolution: one filter per channel (groups == C == K > 1)."""
        return (
            self.kind == "conv"
            and self.groups > 1
            and self.groups == self.in_channels == self.out_channels
        )

    @property
    def is_compute(self) -> bool:
        """True for layers made of multiply-accumulates (conv, fc)."""
        return self.kind in ("conv", "fc")

    # -- work and data sizes (per sample) -----------------------------------------
    @property
    def macs(self) -> int:
        """Multiply-accumulates: K * (C/groups) * R * S * P * Q (0 for pool/add)."""
        if not self.is_compute:
            return 0
        return self.weight_count * self.out_h * self.out_w

    @property
    def vector_ops(self) -> int:
        """Element-wise operations: pool K*P*Q*R*S, add K*P*Q, conv/fc 0."""
        if self.kind == "pool":
            return self.output_count * self.kernel_h * self.kernel_w
        if self.kind == "add":
            return self.output_count
        return 0

    @property
    def weight_count(self) -> int:
        """Number of weights: K * (C/groups) * R * S (0 for pool/add)."""
        if not self.is_compute:
            return 0
        return self.out_channels * self.channels_per_group * self.kernel_h * self.kernel_w

    @property
    def input_count(self) -> int:
        """Input activations read: C*H*W (add reads two tensors: 2*C*H*W; concat: the sum of its
        operands, C*H*W)."""
        count = self.in_channels * self.in_h * self.in_w
        return 2 * count if self.kind == "add" else count

    @property
    def output_count(self) -> int:
        """Output activations written: K * P * Q."""
        return self.out_channels * self.out_h * self.out_w

    def describe(self) -> str:
        """One-line human-readable summary."""
        shape = f"{self.in_channels}x{self.in_h}x{self.in_w} -> {self.out_channels}x{self.out_h}x{self.out_w}"
        if self.kind == "fc":
            return f"{self.name}: fc {self.in_channels} -> {self.out_channels}"
        extra = ""
        if self.kind in ("conv", "pool"):
            extra = f" k{self.kernel_h}x{self.kernel_w} s{self.stride_h}x{self.stride_w} p{self.pad_h}x{self.pad_w}"
            if self.groups > 1:
                extra += f" g{self.groups}"
        kind = f"{self.pool_mode} pool" if self.kind == "pool" else self.kind
        return f"{self.name}: {kind} {shape}{extra}"


def _inconsistencies(layer: Layer) -> list[str]:
    """Internal consistency rules of a Layer (programming errors, not user errors)."""
    out: list[str] = []
    if layer.kind not in LAYER_KINDS:
        return [f"kind {layer.kind!r} is not one of {', '.join(LAYER_KINDS)}"]
    ints = {
        "in_channels": layer.in_channels, "in_h": layer.in_h, "in_w": layer.in_w,
        "out_channels": layer.out_channels, "kernel_h": layer.kernel_h,
        "kernel_w": layer.kernel_w, "stride_h": layer.stride_h,
        "stride_w": layer.stride_w, "groups": layer.groups,
    }
    for field_name, value in ints.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            out.append(f"{field_name} must be an integer >= 1, got {value!r}")
    for field_name, value in (("pad_h", layer.pad_h), ("pad_w", layer.pad_w)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            out.append(f"{field_name} must be an integer >= 0, got {value!r}")
    if out:
        return out
    if layer.kernel_h > layer.in_h + 2 * layer.pad_h or layer.kernel_w > layer.in_w + 2 * layer.pad_w:
        out.append("kernel larger than the padded input")
    if layer.in_channels % layer.groups or layer.out_channels % layer.groups:
        out.append(f"groups {layer.groups} must divide in_channels and out_channels")
    if layer.kind == "pool":
        if layer.pool_mode not in POOL_MODES:
            out.append(f"pool_mode must be one of {POOL_MODES}, got {layer.pool_mode!r}")
    elif layer.pool_mode is not None:
        out.append("pool_mode is only for pool layers")
    if layer.kind in ("pool", "add", "concat") and layer.out_channels != layer.in_channels:
        out.append("pool/add/concat layers need out_channels == in_channels")
    if layer.kind in ("pool", "add", "concat") and layer.groups != 1:
        out.append("pool/add/concat layers have groups == 1")
    if layer.kind == "concat" and len(layer.inputs) < 2:
        out.append("concat layers name at least two inputs")
    if layer.kind in ("fc", "add", "concat"):
        geometry = (layer.kernel_h, layer.kernel_w, layer.stride_h, layer.stride_w,
                    layer.pad_h, layer.pad_w)
        if geometry != (1, 1, 1, 1, 0, 0):
            out.append(f"{layer.kind} layers have kernel 1, stride 1, padding 0")
    if not isinstance(layer.inputs, tuple) or not all(isinstance(i, str) for i in layer.inputs):
        out.append(f"inputs must be a tuple of layer names, got {layer.inputs!r}")
    if layer.activation is not None and layer.activation not in ACTIVATIONS:
        out.append(f"activation must be one of {ACTIVATIONS}, got {layer.activation!r}")
    if layer.kind == "fc" and (layer.in_h, layer.in_w, layer.groups) != (1, 1, 1):
        out.append("fc layers have in_h == in_w == 1 and groups == 1")
    return out


@dataclass(frozen=True, slots=True)
class Workload:
    """A network: its layers in execution order, the file it came from and the batch."""

    name: str
    layers: tuple[Layer, ...]
    source: str  # the file it came from
    batch: int = 1
    description: str = ""
    weights: str | None = None  # trained weights (.npz), path as given in the file
    dataset: str | None = None  # default evaluation data (.npz with x and y)

    def __post_init__(self) -> None:
        if not isinstance(self.layers, tuple):
            object.__setattr__(self, "layers", tuple(self.layers))
        if isinstance(self.batch, bool) or not isinstance(self.batch, int) or self.batch < 1:
            raise ValueError(f"workload {self.name!r}: batch must be an integer >= 1, got {self.batch!r}")

    def total_macs(self) -> int:
        """MACs of the whole batch: batch * sum of per-layer MACs."""
        return self.batch * sum(layer.macs for layer in self.layers)

    def total_weights(self) -> int:
        """Weights of all layers (independent of the batch)."""
        return sum(layer.weight_count for layer in self.layers)

    def producers(self) -> dict[str, tuple[str, ...]]:
        """Each layer's producers by name: its ``inputs``, else the previous layer
        (``NETWORK_INPUT`` for the first layer)."""
        out: dict[str, tuple[str, ...]] = {}
        previous = NETWORK_INPUT
        for layer in self.layers:
            out[layer.name] = layer.inputs or (previous,)
            previous = layer.name
        return out

    def layer(self, name: str) -> Layer:
        """The layer called ``name`` (KeyError if absent)."""
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)
