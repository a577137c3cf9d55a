"""Router configuration of the flit-level model and the packet-level entry point.

:class:`RouterConfig` holds the microarchitecture (virtual channels, buffer
depth, pipeline delays, credit delay, allocator iterations, routing);
:func:`run_packets` runs a set of packets through the compiled kernel
(:mod:`simulator.noc.kernel`) and returns per-packet injection and arrival
cycles and per-link flit counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.errors import AxsimError
from simulator.noc import kernel, kernel_uni, kernel_uni_parts

ROUTINGS = ("dor", "dor_yx", "o1turn")


class RouterConfig(BaseModel):
    """Input-queued virtual-channel router with credit flow control (BookSim2 names in brackets)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_vcs: int = Field(16, ge=1, le=64)                 # [num_vcs]
    vc_buf_size: int = Field(8, ge=1, le=1024)            # [vc_buf_size] flits per VC
    routing_delay: int = Field(0, ge=0, le=100)           # [routing_delay] cycles
    vc_alloc_delay: int = Field(1, ge=0, le=100)          # [vc_alloc_delay]
    sw_alloc_delay: int = Field(1, ge=0, le=100)          # [sw_alloc_delay]
    st_final_delay: int = Field(1, ge=0, le=100)          # [st_final_delay]
    link_latency_cycles: int = Field(1, ge=1, le=10_000)  # channel latency (BookSim mesh: 1)
    credit_delay: int = Field(2, ge=1, le=10_000)         # [credit_delay]
    # extra cycles of the injection channel over the link latency; BookSim2's channels deliver a
    # flit the cycle after latency + the send (its routers' stages absorb that cycle, its
    # injection channel does not), so its configurations use 1 (docs/validation.md, section 11)
    injection_extra_cycles: int = Field(0, ge=0, le=100)
    alloc_iters: int = Field(2, ge=1, le=16)              # [alloc_iters] iSLIP iterations
    wait_for_tail_credit: bool = True                     # [wait_for_tail_credit]
    routing: Literal["dor", "dor_yx", "o1turn"] = "dor"   # [routing_function]: dor = XY
    # multicast transfers: replicated in the routers along the XY tree, or sent as repeated unicast
    multicast: Literal["replicate", "unicast"] = "replicate"

    @model_validator(mode="after")
    def _o1turn_needs_two_vcs(self) -> "RouterConfig":
        if self.routing == "o1turn" and self.num_vcs < 2:
            raise ValueError(f"routing 'o1turn' needs num_vcs >= 2 (two VC classes), got {self.num_vcs}")
        return self

    @property
    def hop_cycles(self) -> int:
        """Cycles per router-to-router hop at zero load (head flit)."""
        return (self.routing_delay + self.vc_alloc_delay + self.sw_alloc_delay + self.st_final_delay
                + self.link_latency_cycles)

    @property
    def arrival_span_cycles(self) -> int:
        """Longest delay between writing a flit into an input buffer and its arrival there (a
        switch traversal, or an injection)."""
        return max(self.sw_alloc_delay + self.st_final_delay + self.link_latency_cycles,
                   self.link_latency_cycles + self.injection_extra_cycles)

    def zero_load_cycles(self, hops: int, flits: int) -> int:
        """Closed-form zero-load packet latency (creation to tail ejection) over ``hops`` links.

        The head is injected in its creation cycle, crosses the injection channel
        (``link_latency + injection_extra_cycles``), ``hops + 1`` routers (routing + VC + switch allocation + switch
        traversal) and ``hops`` links, and leaves through the ejection channel; the tail
        follows ``flits - 1`` cycles behind."""
        router = self.routing_delay + self.vc_alloc_delay + self.sw_alloc_delay + self.st_final_delay
        return (hops + 1) * router + (hops + 2) * self.link_latency_cycles + self.injection_extra_cycles + flits - 1


@dataclass(frozen=True)
class PacketRun:
    """Result of :func:`run_packets` (cycles are absolute)."""

    itime: np.ndarray       # head injection cycle per packet (-1: never injected)
    atime: np.ndarray       # tail ejection cycle per packet (-1: never arrived)
    link_flits: np.ndarray  # (routers, 5): flits sent through each output port (0 = ejection)
    end_cycle: int
    window_flits: int       # flits ejected in the measurement window
    flit_hops: int          # router-to-router link traversals
    n_flips: int = 0        # bit flips drawn (see FlipState)
    flip_pool_exhausted: bool = False
    mc_atime: np.ndarray | None = None  # multicast: tail ejection per destination (as Multicast.dst)


