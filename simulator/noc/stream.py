"""A flit-level mesh that runs in steps: transfers are submitted as they are issued, and
:meth:`FlitStream.advance` simulates up to a cycle and reports the transfers that finished.

This is the closed-loop form of :class:`simulator.noc.network.TransferBatch`: the same
packetisation (:func:`simulator.noc.network.packet_sizes`: ``ceil(8 nbytes / width)`` flits
per destination, packets of at most ``max_packet_flits``; a multicast to several destinations
is replicated in the routers (``RouterConfig.multicast = "replicate"``, packets of at most one
VC buffer) or sent as repeated unicast in the order of ``dsts``; a gather is one packet
sequence from every destination to the source), the same compiled kernel, but the kernel's
state (buffers, credits, allocator pointers, wake-up cycles) is kept between calls.

Rules of use: the cycle of every :meth:`submit` must be at least :attr:`now` (the next cycle
the kernel will simulate); :meth:`advance` never simulates a cycle at or after ``until``.
A transfer's finish is the cycle its last tail flit leaves the ejection channel; it is learnt
``sw_alloc + st + link`` cycles (:attr:`lookahead`) before it happens, when that flit wins
the switch of its last router.
"""
from __future__ import annotations

import numpy as np

from simulator.noc import kernel
from simulator.noc.network import packet_sizes
from simulator.noc.router import NetworkDeadlock, RouterConfig

Node = tuple[int, int]
_NO_FLIPS = (np.ones(8, np.int64), np.zeros((0, 8)), np.zeros((0, 1)), np.zeros(0, np.int64), np.zeros((0, 8), np.int64),
             np.zeros((0, 5), np.int64), np.zeros((0, 8), np.int64))


