"""Per-layer weight compression of a workload: schemes on the real weights, the ratio the mapper
moves and stores, the weights the MACs see, and the decompression cost.

A *scheme* is written as text (the values of a sweep's ``compress`` knob):

=================  ========  ==========================================================
``none``           —         8 bits per weight
``zrle``           lossless  zero run-length code, 4-bit run lengths (:func:`codecs.zrle`)
``huffman``        lossless  Huffman code of the int8 values (:func:`codecs.huffman`)
``prune:S``        lossy     the fraction ``S`` of smallest weights set to 0, then ``zrle``
``lowbits:K``      lossy     the ``K`` low-order bits shared (``8 − K`` bits stored)
``ratio:R``        declared  a compression ratio ``R`` ≥ 1 declared for a layer without weights
=================  ========  ==========================================================

Every scheme but ``none`` and ``ratio:R`` needs the workload's trained weights
(``weights: FILE.npz``); without them the error says so. ``ratio:R`` is
for workloads that carry shapes only (ResNet-50 here): the bytes moved are
scaled by ``1/R`` and no accuracy effect is modelled.

**Where the compressed bytes flow.** The ratio of a layer divides the stored
bytes per weight the mapper receives (``weight_bytes`` of
:func:`simulator.api.generate_traces`): DRAM reads, NoP and NoC transfers and
the global-buffer and PE weight-buffer traffic and occupancy of weights all
carry the compressed size. The weights are decompressed at the PE, between the
weight buffer and the MAC lanes, once per weight tile delivered to the PE
(weight-stationary: a tile stays in the lanes while the inputs stream). The
layer's average ratio is applied to each of its tiles (a variable-length code
gives tiles slightly different sizes; the mapper sees the mean).

**Decompression cost** (the technology table's ``decompression`` section):
``E = B_dec · e_byte`` and ``T = ceil(B_dec / (P · b_cycle))`` cycles per layer,
``B_dec`` the decompressed bytes delivered to the PEs of the layer (the
uncompressed weight bytes of its PE-bound weight transfers), ``P`` the PEs the
layer uses, ``b_cycle`` the bytes one PE's decompressor produces per cycle.
``T`` is added to the layer's latency: an upper bound (the decompressor is
taken as not overlapped with the transfers and the MACs).
"""
from __future__ import annotations

import fnmatch
import math
import re
from dataclasses import dataclass, field, replace
from typing import Iterable, Sequence

import numpy as np

from simulator.compress import codecs
from simulator.errors import AxsimError

SCHEMES = ("none", "zrle", "huffman", "prune:S", "lowbits:K", "ratio:R")
LOSSY = ("prune", "lowbits")
_SCHEME = re.compile(r"^(none|zrle|huffman)$|^(prune|lowbits|ratio):([-+0-9.eE]+)$")


@dataclass(frozen=True)
class Scheme:
    kind: str
    param: float | None = None

    @property
    def text(self) -> str:
        if self.param is None:
            return self.kind
        p = int(self.param) if self.kind == "lowbits" else self.param
        return f"{self.kind}:{p:g}" if isinstance(p, float) else f"{self.kind}:{p}"

    @property
    def needs_weights(self) -> bool:
        return self.kind not in ("none", "ratio")

    @property
    def lossy(self) -> bool:
        return self.kind in LOSSY


def parse_scheme(text) -> Scheme:
    """``'prune:0.5'`` -> Scheme('prune', 0.5); ValueError naming the allowed forms otherwise."""
    allowed = f"one of {', '.join(SCHEMES)} (S in [0, 1], K in 0..7, R >= 1)"
    m = _SCHEME.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"{text!r}: not a compression scheme; {allowed}")
    if m.group(1):
        return Scheme(m.group(1))
    kind, value = m.group(2), float(m.group(3))
    if kind == "prune" and not 0 <= value <= 1:
        raise ValueError(f"{text!r}: sparsity {value:g} outside [0, 1]")
    if kind == "lowbits" and (not value.is_integer() or not 0 <= value <= 7):
        raise ValueError(f"{text!r}: K {value:g} must be an integer in 0..7")
    if kind == "ratio" and not (math.isfinite(value) and value >= 1):
        raise ValueError(f"{text!r}: ratio {value:g} must be a finite number >= 1")
    return Scheme(kind, value)


@dataclass(frozen=True)
class LayerCompression:
    layer: str
    scheme: str
    elements: int          # weights of the layer
    bits: float            # compressed size (declared ratios: 8·elements / R)
    weights: np.ndarray | None = field(default=None, repr=False, compare=False)  # after decompression

    @property
    def ratio(self) -> float:
        return 8 * self.elements / self.bits if self.bits else float("inf")


