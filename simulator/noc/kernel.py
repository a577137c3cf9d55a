"""The compiled, cycle-stepped flit-level mesh kernel (numba): the routers' pipeline.

One call simulates packets on a ``rows x cols`` mesh of input-queued virtual-channel routers with
credit-based flow control and wormhole switching, stepping only the cycles in which something can
move (the next wake-up of any router or interface). Ports: 0 = local, 1 = east (+column), 2 = west,
3 = south (+row), 4 = north; output port ``o`` of router ``r`` feeds input port ``OPP[o]`` of
``nbr[r, o]``; output VCs are ``(r * Q + o) * V + v``, ``o = 5`` being the interface of node ``r``.
Per hop (docs/models.md, "Flit-level NoC and NoP"): routing (``routing_delay``), VC allocation
(``vc_alloc_delay``), switch allocation, then the next buffer at ``s + sw_alloc_delay +
st_final_delay + link_latency`` and a credit upstream ``credit_delay`` after ``s``. Bookkeeping
only, timing unchanged: a unicast head's output port is looked up when it is written into a buffer
(``buf_rt``), and a flit written into an empty VC waits on a wheel of pending arrivals until its
arrival cycle, so a visit scans only VCs whose head has arrived; per input port it scans the routed
VCs (``vrouted``: VC-allocation and switch requests) and the idle ones (route the head, request
its output VCs) apart, and the ports with such VCs (``vports``) are kept as a mask. Allocators:
:mod:`simulator.noc.kernel_alloc`; interfaces: :mod:`simulator.noc.kernel_ni`; state, routing,
flips: :mod:`simulator.noc.kernel_parts`.

Multicast by replication (``pk_mc[pk] >= 0``: destinations ``mc_dst[pk_mc[pk]:][:pk_mcn[pk]]``):
the head is routed along the dimension-ordered tree, so an input VC can have several output
branches, each allocated on its own (output VC, credits, switch) and reading the buffer with its
own pointer (``ivc_bsent``); a flit leaves the buffer, and its credit goes upstream, once every
branch has sent it; a flit granted the switch also goes to the other ready branches of its VC
waiting for it, on outputs no other input won (fan-out). Unicast is the one-branch case. Hot
paths are written out, not called or inlined (docs/performance.md: both cost instructions), with
unsigned array indices ``_u(i)`` (no negative-index wrap-around)."""
from __future__ import annotations

import numpy as np

from simulator.noc.jit import cached_njit
from simulator.noc.kernel_alloc import _sa_islip, _va_islip
from simulator.noc.kernel_ni import _eject, _inject
from simulator.noc.kernel_parts import (BROKEN, COMPLETED, DEADLOCK, HOPS, INF, MAX_CYCLES,  # noqa: F401
                                        MEAS_DONE, NDONE, NFLIPS, NI, NMEAS, NNEW, NOW, NTOTAL, OK, OPP, P, Q,
                                        REFILL, S_NI_CUR, S_NWAKE, SC_NAMES, WFLITS, _credit_head,
                                        _broken, _credits_consistent, _drain, _lowest, _arrives, _mc_branches,
                                        _push_credit, _u,
                                        _rr_pick, _sample_flips, _scalars, _store, new_state, tables)


