"""Error exposure: per-bit flip probabilities of every element group, persistent faults met,
and expected flips per layer, data structure, link and buffer.

For a group with transient events i (link traversals, SRAM reads), each happening n_i times,
the probability that the bit at position b of an element is corrupted in transit is

    p[b] = 1 - prod_i (1 - p_i[b])^n_i = -expm1(sum_i n_i log1p(-p_i[b]))

(docs/models.md, "Error exposure"). Persistent faults are the stuck cells of a
map per buffer instance and data-structure region (``inject.stuck_cells`` drawn
from ``seeding.rng_for(seed, "<instance>/<ds>")``), met at the byte
addresses the placement of the group implies. Expected flips count the bits the
hardware really moves or reads: a link traversal of ``bits`` bits contributes
``bits/8 * sum_b p_link[b]``; a stuck cell under a stored bit flips it with
probability 1/2 (the stored value is equally likely 0 or 1).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from simulator.faults import inject
from simulator.faults.journeys import DS, PE_BUFFER, Journeys
from simulator.faults.rates import BYTE_BITS, BUFFER_KINDS, ErrorRates
from simulator.faults.seeding import rng_for
from simulator.mapping.identity import DIMS

SLICE_WIDTH = 12  # the longest flat slice (inputs: 5 ranges and 2 halo counts)


def is_zero(rates: ErrorRates, arch) -> bool:
    """True when no link or buffer of ``arch`` can flip a bit (a nominal operating point)."""
    j = Journeys(arch)
    for a, b in j.nop.links:
        if np.any(rates.link("nop", a, b)):
            return False
    for r in range(arch.package.mesh.rows):
        for c in range(arch.package.mesh.cols):
            net = f"chiplet[{r},{c}].noc"
            for a, b in j.noc.links:
                if np.any(rates.link(net, a, b)):
                    return False
    return not any(np.any(rates.sram_read(buf, ds)) or np.any(rates.sram_stuck(buf, ds))
                   for buf in BUFFER_KINDS for ds in DS)


def at_nominal(arch) -> bool:
    """True when every link swing and SRAM supply of ``arch`` is its default at the chip supply
    (links: :func:`~simulator.config.operating.default_swing_v`; buffers: the chip supply)."""
    from simulator.config.operating import chip_vdd, default_swing_v, link_class_of, link_swings, sram_vdds
    tech = arch.tech_table
    if tech is None:
        return True
    for net, swings in link_swings(arch).items():
        if not np.all(swings == default_swing_v(arch, link_class_of(net))):
            return False
    return all(v == chip_vdd(arch) for v in sram_vdds(arch).values())


@dataclass
class ExposureData:
    """Everything :mod:`simulator.faults.exposure` stores (one row per group, stuck hit, PE step)."""

    layers: list[str]
    group_layer: np.ndarray
    group_ds: np.ndarray
    group_slice: np.ndarray
    group_chiplet: np.ndarray
    group_pe: np.ndarray
    group_txn: np.ndarray
    p_flip: np.ndarray
    p_acc: np.ndarray
    stuck_group: np.ndarray
    stuck_element: np.ndarray
    stuck_bit: np.ndarray
    stuck_value: np.ndarray
    stuck_stage: np.ndarray
    work_layer: np.ndarray
    work_txn: np.ndarray
    work_chiplet: np.ndarray
    work_pe: np.ndarray
    work_slice: np.ndarray
    work_weights: np.ndarray
    work_inputs: np.ndarray
    meta: dict = field(default_factory=dict)


@dataclass
class Flips:
    """Expected flips (and the exposure data when computed)."""

    rows: list[tuple]                    # (layer, ds, kind, where, from, to, bits, expected_flips)
    by_ds: dict[str, float]
    links: dict[tuple, tuple[float, float]]  # (network, from, to) -> (BER, expected flips over the run)
    data: ExposureData | None


def _event_log_survival(j: Journeys, rates: ErrorRates) -> np.ndarray:
    out = np.zeros((len(j.events), BYTE_BITS))
    for i, ev in enumerate(j.events):
        if ev[0] == "route":
            _, net, a, b = ev
            for x, y in j.route_links(net, a, b):
                out[i] += np.log1p(-np.minimum(rates.link(net, x, y), 1 - 1e-16))
        else:
            _, buf, ds = ev
            out[i] = np.log1p(-np.minimum(rates.sram_read(buf, ds), 1 - 1e-16))
    return out


StuckCells = Callable[[np.random.Generator, int, np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray]]


def compute(j: Journeys, rates: ErrorRates, seed: int, stuck_cells: StuckCells | None = None) -> Flips:
    """Probabilities per group, stuck cells met, expected flips, for every layer walked by ``j``."""
    n = len(j.g_layer)
    pe_events = [j.event(("read", PE_BUFFER[ds], ds)) for ds in DS]
    logs = _event_log_survival(j, rates)
    nj = len(j.journeys)
    jl = np.zeros((2, nj, BYTE_BITS))  # log-survival of each distinct journey, per stage
    for k, journey in enumerate(j.journeys):
        for e, c, stg in journey:
            jl[stg, k] += c * logs[e]
    g_ds = np.asarray(j.g_ds, np.int8)
    jid = np.asarray(j.g_journey, np.int64)
    # PE-buffer reads (weights, inputs): counted per group by the compute steps
    pe_log = logs[pe_events]
    reads = np.asarray(j.g_reads, float)
    p = []
    for stage in (0, 1):  # (0.0 - x: no negative zeros)
        survival = jl[stage][jid]
        if stage == 0:
            survival += reads[:, None] * pe_log[g_ds]
        p.append((0.0 - np.expm1(survival)).astype(np.float32))
        del survival

    # -- expected transient flips -------------------------------------------------------
    by_ds: dict[str, float] = dict.fromkeys(DS, 0.0)
    rows: list[tuple] = []
    links: dict[tuple, list] = {}
    link_sum: dict[tuple, float] = {}
    for (li, ds, net), per_link in j.link_bits.items():
        for (a, b), bits in per_link.items():
            key = (net, a, b)
            if key not in link_sum:
                pl = rates.link(net, a, b)
                link_sum[key] = float(np.sum(pl))
                links[key] = [float(np.mean(pl)), 0.0]
            e = bits / BYTE_BITS * link_sum[key]
            by_ds[ds] += e
            links[key][1] += e
            rows.append((j.layers[li], ds, "link", net, _node(a), _node(b), bits, e))
    read_sum = {}
    for (li, ds, buf, inst), bits in j.read_bits.items():
        if (buf, ds) not in read_sum:
            read_sum[(buf, ds)] = float(np.sum(rates.sram_read(buf, ds)))
        e = bits / BYTE_BITS * read_sum[(buf, ds)]
        by_ds[ds] += e
        rows.append((j.layers[li], ds, "sram_read", buf, inst, "", bits, e))

    # -- persistent faults: stuck cells met at the placements -------------------------------
    maps: dict[tuple, tuple | None] = {}
    hits: list[tuple] = []
    stuck_bits: dict[tuple, int] = defaultdict(int)
    draw = stuck_cells or inject.stuck_cells
    for gid, iid, base, eb, stg, region_i in zip(j.p_group, j.p_inst, j.p_base, j.p_eb, j.p_stage, j.p_ds):
        region = DS[region_i]
        key = (iid, region)
        if key not in maps:
            inst, buf = j.instances[iid]
            pst = np.asarray(rates.sram_stuck(buf, region), float)
            if not np.any(pst):
                maps[key] = None
                continue
            byte, bit, val = (np.asarray(x, np.int64) for x in draw(rng_for(seed, f"{inst}/{region}"),
                                                                     j.sizes[buf], pst))
            order = np.argsort(byte, kind="stable")
            maps[key] = (byte[order], bit[order], val[order], j.sizes[buf])
        cells = maps[key]
        if cells is None:
            continue
        byte, bit, val, size = cells
        span = j.g_elements[gid] * eb
        inst, buf = j.instances[iid]
        if span <= size:  # the bytes [base, base + span) modulo the size: at most two runs
            ks = np.r_[np.searchsorted(byte, base):np.searchsorted(byte, min(base + span, size)),
                       0:np.searchsorted(byte, base + span - size)]
            found = [(k, (int(byte[k]) - base) % size) for k in ks]
        else:  # a copy larger than the buffer wraps around more than once (streaming ring)
            rel = (byte - base) % size
            found = [(k, int(rel[k]) + m * size) for m in range(-(-span // size))
                     for k in np.flatnonzero(rel + m * size < span)]
        for k, off in found:
            hits.append((gid, off // eb, (off % eb) * BYTE_BITS + int(bit[k]), int(val[k]), stg))
            stuck_bits[(j.g_layer[gid], DS[g_ds[gid]], buf, inst)] += 1
    for (li, ds, buf, inst), count in stuck_bits.items():
        by_ds[ds] += 0.5 * count
        rows.append((j.layers[li], ds, "sram_stuck", buf, inst, "", count, 0.5 * count))

    data = _arrays(j, p, hits)
    data.meta = {"seed": seed, "dims": {k: list(v) for k, v in DIMS.items()},
                 "stuck_maps": sum(v is not None for v in maps.values())}
    return Flips(rows, by_ds, {k: (v[0], v[1]) for k, v in links.items()}, data)


def _node(n) -> str:
    return "{},{}".format(*n)


def _arrays(j: Journeys, p: list[np.ndarray], hits: list[tuple]) -> ExposureData:
    n = len(j.g_layer)
    sl = np.zeros((n, SLICE_WIDTH), np.int32)
    for i, s in enumerate(j.g_slice):
        sl[i, :len(s)] = s
    h = np.asarray(hits, np.int64).reshape(-1, 5)
    w = j.compute
    return ExposureData(
        layers=list(j.layers),
        group_layer=np.asarray(j.g_layer, np.int32),
        group_ds=np.asarray(j.g_ds, np.int8),
        group_slice=sl,
        group_chiplet=np.asarray(j.g_chiplet, np.int16).reshape(-1, 2),
        group_pe=np.asarray([pe if pe is not None else (-1, -1) for pe in j.g_pe], np.int16).reshape(-1, 2),
        group_txn=np.asarray(j.g_txn, np.int32),
        p_flip=p[0], p_acc=p[1],
        stuck_group=h[:, 0].astype(np.int32), stuck_element=h[:, 1], stuck_bit=h[:, 2].astype(np.int8),
        stuck_value=h[:, 3].astype(np.int8), stuck_stage=h[:, 4].astype(np.int8),
        work_layer=np.asarray([r[0] for r in w], np.int32), work_txn=np.asarray([r[1] for r in w], np.int32),
        work_chiplet=np.asarray([r[2] for r in w], np.int16).reshape(-1, 2),
        work_pe=np.asarray([r[3] for r in w], np.int16).reshape(-1, 2),
        work_slice=np.asarray([r[4] for r in w], np.int32).reshape(-1, 8),
        work_weights=np.asarray([r[5] for r in w], np.int32),
        work_inputs=np.asarray([r[6] for r in w], np.int32))
