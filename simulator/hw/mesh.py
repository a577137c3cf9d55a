"""A 2-D mesh network at transaction level (used for the NoP and each chiplet's NoC).

Routing is dimension-ordered (X then Y). A transfer from ``src`` to a set of
destinations occupies the links of the union of its XY routes (a multicast
tree). Each link carries ``bits`` once for a multicast, and the sum over the
destinations behind it for a scatter. A gather flows the other way: every
destination sends its ``bits`` to ``src`` on its own XY route (destination ->
source, which is not the reverse of the source's route), and each link
carries the sum over the senders behind it. Like a wormhole packet, the
transfer uses the link at hop index ``j`` of its route (for a gather, the
smallest index among the senders' routes that share the link)
from ``start + j·t_hop`` for its serialization time
``ceil(link_bits / link_width_bits)``; links are reserved first come, first
served into a calendar of busy intervals per link, so ``start`` is the
earliest cycle at which every link is free when the transfer reaches it
(earlier idle gaps are filled by later requests). It finishes at

    start + max_link(serialization) + hops_max x (router + link latency)

which is the zero-load latency ``T0 = H (t_r + t_l) + L / b`` of Dally & Towles
plus queueing behind earlier transfers on shared links.

``ports=True`` (network model ``transaction-ports``) adds the correction for
the network interfaces: every node has one injection and one ejection port of
one link width, booked in the same calendars as the links. The source's
injection port carries the bits once for a multicast (the tree replicates in
the routers) and once per destination for a scatter; each destination's
ejection port carries its bits at hop offset ``H_d·t_hop``; a gather injects
at every destination and ejects everything at ``src``. The ports only delay
(they carry no link energy).
"""
from __future__ import annotations

from bisect import bisect_right
from typing import NamedTuple

from simulator.config.arch import Link
from simulator.config.operating import mesh_links
from simulator.stats.counters import Counters

Node = tuple[int, int]


class _Tree(NamedTuple):
    links: tuple[tuple[int, int, int], ...]  # (link id, hop offset in cycles, multiplicity)
    hops: int
    routers: int       # router traversals per bit
    link_loads: int    # sum of multiplicities: link traversals per bit