@dataclass(frozen=True)
class Multicast:
    """Destination sets of multicast packets: packet ``i`` with ``ptr[i] >= 0`` goes to
    ``dst[ptr[i] : ptr[i] + count[i]]`` (distinct nodes), replicated in the routers along its
    dimension-ordered tree; ``ptr[i] = -1``: a unicast packet to ``dst`` of :func:`run_packets`."""

    ptr: np.ndarray
    count: np.ndarray
    dst: np.ndarray

    @staticmethod
    def of(sets: list) -> "Multicast":
        """From one entry per packet: ``None`` (unicast) or a sequence of destination nodes."""
        ptr = np.full(len(sets), -1, np.int64)
        count = np.zeros(len(sets), np.int64)
        flat: list[int] = []
        for i, d in enumerate(sets):
            if d is not None:
                ptr[i], count[i] = len(flat), len(d)
                flat.extend(int(x) for x in d)
        return Multicast(ptr, count, np.array(flat, np.int64))

    def check(self, n: int, nodes: int, size: np.ndarray, depth: int, name: str) -> None:
        """Shapes, endpoints, distinct destinations, and multicast packets no longer than one VC
        buffer (the condition of the deadlock argument, docs/models.md)."""
        if len(self.ptr) != n or len(self.count) != n:
            raise AxsimError(f"{name}: multicast ptr/count need one entry per packet ({n})")
        mc = np.flatnonzero(self.ptr >= 0)
        if not len(mc):
            return
        if (self.count[mc] < 1).any() or (self.ptr[mc] + self.count[mc] > len(self.dst)).any():
            raise AxsimError(f"{name}: multicast destination ranges must be non-empty and inside dst")
        if self.dst.min() < 0 or self.dst.max() >= nodes:
            raise AxsimError(f"{name}: multicast destinations must be nodes 0..{nodes - 1}")
        if size[mc].max() > depth:
            raise AxsimError(f"{name}: a multicast packet of {int(size[mc].max())} flits is longer than the "
                             f"VC buffer ({depth} flits); replicated multicast packets must fit in one buffer")
        for i in mc.tolist():
            d = self.dst[self.ptr[i]: self.ptr[i] + self.count[i]]
            if len(np.unique(d)) != len(d):
                raise AxsimError(f"{name}: multicast packet {i} lists a destination twice")


def no_multicast(n: int) -> Multicast:
    return Multicast(np.full(n, -1, np.int64), np.zeros(n, np.int64), np.zeros(0, np.int64))


@dataclass
class FlipState:
    """Inputs and outputs of per-flit bit-flip sampling (see :mod:`simulator.noc.flips`)."""

    lanes: np.ndarray       # (8,) bits of each bit position per flit (wire i carries position i mod 8)
    logq: np.ndarray        # (links, 8) log(1 - p) per link l = r * 5 + o and bit position
    u: np.ndarray           # (links, pool) uniforms in (0, 1] per link
    ptr: np.ndarray         # (links,) uniforms used
    gap: np.ndarray         # (links, 8) bits still to pass before the next flip
    out: np.ndarray         # (capacity, 5) flips: packet, flit, lane, bit, link
    count: np.ndarray | None = None  # (links, 8) flips per link and bit position (all, also beyond capacity)

    def __post_init__(self):
        if self.count is None:
            self.count = np.zeros((self.logq.shape[0], 8), np.int64)


_NO_FLIPS = FlipState(np.ones(8, np.int64), np.zeros((0, 8)), np.zeros((0, 1)), np.zeros(0, np.int64),
                      np.zeros((0, 8), np.int64), np.zeros((0, 5), np.int64))


class NetworkDeadlock(AxsimError):
    """No flit can ever move again while packets remain in the network."""


