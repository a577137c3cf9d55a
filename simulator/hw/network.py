"""The network seam of the package: one interface, two models.

Both models take a transfer at the cycle it is issued, ``submit(ready, src, dsts, nbytes, mode,
tag, extra_cycles, now)``:

* the transaction model (:class:`simulator.hw.mesh.Mesh`, link calendars) knows the finish at
  once and returns it (:class:`TransactionNetwork` adds nothing to ``Mesh.transfer``);
* the flit-level model (:class:`FlitNetwork`, a :class:`simulator.noc.stream.FlitStream` of
  virtual-channel routers; ``flit``: multicasts replicated in the routers along the XY tree,
  ``flit-unicast``: multicasts as repeated unicast) returns ``None``; the finish is learnt later from
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

Node = tuple[int, int]
NetworkModel = Literal["transaction", "transaction-ports", "flit", "flit-unicast"]
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
    """Flit-level meshes (VC routers, credits, wormhole) behind the network interface.

    The router is :func:`simulator.noc.network.router_for` of the link (its zero-load hop equals
    the link's ``router + link`` cycles); transfers are split into packets of at most
    ``max_packet_flits`` flits; a multicast is replicated in the routers (``multicast =
    "replicate"``) or repeated unicast (``"unicast"``). A transfer whose source buffer
    is a global buffer finishes no earlier than ``ready + extra_cycles + H·t_hop`` (the last byte
    read from the buffer, then carried over the ``H`` hops), the bound the transaction model
    also applies.

    Several equal meshes (the chiplets' NoCs) share one kernel: mesh ``k`` occupies columns
    ``k·cols .. (k+1)·cols - 1`` of one ``rows x (K·cols)`` mesh. XY routes between two nodes
    of one block never leave it, so the blocks are independent networks; one kernel call steps
    them all (:meth:`view` gives each mesh its own submit).
    """

    deferred = True

    def __init__(self, meshes: list[Mesh], link, max_packet_flits: int = 32, multicast: str = "replicate"):
        self.meshes = meshes
        m0 = meshes[0]
        rows, cols, k = m0.rows, m0.cols, len(meshes)
        self.cols = cols
        from simulator.noc.network import router_for  # numba (about 110 MB): only for flit-level runs
        from simulator.noc.stream import FlitStream
        self.stream = FlitStream(rows, cols * k, router_for(link, multicast=multicast), m0.width, max_packet_flits,
                                 m0.name if k == 1 else "noc")
        wide = cols * k
        self._mesh_of = np.repeat(np.arange(k), cols)[np.arange(rows * wide) % wide]  # router -> mesh
        self._lid = np.full((rows * wide, 5), -1, np.int64)
        self._counted = np.zeros((rows * wide, 5), np.int64)
        for i, mesh in enumerate(meshes):
            index = {lk: j for j, lk in enumerate(mesh.links)}
            for r in range(rows):
                for c in range(cols):
                    g = r * wide + i * cols + c
                    for o, (dr, dc) in _DIRS.items():
                        j = index.get(((r, c), (r + dr, c + dc)))
                        if j is not None:
                            self._lid[g, o] = j

    @property
    def lookahead(self) -> int:
        return self.stream.lookahead

    @property
    def busy(self) -> bool:
        return self.stream.busy

    @property
    def now(self) -> int:
        return self.stream.now

    def view(self, k: int) -> "_View":
        return _View(self, k)

    def submit(self, ready: int, src: Node, dsts: tuple[Node, ...], nbytes: int, mode: str, tag: object,
               extra_cycles: int = 0, now: int | None = None, k: int = 0) -> None:
        mesh = self.meshes[k]
        floor = 0
        if extra_cycles:
            floor = ready + extra_cycles + mesh._tree(src, dsts, mode).hops * mesh.hop_cycles
        off = k * self.cols
        if off:
            src = (src[0], src[1] + off)
            dsts = tuple((d[0], d[1] + off) for d in dsts)
        self.stream.submit(ready, src, dsts, nbytes, mode, tag, floor)
        return None

    def enable_flips(self, rates, seed: int) -> None:
        """Draw bit flips per flit traversal from now on (:class:`simulator.noc.flips.StreamFlips`:
        each link's flip probabilities per bit position from ``rates.link(mesh name, src, dst)``,
        its own generator seeded with ``seed`` and the link's path)."""
        from simulator.noc.flips import StreamFlips
        links = []
        for g, o in zip(*np.nonzero(self._lid >= 0)):
            mesh = self.meshes[self._mesh_of[g]]
            a, b = mesh.links[self._lid[g, o]]
            links.append((int(g) * 5 + int(o), mesh.name, a, b))
        self.stream.flips = StreamFlips(self._lid.size, links, rates, seed, self.meshes[0].width)

    def sampled_flips(self) -> dict[tuple, np.ndarray]:
        """``(network, src, dst) -> flips per bit position`` drawn so far (links that flipped)."""
        return {} if self.stream.flips is None else self.stream.flips.counts()

    def advance(self, until: int, stop_at_completion: bool) -> list[tuple[object, int]]:
        """Simulate the cycles before ``until`` (see :meth:`FlitStream.advance`)."""
        return self.stream.advance(until, stop_at_completion)

    def flush(self) -> None:
        """Count the flits that moved since the previous call (per link, per mesh)."""
        flits = self.stream.link_flits
        delta = flits - self._counted
        self._counted = flits.copy()
        width = self.meshes[0].width
        routers = np.flatnonzero(delta.any(axis=1))
        for i in np.unique(self._mesh_of[routers]).tolist():
            mesh = self.meshes[i]
            mine = routers[self._mesh_of[routers] == i]
            moved = delta[mine, 1:]
            lid = self._lid[mine, 1:]
            used = moved > 0
            for j, f in zip(lid[used].tolist(), moved[used].tolist()):
                mesh.link_bits[j] += f * width
                mesh.link_busy[j] += f
            mesh.counters.add(mesh.name, mesh.link_key, int(moved.sum()) * width)
            mesh.counters.add(mesh.name, mesh.router_key, int(delta[mine].sum()) * width)


class _View:
    """One mesh of a shared :class:`FlitNetwork`."""

    deferred = True

    def __init__(self, shared: FlitNetwork, k: int):
        self.shared, self.k = shared, k

    def submit(self, ready, src, dsts, nbytes, mode, tag, extra_cycles=0, now=None) -> None:
        return self.shared.submit(ready, src, dsts, nbytes, mode, tag, extra_cycles, now, self.k)


def build(meshes: list[Mesh], link, model: NetworkModel) -> list:
    """The network interface of each mesh (flit-level meshes share one kernel)."""
    if model in ("flit", "flit-unicast"):
        shared = FlitNetwork(meshes, link, multicast="unicast" if model == "flit-unicast" else "replicate")
        return [shared] if len(meshes) == 1 else [shared.view(k) for k in range(len(meshes))]
    return [TransactionNetwork(m) for m in meshes]


MODELS = ("transaction", "transaction-ports", "flit", "flit-unicast")


def parse_network_model(text: str) -> dict[str, NetworkModel]:
    """``"flit"`` (multicast replicated in the routers), ``"flit-unicast"`` (multicast as repeated
    unicast), ``"transaction"``, ``"transaction-ports"`` (the transaction model with one-flit-per-
    cycle injection and ejection ports, :class:`simulator.hw.mesh.Mesh` ``ports``) for both networks,
    or ``"nop=flit,noc=transaction"`` (per network;
    an unnamed network keeps the transaction model) -> ``{"nop": ..., "noc": ...}``."""
    allowed = "flit, flit-unicast, transaction, transaction-ports, or per network: nop=MODEL,noc=MODEL"
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
