"""The compiled flit-level kernel for calls in which no packet is multicast (numba).

Same timing model, arbitration and wake-up rules as :func:`simulator.noc.kernel.simulate` on
unicast traffic (docs/models.md, "Flit-level NoC and NoP"; the results are identical, checked by
``tests/noc/test_flit_kernel_uni.py``), with a leaner state: an input VC has exactly one output
branch, so it is one record (ring head, flit count, head flit index, state, output port, output
VC, ready cycle, VC-allocation pointer) instead of per-(VC, port) branch arrays, a buffer slot
holds the arrival cycle and ``8 * packet + port`` (no flit index per slot: a buffered packet's
flits are in order), an output VC is one record (credits, busy, credit ring, VC-allocation
pointer), and a flit leaves its buffer as soon as it is sent (no fan-out, no pop test over
branches). Layout and helpers: :mod:`simulator.noc.kernel_uni_parts`. One-shot calls only (no
bit flips, no resumable stops): :func:`simulator.noc.router.run_packets` uses it when no packet is
multicast and no bit flips are drawn.
"""
from __future__ import annotations

import numpy as np

from simulator.noc.jit import cached_njit
from simulator.noc.kernel_alloc import _sa_islip
from simulator.noc.kernel_parts import (BROKEN, DEADLOCK, INF, MAX_CYCLES, NI, OK, OPP, P, Q, _arrives, _broken,
                                        _credits_consistent, _lowest, _rr_pick, _scalars, _store, _u)
from simulator.noc.kernel_uni_parts import (I_FI, I_H, I_N, I_O, I_OVC, I_ST, I_T, I_VP, KI, KO, O_BUSY, O_CRED,
                                            O_N, O_VP, S_ACTIVE, S_IDLE, S_ROUTED, _ask_switch, _due_masks,
                                            _inject_uni, _next_due, _odrain, _ohead, _opush, _va_many)


@cached_njit(inline="always")
def _wheel_turn(r, now, W, vmask, pmask, pend, pport, pslot):
    """Heads arriving at router ``r`` in this cycle join the VCs the visit scans; returns the
    cycle of the router's next pending arrival (INF: none)."""
    s = now & (W - 1)
    x = pslot[_u(r)]
    if (x >> s) & 1:
        x &= ~(np.int64(1) << s)
        pslot[_u(r)] = x
        q0 = r * W + s
        pp = pport[_u(q0)]
        pport[_u(q0)] = 0
        pmask[_u(r)] |= pp
        while pp != 0:
            ip = _lowest(pp)
            pp &= pp - 1
            vmask[_u(r * P + ip)] |= pend[_u(q0 * P + ip)]
            pend[_u(q0 * P + ip)] = 0
    if x == 0:
        return INF
    rot = ((x >> s) | (x << (W - s))) & ((np.int64(1) << W) - 1)
    return now + _lowest(rot)