def run_packets(rows: int, cols: int, cfg: RouterConfig, src: np.ndarray, dst: np.ndarray,
                size: np.ndarray, ctime: np.ndarray, measured: np.ndarray | None = None,
                route_mode: np.ndarray | None = None, window: tuple[int, int] = (0, 0),
                max_cycles: int = 1 << 60, name: str = "mesh", flips: FlipState | None = None,
                check: bool = False, stop_at_limit: bool = False, multicast: Multicast | None = None,
                kernel_choice: Literal["auto", "general", "unicast"] = "auto") -> PacketRun:
    """Run packets (node ids ``r * cols + c``) through the flit-level mesh.

    ``size`` in flits (>= 1), ``ctime`` the creation cycle; each source's network interface
    injects its packets in creation order (ties in array order), one flit per cycle.
    The run ends when every ``measured`` packet (default: all) has arrived; with no packet
    measured, when every packet has arrived or at ``max_cycles``. ``stop_at_limit``: reaching
    ``max_cycles`` ends the run normally (packets still in flight keep ``atime = -1``).
    ``route_mode``: 0 = XY, 1 = YX per packet (default from ``cfg.routing``).
    ``check``: verify credit conservation of every output VC in every simulated cycle (slow; tests).
    ``multicast``: destination sets of the packets replicated in the routers (their ``dst`` is
    ignored); such a packet has arrived when its tail reached every destination.
    ``kernel_choice``: ``"auto"`` runs the unicast-only kernel (:mod:`simulator.noc.kernel_uni`, same
    results, leaner) when no packet is multicast and no bit flips are drawn, else the general
    kernel (:mod:`simulator.noc.kernel`); ``"general"`` forces the general kernel; ``"unicast"``
    forces the unicast-only one (an error with multicast packets or bit flips).
    """
    n = len(src)
    src = np.ascontiguousarray(src, dtype=np.int64)
    dst = np.ascontiguousarray(dst, dtype=np.int64)
    size = np.ascontiguousarray(size, dtype=np.int64)
    ctime = np.ascontiguousarray(ctime, dtype=np.int64)
    nodes = rows * cols
    mc = no_multicast(n) if multicast is None else multicast
    mc.check(n, nodes, size, cfg.vc_buf_size, name)
    dst = np.where(mc.ptr >= 0, 0, dst)
    if n and (src.min() < 0 or src.max() >= nodes or dst.min() < 0 or dst.max() >= nodes):
        raise AxsimError(f"{name}: packet endpoints must be nodes 0..{nodes - 1} of the {rows}x{cols} mesh")
    if n and size.min() < 1:
        raise AxsimError(f"{name}: packets need at least one flit (got {int(size.min())})")
    if measured is None:
        measured = np.ones(n, np.int64)
    if route_mode is None:
        if cfg.routing == "o1turn":
            raise AxsimError("o1turn routing needs a per-packet choice (route_mode)")
        route_mode = np.full(n, 1 if cfg.routing == "dor_yx" else 0, np.int64)
    route_mode = np.ascontiguousarray(route_mode, dtype=np.int64)
    if route_mode.shape != (n,) or (n and (route_mode.min() < 0 or route_mode.max() > 1)):
        raise AxsimError(f"{name}: route_mode needs one entry per packet ({n}), each 0 (XY) or 1 (YX)")
    order = np.lexsort((np.arange(n), ctime, src)).astype(np.int64)
    lean = _use_unicast_kernel(kernel_choice, mc, flips, name)
    mod = kernel_uni_parts if lean else kernel
    state = mod.new_state(rows, cols, cfg.num_vcs, cfg.vc_buf_size, cfg.arrival_span_cycles)
    pk_next = link_queues(state[kernel_uni_parts.U_NI_CUR if lean else kernel.S_NI_CUR],
                          state[kernel_uni_parts.U_NWAKE if lean else kernel.S_NWAKE], order, src, ctime)
    sc = state[-1]
    sc[kernel.NTOTAL] = n
    sc[kernel.NMEAS] = int(np.sum(measured))
    itime = np.full(n, -1, np.int64)
    atime = np.full(n, -1, np.int64)
    link_flits = np.zeros((nodes, kernel.P), np.int64)
    occ = np.zeros(nodes, np.int64)
    info = np.zeros(4, np.int64)
    fl = _NO_FLIPS if flips is None else flips
    mc_atime = np.full(len(mc.dst), -1, np.int64)
    timing = (rows, cols, cfg.num_vcs, cfg.vc_buf_size, cfg.routing_delay, cfg.vc_alloc_delay,
              cfg.sw_alloc_delay, cfg.st_final_delay, cfg.link_latency_cycles,
              cfg.link_latency_cycles + cfg.injection_extra_cycles, cfg.credit_delay,
              cfg.alloc_iters, int(cfg.wait_for_tail_credit), cfg.routing == "o1turn")
    measured = np.ascontiguousarray(measured, dtype=np.int64)
    if lean:
        status = kernel_uni.simulate_uni(
            *timing, (route_mode * nodes + dst) * nodes, size, ctime, route_mode, measured, pk_next,
            np.zeros(n, np.int64), state,
            int(window[0]), int(window[1]), int(max_cycles), bool(check), itime, atime, link_flits, occ, info)
    else:
        status = kernel.simulate(
            *timing, src, dst, size, ctime, route_mode, measured, pk_next, np.zeros(n, np.int64),
            np.ascontiguousarray(mc.ptr, dtype=np.int64), np.ascontiguousarray(mc.count, dtype=np.int64),
            np.ascontiguousarray(mc.dst, dtype=np.int64), np.zeros(len(mc.dst), np.int64), mc_atime,
            np.zeros(n, np.int64), np.zeros(1, np.int64), state,
            int(window[0]), int(window[1]), int(max_cycles), 0, bool(check),
            fl.lanes, fl.logq, fl.u, fl.ptr, fl.gap, fl.out, fl.count, itime, atime, link_flits, occ, info,
            np.zeros(0, np.int64))
    end, wflits, hops, nflips = (int(sc[i]) for i in (kernel.NOW, kernel.WFLITS, kernel.HOPS, kernel.NFLIPS))
    if status == kernel.DEADLOCK:
        blocked = [f"({r // cols},{r % cols})" for r in np.flatnonzero(occ)]
        waiting = int((atime < 0).sum())
        raise NetworkDeadlock(
            f"{name}: deadlock at cycle {end}: no flit can move; {waiting} packets undelivered; "
            f"blocked routers (row,col) holding flits: {', '.join(blocked) or 'none'}")
    if status == kernel.MAX_CYCLES and not stop_at_limit:
        raise AxsimError(f"{name}: stopped at max_cycles = {max_cycles} with "
                         f"{int(((atime < 0) & (measured > 0)).sum())} measured packets undelivered")
    if status == kernel.BROKEN:
        what = {1: "credit count below zero", 2: "flit delivered out of order",
                3: "input buffer overflow", 4: "credits out of [0, depth] or not conserved"}[int(info[0])]
        raise RuntimeError(f"{name}: flit-level kernel invariant broken: {what} "
                           f"(index {int(info[1])}, cycle {int(info[2])})")
    end = max(end, int(atime.max(initial=0)))
    return PacketRun(itime, atime, link_flits, end, int(wflits), int(hops), int(nflips), bool(info[3]), mc_atime)


