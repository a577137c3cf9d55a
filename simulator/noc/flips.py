"""Bit errors per flit traversal on the flit-level mesh.

Every router-to-router link ``src -> dst`` of network ``network`` has a flip
probability per bit position (within each byte) from
:meth:`simulator.faults.rates.ErrorRates.link`. A flit of ``flit_bits`` bits
carries ``flit_bits / 8`` bits of every position ("lanes"; :func:`lanes_of` when the
width is not a multiple of 8: wire ``i`` carries position ``i mod 8``). The bits of one
position that cross one link form a stream of independent Bernoulli(p) trials;
the kernel skips from one flip to the next with geometric gaps
``floor(log(u) / log(1 - p))`` (never one draw per bit) and records each flip
as (packet, flit, lane, bit position, link). The uniforms ``u`` of each link come
from a generator seeded with the run seed and a stable hash of the link's
path (``<network>.link[(r,c)->(r,c)]``), so the flips do not depend on the
order in which links are simulated.

Expected flips per link and position = traversals x lanes x p: the same
exposure as a transaction-level count of the bits each link carried.
:class:`StreamFlips` draws the same flips in full runs (``axsim run --network-model flit``
with the error exposure computed), where the stream is advanced in steps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.faults.rates import BYTE_BITS, ErrorRates
from simulator.noc.kernel import P
from simulator.noc.router import FlipState, PacketRun, RouterConfig, run_packets
from simulator.noc.traffic import stream

_STEP = {1: (0, 1), 2: (0, -1), 3: (1, 0), 4: (-1, 0)}


def kernel_links(rows: int, cols: int):
    """(link index r * 5 + o, (src row, col), (dst row, col)) of every router-to-router link."""
    for r in range(rows * cols):
        sr, sc = divmod(r, cols)
        for o, (dr, dc) in _STEP.items():
            tr, tc = sr + dr, sc + dc
            if 0 <= tr < rows and 0 <= tc < cols:
                yield r * P + o, (sr, sc), (tr, tc)


def lanes_of(flit_bits: int) -> np.ndarray:
    """Bits of each bit position (0..7) in a flit of ``flit_bits``: wire ``i`` of the link carries
    bit position ``i mod 8``, so ``flit_bits // 8`` each plus one for the ``flit_bits % 8``
    lowest positions (a 100-bit flit: 13 bits of positions 0-3, 12 of positions 4-7)."""
    return np.array([flit_bits // BYTE_BITS + (b < flit_bits % BYTE_BITS) for b in range(BYTE_BITS)], np.int64)


@dataclass(frozen=True)
class FlitFlips:
    """Flips drawn in one run: one row per flipped bit."""

    packet: np.ndarray
    flit: np.ndarray
    lane: np.ndarray   # byte within the flit
    bit: np.ndarray    # bit position within the byte (0 = least significant)
    link: np.ndarray   # link index r * 5 + o

    def counts(self, n_links: int) -> np.ndarray:
        """(n_links, 8) number of flips per link and bit position."""
        out = np.zeros((n_links, BYTE_BITS), np.int64)
        np.add.at(out, (self.link, self.bit), 1)
        return out


def _state(network: str, rows: int, cols: int, rates: ErrorRates, seed: int, flit_bits: int,
           pool: np.ndarray) -> FlipState:
    n_links = rows * cols * P
    logq = np.zeros((n_links, BYTE_BITS))
    u = np.ones((n_links, int(pool.max(initial=1))))
    gap = np.full((n_links, BYTE_BITS), 1 << 62, np.int64)
    ptr = np.zeros(n_links, np.int64)
    for lk, src, dst in kernel_links(rows, cols):
        p = np.clip(np.asarray(rates.link(network, src, dst), dtype=float), 0.0, 1.0)
        if not (p > 0).any():
            continue
        rng = stream(seed, f"{network}.link[({src[0]},{src[1]})->({dst[0]},{dst[1]})]")
        draws = 1.0 - rng.random(int(pool[lk]) + BYTE_BITS)  # in (0, 1]
        with np.errstate(divide="ignore"):
            logq[lk] = np.log1p(-p)
        for b in range(BYTE_BITS):  # the first gap of each bit position
            if p[b] > 0:
                x = np.log(draws[b]) / logq[lk, b] if logq[lk, b] < 0 else 0.0
                gap[lk, b] = int(x) if x < 1e18 else 1 << 62
        u[lk, :int(pool[lk])] = draws[BYTE_BITS:]
    return FlipState(lanes_of(flit_bits), logq, u, ptr, gap,
                     np.zeros((int(pool.sum()), 5), np.int64))


class StreamFlips:
    """Flips drawn per flit traversal in a :class:`simulator.noc.stream.FlitStream` that runs in
    steps: the same draws as :func:`run_with_flips` (one generator per link, seeded with the run
    seed and the link's path; the first gap of each bit position, then one uniform per flip), but
    each link's pool of uniforms is topped up from its generator whenever the kernel reports it
    low, so no pool ever runs out and the draws do not depend on when the stream was advanced.
    ``links``: (kernel link index, network name, src node, dst node) of every router-to-router
    link of the kernel's mesh. Only counts are kept (``state.count``: flips per link and bit
    position)."""

    def __init__(self, n_links: int, links, rates: ErrorRates, seed: int, flit_bits: int, pool: int = 4096):
        lanes = lanes_of(flit_bits)
        pool = max(pool, 2 * flit_bits)
        logq = np.zeros((n_links, BYTE_BITS))
        gap = np.full((n_links, BYTE_BITS), 1 << 62, np.int64)
        u = np.ones((n_links, pool))
        ptr = np.zeros(n_links, np.int64)  # links that cannot flip never use their pool
        self.rngs: dict[int, np.random.Generator] = {}
        self.link_names: dict[int, tuple] = {}
        for lk, network, src, dst in links:
            self.link_names[lk] = (network, src, dst)
            p = np.clip(np.asarray(rates.link(network, src, dst), dtype=float), 0.0, 1.0)
            if not (p > 0).any():
                continue
            rng = stream(seed, f"{network}.link[({src[0]},{src[1]})->({dst[0]},{dst[1]})]")
            first = 1.0 - rng.random(BYTE_BITS)
            with np.errstate(divide="ignore"):
                logq[lk] = np.log1p(-p)
            for b in range(BYTE_BITS):
                if p[b] > 0:
                    x = np.log(first[b]) / logq[lk, b] if logq[lk, b] < 0 else 0.0
                    gap[lk, b] = int(x) if x < 1e18 else 1 << 62
            self.rngs[lk] = rng
            u[lk] = 1.0 - rng.random(pool)
        self.state = FlipState(lanes, logq, u, ptr, gap, np.zeros((0, 5), np.int64))

    def refill(self) -> None:
        """Top up every link whose pool has fewer uniforms left than one flit can use."""
        s = self.state
        pool = s.u.shape[1]
        for lk in np.flatnonzero(pool - s.ptr < s.lanes.sum()).tolist():
            rng = self.rngs.get(lk)
            if rng is None:
                continue
            left = pool - int(s.ptr[lk])
            s.u[lk, :left] = s.u[lk, pool - left:]
            s.u[lk, left:] = 1.0 - rng.random(pool - left)
            s.ptr[lk] = 0

    def counts(self) -> dict[tuple, np.ndarray]:
        """``(network, src, dst) -> flips per bit position`` of every link that flipped."""
        c = self.state.count
        return {self.link_names[lk]: c[lk].copy() for lk in np.flatnonzero(c.any(axis=1)).tolist()}


def run_with_flips(network: str, rows: int, cols: int, cfg: RouterConfig, rates: ErrorRates,
                   flit_bits: int, seed: int, src, dst, size, ctime, **kw) -> tuple[PacketRun, FlitFlips]:
    """:func:`run_packets` with bit flips drawn per flit traversal (see the module text)."""
    if flit_bits % BYTE_BITS:
        raise ValueError(f"flit_bits must be a multiple of {BYTE_BITS}, got {flit_bits}")
    n_links = rows * cols * P
    pool = np.full(n_links, 64, np.int64)
    while True:
        state = _state(network, rows, cols, rates, seed, flit_bits, pool)
        run = run_packets(rows, cols, cfg, src, dst, size, ctime, flips=state, **kw)
        if not run.flip_pool_exhausted:
            break
        # enough uniforms for the traversals this run made: mean + 8 sigma per link
        trav = run.link_flits.reshape(-1).astype(float)
        mean = trav * (state.lanes * -np.expm1(state.logq)).sum(axis=1)
        pool = np.maximum(pool * 4, (mean + 8 * np.sqrt(mean) + 64).astype(np.int64))
    out = state.out[: run.n_flips]
    return run, FlitFlips(out[:, 0], out[:, 1], out[:, 2], out[:, 3], out[:, 4])

