"""A 2-D mesh network at transaction level (used for the NoP and each chiplet's NoC).

Routing is dimension-ordered (X then Y). A transfer from ``src`` to a set of
destinations occupies the links of the union of its XY routes (a multicast
tree). Each link carries ``bits`` once for a multicast, and the sum over the
destinations behind it for a scatter (or, reversed, a gather). The transfer
reserves all its links at once, first come first served, for its
serialization time ``ceil(link_bits / link_width_bits)``; it finishes

    start + max_link(serialization) + hops_max x (router + link latency)

which is the zero-load latency ``T0 = H (t_r + t_l) + L / b`` of Dally & Towles
plus queueing behind earlier transfers on shared links (circuit-like
whole-path reservation; wormhole pipelining inside a path is captured by
charging the serialization once, not per hop).
"""
from __future__ import annotations

from simulator.config.arch import Link
from simulator.hw.port import ceil_div
from simulator.stats.counters import Counters

Node = tuple[int, int]


class Mesh:
    def __init__(self, name: str, rows: int, cols: int, link: Link, link_key: str, router_key: str,
                 counters: Counters):
        self.name = name
        self.rows, self.cols = rows, cols
        self.width = link.link_width_bits
        self.hop_cycles = link.hop_cycles
        self.link_key, self.router_key = link_key, router_key
        self.counters = counters
        self.links: list[tuple[Node, Node]] = []
        self._index: dict[tuple[Node, Node], int] = {}
        for r in range(rows):
            for c in range(cols):
                for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
                    nr, nc = r + dr, c + dc
                    if 0 <= nr < rows and 0 <= nc < cols:
                        self._index[((r, c), (nr, nc))] = len(self.links)
                        self.links.append(((r, c), (nr, nc)))
        self.free_at = [0] * len(self.links)
        self.link_bits = [0] * len(self.links)
        self.link_busy = [0] * len(self.links)
        self._routes: dict[tuple[Node, Node], tuple[int, ...]] = {}
        self._trees: dict[tuple[Node, tuple[Node, ...], str], tuple[dict[int, int], int, int]] = {}

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

    def _tree(self, src: Node, dsts: tuple[Node, ...], mode: str) -> tuple[dict[int, int], int, int]:
        """Per-link multiplicity, max hops and router traversals (in destination units)."""
        key = (src, dsts, mode)
        hit = self._trees.get(key)
        if hit is not None:
            return hit
        mult: dict[int, int] = {}
        hops = 0
        for dst in dsts:
            path = self.route(src, dst)
            hops = max(hops, len(path))
            for lid in path:
                mult[lid] = mult.get(lid, 0) + 1
        if mode == "multicast":
            mult = dict.fromkeys(mult, 1)
            routers = len(mult) + 1  # every tree link enters a router, plus the source router
        else:
            routers = sum(mult.values()) + len(dsts)
        self._trees[key] = out = (mult, hops, routers)
        return out

    def transfer(self, ready: int, src: Node, dsts: tuple[Node, ...], nbytes: int, mode: str,
                 component: str, extra_cycles: int = 0) -> int:
        """Reserve the links of one transfer; return its finish cycle. Counts link and router bits."""
        bits = nbytes * 8
        mult, hops, routers = self._tree(src, dsts, mode)
        start = ready
        free_at = self.free_at
        for lid in mult:
            if free_at[lid] > start:
                start = free_at[lid]
        longest = extra_cycles
        width = self.width
        link_bits = 0
        for lid, m in mult.items():
            ser = ceil_div(bits * m, width)
            free_at[lid] = start + ser
            self.link_busy[lid] += ser
            self.link_bits[lid] += bits * m
            link_bits += bits * m
            if ser > longest:
                longest = ser
        if not mult:  # source and destination share a router
            longest = max(longest, ceil_div(bits, width))
        self.counters.add(component, self.link_key, link_bits)
        self.counters.add(component, self.router_key, bits * routers)
        return start + longest + hops * self.hop_cycles
