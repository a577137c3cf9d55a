"""State and helpers of the unicast-only flit-level kernel (:mod:`simulator.noc.kernel_uni`).

Layout (one flat int64 array per kind of record, fields at constant offsets, so an access is one
base index and an immediate offset):

- input VC ``iv = (r * P + ip) * V + v``: record ``ivr[iv * KI :][:KI]`` with the buffer's ring
  head (``I_H``) and flit count (``I_N``), the flit index of its head flit within its packet
  (``I_FI``; the flits of a packet are buffered in order, so it is counted, not stored per slot),
  the state of its head packet (``I_ST``: idle, routed, or holding an output VC), its output
  port (``I_O``) and output VC (``I_OVC``), the cycle from which it may ask for VC allocation
  (routed) or the switch (holding a VC) (``I_T``), and its VC-allocation pointer (``I_VP``);
- buffer slot ``k`` of input VC ``iv``: ``sl_t[iv * D + k]`` (arrival cycle) and
  ``sl_p[iv * D + k] = 8 * packet + output port at this router`` (the port of a head, looked up
  when it is written; 0 for body flits);
- output VC ``ov = (r * Q + o) * V + v``: record ``ovr[ov * KO :][:KO]`` with its credits
  (``O_CRED``), busy flag (``O_BUSY``), the ring of credits in flight (``O_H``, ``O_N``; their
  cycles in ``crt[ov * D + k]``) and its VC-allocation pointer (``O_VP``).

The allocator of several VC requests for one output port, the interfaces and the credit
invariant are here; the timing model is the one of :mod:`simulator.noc.kernel` (docs/models.md).
"""
from __future__ import annotations

import numpy as np

from simulator.noc.jit import cached_njit
from simulator.noc.kernel_parts import (INF, NI, P, Q, SC_NAMES, _arrives, _lowest, _rr_pick, _u, scratch,
                                        tables, wheel_slots)

KI = 8  # words per input-VC record; fields (unsigned: a record index is base + field, no wrap-around):
I_H, I_N, I_FI, I_ST, I_O, I_OVC, I_T, I_VP = (np.uint64(i) for i in range(8))
S_IDLE, S_ROUTED, S_ACTIVE = 0, 1, 2
KO = 8  # words per output-VC record; fields:
O_CRED, O_BUSY, O_H, O_N, O_VP = (np.uint64(i) for i in range(5))
# positions in the state tuple (new_state)
U_NWAKE, U_NI_CUR = 9, 11


@cached_njit(inline="always")
def _odrain(ov, now, ovr, crt, D):
    """Credits of output VC ``ov`` whose cycle has come join its count."""
    q = _u(ov * KO)
    while ovr[q + O_N] > 0 and crt[_u(ov * D + ovr[q + O_H])] <= now:
        h = ovr[q + O_H] + 1
        ovr[q + O_H] = 0 if h == D else h
        ovr[q + O_N] -= 1
        ovr[q + O_CRED] += 1


@cached_njit(inline="always")
def _opush(ov, t, ovr, crt, D):
    """A credit for output VC ``ov`` arriving at cycle ``t``."""
    q = _u(ov * KO)
    k = ovr[q + O_H] + ovr[q + O_N]
    if k >= D:
        k -= D
    crt[_u(ov * D + k)] = t
    ovr[q + O_N] += 1


@cached_njit(inline="always")
def _ohead(ov, ovr, crt, D):
    """Cycle of the next credit in flight to output VC ``ov`` (INF: none)."""
    q = _u(ov * KO)
    return crt[_u(ov * D + ovr[q + O_H])] if ovr[q + O_N] > 0 else INF


@cached_njit(inline="always")
def _ask_switch(ip, o, v, reqmask, elig):
    """Input VC ``v`` of port ``ip`` asks for output ``o`` of the switch."""
    if (reqmask[ip] >> o) & 1:
        elig[ip * P + o] |= np.int64(1) << v
    else:
        elig[ip * P + o] = np.int64(1) << v
    reqmask[ip] |= 1 << o


