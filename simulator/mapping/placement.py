"""Locality-aware placement: which chiplet of the package runs each group of a layer's PEs.

The partition numbers PEs ``i = k + K_parts·(c + C_parts·p)``; *logical chiplet* ``j`` holds PEs
``[j·n, (j + 1)·n)`` (``n`` PEs per chiplet). The fixed mapping puts logical chiplet ``j`` on the
chiplet ``(j // cols, j % cols)`` (row-major). A *placement* is a position per logical chiplet;
:func:`options` lists the ones the search considers:

- the symmetries of the package mesh applied to the row-major order (``id``, ``flip-c``,
  ``flip-r``, ``rot180``, and on a square mesh ``transpose``, ``anti``, ``rot90``, ``rot270``):
  they keep every distance between the layer's own chiplets (partial sums, shared multicasts),
  and move the layer relative to where its inputs live and to the DRAM attach chiplets;
- ``follow``: logical chiplets, largest input first, each on the free chiplet that minimises the
  bytes x hops of its resident inputs (a greedy assignment).

A placement is judged by the NoP traffic of the layer (:class:`Traffic`): per directed link of
the XY routes (X first, as :class:`simulator.hw.mesh.Mesh`), the bytes that cross it -- resident
inputs from the producing chiplets, DRAM reads from the attach chiplets (per-chiplet reads from the
nearest attach chiplet, shared multicasts spread evenly over the attach chiplets), partial sums
to their owner chiplets, outputs written to DRAM. A multicast crosses each link of its XY tree
once; a DRAM channel entering its chiplet by an edge shared with a neighbour's link
(``package.dram.edges``) adds its bytes to that link. The bound is the busiest link's bytes / its
bytes per cycle; byte-hops are the sum over links. Transfers are summed over the layer (no timing): a bound, like the rest of
:mod:`simulator.mapping.cost`.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from math import ceil

import numpy as np

from simulator.mapping.identity import size
from simulator.mapping.slices import Geometry
from simulator.mapping.tiling import Partition, Shape

Node = tuple[int, int]


@lru_cache(maxsize=8)
def route_matrix(rows: int, cols: int) -> np.ndarray:
    """:func:`routes`' ``R`` as a float ``(N·N, L)`` matrix (flows times routes in one product)."""
    R, _ = routes(rows, cols)
    out = R.reshape(rows * cols * rows * cols, -1).astype(np.float64)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=8)
def link_index(rows: int, cols: int) -> dict[tuple[int, int], int]:
    """Directed link (from, to chiplet index) -> its column in :func:`routes`' ``R``."""
    index: dict[tuple[int, int], int] = {}
    for r in range(rows):
        for c in range(cols):
            a = r * cols + c
            for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0)):
                if 0 <= r + dr < rows and 0 <= c + dc < cols:
                    index[(a, (r + dr) * cols + c + dc)] = len(index)
    return index