@cached_njit(_nrt=False, error_model="numpy")  # no reference counting (docs/performance.md)
def simulate_uni(rows, cols, V, D, routing_delay, vc_alloc_delay, sw_alloc_delay, st_final_delay, link_latency,
                 inject_latency, credit_delay, alloc_iters, wait_tail_credit, vc_split, pk_rkey, pk_size, pk_ctime,
                 pk_mode, pk_meas, pk_next, pk_recv, state, window_start, window_end, until, check, pk_itime,
                 pk_atime, link_flits, occ_out, info):
    """One-shot run from the state's cycle ``now`` until every measured packet (none measured:
    every packet) has arrived; arguments and outputs as :func:`simulator.noc.kernel.simulate`, but
    a packet's destination is given as its column of the routing table, ``pk_rkey[pk] = (mode * N +
    dst) * N`` (``state``: :func:`simulator.noc.kernel_uni_parts.new_state`). Returns OK,
    DEADLOCK, MAX_CYCLES or BROKEN (``info``: code, index, cycle)."""
    N = rows * cols
    (nbr, rflat, ivr, sl_t, sl_p, ovr, crt, vmask, wake, nwake, rcount, ni_cur, ni_fi, ni_vc, ni_rr,
     sa_iptr, sa_optr, sa_vptr, pend, pport, pslot, pmask, dmask, scr, sc) = state
    elig, reqmask, req_list, req_n, grant_v, k_matched, grant_o, colreq, in_m, out_m = scr
    W = pport.shape[0] // N
    half = V // 2
    now, meas_done, window_flits, hops, _, n_done, n_total, n_meas = _scalars(sc)
    pipe = sw_alloc_delay + st_final_delay + link_latency
    # flat views of the (router, port) tables for the visit: index r * P + port, P a constant (no
    # row stride reloaded from the stack at each access)
    nbr1, link1 = nbr.reshape(-1), link_flits.reshape(-1)
    sa_iptr1, sa_optr1, sa_vptr1 = sa_iptr.reshape(-1), sa_optr.reshape(-1), sa_vptr.reshape(-1)
    NW = (N + 63) // 64
    # every wake-up set in a cycle is later than the cycle (router configurations always: the
    # delays are >= 1): the mask of due routers taken at the end of cycle now, for now + 1, is
    # the one of cycle now + 1 at every point of it (docs/performance.md)
    late = pipe >= 1 and credit_delay >= 1 and inject_latency >= 1
    ready = False  # dmask holds the due routers of cycle now
    status = OK
    while meas_done < n_meas or (n_meas == 0 and n_done < n_total):
        if now >= until:
            status = MAX_CYCLES
            break
        # the credit invariant, on strided views of the records' credit, in-flight and flit counts
        if check and not _credits_consistent(N, V, D, nbr, ovr[O_CRED::KO], ovr[O_N::KO], ivr[I_N::KI], info,
                                             now):
            status = BROKEN
            break
        if not ready:
            _due_masks(N, NW, now, wake, nwake, dmask)
        if _inject_uni(N, V, D, now, vc_split, wait_tail_credit, inject_latency, pk_ctime, pk_mode, pk_size, pk_next,
                       pk_itime, pk_rkey, rflat, ni_cur, ni_fi, ni_vc, ni_rr, nwake, ovr, crt, ivr, sl_t, sl_p, vmask,
                       pmask, rcount, wake, W, pend, pport, pslot, info) < 0:
            status = BROKEN
            break
        for w0 in range(0, N, 64):  # routers due in this cycle, 64 per mask word
            if not late:  # a wake-up may fall in this cycle: scan the word when its turn comes
                _due_masks(min(64, N - w0), 1, now, wake[w0:], nwake[w0:], dmask[w0 >> 6:])
            due = dmask[_u(w0 >> 6)]
            while due != 0:
                r = w0 + _lowest(due)
                due &= due - 1
                wake[r] = INF
                if rcount[r] == 0:
                    continue
                nx = _wheel_turn(r, now, W, vmask, pmask, pend, pport, pslot)
                # each non-empty input VC whose head has arrived: route it, ask for a VC or the switch
                pm = pmask[_u(r)]
                vreq = 0
                inm = 0  # input ports asking for the switch
                while pm != 0:
                    ip = _lowest(pm)
                    pm &= pm - 1
                    m = vmask[_u(r * P + ip)]
                    while m != 0:
                        v = _lowest(m)
                        m &= m - 1
                        iv = (r * P + ip) * V + v
                        b = _u(iv * KI)
                        hs = _u(iv * D + ivr[b + I_H])
                        ft = sl_t[hs]
                        if ft > now:
                            nx = min(nx, ft)
                            continue
                        st = ivr[b + I_ST]
                        if st == S_IDLE:  # a new head: its port was looked up when it was written
                            st = S_ROUTED
                            ivr[b + I_ST] = st
                            ivr[b + I_O] = sl_p[hs] & 7
                            ivr[b + I_T] = ft + routing_delay
                        t = ivr[b + I_T]
                        if t > now:
                            nx = min(nx, t)
                            continue
                        o = ivr[b + I_O]
                        if st == S_ROUTED:
                            req_list[_u(o), _u(req_n[_u(o)])] = ip * V + v
                            req_n[_u(o)] += 1
                            vreq |= 1 << o
                            continue
                        ov = (r * Q + o) * V + ivr[b + I_OVC]
                        _odrain(ov, now, ovr, crt, D)
                        if ovr[_u(ov * KO) + O_CRED] > 0:
                            _ask_switch(ip, o, v, reqmask, elig)
                            inm |= 1 << ip
                        else:
                            nx = min(nx, _ohead(ov, ovr, crt, D))
                # VC allocation per output port (one request: the free VC nearest its pointer)
                vreq0 = vreq
                while vreq != 0:
                    o = _lowest(vreq)
                    vreq &= vreq - 1
                    nr = req_n[o]
                    req_n[o] = 0
                    if nr > 1:
                        nx = _va_many(r, o, nr, now, nx, V, D, alloc_iters, wait_tail_credit, vc_split,
                                      vc_alloc_delay, req_list, k_matched, grant_v, ivr, sl_p, ovr, crt, pk_mode,
                                      wake, reqmask, elig)
                        if vc_alloc_delay == 0:  # grants may have asked for the switch
                            for ip in range(P):
                                inm |= np.int64(reqmask[ip] != 0) << ip
                        continue
                    e = req_list[o, 0]
                    b = _u((r * P * V + e) * KI)
                    lo = 0
                    cnt = V
                    if vc_split:
                        cnt = half
                        if pk_mode[sl_p[_u((r * P * V + e) * D + ivr[b + I_H])] >> 3] == 1:
                            lo = half
                    c = ivr[b + I_VP]
                    if c < lo or c >= lo + cnt:
                        c = lo
                    obase = (r * Q + o) * V
                    for _ in range(cnt):
                        ov = obase + c
                        _odrain(ov, now, ovr, crt, D)
                        q = _u(ov * KO)
                        if ovr[q + O_BUSY] == 0:
                            cr = ovr[q + O_CRED]
                            if cr > 0 and (wait_tail_credit == 0 or cr == D):
                                ovr[q + O_BUSY] = 1
                                ovr[q + O_VP] = e + 1 if e + 1 < P * V else 0
                                ivr[b + I_ST] = S_ACTIVE
                                ivr[b + I_OVC] = c
                                ivr[b + I_T] = now + vc_alloc_delay
                                ivr[b + I_VP] = c + 1 if c + 1 < V else 0
                                nx = min(nx, now + vc_alloc_delay)
                                if vc_alloc_delay == 0:
                                    _ask_switch(e // V, o, e % V, reqmask, elig)
                                    inm |= 1 << (e // V)
                                break
                            wake[r] = min(wake[r], _ohead(ov, ovr, crt, D))
                        c += 1
                        if c >= lo + cnt:
                            c = lo
                # switch allocation (separable iSLIP over ports), then the VC within the input port
                if inm & (inm - 1) != 0:
                    # (its out_m is written, never read here: not reset; in_m and reqmask are reset
                    # input by input as the traversal below reads them)
                    _sa_islip(r, reqmask, in_m, out_m, alloc_iters, sa_optr, sa_iptr, colreq, grant_o)
                elif inm != 0:  # one requesting input: it takes the output nearest its pointer
                    ip = _lowest(inm)
                    o = _rr_pick(reqmask[_u(ip)], sa_iptr1[_u(r * P + ip)])
                    in_m[_u(ip)] = o
                    sa_iptr1[_u(r * P + ip)] = o + 1 if o + 1 < P else 0
                    sa_optr1[_u(r * P + o)] = ip + 1 if ip + 1 < P else 0
                while inm != 0:  # switch and link traversal, then the buffer's head leaves
                    ip = _lowest(inm)
                    inm &= inm - 1
                    o = in_m[_u(ip)]
                    in_m[_u(ip)] = -1
                    if o < 0:  # lost the switch: try again next cycle
                        reqmask[_u(ip)] = 0
                        nx = now + 1
                        continue
                    eo = elig[_u(ip * P + o)]
                    v = _rr_pick(eo, sa_vptr1[_u(r * P + ip)])
                    sa_vptr1[_u(r * P + ip)] = v + 1 if v + 1 < V else 0
                    if reqmask[_u(ip)] != 1 << o or eo != np.int64(1) << v:  # other requests lost
                        nx = now + 1
                    reqmask[_u(ip)] = 0  # the input's requests of this visit are answered
                    iv = (r * P + ip) * V + v
                    b = _u(iv * KI)
                    h = ivr[b + I_H]
                    pk = sl_p[_u(iv * D + h)] >> 3
                    fi = ivr[b + I_FI]
                    tail = fi == pk_size[_u(pk)] - 1
                    ovv = ivr[b + I_OVC]
                    ov = (r * Q + o) * V + ovv
                    q = _u(ov * KO)
                    cr = ovr[q + O_CRED] - 1
                    ovr[q + O_CRED] = cr
                    if cr < 0:
                        status = _broken(info, 1, ov, now)
                        break
                    link1[_u(r * P + o)] += 1
                    t_arr = now + pipe
                    if o == 0:  # ejection: the interface takes the flit and returns the credit
                        if pk_recv[_u(pk)] != fi:
                            status = _broken(info, 2, pk, now)
                            break
                        pk_recv[_u(pk)] = fi + 1
                        _opush(ov, t_arr + credit_delay, ovr, crt, D)
                        if cr == 0 or (tail and wait_tail_credit != 0):
                            wake[_u(r)] = min(wake[_u(r)], t_arr + credit_delay)
                        if t_arr >= window_start and t_arr < window_end:
                            window_flits += 1
                        if tail:
                            pk_atime[_u(pk)] = t_arr
                            meas_done += pk_meas[_u(pk)]
                            n_done += 1
                    else:
                        hops += 1
                        d = nbr1[_u(r * P + o)]
                        dip = OPP[_u(o)]
                        div = (d * P + dip) * V + ovv
                        db = _u(div * KI)
                        dn = ivr[db + I_N]
                        if dn >= D:
                            status = _broken(info, 3, div, now)
                            break
                        k = ivr[db + I_H] + dn
                        if k >= D:
                            k -= D
                        sl_t[_u(div * D + k)] = t_arr
                        sl_p[_u(div * D + k)] = pk * 8 + (rflat[_u(pk_rkey[_u(pk)] + d)] if fi == 0 else 0)
                        if dn == 0:
                            _arrives(d, dip, ovv, t_arr, now, W, vmask, pmask, pend, pport, pslot)
                        ivr[db + I_N] = dn + 1
                        rcount[_u(d)] += 1
                        wake[_u(d)] = min(wake[_u(d)], t_arr)
                    ivr[b + I_H] = h + 1 if h + 1 < D else 0
                    n = ivr[b + I_N] - 1
                    ivr[b + I_N] = n
                    rcount[_u(r)] -= 1
                    if tail:  # the packet has left: its output VC is free again
                        ovr[q + O_BUSY] = 0
                        ivr[b + I_ST] = S_IDLE
                        ivr[b + I_FI] = 0
                        if (vreq0 >> o) & 1:  # heads waiting for a VC of this port may get this one
                            nx = now + 1
                    else:
                        ivr[b + I_FI] = fi + 1
                    if n == 0:
                        vm = vmask[_u(r * P + ip)] & ~(np.int64(1) << v)
                        vmask[_u(r * P + ip)] = vm
                        if vm == 0:
                            pmask[_u(r)] &= ~(1 << ip)
                    else:  # the next flit of this VC
                        nx = min(nx, max(now + 1, sl_t[_u(iv * D + ivr[b + I_H])]))
                    # credit to the upstream output VC (the interface for the local port)
                    if ip == 0:
                        up = (r * Q + NI) * V + v
                        _opush(up, now + credit_delay, ovr, crt, D)
                        if ovr[_u(up * KO) + O_CRED] == 0 or (ovr[_u(up * KO) + O_BUSY] == 0 and wait_tail_credit):
                            nwake[_u(r)] = min(nwake[_u(r)], now + credit_delay)
                    else:
                        u = nbr1[_u(r * P + ip)]
                        up = (u * Q + OPP[_u(ip)]) * V + v
                        _opush(up, now + credit_delay, ovr, crt, D)
                        if ovr[_u(up * KO) + O_CRED] == 0 or (ovr[_u(up * KO) + O_BUSY] == 0 and wait_tail_credit):
                            wake[_u(u)] = min(wake[_u(u)], now + credit_delay)
                wake[r] = min(wake[r], nx)
                if status != OK:
                    break
            if status != OK:
                break
        if status != OK:
            break
        # the next cycle in which something is due: now + 1 if anything is due by then (its mask
        # of due routers is then ready), else the earliest wake-up
        ready = _due_masks(N, NW, now + 1, wake, nwake, dmask)
        gmin = now + 1 if ready else _next_due(N, wake, nwake)
        ready = ready and late
        if gmin >= INF:
            if n_done < n_total:
                status = DEADLOCK
            break
        now = max(now + 1, gmin)
    for r in range(N):
        occ_out[r] = rcount[r]
    _store(sc, now, meas_done, window_flits, hops, 0, n_done, 0)
    return status