def _use_unicast_kernel(choice: str, mc: Multicast, flips: FlipState | None, name: str) -> bool:
    """Whether :func:`run_packets` runs the unicast-only kernel (see its ``kernel_choice``)."""
    if choice not in ("auto", "general", "unicast"):
        raise AxsimError(f"{name}: kernel_choice {choice!r} is not one of 'auto', 'general', 'unicast'")
    possible = not (mc.ptr >= 0).any() and flips is None
    if choice == "unicast" and not possible:
        raise AxsimError(f"{name}: kernel_choice 'unicast' needs unicast packets only and no bit flips "
                         f"(the unicast-only kernel neither replicates multicast nor draws flips)")
    return possible and choice != "general"


def link_queues(ni_cur: np.ndarray, nwake: np.ndarray, order: np.ndarray, src: np.ndarray,
                ctime: np.ndarray) -> np.ndarray:
    """Queue the packets (in ``order``) at their sources' interfaces: set each interface's current
    packet ``ni_cur`` and wake-up cycle ``nwake``; return the chain ``pk_next``."""
    pk_next = np.full(len(src), -1, np.int64)
    if len(order):
        s = src[order]
        same = s[1:] == s[:-1]
        pk_next[order[:-1][same]] = order[1:][same]
        first = np.ones(len(order), bool)
        first[1:] = ~same
        heads = order[first]
        ni_cur[src[heads]] = heads
        nwake[src[heads]] = ctime[heads]
    return pk_next
