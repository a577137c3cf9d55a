"""The allocators of the flit-level kernel (:mod:`simulator.noc.kernel`): VC allocation per output
port with several requests (separable iSLIP; one request is written out in the kernel: the free
VC nearest the request's pointer, the same result) and switch
allocation over the router's 5 x 5 port requests (separable iSLIP).

A VC-allocation request ``e = ip * V + v`` at output port ``o`` asks for an output VC for the
branch ``o`` of the packet at the head of input VC ``v`` of port ``ip`` (a unicast packet has one
branch per router, a multicast packet one per output port of its tree at that router). A grant
stores the output VC of that branch (``ivc_bovc[iv * P + o]``) and the cycle from which the
branch may request the switch (``ivc_bt``)."""
from __future__ import annotations

import numpy as np

from simulator.noc.jit import cached_njit
from simulator.noc.kernel_parts import P, Q, _credit_head, _drain, _lowest, _rr_pick


@cached_njit(inline="always")
def _grant(r, o, e, best, now, V, vc_alloc_delay, obase, cred, ovc_busy, ivc_vam, ivc_bovc, ivc_bt,
           reqmask, elig):
    """Give output VC ``best`` of port ``o`` to request ``e``; with no VC-allocation delay the
    branch may ask for the switch in this cycle (its flit is the buffer's head, already there)."""
    iv = r * P * V + e
    ov = obase + best
    ovc_busy[ov] = 1
    ivc_vam[iv] |= 1 << o
    j = iv * P + o
    ivc_bovc[j] = best
    ivc_bt[j] = now + vc_alloc_delay
    if vc_alloc_delay == 0 and cred[ov] > 0:
        ip = e // V
        bit = np.int64(1) << (e - ip * V)
        if (reqmask[ip] >> o) & 1:
            elig[ip * P + o] |= bit
        else:
            elig[ip * P + o] = bit
        reqmask[ip] |= 1 << o


@cached_njit(error_model="numpy")
def _va_islip(r, o, nr, now, nx, V, D, half, alloc_iters, wait_tail_credit, vc_split, vc_alloc_delay,
              req_list, k_matched, grant_v, cred, cr_t, cr_h, cr_n, ovc_busy, va_optr, va_iptr,
              ivc_vam, ivc_bovc, ivc_bt, buf_pk, buf_h, pk_mode, wake, reqmask, elig):
    """VC allocation of output port ``o`` of router ``r`` with several requests: separable iSLIP
    (every free output VC grants the request nearest its pointer, every request accepts the grant
    nearest its own pointer; pointers move in the first iteration). Returns the router's next visit.
    Output VCs are bit masks (``free``; ``grant_v[k]``: the VCs granting request ``k``)."""
    obase = (r * Q + o) * V
    free = np.int64(0)
    for v in range(V):
        ov = obase + v
        _drain(ov, now, cred, cr_t, cr_h, cr_n, D)
        if ovc_busy[ov] == 0 and cred[ov] > 0 and (wait_tail_credit == 0 or cred[ov] == D):
            free |= np.int64(1) << v
        elif ovc_busy[ov] == 0:
            wake[r] = min(wake[r], _credit_head(ov, cr_t, cr_h, cr_n))
    if free == 0:
        return nx
    for k in range(nr):
        k_matched[k] = 0
    for it in range(alloc_iters):
        any_grant = False
        for k in range(nr):
            grant_v[k] = 0
        f = free
        while f != 0:
            v = _lowest(f)
            f &= f - 1
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
            if best >= 0:
                grant_v[best] |= np.int64(1) << v
                any_grant = True
        if not any_grant:
            break
        for k in range(nr):
            if k_matched[k] or grant_v[k] == 0:
                continue
            e = req_list[o, k]
            iv = r * P * V + e
            best = _rr_pick(grant_v[k], va_iptr[iv])  # the granting VC nearest the request's pointer
            nx = min(nx, now + vc_alloc_delay)
            k_matched[k] = 1
            free &= ~(np.int64(1) << best)
            _grant(r, o, e, best, now, V, vc_alloc_delay, obase, cred, ovc_busy, ivc_vam, ivc_bovc, ivc_bt,
                   reqmask, elig)
            if it == 0:
                va_iptr[iv] = (best + 1) % V
                va_optr[obase + best] = (e + 1) % (P * V)
    for k in range(nr):
        if k_matched[k] == 0:  # lost to another request: try again next cycle
            nx = now + 1
    return nx


@cached_njit(inline="always")
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