@cached_njit(error_model="numpy")
def _va_many(r, o, nr, now, nx, V, D, alloc_iters, wait_tail_credit, vc_split, vc_alloc_delay, req_list,
             k_matched, grant_v, ivr, sl_p, ovr, crt, pk_mode, wake, reqmask, elig):
    """VC allocation of output port ``o`` of router ``r`` with ``nr`` > 1 requests
    (``req_list[o, :nr]``, entries ``ip * V + v``, in ascending order as the scan adds them):
    separable iSLIP, as :func:`simulator.noc.kernel_alloc._va_islip` (each free VC grants the
    request nearest its pointer, i.e. the first request at or after it, else the first; each
    request accepts the granting VC nearest its own pointer; pointers move in the first
    iteration). Returns the router's next visit."""
    half = V // 2
    PV = P * V
    obase = (r * Q + o) * V
    free = np.int64(0)
    for v in range(V):
        ov = obase + v
        _odrain(ov, now, ovr, crt, D)
        q = _u(ov * KO)
        if ovr[q + O_BUSY] == 0:
            c = ovr[q + O_CRED]
            if c > 0 and (wait_tail_credit == 0 or c == D):
                free |= np.int64(1) << v
            else:
                wake[_u(r)] = min(wake[_u(r)], _ohead(ov, ovr, crt, D))
    if free == 0:
        return nx
    for k in range(nr):
        # k_matched: bit 0 matched; bit 1 the request's VC class (o1turn)
        k_matched[_u(k)] = 0
        if vc_split:
            iv = r * P * V + req_list[_u(o), _u(k)]
            if pk_mode[_u(sl_p[_u(iv * D + ivr[_u(iv * KI) + I_H])] >> 3)] == 1:
                k_matched[_u(k)] = 2
    for it in range(alloc_iters):
        any_grant = False
        for k in range(nr):
            grant_v[_u(k)] = 0
        f = free
        while f != 0:
            v = _lowest(f)
            f &= f - 1
            vp = ovr[_u((obase + v) * KO) + O_VP]
            cls = 2 if vc_split and v >= half else 0
            best = -1
            for k in range(nr):
                km = k_matched[_u(k)]
                if km & 1 or (vc_split and km != cls):
                    continue
                if best < 0:
                    best = k
                if req_list[_u(o), _u(k)] >= vp:
                    best = k
                    break
            if best >= 0:
                grant_v[_u(best)] |= np.int64(1) << v
                any_grant = True
        if not any_grant:
            break
        for k in range(nr):
            if k_matched[_u(k)] & 1 or grant_v[_u(k)] == 0:
                continue
            e = req_list[_u(o), _u(k)]
            b = _u((r * P * V + e) * KI)
            best = _rr_pick(grant_v[_u(k)], ivr[b + I_VP])
            nx = min(nx, now + vc_alloc_delay)
            k_matched[_u(k)] |= 1
            free &= ~(np.int64(1) << best)
            ov = obase + best
            ovr[_u(ov * KO) + O_BUSY] = 1
            ivr[b + I_ST] = S_ACTIVE
            ivr[b + I_OVC] = best
            ivr[b + I_T] = now + vc_alloc_delay
            if vc_alloc_delay == 0 and ovr[_u(ov * KO) + O_CRED] > 0:
                _ask_switch(e // V, o, e % V, reqmask, elig)
            if it == 0:
                ivr[b + I_VP] = best + 1 if best + 1 < V else 0
                ovr[_u(ov * KO) + O_VP] = e + 1 if e + 1 < PV else 0
    for k in range(nr):
        if k_matched[_u(k)] & 1 == 0:  # lost to another request: try again next cycle
            nx = now + 1
    return nx


@cached_njit(error_model="numpy")  # not inlined: the vectorised loop keeps its registers to itself
def _due_masks(N, NW, now, wake, nwake, dmask):
    """Bit masks of the routers due at cycle ``now`` (``wake[r] <= now``; ``dmask[w]`` bit ``k``:
    router ``64 * w + k``); returns whether any router or interface (``nwake[n] <= now``) is due.
    LLVM vectorises the loop (four routers per AVX2 compare)."""
    anyd = np.int64(0)
    for w in range(NW):
        w0 = w * 64
        rm = np.int64(0)
        im = np.int64(0)
        for k in range(min(64, N - w0)):
            rm |= np.int64(wake[_u(w0 + k)] <= now) << k
            im |= np.int64(nwake[_u(w0 + k)] <= now) << k
        dmask[_u(w)] = rm
        anyd |= rm | im
    return anyd != 0


@cached_njit(error_model="numpy")
def _next_due(N, wake, nwake):
    """The earliest wake-up of a router or an interface (INF: none)."""
    gmin = INF
    for r in range(N):
        gmin = min(gmin, wake[_u(r)], nwake[_u(r)])
    return gmin


@cached_njit(error_model="numpy")
def _inject_uni(N, V, D, now, vc_split, wait_tail_credit, inject_latency, pk_ctime, pk_mode, pk_size, pk_next,
                pk_itime, pk_rkey, rflat, ni_cur, ni_fi, ni_vc, ni_rr, nwake, ovr, crt, ivr, sl_t, sl_p, vmask, pmask,
                rcount, wake, W, pend, pport, pslot, info):
    """The interfaces, as :func:`simulator.noc.kernel_ni._inject`: one flit per interface and cycle
    into input port 0 of its router, on a VC taken round robin among the free ones (o1turn: of
    the packet's class). Returns 0, or -1 on a buffer overflow (``info`` set); the next cycle in
    which an interface is due is searched at the end of the cycle (:func:`_due_masks`)."""
    half = V // 2
    for n in range(N):
        if nwake[_u(n)] > now:
            continue
        nwake[_u(n)] = INF
        pk = ni_cur[_u(n)]
        if pk < 0:
            continue
        if pk_ctime[_u(pk)] > now:
            nwake[_u(n)] = pk_ctime[_u(pk)]
            continue
        v = ni_vc[_u(n)]
        base = (n * Q + NI) * V
        if v < 0:
            lo = 0
            cnt = V
            if vc_split:
                cnt = half
                if pk_mode[_u(pk)] == 1:
                    lo = half
            nx = INF
            c = ni_rr[_u(n)]  # in 0..cnt
            for _ in range(cnt):
                if c >= cnt:
                    c -= cnt
                ov = base + lo + c
                _odrain(ov, now, ovr, crt, D)
                cr = ovr[_u(ov * KO) + O_CRED]
                if ovr[_u(ov * KO) + O_BUSY] == 0 and cr > 0 and (wait_tail_credit == 0 or cr == D):
                    v = lo + c
                    ni_vc[_u(n)] = v
                    ovr[_u(ov * KO) + O_BUSY] = 1
                    ni_rr[_u(n)] = c + 1
                    break
                nx = min(nx, _ohead(ov, ovr, crt, D))
                c += 1
            if v < 0:
                nwake[_u(n)] = nx
                continue
        ov = base + v
        _odrain(ov, now, ovr, crt, D)
        if ovr[_u(ov * KO) + O_CRED] <= 0:
            nwake[_u(n)] = _ohead(ov, ovr, crt, D)
            continue
        iv = (n * P) * V + v
        b = _u(iv * KI)
        cnt = ivr[b + I_N]
        if cnt >= D:
            info[0] = 3
            info[1] = iv
            info[2] = now
            return -1
        k = ivr[b + I_H] + cnt
        if k >= D:
            k -= D
        fi = ni_fi[_u(n)]
        t = now + inject_latency
        sl_t[_u(iv * D + k)] = t
        sl_p[_u(iv * D + k)] = pk * 8 + (rflat[_u(pk_rkey[_u(pk)] + n)] if fi == 0 else 0)
        if cnt == 0:
            _arrives(n, 0, v, t, now, W, vmask, pmask, pend, pport, pslot)
        ivr[b + I_N] = cnt + 1
        rcount[_u(n)] += 1
        wake[_u(n)] = min(wake[_u(n)], t)
        ovr[_u(ov * KO) + O_CRED] -= 1
        if fi == 0:
            pk_itime[_u(pk)] = now
        if fi == pk_size[_u(pk)] - 1:  # the tail: the next packet of the queue, due at its creation
            ovr[_u(ov * KO) + O_BUSY] = 0
            ni_vc[_u(n)] = -1
            nxt = pk_next[_u(pk)]
            ni_cur[_u(n)] = nxt
            ni_fi[_u(n)] = 0
            nw = INF if nxt < 0 else max(now + 1, pk_ctime[_u(nxt)])
        else:
            ni_fi[_u(n)] = fi + 1
            nw = now + 1
        nwake[_u(n)] = nw
    return 0


def new_state(rows, cols, V, D, span=3):
    """State of :func:`simulator.noc.kernel_uni.simulate_uni` (module docstring): neighbour table,
    routing table (output port at ``[(mode * N + dst) * N + r]``), input-VC records, buffer slots,
    output-VC records and their credit rings, the non-empty VCs per (router, input port), the
    routers' and interfaces' wake-up cycles, the flits per router, the interfaces' current packet,
    flit, VC and round-robin pointer, the switch allocator's pointers (per router and port: output,
    input, VC within the input), the pending-arrival wheel (as
    :func:`simulator.noc.kernel_parts.new_state`), the input ports per router with VCs to scan (bit
    ``ip`` set iff ``vmask[r * P + ip] != 0``), the masks of the routers due in a cycle
    (:func:`_due_masks`), the per-visit scratch and the scalars
    (:data:`simulator.noc.kernel_parts.SC_NAMES`)."""
    N = rows * cols
    NIV = N * P * V
    NOV = N * Q * V
    nbr, rtab = tables(rows, cols)
    rflat = np.ascontiguousarray(rtab.transpose(0, 2, 1)).reshape(-1)  # [(mode * N + dst) * N + r]
    W = max(wheel_slots(span), 1)
    ovr = np.zeros(NOV * KO, np.int64)
    ovr[int(O_CRED)::KO] = D
    return (nbr, rflat, np.zeros(NIV * KI, np.int64), np.zeros(NIV * D, np.int64), np.zeros(NIV * D, np.int64),
            ovr, np.zeros(NOV * D, np.int64), np.zeros(N * P, np.int64),
            np.full(N, INF, np.int64), np.full(N, INF, np.int64), np.zeros(N, np.int64),
            np.full(N, -1, np.int64), np.zeros(N, np.int64), np.full(N, -1, np.int64), np.zeros(N, np.int64),
            np.zeros((N, P), np.int64), np.zeros((N, P), np.int64), np.zeros((N, P), np.int64),
            np.zeros(N * W * P, np.int64), np.zeros(N * W, np.int64), np.zeros(N, np.int64), np.zeros(N, np.int64),
            np.zeros((N + 63) // 64, np.int64), scratch(V), np.zeros(len(SC_NAMES), np.int64))
