"""Pieces of the flit-level kernel (:mod:`simulator.noc.kernel`): constants, ring buffers of
credits, bit tricks, routing, the iSLIP allocators, bit-flip sampling, the credit invariant,
and the kernel's state between calls (:func:`new_state`)."""
from __future__ import annotations

import numpy as np
from numba import njit

P = 5                  # router ports
Q = 6                  # output-VC groups per node: 5 router output ports + the network interface
NI = 5
OPP = np.array([0, 2, 1, 4, 3], dtype=np.int64)
INF = np.int64(1) << np.int64(62)

IDLE, VA, ACTIVE = 0, 1, 2
OK, DEADLOCK, MAX_CYCLES, BROKEN = 0, 1, 2, 3
_DEBRUIJN = np.int64(0x03f79d71b4cb0a89)
_CTZ = np.array([0, 1, 48, 2, 57, 49, 28, 3, 61, 58, 50, 42, 38, 29, 17, 4, 62, 55, 59, 36, 53, 51, 43, 22,
                 45, 39, 33, 30, 24, 18, 12, 5, 63, 47, 56, 27, 60, 41, 37, 16, 54, 35, 52, 21, 44, 32, 23, 11,
                 46, 26, 40, 15, 34, 20, 31, 10, 25, 14, 19, 9, 13, 8, 7, 6], dtype=np.int64)
# info[0]: the code of the broken invariant: 1 credit out of range, 2 flit out of order,
# 3 buffer overflow; info[1:3] where (vc index, cycle)


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
def _drain(ov, now, cred, cr_t, cr_h, cr_n, D):
    while cr_n[ov] > 0 and cr_t[ov, cr_h[ov]] <= now:
        cr_h[ov] += 1
        if cr_h[ov] == D:
            cr_h[ov] = 0
        cr_n[ov] -= 1
        cred[ov] += 1


@njit(cache=True, inline="always")
def _push_credit(ov, t, cr_t, cr_h, cr_n, D):
    k = cr_h[ov] + cr_n[ov]
    if k >= D:
        k -= D
    cr_t[ov, k] = t
    cr_n[ov] += 1


@njit(cache=True, inline="always")
def _lowest(m):
    """Index of the lowest set bit of a non-zero int64."""
    return _CTZ[((m & -m) * _DEBRUIJN >> 58) & 63]


@njit(cache=True, inline="always")
def _rr_pick(m, ptr):
    """Lowest set bit of ``m`` at or after ``ptr`` (wrapping); ``m`` non-zero."""
    hi = m & ~((np.int64(1) << ptr) - 1) if ptr < 64 else np.int64(0)
    if hi != 0:
        return _lowest(hi)
    return _lowest(m)


@njit(cache=True, inline="always")
def _credit_head(ov, cr_t, cr_h, cr_n):
    return cr_t[ov, cr_h[ov]] if cr_n[ov] > 0 else INF


@njit(cache=True)
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


@njit(cache=True)
def _va_islip(r, o, nr, now, nx, V, D, half, alloc_iters, wait_tail_credit, vc_split, vc_alloc_delay,
              req_list, k_matched, v_matched, grant_v, cred, cr_t, cr_h, cr_n, ovc_busy, va_optr, va_iptr,
              ivc_st, ivc_ovc, ivc_t, buf_pk, buf_h, pk_mode, wake, reqmask, elig):
    """VC allocation of output port ``o`` of router ``r`` with several requests: separable iSLIP
    (every free output VC grants the request nearest its pointer, every request accepts the grant
    nearest its own pointer; pointers move in the first iteration). Returns the router's next visit."""
    obase = (r * Q + o) * V
    nfree = 0
    for v in range(V):
        ov = obase + v
        _drain(ov, now, cred, cr_t, cr_h, cr_n, D)
        free = ovc_busy[ov] == 0 and cred[ov] > 0 and (wait_tail_credit == 0 or cred[ov] == D)
        v_matched[v] = 0 if free else 1
        if free:
            nfree += 1
        elif ovc_busy[ov] == 0:
            wake[r] = min(wake[r], _credit_head(ov, cr_t, cr_h, cr_n))
    if nfree == 0:
        return nx
    for k in range(nr):
        k_matched[k] = 0
    for it in range(alloc_iters):
        any_grant = False
        for v in range(V):
            grant_v[v] = -1
            if v_matched[v]:
                continue
            ov = obase + v
            best = -1
            bestd = P * V
            for k in range(nr):
                if k_matched[k]:
                    continue
                e = req_list[o, k]
                if vc_split:
                    iv = r * P * V + e
                    cls = pk_mode[buf_pk[iv, buf_h[iv]]]
                    if (v >= half) != (cls == 1):
                        continue
                d = e - va_optr[ov]
                if d < 0:
                    d += P * V
                if d < bestd:
                    bestd = d
                    best = k
            grant_v[v] = best
            if best >= 0:
                any_grant = True
        if not any_grant:
            break
        for k in range(nr):
            if k_matched[k]:
                continue
            e = req_list[o, k]
            iv = r * P * V + e
            best = -1
            bestd = V
            for v in range(V):
                if grant_v[v] == k:
                    d = v - va_iptr[iv]
                    if d < 0:
                        d += V
                    if d < bestd:
                        bestd = d
                        best = v
            if best >= 0:
                nx = min(nx, now + vc_alloc_delay)
                k_matched[k] = 1
                v_matched[best] = 1
                ov = obase + best
                ovc_busy[ov] = 1
                ivc_st[iv] = ACTIVE
                ivc_ovc[iv] = best
                ivc_t[iv] = now + vc_alloc_delay
                if it == 0:
                    va_iptr[iv] = (best + 1) % V
                    va_optr[ov] = (e + 1) % (P * V)
                if vc_alloc_delay == 0:  # may request the switch in this cycle
                    ov2 = obase + best
                    if cred[ov2] > 0:
                        ip = e // V
                        if (reqmask[ip] >> o) & 1:
                            elig[ip * P + o] |= np.int64(1) << (e % V)
                        else:
                            elig[ip * P + o] = np.int64(1) << (e % V)
                        reqmask[ip] |= 1 << o
    for k in range(nr):
        if k_matched[k] == 0:  # lost to another request: try again next cycle
            nx = now + 1
    return nx