class FlitStream:
    def __init__(self, rows: int, cols: int, cfg: RouterConfig, width_bits: int, max_packet_flits: int = 32,
                 name: str = "mesh"):
        if cfg.routing == "o1turn":
            raise ValueError("FlitStream supports the deterministic routings dor and dor_yx")
        self.rows, self.cols, self.cfg, self.name = rows, cols, cfg, name
        self.width_bits, self.max_packet_flits = width_bits, max_packet_flits
        self.mode = 1 if cfg.routing == "dor_yx" else 0
        self.state = kernel.new_state(rows, cols, cfg.num_vcs, cfg.vc_buf_size, cfg.arrival_span_cycles)
        self._sc = self.state[-1]
        self._ni_cur, self._nwake = self.state[kernel.S_NI_CUR], self.state[kernel.S_NWAKE]
        self._tail = np.full(rows * cols, -1, np.int64)
        self.n = 0
        self._alloc(1024)
        self.n_mc = 0
        self._alloc_mc(1024)
        self.link_flits = np.zeros((rows * cols, kernel.P), np.int64)
        self._occ = np.zeros(rows * cols, np.int64)
        self._info = np.zeros(4, np.int64)
        self._left: dict[object, list] = {}   # tag -> [packets still in flight, floor cycle]
        self._tr_left = np.zeros(1024, np.int64)  # per transfer number: packets still in flight (kernel)
        self._n_tr = 0
        self._owner: list[object] = []        # tag of each packet
        self.lookahead = cfg.sw_alloc_delay + cfg.st_final_delay + cfg.link_latency_cycles
        self.flips = None  # a simulator.noc.flips.StreamFlips when bit flips are drawn per flit
        self.renumber_after = 1 << 16  # packets kept before numbering restarts at an idle moment

    def _flip_args(self) -> tuple:
        f = self.flips
        if f is None:
            return _NO_FLIPS
        s = f.state
        return s.lanes, s.logq, s.u, s.ptr, s.gap, s.out, s.count

    def _alloc(self, cap: int) -> None:
        old = getattr(self, "pk", None)
        names = ("src", "dst", "size", "ctime", "mode", "meas", "next", "recv", "itime", "atime", "done", "mc", "mcn",
                 "owner")
        fill = {"next": -1, "itime": -1, "atime": -1, "mc": -1}
        self.pk = {k: np.full(cap, fill.get(k, 0), np.int64) for k in names}
        if old is not None:
            for k in names:
                self.pk[k][:self.n] = old[k][:self.n]
        self.cap = cap

    def _restart_numbering(self) -> None:
        """With nothing in flight (every interface idle, every buffer empty), number packets and
        transfers from 0 again, so a long run does not keep every packet it ever sent."""
        assert not self._left and (self._ni_cur < 0).all()
        self.n = self.n_mc = self._n_tr = 0
        self._owner.clear()
        self._tail[:] = -1
        for k, fill in (("next", -1), ("itime", -1), ("atime", -1), ("mc", -1), ("recv", 0)):
            self.pk[k][:] = fill
        self.mc["recv"][:] = 0
        self.mc["atime"][:] = -1
        self._sc[kernel.NTOTAL] = 0
        self._sc[kernel.NDONE] = 0

    def _alloc_mc(self, cap: int) -> None:
        old = getattr(self, "mc", None)
        self.mc = {k: np.full(cap, -1 if k == "atime" else 0, np.int64) for k in ("dst", "recv", "atime")}
        if old is not None:
            for k in self.mc:
                self.mc[k][:self.n_mc] = old[k][:self.n_mc]
        self.mc_cap = cap

    @property
    def now(self) -> int:
        """The next cycle the kernel will simulate."""
        return int(self._sc[kernel.NOW])

    @property
    def busy(self) -> bool:
        return bool(self._left)

    def submit(self, ready: int, src: Node, dsts: tuple[Node, ...], nbytes: int, mode: str, tag: object,
               floor: int = 0) -> None:
        """Queue one transfer created at cycle ``ready`` (>= :attr:`now`); ``tag`` names it in the
        completions. ``floor``: it finishes no earlier than this cycle."""
        if ready < self.now:
            raise RuntimeError(f"{self.name}: transfer submitted at cycle {ready}, before the network's "
                               f"present cycle {self.now}")
        if not self._left and self.n >= self.renumber_after:
            self._restart_numbering()
        cols = self.cols
        s = src[0] * cols + src[1]
        targets = [d[0] * cols + d[1] for d in dsts]
        replicate = mode == "multicast" and len(set(targets)) > 1 and self.cfg.multicast == "replicate"
        if replicate:
            targets = list(dict.fromkeys(targets))  # a node listed twice gets the data once
            sizes = packet_sizes(nbytes, self.width_bits, min(self.max_packet_flits, self.cfg.vc_buf_size))
            ends = [(s, -1)]
            if self.n_mc + len(sizes) * len(targets) > self.mc_cap:
                self._alloc_mc(max(2 * self.mc_cap, self.n_mc + len(sizes) * len(targets)))
        else:
            sizes = packet_sizes(nbytes, self.width_bits, self.max_packet_flits)
            ends = [(b, s) if mode == "gather" else (s, b) for b in targets]
        count = len(ends) * len(sizes)
        if self.n + count > self.cap:
            self._alloc(max(2 * self.cap, self.n + count))
        pk, tail, cur, nwake = self.pk, self._tail, self._ni_cur, self._nwake
        p = self.n
        for a, b in ends:
            for sz in sizes:
                pk["src"][p], pk["dst"][p], pk["size"][p], pk["ctime"][p] = a, max(b, 0), sz, ready
                pk["mode"][p] = self.mode
                if replicate:
                    m = self.n_mc
                    pk["mc"][p], pk["mcn"][p] = m, len(targets)
                    self.mc["dst"][m:m + len(targets)] = targets
                    self.n_mc = m + len(targets)
                if cur[a] < 0:
                    cur[a] = p
                else:
                    pk["next"][tail[a]] = p
                tail[a] = p
                if ready < nwake[a]:
                    nwake[a] = ready
                p += 1
        t = self._n_tr
        if t >= len(self._tr_left):
            self._tr_left = np.concatenate([self._tr_left, np.zeros(len(self._tr_left), np.int64)])
        self._tr_left[t] = count
        self.pk["owner"][self.n:p] = t
        self._n_tr = t + 1
        self.n = p
        self._owner.extend([tag] * count)
        self._left[tag] = [count, floor]
        self._sc[kernel.NTOTAL] = p

    def advance(self, until: int, stop_at_completion: bool = True) -> list[tuple[object, int]]:
        """Simulate the cycles before ``until``; return the transfers whose finish became known,
        as ``(tag, finish cycle)``. ``stop_at_completion``: return as soon as one is known (the
        kernel then stands at the cycle after the one in which it was learnt)."""
        out: list[tuple[object, int]] = []
        cfg, pk = self.cfg, self.pk
        while self._left:
            status = kernel.simulate(
                self.rows, self.cols, cfg.num_vcs, cfg.vc_buf_size, cfg.routing_delay, cfg.vc_alloc_delay,
                cfg.sw_alloc_delay, cfg.st_final_delay, cfg.link_latency_cycles,
                cfg.link_latency_cycles + cfg.injection_extra_cycles, cfg.credit_delay,
                cfg.alloc_iters, int(cfg.wait_for_tail_credit), False,
                pk["src"], pk["dst"], pk["size"], pk["ctime"], pk["mode"], pk["meas"], pk["next"], pk["recv"],
                pk["mc"], pk["mcn"], self.mc["dst"], self.mc["recv"], self.mc["atime"], pk["owner"], self._tr_left,
                self.state, 0, 0, int(until), 1 if stop_at_completion else 2, False,
                *self._flip_args(),
                pk["itime"], pk["atime"], self.link_flits, self._occ, self._info, pk["done"])
            for p in pk["done"][:int(self._sc[kernel.NNEW])]:
                tag = self._owner[p]
                entry = self._left[tag]
                entry[0] -= 1
                entry[1] = max(entry[1], int(pk["atime"][p]))
                if entry[0] == 0:
                    del self._left[tag]
                    out.append((tag, entry[1]))
            if status in (kernel.COMPLETED, kernel.REFILL):
                if self.flips is not None:
                    self.flips.refill()
                if out and stop_at_completion:
                    break
                continue
            if status == kernel.DEADLOCK:
                blocked = [f"({r // self.cols},{r % self.cols})" for r in np.flatnonzero(self._occ)]
                raise NetworkDeadlock(f"{self.name}: deadlock at cycle {self.now}: no flit can move; "
                                      f"{len(self._left)} transfers undelivered; blocked routers (row,col) "
                                      f"holding flits: {', '.join(blocked) or 'none'}")
            if status == kernel.BROKEN:
                raise RuntimeError(f"{self.name}: flit-level kernel invariant broken (code {int(self._info[0])}, "
                                   f"index {int(self._info[1])}, cycle {int(self._info[2])})")
            break  # MAX_CYCLES: paused at until; OK: nothing left
        return out
