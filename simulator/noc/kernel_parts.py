"""Pieces of the flit-level kernel (:mod:`simulator.noc.kernel`): constants, ring buffers of
credits, bit tricks, routing (unicast and the multicast tree), bit-flip sampling, the credit
invariant, and the kernel's state between calls (:func:`new_state`). The allocators are in
:mod:`simulator.noc.kernel_alloc`."""
from __future__ import annotations

import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

from simulator.noc.jit import cached_njit

P = 5                  # router ports
Q = 6                  # output-VC groups per node: 5 router output ports + the network interface
NI = 5
OPP = np.array([0, 2, 1, 4, 3], dtype=np.int64)
INF = np.int64(1) << np.int64(62)

OK, DEADLOCK, MAX_CYCLES, BROKEN = 0, 1, 2, 3
# info[0]: the code of the broken invariant: 1 credit out of range, 2 flit out of order,
# 3 buffer overflow; info[1:3] where (vc index, cycle)


@cached_njit(inline="always")
def _route(r, dst, cols, mode):
    rr = r // cols
    rc = r - rr * cols
    dr = dst // cols
    dc = dst - dr * cols
    if mode == 0:  # X then Y
        if dc > rc:
            return 1
        if dc < rc:
            return 2
        if dr > rr:
            return 3
        if dr < rr:
            return 4
        return 0
    if dr > rr:  # Y then X
        return 3
    if dr < rr:
        return 4
    if dc > rc:
        return 1
    if dc < rc:
        return 2
    return 0


@cached_njit(inline="always")
def _between(x, a, b):
    return (a <= x <= b) or (b <= x <= a)


@cached_njit(error_model="numpy")
def _mc_branches(r, pk, cols, mode, pk_src, pk_mc, pk_mcn, mc_dst):
    """Output ports of router ``r`` in the dimension-ordered tree of multicast packet ``pk``
    (mode 0: XY tree, 1: YX tree): the union, over the destinations whose route from the source
    passes ``r``, of the port that route takes at ``r``. Returns (port mask, index of ``r`` in
    the destination list or -1)."""
    s = pk_src[pk]
    sr = s // cols
    sc = s - sr * cols
    rr = r // cols
    rc = r - rr * cols
    mask = 0
    local = -1
    base = pk_mc[pk]
    for j in range(pk_mcn[pk]):
        d = mc_dst[base + j]
        dr = d // cols
        dc = d - dr * cols
        if mode == 0:
            on = (rr == sr and _between(rc, sc, dc)) or (rc == dc and _between(rr, sr, dr))
        else:
            on = (rc == sc and _between(rr, sr, dr)) or (rr == dr and _between(rc, sc, dc))
        if on:
            o = _route(r, d, cols, mode)
            mask |= 1 << o
            if o == 0:
                local = j
    return mask, local


@cached_njit(inline="always")
def _broken(info, code, index, now):
    """Record a broken invariant (``info[0]``: code, see above; ``info[1:3]``: index, cycle)."""
    info[0] = code
    info[1] = index
    info[2] = now
    return BROKEN


@cached_njit(inline="always")
def _u(i):
    """An array index as an unsigned integer: numba then leaves out the wrap-around of negative
    indices (a shift, an and, an add and a load of the array's length per access); used in the
    kernel's hot loops, where every index is non-negative (docs/performance.md)."""
    return np.uint64(i)


@cached_njit(inline="always")
def _drain(ov, now, cred, cr_t, cr_h, cr_n, D):
    while cr_n[ov] > 0 and cr_t[ov, _u(cr_h[ov])] <= now:
        cr_h[ov] += 1
        if cr_h[ov] == D:
            cr_h[ov] = 0
        cr_n[ov] -= 1
        cred[ov] += 1


@cached_njit(inline="always")
def _push_credit(ov, t, cr_t, cr_h, cr_n, D):
    k = cr_h[ov] + cr_n[ov]
    if k >= D:
        k -= D
    cr_t[ov, _u(k)] = t
    cr_n[ov] += 1


@cached_njit(inline="always")
def _arrives(r, ip, v, t, now, W, vmask, vports, pend, pport, pslot):
    """A flit becomes the head of the empty input VC ``v`` of port ``ip`` of router ``r`` and
    arrives at cycle ``t``: pending on the wheel until then (the scan then sees only VCs whose
    head has arrived), or visible to the scan at once when ``t`` is beyond the wheel."""
    if t - now >= W:
        vmask[_u(r * P + ip)] |= np.int64(1) << v
        vports[_u(r)] |= np.int64(1) << ip
    else:
        s = t & (W - 1)
        pend[_u((r * W + s) * P + ip)] |= np.int64(1) << v
        pport[_u(r * W + s)] |= 1 << ip
        pslot[_u(r)] |= np.int64(1) << s


