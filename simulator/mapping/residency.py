"""Inter-layer residency: layer outputs that stay in the global buffers of the chiplets that made them.

A layer's output tensor stays on the package when, on every chiplet that holds a part of it, the
bytes of the tensors already resident there plus its own part fit the *resident share* of the
global buffer (``fraction`` x size; the rest is left to the staging of the running layer, whose
capacity the transaction-level model does not enforce, docs/design.md). Otherwise the whole tensor
is *spilled*: written to DRAM as in the DRAM dataflow, and its consumers read it from DRAM.
A tensor is also written to DRAM when no later layer consumes it (a network output) or when a
consumer cannot take it from the package (a fully connected layer after a spatial tensor: its
flattened channel order is not the producer's layout; such inputs are small).

A resident tensor is freed after its last consumer has been mapped (layers run one after another;
only the next layer's weight prefetch overlaps a layer, :mod:`simulator.mapping.prefetch`),
so a residual operand stays resident across the layers of its block and counts against the budget
until the add that consumes it. Admission is greedy, in layer order (first come, first served).

Consumers read a resident tensor with NoP transfers from the producing chiplets' global buffers
(:func:`pieces`): each carries the part of the consumer's input window that one producing chiplet
holds, in the consumer's padded input coordinates; padding is not moved (it is made at the
destination), halo counts are not carried on pieces.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.config.arch import Arch
from simulator.mapping.trace import Node
from simulator.errors import AxsimError
from simulator.workload.layer import Layer, Workload

#: Default share of each global buffer that resident tensors may occupy.
RESIDENT_FRACTION = 0.75


class ResidencyError(AxsimError):
    """A workload the on-package dataflow cannot place (an add whose operands are not named)."""


@dataclass(slots=True)
class Resident:
    """A tensor kept on the package: the output slices (k, rows, cols) each chiplet holds."""

    layer: str
    pieces: list[tuple[Node, tuple]]
    bytes_per_chiplet: dict[Node, int]
    uses_left: int
    index: tuple = ()          # merged pieces for lookups (:func:`index`)
    views: tuple = ()          # a concat's view: the operands it holds a use of (simulator/mapping/concat.py)

    def __post_init__(self) -> None:
        self.index = index(self.pieces)


@dataclass
class Residency:
    """Which layer outputs stay on the package, for one pass over a workload in layer order."""

    arch: Arch
    workload: Workload
    fraction: float = RESIDENT_FRACTION
    live: dict[str, Resident] = field(default_factory=dict)
    used: dict[Node, int] = field(default_factory=dict)
    spills: dict[str, int] = field(default_factory=dict)      # layer -> bytes written to DRAM for lack of room
    kept: dict[str, int] = field(default_factory=dict)        # layer -> bytes kept on the package
    peak: dict[Node, int] = field(default_factory=dict)       # most bytes held per chiplet (take_peak)

    def __post_init__(self) -> None:
        if not 0 <= self.fraction <= 1:
            raise ValueError(f"resident fraction {self.fraction} outside [0, 1]")
        self.budget_bytes = int(self.arch.chiplet.global_buffer.size_bytes * self.fraction)
        self.producers = self.workload.producers()
        self.layers = {layer.name: layer for layer in self.workload.layers}
        self.consumers: dict[str, list[str]] = {}
        for name, prods in self.producers.items():
            for p in prods:
                self.consumers.setdefault(p, []).append(name)

    # -- what a layer reads ----------------------------------------------------------------
    def sources(self, layer: Layer) -> list[Resident | None]:
        """Per input tensor ``t`` of ``layer``: the resident tensor it reads, or None (DRAM)."""
        prods = self.producers[layer.name]
        n = 2 if layer.kind == "add" else 1
        if n == 2 and len(prods) != 2:
            raise ResidencyError(
                f"layer {layer.name!r} (add) names {len(prods)} producer(s) ({', '.join(prods)}): the on-package "
                "dataflow must know where both operands are; name them in the workload (inputs: [a, b]) "
                "or run with --dataflow dram")
        return [self.live.get(prods[t]) if t < len(prods) else None for t in range(n)]

    # -- what a layer writes ---------------------------------------------------------------
    def _compatible(self, producer: Layer, consumer: Layer) -> bool:
        return not (consumer.kind == "fc" and (producer.out_h, producer.out_w) != (1, 1))

    def admit(self, layer: Layer, pieces: list[tuple[Node, tuple]], bytes_per_chiplet: dict[Node, int]) -> bool:
        """Keep ``layer``'s outputs on the package if they fit; False: they go to DRAM."""
        users = self.consumers.get(layer.name, [])
        total = sum(bytes_per_chiplet.values())
        if not users or not all(self._compatible(layer, self.layers[u]) for u in users):
            return False
        if any(self.used.get(c, 0) + b > self.budget_bytes for c, b in bytes_per_chiplet.items()):
            self.spills[layer.name] = total
            return False
        for c, b in bytes_per_chiplet.items():
            self.used[c] = self.used.get(c, 0) + b
        self.live[layer.name] = Resident(layer.name, pieces, dict(bytes_per_chiplet), len(users))
        self.kept[layer.name] = total
        return True

    def done(self, layer: Layer) -> None:
        """``layer`` has been mapped: release the tensors it was the last consumer of."""
        for c, b in self.used.items():  # held while it runs: its inputs and its admitted outputs
            if b > self.peak.get(c, 0):
                self.peak[c] = b
        for name in set(self.producers[layer.name]):
            self._release(name, self.producers[layer.name].count(name))

    def _release(self, name: str, uses: int) -> None:
        r = self.live.get(name)
        if r is None:
            return
        r.uses_left -= uses
        if r.uses_left <= 0:
            for c, b in r.bytes_per_chiplet.items():
                self.used[c] -= b
            del self.live[name]
            for v in r.views:  # a concat's view releases its operands
                self._release(v, 1)

    def take_peak(self) -> dict[Node, int]:
        """The most resident bytes each chiplet held while the layers done since the previous call
        ran (their inputs and outputs); starts again from zero. The weight prefetch of the next
        layer may use the rest of the resident share (:mod:`simulator.mapping.prefetch`)."""
        out, self.peak = self.peak, {}
        return out


