"""Inter-layer residency: layer outputs that stay in the global buffers of the chiplets that made them.

A layer's output tensor stays on the package when, on every chiplet that holds a part of it, the
bytes of the tensors already resident there plus its own part fit the *resident share* of the
global buffer (``fraction`` x size; the rest is left to the staging of the running layer, whose
capacity the transaction-level model does not enforce, docs/design.md). Otherwise the whole tensor
is *spilled*: written to DRAM as in the DRAM dataflow, and its consumers read it from DRAM.
A tensor is also written to DRAM when no later layer consumes it (a network output) or when a
consumer cannot take it from the package (a fully connected layer after a spatial tensor: its
flattened channel order is not the producer's layout; such inputs are small).

A resident tensor is freed after its last consumer has been mapped (layers run one after another),
so a residual operand stays resident across the layers of its block and counts against the budget
until the add that consumes it. Admission is greedy, in layer order (first come, first served).

Consumers read a resident tensor with NoP transfers from the producing chiplets' global buffers
(:func:`pieces`): each carries the part of the consumer's input window that one producing chiplet
holds, in the consumer's padded input coordinates; padding is not moved (it is made at the
destination), halo counts are not carried on pieces.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from simulator.config.arch import Arch
from simulator.mapping.trace import Node
from simulator.workload.layer import NETWORK_INPUT, Layer, Workload

#: Default share of each global buffer that resident tensors may occupy.
RESIDENT_FRACTION = 0.75


@dataclass(slots=True)
class Resident:
    """A tensor kept on the package: the output slices (k, rows, cols) each chiplet holds."""

    layer: str
    pieces: list[tuple[Node, tuple]]
    bytes_per_chiplet: dict[Node, int]
    uses_left: int


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
        out: list[Resident | None] = []
        for t in range(n):
            # an add with one named producer: its other operand is unknown, so it comes from DRAM
            name = prods[t] if t < len(prods) and (n == 1 or len(prods) == n) else NETWORK_INPUT
            out.append(self.live.get(name))
        return out

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
        for name in set(self.producers[layer.name]):
            r = self.live.get(name)
            if r is None:
                continue
            r.uses_left -= self.producers[layer.name].count(name)
            if r.uses_left <= 0:
                for c, b in r.bytes_per_chiplet.items():
                    self.used[c] -= b
                del self.live[name]


def _clip(a: int, b: int, lo: int, hi: int) -> tuple[int, int]:
    return max(a, lo), min(b, hi)


def pieces(res: Resident, layer: Layer, batch: int, s: tuple) -> list[tuple[Node, tuple]]:
    """The parts of input slice ``s`` (one tensor ``t``) that each producing chiplet holds:
    (chiplet, sub-slice in the consumer's padded input coordinates, halo 0)."""
    t0, t1, g0, g1, c0, c1, r0, r1, x0, x1 = s[:10]
    compute = layer.kind in ("conv", "fc")
    cpg = layer.channels_per_group if compute else 1
    hp, ph, pw = layer.in_h + 2 * layer.pad_h, layer.pad_h, layer.pad_w
    h, w = layer.in_h, layer.in_w
    # channel ranges of the slice, each with its (group, channel offset in group)
    if cpg == 1:
        chans = [(g0, g1, None)]                 # channel = group, c = 0:1
    else:
        chans = [(g * cpg + c0, g * cpg + c1, g) for g in range(g0, g1)]
    # producer rows per sample: (producer row a, b, consumer padded row of a)
    rows = []
    for smp in range(r0 // hp, (r1 - 1) // hp + 1 if r1 > r0 else r0 // hp):
        a, b = _clip(r0 - smp * hp - ph, r1 - smp * hp - ph, 0, h)
        if b > a:
            rows.append((smp * h + a, smp * h + b, smp * hp + ph + a))
    xa, xb = _clip(x0 - pw, x1 - pw, 0, w)
    out: list[tuple[Node, tuple]] = []
    if xb <= xa:
        return out
    for chip, (k0, k1, y0, y1, q0, q1) in res.pieces:
        qa, qb = _clip(xa, xb, q0, q1)
        if qb <= qa:
            continue
        for ca, cb, g in chans:
            ka, kb = _clip(ca, cb, k0, k1)
            if kb <= ka:
                continue
            gg = (ka, kb, 0, 1) if g is None else (g, g + 1, ka - g * cpg, kb - g * cpg)
            for ya, yb, base in rows:
                a, b = _clip(ya, yb, y0, y1)
                if b <= a:
                    continue
                pr0 = base + (a - ya)
                out.append((chip, (t0, t1) + gg + (pr0, pr0 + (b - a), qa + pw, qb + pw, 0, 0)))
    return out
