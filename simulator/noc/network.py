"""Transfers (multicast, scatter, gather) on the flit-level mesh, for an architecture's NoP or NoC.

A transfer of ``nbytes`` per destination on links of ``link_width_bits`` is
``F = ceil(8 nbytes / width)`` flits per destination, split into packets of at
most ``max_packet_flits`` flits (every flit carries payload; no header flit).
A multicast to several destinations is, with ``RouterConfig.multicast =
"replicate"`` (the default), one packet sequence that the routers replicate
along the XY tree (packets of at most ``vc_buf_size`` flits, the condition of
the deadlock argument in docs/models.md); with ``"unicast"`` the source's
interface sends one copy per destination, in the order of ``dsts``. Scatters
are repeated unicast (different data per destination); a gather is one packet
sequence from every destination to the source.

:func:`router_for` derives a flit-level router from an architecture link
(``router_latency_cycles`` split into VC allocation, switch allocation and
switch traversal; wire latency = link latency; credits return over the wire;
buffers deep enough to cover the credit round trip so a single packet streams
at one flit per cycle).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator.config.arch import Link
from simulator.noc.router import Multicast, PacketRun, RouterConfig, run_packets

Node = tuple[int, int]


def router_for(link: Link, num_vcs: int = 4, multicast: str = "replicate") -> RouterConfig:
    """Flit-level router whose zero-load hop equals the link's ``router + link`` cycles."""
    r = link.router_latency_cycles
    va = min(1, r)
    sa = min(1, r - va)
    st = r - va - sa
    wire = max(1, link.link_latency_cycles)
    credit = wire
    rtt = sa + st + wire + credit + 2
    return RouterConfig(num_vcs=num_vcs, vc_buf_size=max(8, rtt), routing_delay=0, vc_alloc_delay=va,
                        sw_alloc_delay=sa, st_final_delay=st, link_latency_cycles=wire, credit_delay=credit,
                        alloc_iters=2, multicast=multicast)


def packet_sizes(nbytes: int, width_bits: int, max_flits: int) -> list[int]:
    """Packet sizes (flits) of ``nbytes`` on links of ``width_bits``: ``ceil(8 nbytes / width)``
    flits (at least one) in packets of at most ``max_flits``."""
    flits = max(1, -(-nbytes * 8 // width_bits))
    full, rest = divmod(flits, max_flits)
    return [max_flits] * full + ([rest] if rest else [])


@dataclass
class TransferBatch:
    """Transfers issued on one mesh, turned into packets; run them with :meth:`run`."""

    rows: int
    cols: int
    width_bits: int
    max_packet_flits: int = 32
    src: list[int] = field(default_factory=list)
    dst: list[int] = field(default_factory=list)
    size: list[int] = field(default_factory=list)
    ctime: list[int] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)  # transfer index of each packet
    n_transfers: int = 0

    mc: list = field(default_factory=list)          # destination set of each packet (None: unicast)
    multicast: str = "replicate"                    # "replicate" in the routers, or "unicast"
    buffer_flits: int = 8                           # VC buffer depth: longest replicated packet

    def add(self, ready: int, src: Node, dsts: tuple[Node, ...], nbytes: int, mode: str) -> int:
        """Add one transfer issued at ``ready``; return its index."""
        s = src[0] * self.cols + src[1]
        targets = [d[0] * self.cols + d[1] for d in dsts]
        idx = self.n_transfers
        if mode == "multicast" and len(set(targets)) > 1 and self.multicast == "replicate":
            targets = list(dict.fromkeys(targets))  # a node listed twice gets the data once
            for sz in packet_sizes(nbytes, self.width_bits, min(self.max_packet_flits, self.buffer_flits)):
                self._packet(s, -1, sz, ready, idx, targets)
        else:
            sizes = packet_sizes(nbytes, self.width_bits, self.max_packet_flits)
            for dn in targets:
                a, b = (dn, s) if mode == "gather" else (s, dn)
                for sz in sizes:
                    self._packet(a, b, sz, ready, idx, None)
        self.n_transfers += 1
        return idx

    def _packet(self, a: int, b: int, size: int, ready: int, owner: int, mc) -> None:
        self.src.append(a)
        self.dst.append(b)
        self.size.append(size)
        self.ctime.append(ready)
        self.owner.append(owner)
        self.mc.append(mc)

    def run(self, cfg: RouterConfig, name: str = "mesh") -> tuple[np.ndarray, PacketRun]:
        """Finish cycle per transfer (arrival of its last tail flit) and the packet-level run. The
        batch's ``multicast`` and ``buffer_flits`` decide the packets, not ``cfg``'s (a replicated
        packet longer than ``cfg.vc_buf_size`` is an error)."""
        run = run_packets(self.rows, self.cols, cfg, np.array(self.src, np.int64), np.array(self.dst, np.int64),
                          np.array(self.size, np.int64), np.array(self.ctime, np.int64), name=name,
                          multicast=Multicast.of(self.mc))
        finish = np.full(self.n_transfers, -1, np.int64)
        np.maximum.at(finish, np.array(self.owner, np.int64), run.atime)
        return finish, run