@dataclass(frozen=True)
class CompressionPlan:
    """The compression of each weighted layer of a workload (layers absent: uncompressed)."""

    layers: dict[str, LayerCompression]

    def ratios(self) -> dict[str, float]:
        return {name: c.ratio for name, c in self.layers.items() if c.scheme != "none"}

    @property
    def lossy(self) -> bool:
        return any(parse_scheme(c.scheme).lossy for c in self.layers.values())

    def describe(self) -> dict[str, str]:
        return {name: c.scheme for name, c in self.layers.items() if c.scheme != "none"}

    def stored_bytes(self) -> dict[str, int]:
        """Compressed bytes of each layer's weights (what DRAM and the global buffer hold)."""
        return {name: math.ceil(c.bits / 8) for name, c in self.layers.items()}

    def apply(self, model):
        """A copy of the quantized model (:class:`simulator.accuracy.model.QuantModel`) whose
        weights are those the MACs see after decompression (lossy schemes change them)."""
        layers = [replace(q, weight=self.layers[q.name].weights.reshape(q.weight.shape))
                  if q.name in self.layers and self.layers[q.name].weights is not None and q.weight is not None
                  else q for q in model.layers]
        return replace(model, layers=layers)


def assign(layer_names: Sequence[str], rules: Iterable[tuple[str, object]]) -> dict[str, Scheme]:
    """Scheme of each layer: the first rule ``(pattern, scheme)`` whose pattern (name or glob) matches."""
    rules = [(pattern, parse_scheme(s) if not isinstance(s, Scheme) else s) for pattern, s in rules]
    out = {}
    for name in layer_names:
        for pattern, scheme in rules:
            if name == pattern or fnmatch.fnmatchcase(name, pattern):
                out[name] = scheme
                break
    return out


def compress_layer(name: str, weights: np.ndarray | None, elements: int, scheme: Scheme) -> LayerCompression:
    """One layer under one scheme (from the real int8 weights unless ``none`` or ``ratio``)."""
    if scheme.kind == "none":
        return LayerCompression(name, "none", elements, 8 * elements, weights)
    if scheme.kind == "ratio":
        return LayerCompression(name, scheme.text, elements, 8 * elements / scheme.param, None)
    if weights is None:
        raise AxsimError(f"layer {name!r}: compression {scheme.text!r} needs the trained weights; the workload "
                         "has none (add 'weights: FILE.npz' to the workload file, or declare a ratio per "
                         "layer with 'ratio:R')")
    if scheme.kind == "zrle":
        out = codecs.zrle(weights, stream=False)
    elif scheme.kind == "huffman":
        out = codecs.huffman(weights)
    elif scheme.kind == "prune":
        out = codecs.prune(weights, scheme.param, stream=False)
    else:
        out = codecs.lowbits(weights, int(scheme.param))
    return LayerCompression(name, scheme.text, elements, out.bits, out.values)


def plan_for(workload, rules: Iterable[tuple[str, object]], model=None) -> CompressionPlan:
    """The compression plan of ``workload`` under ``rules`` (first match wins); ``model``: its
    quantized weights (:func:`simulator.accuracy.model.load_weights`), loaded when a scheme
    needs them and the workload has a weights file."""
    weighted = [layer for layer in workload.layers if layer.is_compute and layer.weight_count]
    schemes = assign([layer.name for layer in weighted], rules)
    if model is None and any(s.needs_weights for s in schemes.values()):
        if not workload.weights:
            first = next(n for n, s in schemes.items() if s.needs_weights)
            raise AxsimError(f"{workload.source}: compression {schemes[first].text!r} of layer {first!r} needs "
                             "the trained weights, and the workload has none (add 'weights: FILE.npz', or "
                             "declare a ratio per layer with 'ratio:R')")
        from simulator.accuracy.model import load_weights
        model = load_weights(workload)
    out = {}
    for layer in weighted:
        scheme = schemes.get(layer.name)
        if scheme is None:
            continue
        w = model.layer(layer.name).weight if model is not None and scheme.needs_weights else None
        out[layer.name] = compress_layer(layer.name, w, layer.weight_count, scheme)
    return CompressionPlan(out)


@dataclass(frozen=True)
class DecompressionCost:
    energy_pj: float
    latency_cycles: int
    bytes_decompressed: int
    per_layer_cycles: dict[str, int]


def decompression_cost(plan: CompressionPlan, traces, table, pes_per_layer: dict[str, int]) -> DecompressionCost:
    """Energy and cycles of decompressing the weight tiles each layer delivers to its PEs
    (``traces``: the layer traces mapped with the compressed sizes; ``table``: the technology
    table, whose ``decompression`` section prices it)."""
    ratios = plan.ratios()
    if not ratios:
        return DecompressionCost(0.0, 0, 0, {})
    cost = getattr(table, "decompression", None)
    if cost is None:
        raise AxsimError(f"technology table {table.name!r} has no 'decompression' section (energy per byte "
                         "and bytes per cycle of the weight decompressor): compressed weights need it")
    total_bytes, cycles = 0, {}
    for trace in traces:
        r = ratios.get(trace.layer)
        if r is None:
            continue
        moved = sum(t.bytes * len(t.dsts) for t in trace.txns
                    if t.op == "noc" and t.ds == "weights" and t.dst_buf == "pe")
        dec = math.ceil(moved * r)
        total_bytes += dec
        pes = max(1, pes_per_layer.get(trace.layer, 1))
        cycles[trace.layer] = math.ceil(dec / (pes * cost.bytes_per_cycle))
    return DecompressionCost(total_bytes * cost.energy_pj_per_byte, sum(cycles.values()), total_bytes, cycles)

