"""Weight prefetch across layers (on-package dataflow): which weight loads start early.

A layer's weight loads that wait for nothing inside the layer (its first weight tile, and with
double buffering its second) are *chains*: a DRAM read, a NoP multicast into the global buffers
(GB) of the chiplets that need the tile, and per chiplet a NoC transfer into the PE weight
buffers. The engine (:mod:`simulator.engine.replay`) starts a chain whose DRAM read is ``early``
when the previous layer starts instead of when it has finished. The rule (docs/models.md,
"Weight prefetch across layers"):

- **Global buffer.** ``F(x) = B_res - held(x)`` is the room for prefetched weights on chiplet
  ``x``: ``B_res`` the resident share of the GB (:data:`~simulator.mapping.residency.RESIDENT_FRACTION`
  x size), ``held(x)`` the most resident bytes ``x`` holds while the previous layer runs (its
  inputs and outputs, :meth:`Residency.take_peak`). Chains are taken in emission order. A chain
  larger than ``F(x)`` on one of its destinations is not prefetched: it waits for the previous
  layer to finish (the staging share stays with the running layer). Otherwise, on each
  destination, while the bytes of the prefetched chains still counted there plus its own exceed
  ``F(x)``, the oldest of them is released and the chain waits (``after``) for that chain's NoC
  transfer (which moves those bytes on to the PE buffers); a chain that waits for none is
  ``early``.
- **PE weight buffer.** The NoC transfer of a prefetched chain into chiplet ``x`` also waits
  (``prev`` edges) for the compute of the previous layer that last reads the weight-buffer slot it
  overwrites: the slots of both layers are one history per chiplet, so load ``j`` of the layer
  waits for the last user of the previous layer's load ``m + j - b`` (``m`` its loads on ``x``,
  ``b`` = 2 with double buffering, 1 without), when that index is >= 0.
- Inputs are never prefetched: a layer's inputs come from the layer(s) before it, so its other
  transactions still start when the previous layer has finished.
"""
from __future__ import annotations

from collections import defaultdict, deque

from simulator.config.arch import Arch
from simulator.mapping.residency import Residency
from simulator.mapping.trace import LayerTrace, Node


class Prefetch:
    """Marks the prefetchable weight chains of each mapped layer (one pass over a workload)."""

    def __init__(self, arch: Arch, residency: Residency):
        self.residency = residency
        self.back = 2 if arch.chiplet.pe.double_buffering else 1
        self.prev_users: dict[Node, list[int]] | None = None  # previous layer: last user per weight load
        self.held: dict[Node, int] = {}
        self.used: dict[Node, int] = defaultdict(int)                  # bytes of the chains in ``queue``
        self.queue: dict[Node, deque] = defaultdict(deque)             # (NoC transfer id, bytes), oldest first

    def begin(self) -> None:
        """A layer is being mapped: what the previous one holds in each GB while it runs."""
        self.held = self.residency.take_peak()
        self.used = defaultdict(int)
        self.queue = defaultdict(deque)

    def room(self, chiplet: Node) -> int:
        """``F(x)``: the GB bytes prefetched weights may occupy on ``chiplet``."""
        return self.residency.budget_bytes - self.held.get(chiplet, 0)

    def mark(self, trace: LayerTrace, first: int, loads: dict[Node, int], after: list[int]) -> None:
        """The weight load just emitted (transactions from ``first`` on; ``loads``: this layer's
        earlier weight loads per chiplet; ``after``: its dependencies inside the layer)."""
        if self.prev_users is None or after:
            return
        txns = trace.txns
        nocs: dict[int, list] = defaultdict(list)
        for t in txns[first:]:
            if t.op == "noc":
                nocs[t.after[0]].append(t)
        meta = trace.meta
        for t in txns[first:]:
            if t.op != "nop":
                continue
            root = txns[t.after[0]]
            if root.op != "dram_read" or root.after:
                continue
            legs = {noc.chiplet: noc.id for noc in nocs[t.id]}
            if any(t.bytes > self.room(x) or x not in legs for x in t.dsts):
                meta["prefetch_waiting_bytes"] = meta.get("prefetch_waiting_bytes", 0) + root.bytes
                continue
            waits: list[int] = []
            for x in t.dsts:
                queue = self.queue[x]
                while self.used[x] + t.bytes > self.room(x):
                    noc_id, nbytes = queue.popleft()
                    self.used[x] -= nbytes
                    waits.append(noc_id)
                self.used[x] += t.bytes
                queue.append((legs[x], t.bytes))
            if waits:
                root.after = tuple(sorted(set(waits)))
                meta["prefetch_queued_bytes"] = meta.get("prefetch_queued_bytes", 0) + root.bytes
            else:
                root.early = True
            meta["prefetch_bytes"] = meta.get("prefetch_bytes", 0) + root.bytes
            for noc in nocs[t.id]:
                noc.prev = self._slot(noc.chiplet, loads.get(noc.chiplet, 0))

    def _slot(self, chiplet: Node, j: int) -> tuple[int, ...]:
        users = self.prev_users.get(chiplet, []) if self.prev_users else []
        idx = len(users) + j - self.back
        return (users[idx],) if j < self.back and idx >= 0 else ()

    def end(self, users: dict[Node, list[int]]) -> None:
        """The layer is mapped: its last compute per weight load and chiplet."""
        self.prev_users = {c: list(u) for c, u in users.items()}
