"""Transfers (multicast, scatter, gather) on the flit-level mesh, for an architecture's NoP or NoC.

A transfer of ``nbytes`` per destination on links of ``link_width_bits`` is
``F = ceil(8 nbytes / width)`` flits per destination, split into packets of at
most ``max_packet_flits`` flits (every flit carries payload; no header flit).
Multicasts are sent as repeated unicast: the source's interface sends one
copy per destination, in the order of ``dsts`` (deadlock freedom is that of
unicast XY wormhole routing, since no packet ever waits for two output ports
at once). Scatters are the same with different data; a gather is one packet
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
from simulator.noc.router import PacketRun, RouterConfig, run_packets

Node = tuple[int, int]


def router_for(link: Link, num_vcs: int = 4) -> RouterConfig:
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
                        alloc_iters=2)


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

    def add(self, ready: int, src: Node, dsts: tuple[Node, ...], nbytes: int, mode: str) -> int:
        """Add one transfer issued at ``ready``; return its index."""
        flits = max(1, -(-nbytes * 8 // self.width_bits))
        full, rest = divmod(flits, self.max_packet_flits)
        sizes = [self.max_packet_flits] * full + ([rest] if rest else [])
        s = src[0] * self.cols + src[1]
        idx = self.n_transfers
        for d in dsts:
            dn = d[0] * self.cols + d[1]
            a, b = (dn, s) if mode == "gather" else (s, dn)
            for sz in sizes:
                self.src.append(a)
                self.dst.append(b)
                self.size.append(sz)
                self.ctime.append(ready)
                self.owner.append(idx)
        self.n_transfers += 1
        return idx

    def run(self, cfg: RouterConfig, name: str = "mesh") -> tuple[np.ndarray, PacketRun]:
        """Finish cycle per transfer (arrival of its last tail flit) and the packet-level run."""
        run = run_packets(self.rows, self.cols, cfg, np.array(self.src, np.int64), np.array(self.dst, np.int64),
                          np.array(self.size, np.int64), np.array(self.ctime, np.int64), name=name)
        finish = np.full(self.n_transfers, -1, np.int64)
        np.maximum.at(finish, np.array(self.owner, np.int64), run.atime)
        return finish, run