def _merge(boxes: list[tuple]) -> list[tuple]:
    """Fewer boxes covering the same cells: neighbours along k, then along rows, are joined."""
    out = sorted(set(boxes))
    for axis in (0, 2):  # k, then rows
        other = [i for i in range(6) if i not in (axis, axis + 1)]
        out.sort(key=lambda b: ([b[i] for i in other], b[axis]))
        merged: list[list[int]] = []
        for b in out:
            m = merged[-1] if merged else None
            if m is not None and all(m[i] == b[i] for i in other) and m[axis + 1] == b[axis]:
                m[axis + 1] = b[axis + 1]
            else:
                merged.append(list(b))
        out = [tuple(m) for m in merged]
    return out


def index(pieces_: list[tuple[Node, tuple]]) -> tuple[list[Node], np.ndarray]:
    """Merged pieces of a resident tensor: chiplets and (n, 6) bounds k0 k1 y0 y1 q0 q1."""
    by_chip: dict[Node, list] = {}
    for chip, box in pieces_:
        by_chip.setdefault(chip, []).append(box)
    chips, bounds = [], []
    for chip, boxes in by_chip.items():
        for box in _merge(boxes):
            chips.append(chip)
            bounds.append(box)
    return chips, np.asarray(bounds, np.int64).reshape(-1, 6)


def pieces(res: Resident, layer: Layer, batch: int, s: tuple) -> list[tuple[Node, tuple]]:
    """The parts of input slice ``s`` (one tensor ``t``) that each producing chiplet holds:
    (chiplet, sub-slice in the consumer's padded input coordinates, halo 0)."""
    t0, t1, g0, g1, c0, c1, r0, r1, x0, x1 = s[:10]
    compute = layer.kind in ("conv", "fc")
    cpg = layer.channels_per_group if compute else 1
    hp, ph, pw = layer.in_h + 2 * layer.pad_h, layer.pad_h, layer.pad_w
    h, w = layer.in_h, layer.in_w
    xa, xb = max(x0 - pw, 0), min(x1 - pw, w)
    out: list[tuple[Node, tuple]] = []
    if xb <= xa or r1 <= r0:
        return out
    # channel ranges of the slice, each with its group (None: channel = group, c = 0:1)
    if cpg == 1:
        chans = [(g0, g1, None)]
    else:
        chans = [(g * cpg + c0, g * cpg + c1, g) for g in range(g0, g1)]
    # producer rows per sample: (producer row a, b, consumer padded row of a)
    rows = []
    for smp in range(r0 // hp, (r1 - 1) // hp + 1):
        a, b = max(r0 - smp * hp - ph, 0), min(r1 - smp * hp - ph, h)
        if b > a:
            rows.append((smp * h + a, smp * h + b, smp * hp + ph + a))
    chips, bd = res.index
    qa, qb = np.maximum(bd[:, 4], xa), np.minimum(bd[:, 5], xb)
    okq = qb > qa
    for ca, cb, g in chans:
        ka, kb = np.maximum(bd[:, 0], ca), np.minimum(bd[:, 1], cb)
        okk = okq & (kb > ka)
        if not okk.any():
            continue
        for ya, yb, base in rows:
            ra, rb = np.maximum(bd[:, 2], ya), np.minimum(bd[:, 3], yb)
            for i in np.flatnonzero(okk & (rb > ra)).tolist():
                k_a, k_b, y_a = int(ka[i]), int(kb[i]), int(ra[i])
                gg = (k_a, k_b, 0, 1) if g is None else (g, g + 1, k_a - g * cpg, k_b - g * cpg)
                pr0 = base + (y_a - ya)
                out.append((chips[i], (t0, t1) + gg + (pr0, pr0 + int(rb[i]) - y_a, int(qa[i]) + pw,
                                                       int(qb[i]) + pw, 0, 0)))
    return out