@cached_njit(inline="always")
def _lowest(m):
    """Index of the lowest set bit of a non-zero integer (LLVM's count-trailing-zeros)."""
    return trailing_zeros(m)


@cached_njit(inline="always")
def _rr_pick(m, ptr):
    """Lowest set bit of ``m`` at or after ``ptr`` (wrapping); ``m`` non-zero."""
    hi = m & ~((np.int64(1) << ptr) - 1) if ptr < 64 else np.int64(0)
    if hi != 0:
        return _lowest(hi)
    return _lowest(m)


@cached_njit(inline="always")
def _credit_head(ov, cr_t, cr_h, cr_n):
    return cr_t[ov, cr_h[ov]] if cr_n[ov] > 0 else INF


@cached_njit()
def _credits_consistent(N, V, D, nbr, cred, cr_n, buf_n, info, now):
    """Every output VC: 0 <= credits <= D and credits + credits in flight + flits held or in
    flight downstream == D (ejection: the interface holds none). On failure info = (4, vc, now)."""
    for r in range(N):
        for o in range(Q):
            for v in range(V):
                ov = (r * Q + o) * V + v
                held = 0
                if o == NI:
                    held = buf_n[(r * P) * V + v]
                elif o > 0:
                    d = nbr[r, o]
                    if d < 0:
                        continue
                    held = buf_n[(d * P + OPP[o]) * V + v]
                if cred[ov] < 0 or cred[ov] > D or cred[ov] + cr_n[ov] + held != D:
                    info[0] = 4
                    info[1] = ov
                    info[2] = now
                    return False
    return True


@cached_njit()
def _sample_flips(lk, pk, fi, flit_lanes, fl_logq, fl_u, fl_ptr, fl_gap, flips, fl_count, n_flips, info):
    """Bit flips of flit ``fi`` of packet ``pk`` crossing link ``lk``. The link carries
    ``flit_lanes[b]`` bits of bit position ``b`` per flit; ``fl_gap[lk, b]`` counts the bits of
    position ``b`` still to pass before the next flip, redrawn as a geometric gap
    ``floor(log(u) / log(1 - p))`` from the link's pool of uniforms ``fl_u[lk]``. Each flip is
    written to ``flips[i] = (packet, flit, lane, bit, link)`` while there is room and counted in
    ``fl_count[lk, b]``; a pool that runs out stops the link's flips and sets ``info[3] = 1``.
    Returns the number of flips drawn so far."""
    for b in range(8):
        g = fl_gap[lk, b]
        lanes = flit_lanes[b]
        while g < lanes:
            if n_flips < flips.shape[0]:
                flips[n_flips, 0] = pk
                flips[n_flips, 1] = fi
                flips[n_flips, 2] = g
                flips[n_flips, 3] = b
                flips[n_flips, 4] = lk
            n_flips += 1
            fl_count[lk, b] += 1
            q = fl_ptr[lk]
            if q >= fl_u.shape[1]:
                info[3] = 1
                g = INF
                break
            fl_ptr[lk] = q + 1
            x = np.log(fl_u[lk, q]) / fl_logq[lk, b]
            if x > 1e18:  # p so small that no further flip can happen
                g = INF
                break
            g += 1 + np.int64(x)
        if g < INF:
            g -= lanes
        fl_gap[lk, b] = g
    return n_flips


@cached_njit()
def _scalars(sc):
    """The scalars the kernel keeps between calls (:data:`SC_NAMES`), without the last (n_new)."""
    return sc[0], sc[1], sc[2], sc[3], sc[4], sc[5], sc[6], sc[7]


@cached_njit()
def _store(sc, now, meas_done, window_flits, hops, n_flips, n_done, n_new):
    sc[0] = now
    sc[1] = meas_done
    sc[2] = window_flits
    sc[3] = hops
    sc[4] = n_flips
    sc[5] = n_done
    sc[8] = n_new


@cached_njit()
def scratch(V):
    """Per-router scratch arrays of the kernel: eligible VCs per (input, output), switch requests
    per input, VC-allocation requests per output and their count, the iSLIP bookkeeping."""
    return (np.zeros(P * P, np.int64), np.zeros(P, np.int64), np.zeros((P, P * V), np.int64),
            np.zeros(P, np.int64), np.zeros(P * V, np.int64), np.zeros(P * V, np.int64),
            np.zeros(P, np.int64), np.zeros(P, np.int64), np.full(P, -1, np.int64), np.full(P, -1, np.int64))


