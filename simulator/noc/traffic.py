"""Synthetic traffic on the flit-level mesh: Bernoulli injection, warm-up and measurement phases.

Each node creates a packet of ``packet_size`` flits with probability
``rate / packet_size`` per cycle (``rate`` in flits/node/cycle); creation times
are drawn by skipping (geometric gaps), from a generator per node seeded with
the run seed and a stable hash of ``noc.node[n]``. Packets created in the
measurement window ``[W, W + S)`` (``W = warmup_periods x sample_period``,
``S = sample_period``) are measured; creation continues for another ``S``
cycles so that the measured packets cross a loaded network.

Multicast traffic (``multicast_fanout = K > 1``, uniform only): every packet goes to ``K``
distinct nodes drawn uniformly (a generator per node, ``noc.node[n].multicast``), replicated in
the routers or, with ``multicast = unicast``, sent as ``K`` copies one after the other. The
offered load counts the flits a source creates (one copy); the accepted load counts every flit
delivered (about ``K`` times the offered); latency runs from creation to the tail's arrival at
the last destination.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from simulator.errors import AxsimError
from simulator.faults.seeding import rng_for
from simulator.noc.booksim import NocSetup
from simulator.noc.router import Multicast, run_packets


def stream(seed: int, path: str) -> np.random.Generator:
    """The random generator of component ``path`` in a run with ``seed`` (:func:`rng_for`)."""
    return rng_for(seed, path)


def destinations(traffic: str, src: np.ndarray, k: int, rng: np.random.Generator,
                 hotspots: tuple[int, ...] = (0,), hotspot_fraction: float = 0.2) -> np.ndarray:
    """Destination node per packet of the sources ``src`` (node id = row * k + col)."""
    nodes = k * k
    row, col = src // k, src % k
    if traffic == "uniform":          # any node, the source itself included (as BookSim2)
        return rng.integers(0, nodes, len(src))
    if traffic == "transpose":        # (r, c) -> (c, r)
        return col * k + row
    if traffic == "bitcomp":          # every bit of the node id complemented
        return (nodes - 1) - src
    if traffic == "hotspot":          # a hotspot node with probability f, otherwise uniform
        hot = rng.random(len(src)) < hotspot_fraction
        out = rng.integers(0, nodes, len(src))
        out[hot] = np.asarray(hotspots)[rng.integers(0, len(hotspots), int(hot.sum()))]
        return out
    if traffic == "neighbor":         # one of the (2 to 4) mesh neighbours, uniformly
        table = np.zeros((nodes, 4), np.int64)
        count = np.zeros(nodes, np.int64)
        for n in range(nodes):
            r, c = divmod(n, k)
            for dr, dc in ((0, 1), (0, -1), (1, 0), (-1, 0)):
                if 0 <= r + dr < k and 0 <= c + dc < k:
                    table[n, count[n]] = (r + dr) * k + c + dc
                    count[n] += 1
        pick = (rng.random(len(src)) * count[src]).astype(np.int64)
        return table[src, pick]
    raise AxsimError(f"unknown traffic pattern {traffic!r}")


def bernoulli_times(p: float, horizon: int, rng: np.random.Generator) -> np.ndarray:
    """Cycles in [0, horizon) at which a Bernoulli(p) process fires, drawn as geometric gaps."""
    if p <= 0:
        return np.zeros(0, np.int64)
    expect = p * horizon
    out = []
    t = -1
    while True:
        gaps = rng.geometric(min(p, 1.0), int(expect + 6 * np.sqrt(expect) + 16))
        times = t + np.cumsum(gaps)
        out.append(times[times < horizon])
        if times[-1] >= horizon:
            break
        t = int(times[-1])
    return np.concatenate(out).astype(np.int64)


@dataclass(frozen=True)
class Point:
    """One row of noc.csv."""

    packet_flits: int
    offered_flits_per_node_cycle: float
    packet_latency_cycles: float | None
    network_latency_cycles: float | None
    accepted_flits_per_node_cycle: float
    status: str
    flit_hops: int
    cycles: int


def run_point(setup: NocSetup) -> Point:
    """Simulate one offered load of ``setup`` and measure it."""
    k, size = setup.k, setup.packet_size
    nodes = k * k
    rate = setup.flit_rate
    warm = setup.warmup_periods * setup.sample_period
    sample = setup.sample_period
    throughput = setup.sim_type == "throughput"
    horizon = warm + sample if throughput else warm + 2 * sample
    srcs, times, dsts = [], [], []
    for n in range(nodes):
        rng = stream(setup.seed, f"noc.node[{n}]")
        t = bernoulli_times(rate / size, horizon, rng)
        srcs.append(np.full(len(t), n, np.int64))
        times.append(t)
        dsts.append(destinations(setup.traffic, np.full(len(t), n, np.int64), k, rng,
                                 setup.hotspot_nodes, setup.hotspot_fraction))
    src, ctime, dst = np.concatenate(srcs), np.concatenate(times), np.concatenate(dsts)
    measured = ((ctime >= warm) & (ctime < warm + sample)).astype(np.int64)
    cfg = setup.router()
    route_mode = stream(setup.seed, "noc.o1turn").integers(0, 2, len(src)) \
        if cfg.routing == "o1turn" else None
    limit = warm + sample if throughput else warm + 6 * sample
    if throughput:  # no packet is waited for: the run is cut at the end of the window
        measured[:] = 0
    fan = setup.multicast_fanout
    mc, copies = None, 1
    if fan > 1:  # fan distinct destinations per packet, from a generator of their own
        sets = np.concatenate([stream(setup.seed, f"noc.node[{n}].multicast").random(
            (int((src == n).sum()), nodes)).argsort(axis=1)[:, :fan] for n in range(nodes)])
        order = np.argsort(src, kind="stable")  # the sets were drawn per source, in creation order
        dsets = np.empty_like(sets)
        dsets[order] = sets
        if setup.multicast == "replicate":
            mc = Multicast(np.arange(len(src), dtype=np.int64) * fan, np.full(len(src), fan, np.int64),
                           dsets.reshape(-1).astype(np.int64))
        else:  # the source sends one copy per destination, one after the other
            copies = fan
            src, ctime = np.repeat(src, fan), np.repeat(ctime, fan)
            measured = np.repeat(measured, fan)
            dst = dsets.reshape(-1).astype(np.int64)
            route_mode = None if route_mode is None else np.repeat(route_mode, fan)
    run = run_packets(k, k, cfg, src, dst, np.full(len(src), size, np.int64), ctime, measured,
                      route_mode=route_mode, window=(warm, warm + sample), max_cycles=limit,
                      name=f"noc ({setup.traffic}, {rate:g} flits/node/cycle)", stop_at_limit=True,
                      multicast=mc)
    if copies > 1:  # a packet's copies: injected at the first, arrived at the last (-1 if any is missing)
        itime = run.itime.reshape(-1, copies).min(axis=1)
        got = run.atime.reshape(-1, copies)
        atime = np.where((got >= 0).all(axis=1), got.max(axis=1), -1)
        run = replace(run, itime=itime, atime=atime)
        src, ctime, measured = src[::copies], ctime[::copies], measured[::copies]
    accepted = run.window_flits / (nodes * sample)
    m = measured.astype(bool)
    if throughput:
        return Point(size, rate, None, None, accepted, "ok", run.flit_hops, run.end_cycle)
    done = run.atime[m] >= 0
    if not done.all():
        return Point(size, rate, None, None, accepted, "saturated/unstable", run.flit_hops, run.end_cycle)
    plat = float(np.mean(run.atime[m] - ctime[m]))
    nlat = float(np.mean(run.atime[m] - run.itime[m]))
    if plat > setup.latency_thres:
        return Point(size, rate, None, None, accepted, "saturated/unstable", run.flit_hops, run.end_cycle)
    return Point(size, rate, plat, nlat, accepted, "ok", run.flit_hops, run.end_cycle)