@lru_cache(maxsize=8)
def routes(rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """``(R, H)``: ``R[s, d, l]`` True when the XY route from chiplet index ``s`` to ``d`` crosses
    directed link ``l``; ``H[s, d]`` its hops. Indices are row-major (``r·cols + c``)."""
    n = rows * cols
    index = link_index(rows, cols)
    R = np.zeros((n, n, max(1, len(index))), dtype=bool)
    H = np.zeros((n, n), dtype=np.int64)
    for s in range(n):
        for d in range(n):
            (r, c), (tr, tc) = divmod(s, cols), divmod(d, cols)
            while c != tc:
                nc = c + (1 if tc > c else -1)
                R[s, d, index[(r * cols + c, r * cols + nc)]] = True
                c = nc
            while r != tr:
                nr = r + (1 if tr > r else -1)
                R[s, d, index[(r * cols + c, nr * cols + c)]] = True
                r = nr
            H[s, d] = abs(s // cols - d // cols) + abs(s % cols - d % cols)
    R.setflags(write=False)
    H.setflags(write=False)
    return R, H


def symmetries(rows: int, cols: int) -> dict[str, tuple[int, ...]]:
    """Name -> physical index of each row-major index under that symmetry of the mesh."""
    def perm(f) -> tuple[int, ...]:
        return tuple(f(r, c)[0] * cols + f(r, c)[1] for r in range(rows) for c in range(cols))
    out = {"id": perm(lambda r, c: (r, c)),
           "flip-c": perm(lambda r, c: (r, cols - 1 - c)),
           "flip-r": perm(lambda r, c: (rows - 1 - r, c)),
           "rot180": perm(lambda r, c: (rows - 1 - r, cols - 1 - c))}
    if rows == cols:
        n = rows - 1
        out.update({"transpose": perm(lambda r, c: (c, r)), "anti": perm(lambda r, c: (n - c, n - r)),
                    "rot90": perm(lambda r, c: (c, n - r)), "rot270": perm(lambda r, c: (n - c, r))})
    return out


@dataclass
class Traffic:
    """A layer's NoP flows in terms of logical chiplets (independent of the placement)."""

    rows: int
    cols: int
    chiplets: int                                    # logical chiplets used
    attach: tuple[int, ...]                          # physical index of each DRAM channel's chiplet
    uni: np.ndarray = None                           # (N, chiplets): bytes from a physical source
    multi: list = field(default_factory=list)        # (bytes per physical source (N,), logical dsts)
    dram_uni: np.ndarray = None                      # (chiplets,): bytes read from the nearest attach
    dram_multi: list = field(default_factory=list)   # (bytes, logical dsts): shared reads
    dram_out: np.ndarray = None                      # (chiplets,): bytes written to the nearest attach
    psum: np.ndarray = None                          # (chiplets, chiplets): bytes logical -> logical
    received: float = 0.0                            # of the last link_loads: most NoP bytes one global buffer
                                                     # received or sent
    entries: dict = field(default_factory=dict)      # attach index -> neighbour index whose link it shares

    def __post_init__(self) -> None:
        n = self.rows * self.cols
        self.uni = np.zeros((n, self.chiplets)) if self.uni is None else self.uni
        self.dram_uni = np.zeros(self.chiplets) if self.dram_uni is None else self.dram_uni
        self.dram_out = np.zeros(self.chiplets) if self.dram_out is None else self.dram_out
        self.psum = np.zeros((self.chiplets, self.chiplets)) if self.psum is None else self.psum

    def link_loads(self, pos: tuple[int, ...]) -> np.ndarray:
        """Bytes over each directed NoP link with logical chiplet ``j`` at physical index ``pos[j]``."""
        R, H = routes(self.rows, self.cols)
        n = self.rows * self.cols
        p = np.asarray(pos, dtype=np.int64)
        att = np.asarray(self.attach, dtype=np.int64)
        nearest = att[np.argmin(H[np.ix_(att, p)], axis=0)]       # per logical chiplet
        M = np.zeros((n, n))
        M[:, p] += self.uni
        np.add.at(M, (nearest, p), self.dram_uni)
        np.add.at(M, (p, nearest), self.dram_out)
        M[np.ix_(p, p)] += self.psum
        loads = M.reshape(-1) @ route_matrix(self.rows, self.cols)
        recv = M.sum(axis=0) - np.diag(M)
        # bytes read from a global buffer to leave over the NoP: resident inputs, partial sums, outputs
        sent = self.uni.sum(axis=1)
        sent[p] -= self.uni[p, np.arange(len(p))]           # a chiplet's own inputs do not leave it
        np.add.at(sent, p, self.psum.sum(axis=1) + self.dram_out)
        for by_src, dsts in self.multi:
            d = p[list(dsts)]
            tree = R[:, d, :].any(axis=1)               # (N, L)
            loads += by_src @ tree
            recv[d] += by_src.sum() - by_src[d]
            sent += by_src                                     # one read per tree
        for nbytes, dsts in self.dram_multi:
            d = p[list(dsts)]
            loads += (nbytes / len(att)) * R[att][:, d, :].any(axis=1).sum(axis=0)
            recv[d] += nbytes
        self.received = float((recv + sent).max()) if len(recv) else 0.0
        if self.entries:   # DRAM channels entering by an edge shared with a neighbour's link
            links = link_index(self.rows, self.cols)
            into, out_of = np.zeros(n), np.zeros(n)
            np.add.at(into, nearest, self.dram_uni)
            np.add.at(out_of, nearest, self.dram_out)
            into[att] += sum(nbytes for nbytes, _ in self.dram_multi) / len(att)
            for a, nb in self.entries.items():
                loads[links[(nb, a)]] += into[a]
                loads[links[(a, nb)]] += out_of[a]
        return loads

    def follow(self) -> tuple[int, ...]:
        """Greedy assignment: logical chiplets by decreasing resident input bytes, each to the free
        physical chiplet with the least bytes x hops from its sources (multicast groups count their
        bytes for each member); ties go to the row-major position."""
        _, H = routes(self.rows, self.cols)
        need = self.uni.copy()
        for by_src, dsts in self.multi:
            for j in dsts:
                need[:, j] += by_src
        cost = H.T @ need            # (N physical, chiplets): bytes x hops if j sat at x
        order = sorted(range(self.chiplets), key=lambda j: (-need[:, j].sum(), j))
        free = np.ones(self.rows * self.cols, dtype=bool)
        pos = [0] * self.chiplets
        for j in order:
            col = np.where(free, cost[:, j], np.inf)
            x = int(np.argmin(col))
            pos[j] = x
            free[x] = False
        return tuple(pos)


def options(traffic: Traffic) -> dict[str, tuple[int, ...]]:
    """Placements to consider: the mesh symmetries, and ``follow`` when some inputs are resident."""
    used = traffic.chiplets
    out = {name: perm[:used] for name, perm in symmetries(traffic.rows, traffic.cols).items()}
    if traffic.uni.any() or traffic.multi:
        out["follow"] = traffic.follow()
    return out


def _merge(slices: list[tuple]) -> list[tuple]:
    """Input slices of one chiplet joined where they touch along the group, then the row, range."""
    out = sorted(set(slices))
    for lo in (2, 6):  # g range, then row range (halo fields dropped: they only name overlaps)
        keyf = [i for i in range(10) if i not in (lo, lo + 1)]
        out.sort(key=lambda s: ([s[i] for i in keyf], s[lo]))
        merged: list[list[int]] = []
        for s in out:
            m = merged[-1] if merged else None
            if m is not None and all(m[i] == s[i] for i in keyf) and s[lo] <= m[lo + 1]:
                m[lo + 1] = max(m[lo + 1], s[lo + 1])
            else:
                merged.append(list(s[:10]) + [0, 0])
        out = [tuple(m) for m in merged]
    return out


def traffic(shape: Shape, part: Partition, arch, layer=None, batch: int = 1, sources=(),
            word: float = 1.0, input_reloads: float = 1.0, w_bytes_pe: float = 0.0,
            psum_bytes_pe: float = 0.0, out_word: float | None = None,
            outputs_resident: bool = True, slots: tuple[int, ...] | None = None) -> Traffic:
    """The flows of ``part``: ``sources`` per input tensor the resident tensor it reads (or None:
    DRAM), each input byte moved ``input_reloads`` times over the loop nest; ``w_bytes_pe`` the
    weight bytes one PE group loads over the nest; ``psum_bytes_pe`` the partial-sum bytes a PE
    of a split C sends to its owner. ``slots``: the package PE each PE index runs on (its
    logical chiplets are then the chiplets of those slots, in increasing order: :func:`slot_chiplets`);
    None: PE ``i`` in logical chiplet ``i // n``."""
    from simulator.mapping.residency import pieces   # residency -> trace; imported late to stay light
    pkg = arch.package
    rows, cols, ppc = pkg.mesh.rows, pkg.mesh.cols, arch.chiplet.pes
    used = part.used_pes
    chip_of, _ = slot_chiplets(used, ppc, slots)
    n_chip = int(chip_of.max()) + 1 if used else 0
    attach = tuple(sorted({r * cols + c for r, c in arch.dram_attach()}))
    tr = Traffic(rows, cols, n_chip, attach,
                 entries={a[0] * cols + a[1]: b[0] * cols + b[1] for a, b in arch.dram_entries().items()})
    geo = Geometry(shape, part)
    compute = shape.has_weights
    # inputs: the merged input slices of each logical chiplet, grouped by identical sets (a multicast)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for j, runs in enumerate(chiplet_runs(part, ppc, slots)):
        sl = []
        for c, p, ka, kb in runs:
            w = geo.work(_base(shape, part, p, c, ka, kb), 0, part.k_pe * (kb - ka), 0, part.p_pe, 0, shape.q,
                         0, part.c_pe, compute)
            if w[1] > w[0] and w[5] > w[4]:
                sl.append(geo.inputs(w))
        groups[tuple(_merge(sl))].append(j)
    n_t = max(1, shape.in_tensors)
    srcs = list(sources) + [None] * (n_t - len(sources))
    for sl, members in groups.items():
        by_src = np.zeros(rows * cols)
        dram = 0.0
        for s in sl:
            for t in range(n_t):
                sub = (t, t + 1) + s[2:] if n_t > 1 else s
                res = srcs[t]
                if res is None or layer is None:
                    dram += size("inputs", sub) * word * input_reloads
                    continue
                for (r, c), piece in pieces(res, layer, batch, sub):
                    by_src[r * cols + c] += size("inputs", piece) * word * input_reloads
        if len(members) == 1:
            tr.uni[:, members[0]] += by_src
            tr.dram_uni[members[0]] += dram
        else:
            if by_src.any():
                tr.multi.append((by_src, tuple(members)))
            if dram:
                tr.dram_multi.append((dram, tuple(members)))
    # weights: per (c, k) group of PEs, to the chiplets holding it (read per chiplet when P is not split)
    if compute and w_bytes_pe:
        if part.p_parts == 1:
            tr.dram_uni += w_bytes_pe * np.bincount(chip_of, minlength=n_chip)
        else:
            sets: dict[tuple[int, ...], float] = defaultdict(float)
            kc = part.k_parts * part.c_parts
            for g in range(kc):
                members = tuple(sorted({int(chip_of[g + kc * p]) for p in range(part.p_parts)}))
                sets[members] += w_bytes_pe
            for members, nbytes in sets.items():
                if len(members) == 1:
                    tr.dram_uni[members[0]] += nbytes
                else:
                    tr.dram_multi.append((nbytes, members))
    # partial sums of a split C to the chiplet of the c = 0 part
    if part.c_parts > 1 and psum_bytes_pe:
        i = np.arange(used)
        k, c, p = i % part.k_parts, (i // part.k_parts) % part.c_parts, i // (part.k_parts * part.c_parts)
        src, owner = chip_of, chip_of[k + p * part.k_parts * part.c_parts]
        m = (c > 0) & (src != owner)
        np.add.at(tr.psum, (src[m], owner[m]), psum_bytes_pe)
    if not outputs_resident:
        tr.dram_out += output_bytes(shape, part, ppc, word if out_word is None else out_word, slots)
    return tr   # a source that is also the destination moves nothing: R[s, s] crosses no link


def free_room(residency, out_layer) -> tuple[float, ...] | None:
    """Bytes each chiplet (row-major index) can still admit for ``out_layer``'s outputs under
    ``residency``'s rules (:meth:`simulator.mapping.residency.Residency.admit`), or None when the
    outputs go to DRAM whatever the placement (no consumer, or a consumer that reads DRAM)."""
    users = residency.consumers.get(out_layer.name, [])
    if not users or not all(residency._compatible(out_layer, residency.layers[u]) for u in users):
        return None
    rows, cols = residency.arch.package.mesh.rows, residency.arch.package.mesh.cols
    return tuple(float(residency.budget_bytes - residency.used.get(divmod(x, cols), 0))
                 for x in range(rows * cols))


def slot_chiplets(used: int, ppc: int, slots: tuple[int, ...] | None) -> tuple[np.ndarray, list[int]]:
    """(logical chiplet of each PE index, physical chiplet index of each logical chiplet): without
    ``slots`` PE ``i`` is in logical chiplet ``i // n`` (placed later); with ``slots`` the logical
    chiplets are the distinct chiplets ``slot // n`` in increasing order, already placed."""
    i = np.arange(used)
    if slots is None:
        return i // ppc, list(range(-(-used // ppc)))
    phys = np.asarray(slots[:used], dtype=np.int64) // ppc
    chips, chip_of = np.unique(phys, return_inverse=True)
    return chip_of.astype(np.int64), [int(c) for c in chips]


def chiplet_runs(part: Partition, ppc: int, slots: tuple[int, ...] | None = None
                 ) -> list[list[tuple[int, int, int, int]]]:
    """Per logical chiplet, its PEs as runs ``(c, p, k_a, k_b)``: parts ``k_a <= k < k_b`` of one
    (p, c) (PE ``i = k + K_parts·(c + C_parts·p)``)."""
    kp, cp, used = part.k_parts, part.c_parts, part.used_pes
    if slots is not None:
        chip_of, chips = slot_chiplets(used, ppc, slots)
        runs: list[list[tuple[int, int, int, int]]] = [[] for _ in chips]
        for i in range(used):
            q, k = divmod(i, kp)
            p, c = divmod(q, cp)
            rs = runs[chip_of[i]]
            if rs and rs[-1][:2] == (c, p) and rs[-1][3] == k:
                rs[-1] = (c, p, rs[-1][2], k + 1)
            else:
                rs.append((c, p, k, k + 1))
        return runs
    out = []
    for j in range(-(-used // ppc)):
        a, b = j * ppc, min(used, (j + 1) * ppc)
        runs = []
        for q in range(a // kp, (b - 1) // kp + 1):
            p, c = divmod(q, cp)
            runs.append((c, p, max(0, a - q * kp), min(kp, b - q * kp)))
        out.append(runs)
    return out


def _base(shape: Shape, part: Partition, p: int, c: int, ka: int, kb: int) -> tuple:
    """:meth:`Geometry.base` of the run of parts ``ka <= k < kb`` of (p, c)."""
    return (c, p * part.p_pe, min(shape.p, (p + 1) * part.p_pe), c * part.c_pe,
            min(shape.c_red, (c + 1) * part.c_pe), ka * part.k_pe, min(shape.k, kb * part.k_pe))


def output_bytes(shape: Shape, part: Partition, ppc: int, word: float,
                 slots: tuple[int, ...] | None = None) -> np.ndarray:
    """Final output bytes each logical chiplet holds after the layer (its c = 0 parts; rounded up
    per PE as the mapper counts them)."""
    runs = chiplet_runs(part, ppc, slots)
    out = np.zeros(len(runs))
    for j, rs in enumerate(runs):
        for c, p, ka, kb in rs:
            if c:
                continue
            r0, r1 = p * part.p_pe, min(shape.p, (p + 1) * part.p_pe)
            for k in range(ka, kb):
                k0, k1 = k * part.k_pe, min(shape.k, (k + 1) * part.k_pe)
                if k1 > k0 and r1 > r0:
                    out[j] += ceil((k1 - k0) * (r1 - r0) * shape.q * word)
    return out


def aligned_slots(shape: Shape, part: Partition, producer: Partition, producer_slots: tuple[int, ...],
                  ppc: int, total_pes: int) -> tuple[int, ...] | None:
    """PE slots for a channel-wise layer (pool, add, depthwise: output channel k reads input channel
    k) that put each part on the chiplet of the producer part holding the start of its input window:
    part (p, k) reads channels from ``k·K_pe`` and input rows from ``p·P_pe·stride``, written by the
    producer's final part ``(k·K_pe // K_pe', p·P_pe·stride // P_pe')`` (padding ignored), which ran on
    package PE ``producer_slots[...]``; a part takes that PE's slot, or another free PE of the same
    chiplet. None when the layer is not channel-wise or a chiplet runs out of free PEs."""
    if shape.has_weights and shape.k_per_group >= shape.k:
        return None
    kc = producer.k_parts * producer.c_parts
    free: dict[int, list[int]] = {}
    taken: set[int] = set()
    out = []
    for i in range(part.used_pes):
        p, c, k = part.part(i)
        kp = min(producer.k_parts - 1, (k * part.k_pe) // producer.k_pe)
        pp = min(producer.p_parts - 1, (p * part.p_pe * shape.stride_h) // producer.p_pe)
        want = producer_slots[kp + kc * pp]
        if want in taken:
            chip = want // ppc
            pool = free.setdefault(chip, [x for x in range(chip * ppc, (chip + 1) * ppc)])
            while pool and pool[0] in taken:
                pool.pop(0)
            if not pool:
                return None
            want = pool.pop(0)
        taken.add(want)
        out.append(want)
    return tuple(out) if all(0 <= x < total_pes for x in out) else None