@cached_njit()
def tables(rows, cols):
    """Neighbour of every router port and the output port per routing mode, router and destination."""
    N = rows * cols
    nbr = np.full((N, P), -1, np.int64)
    for r in range(N):
        rr = r // cols
        rc = r % cols
        nbr[r, 0] = r
        if rc + 1 < cols:
            nbr[r, 1] = r + 1
        if rc > 0:
            nbr[r, 2] = r - 1
        if rr + 1 < rows:
            nbr[r, 3] = r + cols
        if rr > 0:
            nbr[r, 4] = r - cols
    rtab = np.zeros((2, N, N), np.int64)
    for r in range(N):
        for d in range(N):
            rtab[0, r, d] = _route(r, d, cols, 0)
            rtab[1, r, d] = _route(r, d, cols, 1)
    return nbr, rtab


def wheel_slots(span):
    """Slots of the pending-arrival wheel for flits written at most ``span`` cycles before they
    arrive: a power of two above ``span`` (at most 32); 0 when ``span`` is too long for a wheel
    (such flits are scanned while still on the link, as every flit was before the wheel)."""
    if span >= 32:
        return 0
    w = 2
    while w <= span:
        w *= 2
    return w


def new_state(rows, cols, V, D, span=3):
    """The kernel's state between calls: buffers, input-VC branch state, credits, allocator
    pointers, wake-up cycles, the network interfaces' current packets, the per-router scratch
    arrays (:func:`scratch`; the kernel runs without numba's reference counting, so it allocates
    nothing) and the scalars ``sc`` (see :data:`SC_NAMES`). Per input VC ``iv`` and output port
    ``o`` (index ``iv * P + o``): the output VC of that branch, the cycle it may ask for the
    switch, flits it has sent. After the buffers: ``vmask`` (per router and input port: the
    VCs whose head flit has arrived or is still on the link beyond the wheel) and ``vrouted``
    (per router and input port: the VCs whose head packet is routed and has branches left; a VC
    keeps its bit while its buffer is empty between two flits of a packet, and a VC not in it
    is idle). After the interfaces' state: ``buf_rt`` (per buffer slot holding a head: its
    output port at that router, -1 for multicast) and ``vports`` (per router: the input ports
    with a bit in ``vmask``). Then the pending-arrival wheel
    (:func:`wheel_slots` of ``span``, the longest delay between writing a flit into a buffer
    and its arrival): VCs per (router, slot, input port) whose head arrives in that slot, the
    input ports per (router, slot) and the slots per router with pending arrivals."""
    N = rows * cols
    NIV = N * P * V
    NOV = N * Q * V
    nbr, rtab = tables(rows, cols)
    W = wheel_slots(span)
    return (nbr, rtab,
            np.zeros((NIV, D), np.int32), np.zeros((NIV, D), np.int32), np.zeros((NIV, D), np.int64),
            np.zeros(NIV, np.int32), np.zeros(NIV, np.int32), np.zeros(N * P, np.int64),
            np.zeros(N * P, np.int64), np.zeros(NIV, np.int64), np.zeros(NIV, np.int64), np.zeros(NIV, np.int64),
            np.zeros(NIV, np.int64), np.full(NIV, -1, np.int64),
            np.zeros(NIV * P, np.int32), np.zeros(NIV * P, np.int64), np.zeros(NIV * P, np.int64),
            np.zeros(NIV, np.int32),
            np.full(NOV, D, np.int32), np.zeros(NOV, np.int32), np.zeros((NOV, D), np.int64),
            np.zeros(NOV, np.int32), np.zeros(NOV, np.int32), np.zeros(NOV, np.int32),
            np.zeros((N, P), np.int64), np.zeros((N, P), np.int64), np.zeros((N, P), np.int64),
            np.zeros(N, np.int64), np.full(N, INF, np.int64), np.full(N, INF, np.int64),
            np.full(N, -1, np.int64), np.zeros(N, np.int64), np.full(N, -1, np.int64), np.zeros(N, np.int64),
            np.zeros((NIV, D), np.int32), np.zeros(N, np.int64),
            np.zeros(N * max(W, 1) * P, np.int64), np.zeros(N * max(W, 1), np.int64), np.zeros(N, np.int64),
            scratch(V), np.zeros(len(SC_NAMES), np.int64))


# scalars kept between calls (indices into the state's last array)
SC_NAMES = ("now", "meas_done", "window_flits", "hops", "n_flips", "n_done", "n_total", "n_meas", "n_new")
NOW, MEAS_DONE, WFLITS, HOPS, NFLIPS, NDONE, NTOTAL, NMEAS, NNEW = range(len(SC_NAMES))
S_NWAKE, S_NI_CUR = 29, 30  # positions of nwake and ni_cur in the state tuple
S_BUF_N, S_VMASK, S_VROUTED, S_IVC_BM, S_VPORTS = 6, 7, 8, 11, 35  # the per-stage masks and what they follow
COMPLETED = 4  # status of a resumable call that stopped after a cycle in which packets arrived
REFILL = 5     # status of a resumable call that stopped because a link's pool of uniforms runs low