class Mesh:
    def __init__(self, name: str, rows: int, cols: int, link: Link, link_key: str, router_key: str,
                 counters: Counters, ports: bool = False):
        self.name = name
        self.rows, self.cols = rows, cols
        self.width = link.link_width_bits
        self.hop_cycles = link.hop_cycles
        self.link_key, self.router_key = link_key, router_key
        self.counters = counters
        self.links: list[tuple[Node, Node]] = mesh_links(rows, cols)
        self._index: dict[tuple[Node, Node], int] = {link: i for i, link in enumerate(self.links)}
        self.ports = ports
        n_cal = len(self.links) + (2 * rows * cols if ports else 0)  # links, then injection, ejection ports
        self._starts: list[list[int]] = [[] for _ in range(n_cal)]  # busy intervals per link, sorted
        self._ends: list[list[int]] = [[] for _ in range(n_cal)]
        self.link_bits = [0] * len(self.links)
        self.link_busy = [0] * len(self.links)
        self._routes: dict[tuple[Node, Node], tuple[int, ...]] = {}
        self._trees: dict[tuple[Node, tuple[Node, ...], str], _Tree] = {}

    def check_node(self, node: Node) -> bool:
        return 0 <= node[0] < self.rows and 0 <= node[1] < self.cols

    def route(self, src: Node, dst: Node) -> tuple[int, ...]:
        """Link ids of the XY route (X first, then Y)."""
        key = (src, dst)
        hit = self._routes.get(key)
        if hit is not None:
            return hit
        path = []
        r, c = src
        while c != dst[1]:
            nc = c + (1 if dst[1] > c else -1)
            path.append(self._index[((r, c), (r, nc))])
            c = nc
        while r != dst[0]:
            nr = r + (1 if dst[0] > r else -1)
            path.append(self._index[((r, c), (nr, c))])
            r = nr
        self._routes[key] = out = tuple(path)
        return out

    def _tree(self, src: Node, dsts: tuple[Node, ...], mode: str, entry: Node | None = None,
              exit_: Node | None = None) -> _Tree:
        """Links of the transfer with their hop offset and multiplicity, max hops, router traversals.

        ``entry``: the data first cross the link ``entry -> src`` (a DRAM channel entering ``src`` by
        the edge it shares with chiplet ``entry``); ``exit_``: after reaching its one destination
        they leave by the link ``dst -> exit_``. Neither adds a router traversal: the channel's
        interface joins the link, not ``entry``'s router."""
        key = (src, dsts, mode, entry, exit_)
        hit = self._trees.get(key)
        if hit is not None:
            return hit
        mult: dict[int, int] = {}
        depth: dict[int, int] = {}
        hops = 0
        gather = mode == "gather"
        for dst in dsts:
            # a gather flows from each destination to the source, on that sender's XY route
            path = self.route(dst, src) if gather else self.route(src, dst)
            hops = max(hops, len(path))
            for j, lid in enumerate(path):
                mult[lid] = mult.get(lid, 0) + 1
                depth[lid] = min(j, depth.get(lid, j))  # gather: routes merge at different depths
        if mode == "multicast":
            mult = dict.fromkeys(mult, 1)
            routers = len(mult) + 1  # every tree link enters a router, plus the source router
        else:
            routers = sum(mult.values()) + len(dsts)
        links = tuple((lid, depth[lid] * self.hop_cycles, m) for lid, m in mult.items())
        load = sum(mult.values())
        if entry is not None:
            links = ((self._index[(entry, src)], 0, 1),) + tuple((lid, off + self.hop_cycles, m)
                                                                 for lid, off, m in links)
            hops, load = hops + 1, load + 1
        if exit_ is not None:
            links += ((self._index[(dsts[0], exit_)], hops * self.hop_cycles, 1),)
            hops, load = hops + 1, load + 1
        if self.ports:
            links += self._port_loads(src, dsts, mode)
        self._trees[key] = out = _Tree(links, hops, routers, load)
        return out

    def _port_loads(self, src: Node, dsts: tuple[Node, ...], mode: str) -> tuple[tuple[int, int, int], ...]:
        """(calendar id, hop offset, multiplicity) of the injection and ejection ports used."""
        n_links, nodes, cols, t = len(self.links), self.rows * self.cols, self.cols, self.hop_cycles
        inj = {}
        ej = {}

        def dist(a: Node, b: Node) -> int:
            return abs(a[0] - b[0]) + abs(a[1] - b[1])
        s = src[0] * cols + src[1]
        if mode == "gather":
            for d in dsts:
                inj[d[0] * cols + d[1]] = (0, 1)
            ej[s] = (max(dist(d, src) for d in dsts) * t, len(dsts))
        else:
            inj[s] = (0, 1 if mode == "multicast" else len(dsts))
            for d in dsts:
                ej[d[0] * cols + d[1]] = (dist(src, d) * t, 1)
        return (tuple((n_links + i, off, m) for i, (off, m) in inj.items())
                + tuple((n_links + nodes + i, off, m) for i, (off, m) in ej.items()))

    def _earliest(self, ready: int, plan: list[tuple[int, int, int]], now: int) -> int:
        """Earliest start >= ready at which every link is free for its window [start+offset, +ser)."""
        start = ready
        starts, ends = self._starts, self._ends
        moved = True
        while moved:
            moved = False
            for lid, offset, ser in plan:
                st, en = starts[lid], ends[lid]
                if not st:
                    continue
                if en[0] <= now:  # forget intervals that ended before the present
                    keep = bisect_right(en, now)
                    del st[:keep], en[:keep]
                    if not st:
                        continue
                a = start + offset
                i = bisect_right(st, a) - 1
                if i >= 0 and en[i] > a:
                    start, moved = en[i] - offset, True
                elif i + 1 < len(st) and st[i + 1] < a + ser:
                    start, moved = en[i + 1] - offset, True
        return start

    def _book(self, lid: int, a: int, b: int) -> None:
        """Insert the busy interval [a, b) into link ``lid``'s calendar (merging neighbours)."""
        st, en = self._starts[lid], self._ends[lid]
        if not st or a >= en[-1]:  # the common case: after everything booked so far
            if st and a == en[-1]:
                en[-1] = b
            else:
                st.append(a)
                en.append(b)
            return
        i = bisect_right(st, a)
        st.insert(i, a)
        en.insert(i, b)

    def transfer(self, ready: int, src: Node, dsts: tuple[Node, ...], nbytes: int, mode: str,
                 component: str, extra_cycles: int = 0, now: int | None = None,
                 entry: Node | None = None, exit_: Node | None = None) -> int:
        """Reserve the links of one transfer; return its finish cycle. Counts link and router bits.

        ``now`` (default ``ready``): no later transfer will be requested before this cycle, so
        reservations that ended earlier are forgotten. ``entry``/``exit_``: see :meth:`_tree`.
        """
        bits = nbytes * 8
        tree = self._tree(src, dsts, mode, entry, exit_)
        width = self.width
        plan = [(lid, offset, -(-bits * m // width)) for lid, offset, m in tree.links]  # ser = ceil
        start = self._earliest(ready, plan, ready if now is None else now)
        longest = extra_cycles
        busy, carried, book = self.link_busy, self.link_bits, self._book
        n_links = len(self.links)
        for (lid, offset, ser), (_, _, m) in zip(plan, tree.links):
            book(lid, start + offset, start + offset + ser)
            if lid < n_links:
                busy[lid] += ser
                carried[lid] += bits * m
            if ser > longest:
                longest = ser
        if len(tree.links) == 0:  # source and destination share a router
            longest = max(longest, -(-bits // width))
        self.counters.add(component, self.link_key, bits * tree.link_loads)
        self.counters.add(component, self.router_key, bits * tree.routers)
        return start + longest + tree.hops * self.hop_cycles