@cached_njit(_nrt=False, error_model="numpy")  # no reference counting in the hot loop (docs/performance.md)
def simulate(rows, cols, V, D, routing_delay, vc_alloc_delay, sw_alloc_delay, st_final_delay,
             link_latency, inject_latency, credit_delay, alloc_iters, wait_tail_credit, vc_split,
             pk_src, pk_dst, pk_size, pk_ctime, pk_mode, pk_meas, pk_next, pk_recv,
             pk_mc, pk_mcn, mc_dst, mc_recv, mc_atime, pk_owner, tr_left, state,
             window_start, window_end, until, resumable, check,
             flit_lanes, fl_logq, fl_u, fl_ptr, fl_gap, flips, fl_count,
             pk_itime, pk_atime, link_flits, occ_out, info, done_list):
    """Simulate from the state's cycle ``now`` (arguments: :func:`simulator.noc.router.run_packets`,
    :class:`simulator.noc.stream.FlitStream`): ``pk_itime`` (head injected), ``pk_atime`` (tail
    ejected; multicast: at its last destination, ``mc_atime`` per destination), ``link_flits[r, o]``,
    ``occ_out`` (flits held per router). Returns OK, DEADLOCK, MAX_CYCLES, BROKEN (``info``: code,
    index, cycle), COMPLETED or REFILL. One-shot (``resumable = 0``): stop when every measured
    packet (none measured: every packet) has arrived. Resumable: MAX_CYCLES with ``now = until``,
    OK when none remains, packets ejected in ``done_list[:n_new]``; ``resumable = 1`` also stops
    after a cycle in which a transfer's last packet arrived (COMPLETED; ``tr_left``: packets left
    per transfer) or that left a link's uniforms below one flit's bits (REFILL; flips: ``_sample_flips``)."""
    N = rows * cols
    (nbr, rtab, buf_pk, buf_fi, buf_t, buf_h, buf_n, vmask, vrouted, ivc_t, ivc_ball, ivc_bm, ivc_vam, ivc_mcj,
     ivc_bovc, ivc_bt, ivc_bsent, va_iptr, cred, ovc_busy, cr_t, cr_h, cr_n, va_optr, sa_optr, sa_iptr, sa_vptr,
     rcount, wake, nwake, ni_cur, ni_fi, ni_vc, ni_rr, buf_rt, vports, pend, pport, pslot, scr, sc) = state
    W = pport.shape[0] // N  # pending-arrival wheel slots (1: no wheel)
    wfull = (np.int64(1) << W) - 1
    do_flips = fl_logq.shape[0] > 0
    flit_bits = flit_lanes.sum()
    # per-router scratch (kernel_parts.scratch): elig[ip * P + o] = VCs of input ip eligible for output o
    elig, reqmask, req_list, req_n, grant_v, k_matched, grant_o, colreq, in_m, out_m = scr
    half = V // 2
    now, meas_done, window_flits, hops, n_flips, n_done, n_total, n_meas = _scalars(sc)
    n_new = 0
    t_fin = 0
    pipe = sw_alloc_delay + st_final_delay + link_latency
    status = OK
    refill = False
    while True:
        if resumable:
            if n_done >= n_total:
                break
        elif not (meas_done < n_meas or (n_meas == 0 and n_done < n_total)):
            break
        if now >= until:
            status = MAX_CYCLES
            break
        if check and not _credits_consistent(N, V, D, nbr, cred, cr_n, buf_n, info, now):
            status = BROKEN
            break
        gmin = _inject(N, V, D, now, INF, vc_split, wait_tail_credit, inject_latency, pk_ctime, pk_mode, pk_size,
                       pk_next, pk_itime, pk_dst, pk_mc, rtab, buf_rt, ni_cur, ni_fi, ni_vc, ni_rr, nwake, cred, cr_t,
                       cr_h, cr_n, ovc_busy,
                       buf_pk, buf_fi, buf_t, buf_h, buf_n, vmask, vports, rcount, wake, W, pend, pport, pslot, info)
        if gmin < 0:
            status = BROKEN
            break
        # ---- routers due in this cycle, 64 per mask word (a visit sets no wake-up <= now) ----
        for w0 in range(0, N, 64):
            due = np.int64(0)
            for k in range(min(64, N - w0)):
                due |= np.int64(wake[w0 + k] <= now) << k
            while due != 0:
                r = w0 + _lowest(due)
                due &= due - 1
                wake[r] = INF
                if rcount[r] == 0:
                    continue
                nx = INF
                s = now & (W - 1)
                if (pslot[_u(r)] >> s) & 1:  # heads arriving in this cycle become visible to the scan
                    pslot[_u(r)] &= ~(np.int64(1) << s)
                    pp = pport[_u(r * W + s)]
                    pport[_u(r * W + s)] = 0
                    vports[_u(r)] |= pp
                    while pp != 0:
                        ip = _lowest(pp)
                        pp &= pp - 1
                        q = (r * W + s) * P + ip
                        vmask[_u(r * P + ip)] |= pend[_u(q)]
                        pend[_u(q)] = 0
                if pslot[_u(r)] != 0:  # the next pending arrival
                    x = pslot[_u(r)]
                    rot = ((x >> s) | (x << (W - s))) & wfull
                    nx = now + _lowest(rot)
                # routing; VC-allocation and switch requests (loops over set bits of port masks)
                pm = vports[_u(r)]  # input ports holding flits (req_n, reqmask, in_m, out_m are reset after each visit)
                vreq = 0  # output ports with VC-allocation requests
                inm = 0  # input ports asking for the switch
                while pm != 0:  # per input port: heads to route, VC-allocation requests, switch requests
                    ip = _lowest(pm)
                    pm &= pm - 1
                    vm = vmask[_u(r * P + ip)]
                    rd = vrouted[_u(r * P + ip)]
                    m = vm & rd  # routed in an earlier visit: VC-allocation and switch requests
                    while m != 0:
                        v = _lowest(m)
                        m &= m - 1  # a routed VC
                        iv = (r * P + ip) * V + v
                        bm = ivc_bm[_u(iv)]
                        vam = ivc_vam[_u(iv)]
                        if bm != vam:  # branches waiting for an output VC (the head has arrived)
                            if ivc_t[_u(iv)] > now:
                                nx = min(nx, ivc_t[_u(iv)])
                                continue
                            b = bm & ~vam
                            while b != 0:
                                o = _lowest(b)
                                b &= b - 1
                                req_list[_u(o), _u(req_n[_u(o)])] = ip * V + v
                                req_n[_u(o)] += 1
                                vreq |= 1 << o
                            if vam == 0:
                                continue
                        h = buf_h[_u(iv)]
                        ft = buf_t[_u(iv), _u(h)]
                        if ft > now:  # its next flit is still on the link
                            nx = min(nx, ft)
                            continue
                        while vam != 0:  # branches holding an output VC
                            o = _lowest(vam)
                            vam &= vam - 1
                            j = iv * P + o
                            if ivc_bt[_u(j)] > now:
                                nx = min(nx, ivc_bt[_u(j)])
                                continue
                            k = ivc_bsent[_u(j)] - buf_fi[_u(iv), _u(h)]
                            if k > 0:  # a branch ahead of the buffer's head (multicast)
                                if k >= buf_n[_u(iv)]:
                                    continue  # its next flit is not sent yet; its arrival wakes the router
                                q = h + k
                                if q >= D:
                                    q -= D
                                if buf_t[_u(iv), _u(q)] > now:
                                    nx = min(nx, buf_t[_u(iv), _u(q)])
                                    continue
                            ov = (r * Q + o) * V + ivc_bovc[_u(j)]
                            _drain(_u(ov), now, cred, cr_t, cr_h, cr_n, D)
                            if cred[_u(ov)] > 0:
                                if (reqmask[_u(ip)] >> o) & 1:
                                    elig[_u(ip * P + o)] |= np.int64(1) << v
                                else:
                                    elig[_u(ip * P + o)] = np.int64(1) << v
                                reqmask[_u(ip)] |= 1 << o
                                inm |= np.int64(1) << ip
                            else:
                                nx = min(nx, _credit_head(ov, cr_t, cr_h, cr_n))
                    m = vm & ~rd  # idle VCs: a head to route, then its VC-allocation requests
                    while m != 0:
                        v = _lowest(m)
                        m &= m - 1  # an idle VC
                        iv = (r * P + ip) * V + v
                        h = buf_h[_u(iv)]
                        ft = buf_t[_u(iv), _u(h)]
                        if ft > now:  # the head is still on the link
                            nx = min(nx, ft)
                            continue
                        rt = buf_rt[_u(iv), _u(h)]  # routed when the head was written (lookahead)
                        if rt >= 0:
                            bm = np.int64(1) << rt
                        else:
                            pk = buf_pk[_u(iv), _u(h)]
                            bm, ivc_mcj[_u(iv)] = _mc_branches(r, pk, cols, pk_mode[pk], pk_src, pk_mc, pk_mcn,
                                                               mc_dst)
                        ivc_ball[_u(iv)] = bm
                        ivc_bm[_u(iv)] = bm
                        ivc_vam[_u(iv)] = 0
                        vrouted[_u(r * P + ip)] |= np.int64(1) << v
                        ivc_t[_u(iv)] = ft + routing_delay
                        if ft + routing_delay > now:
                            nx = min(nx, ft + routing_delay)
                            while bm != 0:
                                ivc_bsent[_u(iv * P + _lowest(bm))] = 0
                                bm &= bm - 1
                            continue
                        while bm != 0:
                            o = _lowest(bm)
                            bm &= bm - 1
                            ivc_bsent[_u(iv * P + o)] = 0
                            req_list[_u(o), _u(req_n[_u(o)])] = ip * V + v
                            req_n[_u(o)] += 1
                            vreq |= 1 << o
                # VC allocation per output port
                vreq0 = vreq
                while vreq != 0:
                    o = _lowest(vreq)
                    vreq &= vreq - 1
                    nr = req_n[_u(o)]
                    if nr == 1:
                        obase = (r * Q + o) * V
                        e = req_list[_u(o), 0]
                        iv = r * P * V + e
                        lo = 0
                        cnt = V
                        if vc_split:
                            cnt = half
                            if pk_mode[buf_pk[iv, buf_h[iv]]] == 1:
                                lo = half
                        c = va_iptr[_u(iv)]
                        if c < lo or c >= lo + cnt:
                            c = lo
                        best = -1
                        for _ in range(cnt):
                            ov = obase + c
                            _drain(_u(ov), now, cred, cr_t, cr_h, cr_n, D)
                            if (ovc_busy[_u(ov)] == 0 and cred[_u(ov)] > 0
                                    and (wait_tail_credit == 0 or cred[_u(ov)] == D)):
                                best = c
                                break
                            if ovc_busy[_u(ov)] == 0:
                                wake[r] = min(wake[r], _credit_head(ov, cr_t, cr_h, cr_n))
                            c += 1
                            if c >= lo + cnt:
                                c = lo
                        if best >= 0:
                            ov = obase + best
                            ovc_busy[_u(ov)] = 1
                            ivc_vam[_u(iv)] |= 1 << o
                            j = iv * P + o
                            ivc_bovc[_u(j)] = best
                            ivc_bt[_u(j)] = now + vc_alloc_delay
                            va_iptr[_u(iv)] = best + 1 if best + 1 < V else 0
                            va_optr[_u(ov)] = e + 1 if e + 1 < P * V else 0
                            nx = min(nx, now + vc_alloc_delay)
                            if vc_alloc_delay == 0 and cred[ov] > 0:
                                ip = e // V
                                if (reqmask[ip] >> o) & 1:
                                    elig[ip * P + o] |= np.int64(1) << (e - ip * V)
                                else:
                                    elig[ip * P + o] = np.int64(1) << (e - ip * V)
                                reqmask[ip] |= 1 << o
                                inm |= np.int64(1) << ip
                    else:  # several requests
                        nx = _va_islip(r, o, nr, now, nx, V, D, half, alloc_iters, wait_tail_credit, vc_split,
                                       vc_alloc_delay, req_list, k_matched, grant_v, cred, cr_t, cr_h, cr_n,
                                       ovc_busy, va_optr, va_iptr, ivc_vam, ivc_bovc, ivc_bt, buf_pk, buf_h, pk_mode,
                                       wake, reqmask, elig)
                        if vc_alloc_delay == 0:  # its grants may have added switch requests
                            for ip in range(P):
                                inm |= np.int64(reqmask[ip] != 0) << ip
                # switch allocation (separable iSLIP over ports), then the VC within the input port
                inm0 = inm
                if inm != 0:  # a switch request
                    if inm & (inm - 1) == 0:  # one requesting input: every output it asks grants it; it accepts one
                        ip = _lowest(inm)
                        o = _rr_pick(reqmask[_u(ip)], sa_iptr[_u(r), _u(ip)])
                        in_m[_u(ip)] = o
                        sa_iptr[_u(r), _u(ip)] = o + 1 if o + 1 < P else 0
                        sa_optr[_u(r), _u(o)] = ip + 1 if ip + 1 < P else 0
                    else:  # several requesting inputs
                        _sa_islip(r, reqmask, in_m, out_m, alloc_iters, sa_optr, sa_iptr, colreq, grant_o)
                while inm != 0:  # switch and link traversal
                    ip = _lowest(inm)
                    inm &= inm - 1
                    o = in_m[_u(ip)]
                    if o < 0:  # lost the switch: try again next cycle
                        nx = now + 1
                        continue
                    v = _rr_pick(elig[_u(ip * P + o)], sa_vptr[_u(r), _u(ip)])
                    sa_vptr[_u(r), _u(ip)] = v + 1 if v + 1 < V else 0
                    iv = (r * P + ip) * V + v
                    h = buf_h[_u(iv)]
                    pk = buf_pk[_u(iv), _u(h)]
                    fi = ivc_bsent[_u(iv * P + o)]
                    # fanout: the flit also goes to the other ready branches of its VC that wait
                    # for this same flit, on outputs no other input won in this cycle
                    outs = np.int64(1) << o
                    out_m[_u(o)] = ip
                    rest = reqmask[_u(ip)] & ~outs
                    while rest != 0:
                        o2 = _lowest(rest)
                        rest &= rest - 1
                        if out_m[_u(o2)] < 0 and (elig[_u(ip * P + o2)] >> v) & 1 and ivc_bsent[_u(iv * P + o2)] == fi:
                            outs |= np.int64(1) << o2
                            out_m[_u(o2)] = ip
                    if reqmask[_u(ip)] != outs:  # other requests of this input lost
                        nx = now + 1
                    elif outs == np.int64(1) << o:
                        if elig[_u(ip * P + o)] != np.int64(1) << v:
                            nx = now + 1
                    else:
                        asked = 0
                        for o2 in range(P):
                            if (outs >> o2) & 1:
                                asked |= elig[_u(ip * P + o2)]
                        if asked != np.int64(1) << v:
                            nx = now + 1
                    tail = fi == pk_size[_u(pk)] - 1
                    t_arr = now + pipe
                    while outs != 0:
                        o = _lowest(outs)
                        outs &= outs - 1
                        j = iv * P + o
                        ivc_bsent[_u(j)] = fi + 1
                        ovv = ivc_bovc[_u(j)]
                        ov = (r * Q + o) * V + ovv
                        cred[_u(ov)] -= 1
                        if cred[_u(ov)] < 0:
                            status = _broken(info, 1, ov, now)
                            break
                        link_flits[_u(r), _u(o)] += 1
                        if o == 0:  # ejection: the interface takes the flit and returns the credit
                            if pk_mc[_u(pk)] < 0:  # unicast (inline: the common case)
                                if pk_recv[_u(pk)] != fi:
                                    status = _broken(info, 2, pk, now)
                                    break
                                pk_recv[_u(pk)] = fi + 1
                                done = 1 if tail else 0
                            else:
                                done = _eject(pk, fi, tail, ivc_mcj[_u(iv)], t_arr, pk_recv, pk_mc, pk_mcn, mc_recv,
                                              mc_atime, info)
                                if done < 0:
                                    status = BROKEN
                                    break
                            _push_credit(_u(ov), t_arr + credit_delay, cr_t, cr_h, cr_n, D)
                            if cred[_u(ov)] == 0 or (tail and wait_tail_credit != 0):
                                wake[_u(r)] = min(wake[_u(r)], t_arr + credit_delay)
                            if t_arr >= window_start and t_arr < window_end:
                                window_flits += 1
                            if done:
                                pk_atime[_u(pk)] = t_arr
                                meas_done += pk_meas[_u(pk)]
                                n_done += 1
                                if resumable:
                                    done_list[_u(n_new)] = pk
                                    n_new += 1
                                    tr_left[_u(pk_owner[_u(pk)])] -= 1
                                    if tr_left[_u(pk_owner[_u(pk)])] == 0:
                                        t_fin += 1
                        else:
                            hops += 1
                            if do_flips:
                                lk = r * P + o
                                n_flips = _sample_flips(lk, pk, fi, flit_lanes, fl_logq, fl_u, fl_ptr, fl_gap,
                                                        flips, fl_count, n_flips, info)
                                if resumable and fl_u.shape[1] - fl_ptr[_u(lk)] < flit_bits:
                                    refill = True
                            d = nbr[_u(r), _u(o)]
                            dip = OPP[_u(o)]
                            div = (d * P + dip) * V + ovv
                            if buf_n[_u(div)] >= D:
                                status = _broken(info, 3, div, now)
                                break
                            k = buf_h[_u(div)] + buf_n[_u(div)]
                            if k >= D:
                                k -= D
                            buf_pk[_u(div), _u(k)] = pk
                            buf_fi[_u(div), _u(k)] = fi
                            buf_t[_u(div), _u(k)] = t_arr
                            if fi == 0:  # the head's output port at router d (multicast: -1)
                                buf_rt[_u(div), _u(k)] = (rtab[_u(pk_mode[_u(pk)]), _u(d), _u(pk_dst[_u(pk)])]
                                                          if pk_mc[_u(pk)] < 0 else -1)
                            if buf_n[_u(div)] == 0:
                                _arrives(d, dip, ovv, t_arr, now, W, vmask, vports, pend, pport, pslot)
                            buf_n[_u(div)] += 1
                            rcount[_u(d)] += 1
                            wake[_u(d)] = min(wake[_u(d)], t_arr)
                        if tail:  # the branch is done: its output VC is free again
                            ovc_busy[_u(ov)] = 0
                            ivc_bm[_u(iv)] &= ~(np.int64(1) << o)
                            ivc_vam[_u(iv)] &= ~(np.int64(1) << o)
                            if req_n[_u(o)] > 0:  # heads waiting for a VC of this port may get this one
                                nx = now + 1
                    if status != OK:
                        break
                    # the buffer's head leaves once every branch has sent it
                    if fi == buf_fi[_u(iv), _u(h)]:
                        pop = True
                        b = ivc_ball[_u(iv)]
                        while b != 0:
                            if ivc_bsent[_u(iv * P + _lowest(b))] <= fi:
                                pop = False
                                break
                            b &= b - 1
                        if pop:
                            buf_h[_u(iv)] = h + 1 if h + 1 < D else 0
                            buf_n[_u(iv)] -= 1
                            if buf_n[_u(iv)] == 0:
                                vmask[_u(r * P + ip)] &= ~(np.int64(1) << v)
                                if vmask[_u(r * P + ip)] == 0:
                                    vports[_u(r)] &= ~(np.int64(1) << ip)
                            rcount[_u(r)] -= 1
                            if ivc_bm[_u(iv)] == 0:  # the packet has left: the VC is idle
                                vrouted[_u(r * P + ip)] &= ~(np.int64(1) << v)
                            # credit to the upstream output VC
                            if ip == 0:
                                up = (r * Q + NI) * V + v
                                _push_credit(_u(up), now + credit_delay, cr_t, cr_h, cr_n, D)
                                if cred[_u(up)] == 0 or (ovc_busy[_u(up)] == 0 and wait_tail_credit != 0):
                                    nwake[_u(r)] = min(nwake[_u(r)], now + credit_delay)
                            else:
                                u = nbr[_u(r), _u(ip)]
                                up = (u * Q + OPP[_u(ip)]) * V + v
                                _push_credit(_u(up), now + credit_delay, cr_t, cr_h, cr_n, D)
                                if cred[_u(up)] == 0 or (ovc_busy[_u(up)] == 0 and wait_tail_credit != 0):
                                    wake[_u(u)] = min(wake[_u(u)], now + credit_delay)
                    if buf_n[_u(iv)] > 0:  # the next flit of this VC
                        nx = min(nx, max(now + 1, buf_t[_u(iv), _u(buf_h[_u(iv)])]))
                while vreq0 != 0:
                    req_n[_u(_lowest(vreq0))] = 0
                    vreq0 &= vreq0 - 1
                if inm0 != 0:
                    for ip in range(P):
                        reqmask[ip] = 0
                        in_m[ip] = -1
                        out_m[ip] = -1
                wake[r] = min(wake[r], nx)
                if status != OK:
                    break
            if status != OK:
                break
        if status != OK:
            break
        if (resumable == 1 and t_fin > 0) or refill:
            now += 1
            status = REFILL if refill else COMPLETED
            break
        for r in range(N):
            if wake[r] < gmin:
                gmin = wake[r]
        for n in range(N):
            if nwake[n] < gmin:
                gmin = nwake[n]
        if gmin >= INF and n_done < n_total:
            status = DEADLOCK
            break
        if gmin >= INF:
            break
        now = max(now + 1, gmin)
        if resumable and now > until:
            now = until
    for r in range(N):
        occ_out[r] = rcount[r]
    _store(sc, now, meas_done, window_flits, hops, n_flips, n_done, n_new)
    return status