@njit(cache=True, inline="always")
def _sa_islip(r, reqmask, in_m, out_m, alloc_iters, sa_optr, sa_iptr, colreq, grant_o):
    """Switch allocation of router ``r``: separable iSLIP over its 5 x 5 port requests ``reqmask``
    (bit o of reqmask[ip]: input ip asks for output o); fills ``in_m[ip]`` with the granted output."""
    free_in = (1 << P) - 1
    free_out = (1 << P) - 1
    for o in range(P):
        colreq[o] = 0
    for ip in range(P):
        m = reqmask[ip]
        for o in range(P):
            if (m >> o) & 1:
                colreq[o] |= 1 << ip
    for it in range(alloc_iters):
        any_grant = False
        for ip in range(P):
            grant_o[ip] = 0  # outputs granting input ip
        for o in range(P):
            if (free_out >> o) & 1 == 0:
                continue
            col = colreq[o] & free_in
            if col == 0:
                continue
            ip = _rr_pick(col, sa_optr[r, o])
            grant_o[ip] |= 1 << o
            any_grant = True
        if not any_grant:
            break
        for ip in range(P):
            if grant_o[ip] == 0:
                continue
            o = _rr_pick(grant_o[ip], sa_iptr[r, ip])
            in_m[ip] = o
            out_m[o] = ip
            free_in &= ~(1 << ip)
            free_out &= ~(1 << o)
            if it == 0:
                sa_iptr[r, ip] = o + 1 if o + 1 < P else 0
                sa_optr[r, o] = ip + 1 if ip + 1 < P else 0


@njit(cache=True)
def _sample_flips(lk, pk, fi, flit_lanes, fl_logq, fl_u, fl_ptr, fl_gap, flips, n_flips, info):
    """Bit flips of flit ``fi`` of packet ``pk`` crossing link ``lk`` (see simulate). Returns the
    number of flips drawn so far."""
    for b in range(8):
        g = fl_gap[lk, b]
        while g < flit_lanes:
            if n_flips < flips.shape[0]:
                flips[n_flips, 0] = pk
                flips[n_flips, 1] = fi
                flips[n_flips, 2] = g
                flips[n_flips, 3] = b
                flips[n_flips, 4] = lk
            n_flips += 1
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
            g -= flit_lanes
        fl_gap[lk, b] = g
    return n_flips


@njit(cache=True)
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


def new_state(rows, cols, V, D):
    """The kernel's state between calls: buffers, credits, allocator pointers, wake-up cycles,
    the network interfaces' current packets, and the scalars ``sc`` (see :data:`SC_NAMES`)."""
    N = rows * cols
    NIV = N * P * V
    NOV = N * Q * V
    nbr, rtab = tables(rows, cols)
    return (nbr, rtab,
            np.zeros((NIV, D), np.int32), np.zeros((NIV, D), np.int32), np.zeros((NIV, D), np.int64),
            np.zeros(NIV, np.int32), np.zeros(NIV, np.int32), np.zeros(N * P, np.int64),
            np.zeros(NIV, np.int32), np.zeros(NIV, np.int32), np.zeros(NIV, np.int32), np.zeros(NIV, np.int64),
            np.zeros(NIV, np.int32),
            np.full(NOV, D, np.int32), np.zeros(NOV, np.int32), np.zeros((NOV, D), np.int64),
            np.zeros(NOV, np.int32), np.zeros(NOV, np.int32), np.zeros(NOV, np.int32),
            np.zeros((N, P), np.int64), np.zeros((N, P), np.int64), np.zeros((N, P), np.int64),
            np.zeros(N, np.int64), np.full(N, INF, np.int64), np.full(N, INF, np.int64),
            np.full(N, -1, np.int64), np.zeros(N, np.int64), np.full(N, -1, np.int64), np.zeros(N, np.int64),
            np.zeros(len(SC_NAMES), np.int64))


# scalars kept between calls (indices into the state's last array)
SC_NAMES = ("now", "meas_done", "window_flits", "hops", "n_flips", "n_done", "n_total", "n_meas", "n_new")
NOW, MEAS_DONE, WFLITS, HOPS, NFLIPS, NDONE, NTOTAL, NMEAS, NNEW = range(len(SC_NAMES))
S_NWAKE, S_NI_CUR = 24, 25  # positions of nwake and ni_cur in the state tuple
COMPLETED = 4  # status of a resumable call that stopped after a cycle in which packets arrived
