"""The network interfaces of the flit-level kernel (:mod:`simulator.noc.kernel`): injection of
each node's packet queue into its router's local input port, and the ejection bookkeeping of
multicast packets (in-order check per destination, arrival of the tail at each destination;
the unicast case is written out in the kernel)."""
from __future__ import annotations

from simulator.noc.jit import cached_njit
from simulator.noc.kernel_parts import INF, NI, P, Q, _arrives, _credit_head, _drain


@cached_njit(error_model="numpy")
def _inject(N, V, D, now, gmin, vc_split, wait_tail_credit, link_latency, pk_ctime, pk_mode, pk_size, pk_next,
            pk_itime, pk_dst, pk_mc, rtab, buf_rt, ni_cur, ni_fi, ni_vc, ni_rr, nwake, cred, cr_t, cr_h, cr_n,
            ovc_busy, buf_pk, buf_fi, buf_t, buf_h, buf_n, vmask, vports, rcount, wake, W, pend, pport, pslot, info):
    """One flit per interface and cycle into input port 0 of its router, on a VC of that port
    taken round robin among the free ones. Returns the earliest wake-up of an interface (or -1
    when an input buffer would overflow: an invariant broken, details in ``info``)."""
    half = V // 2
    for n in range(N):
        if nwake[n] > now:
            if nwake[n] < gmin:
                gmin = nwake[n]
            continue
        nwake[n] = INF
        pk = ni_cur[n]
        if pk < 0:
            continue
        if pk_ctime[pk] > now:
            nwake[n] = pk_ctime[pk]
            gmin = min(gmin, nwake[n])
            continue
        v = ni_vc[n]
        base = (n * Q + NI) * V
        if v < 0:
            lo = 0
            cnt = V
            if vc_split:
                cnt = half
                if pk_mode[pk] == 1:
                    lo = half
            nx = INF
            for j in range(cnt):
                c = lo + (ni_rr[n] + j) % cnt
                ov = base + c
                _drain(ov, now, cred, cr_t, cr_h, cr_n, D)
                if ovc_busy[ov] == 0 and cred[ov] > 0 and (wait_tail_credit == 0 or cred[ov] == D):
                    v = c
                    ni_vc[n] = c
                    ovc_busy[ov] = 1
                    ni_rr[n] = c + 1 - lo
                    break
                nx = min(nx, _credit_head(ov, cr_t, cr_h, cr_n))
            if v < 0:
                nwake[n] = min(nwake[n], nx)
                gmin = min(gmin, nwake[n])
                continue
        ov = base + v
        _drain(ov, now, cred, cr_t, cr_h, cr_n, D)
        if cred[ov] <= 0:
            nwake[n] = min(nwake[n], _credit_head(ov, cr_t, cr_h, cr_n))
            gmin = min(gmin, nwake[n])
            continue
        iv = (n * P) * V + v
        if buf_n[iv] >= D:
            info[0] = 3
            info[1] = iv
            info[2] = now
            return -1
        k = buf_h[iv] + buf_n[iv]
        if k >= D:
            k -= D
        fi = ni_fi[n]
        buf_pk[iv, k] = pk
        buf_fi[iv, k] = fi
        buf_t[iv, k] = now + link_latency
        if fi == 0:  # the head's output port at router n (multicast: -1)
            buf_rt[iv, k] = rtab[pk_mode[pk], n, pk_dst[pk]] if pk_mc[pk] < 0 else -1
        if buf_n[iv] == 0:
            _arrives(n, 0, v, now + link_latency, now, W, vmask, vports, pend, pport, pslot)
        buf_n[iv] += 1
        rcount[n] += 1
        wake[n] = min(wake[n], now + link_latency)
        cred[ov] -= 1
        if fi == 0:
            pk_itime[pk] = now
        if fi == pk_size[pk] - 1:  # the tail: the next packet of the queue, due at its creation
            ovc_busy[ov] = 0
            ni_vc[n] = -1
            nxt = pk_next[pk]
            ni_cur[n] = nxt
            ni_fi[n] = 0
            nwake[n] = INF if nxt < 0 else max(now + 1, pk_ctime[nxt])
        else:
            ni_fi[n] = fi + 1
            nwake[n] = now + 1
        gmin = min(gmin, nwake[n])
    return gmin


@cached_njit(inline="always")
def _eject(pk, fi, tail, j, now, pk_recv, pk_mc, pk_mcn, mc_recv, mc_atime, info):
    """Flit ``fi`` of packet ``pk`` leaves the network (at destination ``j`` of a multicast's
    list). Returns 1 when it completes the packet (its tail reached the last destination), 0 if
    not, -1 if it arrives out of order (``info`` set)."""
    if pk_mc[pk] < 0:
        if pk_recv[pk] != fi:
            info[0] = 2
            info[1] = pk
            info[2] = now
            return -1
        pk_recv[pk] = fi + 1
        return 1 if tail else 0
    q = pk_mc[pk] + j
    if j < 0 or mc_recv[max(q, 0)] != fi:
        info[0] = 2
        info[1] = pk
        info[2] = now
        return -1
    mc_recv[q] = fi + 1
    if not tail:
        return 0
    mc_atime[q] = now
    pk_recv[pk] += 1
    return 1 if pk_recv[pk] == pk_mcn[pk] else 0
