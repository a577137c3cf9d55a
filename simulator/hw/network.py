"""The network seam of the package: one interface, two models.

Both models take a transfer at the cycle it is issued, ``submit(ready, src, dsts, nbytes, mode,
tag, extra_cycles, now)``:

* the transaction model (:class:`simulator.hw.mesh.Mesh`, link calendars) knows the finish at
  once and returns it (:class:`TransactionNetwork` adds nothing to ``Mesh.transfer``);
* the flit-level model (:class:`FlitNetwork`, a :class:`simulator.noc.stream.FlitStream` of
  virtual-channel routers) returns ``None``; the finish is learnt later from
  :meth:`FlitNetwork.advance`, which the engine calls to move the network up to its next event.

Both count the same action keys (``<net>_link.bit``, ``<net>_router.bit``) into the same
``Mesh`` bookkeeping (per-link bits and busy cycles), so energy is priced the same way. The flit
model counts what crosses the wires: every flit is ``link_width_bits`` wide (the last flit of a
packet is padded), a link traversal counts the flit's bits on that link, and every router
traversal (including the source router and the ejection port) counts them as router bits.
Routes are the same XY routes in both models.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from simulator.errors import AxsimError
from simulator.hw.mesh import Mesh
from simulator.noc.network import router_for
from simulator.noc.stream import FlitStream

Node = tuple[int, int]
NetworkModel = Literal["transaction", "flit"]
_DIRS = {1: (0, 1), 2: (0, -1), 3: (1, 0), 4: (-1, 0)}  # kernel output ports: east, west, south, north


class TransactionNetwork:
    """The link-calendar mesh behind the network interface (finish known at submit)."""

    deferred = False

    def __init__(self, mesh: Mesh):
        self.mesh = mesh

    def submit(self, ready: int, src: Node, dsts: tuple[Node, ...], nbytes: int, mode: str, tag: object,
               extra_cycles: int = 0, now: int | None = None) -> int:
        return self.mesh.transfer(ready, src, dsts, nbytes, mode, self.mesh.name, extra_cycles, now=now)


class FlitNetwork:
    """A flit-level mesh (VC routers, credits, wormhole) behind the network interface.

    The router is :func:`simulator.noc.network.router_for` of the mesh's link (its zero-load
    hop equals the link's ``router + link`` cycles); transfers are split into packets of at most
    ``max_packet_flits`` flits; a multicast is repeated unicast. A transfer whose source buffer
    is a global buffer finishes no earlier than ``ready + extra_cycles + H·t_hop`` (the last byte
    read from the buffer, then carried over the ``H`` hops), the bound the transaction model
    also applies.
    """

    deferred = True

    def __init__(self, mesh: Mesh, link, max_packet_flits: int = 32):
        self.mesh = mesh
        self.stream = FlitStream(mesh.rows, mesh.cols, router_for(link), mesh.width, max_packet_flits, mesh.name)
        rows, cols = mesh.rows, mesh.cols
        index = {lk: i for i, lk in enumerate(mesh.links)}
        self._lid = np.full((rows * cols, 5), -1, np.int64)
        for r in range(rows * cols):
            a = (r // cols, r % cols)
            for o, (dr, dc) in _DIRS.items():
                j = index.get((a, (a[0] + dr, a[1] + dc)))
                if j is not None:
                    self._lid[r, o] = j

    @property
    def lookahead(self) -> int:
        return self.stream.lookahead

    @property
    def busy(self) -> bool:
        return self.stream.busy

    @property
    def now(self) -> int:
        return self.stream.now

    def submit(self, ready: int, src: Node, dsts: tuple[Node, ...], nbytes: int, mode: str, tag: object,
               extra_cycles: int = 0, now: int | None = None) -> None:
        floor = 0
        if extra_cycles:
            floor = ready + extra_cycles + self.mesh._tree(src, dsts, mode).hops * self.mesh.hop_cycles
        self.stream.submit(ready, src, dsts, nbytes, mode, tag, floor)
        return None

    def advance(self, until: int, stop_at_completion: bool) -> list[tuple[object, int]]:
        """Simulate the cycles before ``until`` (see :meth:`FlitStream.advance`) and count the
        flits that moved."""
        done = self.stream.advance(until, stop_at_completion)
        delta = self.stream.last_delta
        if delta.any():
            mesh = self.mesh
            width = mesh.width
            moved = delta[:, 1:]
            lid = self._lid[:, 1:]
            used = moved > 0
            for i, f in zip(lid[used].tolist(), moved[used].tolist()):
                mesh.link_bits[i] += f * width
                mesh.link_busy[i] += f
            mesh.counters.add(mesh.name, mesh.link_key, int(moved.sum()) * width)
            mesh.counters.add(mesh.name, mesh.router_key, int(delta.sum()) * width)
        return done


def build(mesh: Mesh, link, model: NetworkModel) -> TransactionNetwork | FlitNetwork:
    return FlitNetwork(mesh, link) if model == "flit" else TransactionNetwork(mesh)


MODELS = ("transaction", "flit")


def parse_network_model(text: str) -> dict[str, NetworkModel]:
    """``"flit"``, ``"transaction"`` (both networks) or ``"nop=flit,noc=transaction"`` (per network;
    an unnamed network keeps the transaction model) -> ``{"nop": ..., "noc": ...}``."""
    allowed = "flit, transaction, or per network: nop=MODEL,noc=MODEL"
    text = text.strip()
    if text in MODELS:
        return {"nop": text, "noc": text}  # type: ignore[dict-item]
    out: dict[str, NetworkModel] = {"nop": "transaction", "noc": "transaction"}
    seen = set()
    for part in text.split(","):
        key, eq, value = (x.strip() for x in part.partition("="))
        if not eq or key not in out or value not in MODELS or key in seen:
            raise AxsimError(f"--network-model: {part.strip()!r} in {text!r} is not allowed; allowed: {allowed}")
        seen.add(key)
        out[key] = value  # type: ignore[assignment]
    return out
