"""Speed of the flit-level mesh kernel: 8x8 mesh, uniform random traffic, the reference router.

    python benchmarks/bench_noc.py [--rate 0.1] [--cycles 60105] [--repeat 3]

The router is BookSim2's example mesh configuration (16 VCs x 8 flits, iSLIP with
2 iterations, credit delay 2, pipeline 0/1/1/1 + 1-cycle links). A flit-hop is one
router traversal (BookSim2 counts about 6.25 per packet on this mesh: 5.25 links +
the destination router). Time is CPU time of the kernel call (process time), the
best of ``--repeat`` runs after one warm-up call that loads the compiled kernel.
Goal (docs/performance.md): >= 10 M flit-hops/s; BookSim2 on these machines:
60,105 cycles in 17.1 s of CPU at 0.1 flits/node/cycle (about 0.14 M flit-hops/s).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.noc.router import RouterConfig, run_packets  # noqa: E402
from simulator.noc.traffic import bernoulli_times, stream  # noqa: E402

GOAL_HOPS_PER_S = 10e6


def workload(k: int, rate: float, size: int, cycles: int, seed: int = 0):
    src, ctime, dst = [], [], []
    for n in range(k * k):
        rng = stream(seed, f"noc.node[{n}]")
        t = bernoulli_times(rate / size, cycles, rng)
        src.append(np.full(len(t), n))
        ctime.append(t)
        dst.append(rng.integers(0, k * k, len(t)))
    return np.concatenate(src), np.concatenate(dst), np.full(sum(map(len, ctime)), size), np.concatenate(ctime)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--rate", type=float, default=0.1)
    p.add_argument("--size", type=int, default=1)
    p.add_argument("--cycles", type=int, default=60105)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    cfg = RouterConfig()
    src, dst, size, ctime = workload(a.k, a.rate, a.size, a.cycles)
    run_packets(2, 2, cfg, np.array([0]), np.array([3]), np.array([1]), np.array([0]))  # load the kernel
    best = None
    for _ in range(a.repeat):
        t0 = time.process_time()
        run = run_packets(a.k, a.k, cfg, src, dst, size, ctime)
        dt = time.process_time() - t0
        best = dt if best is None else min(best, dt)
    hops = int(run.link_flits.sum())  # router traversals, ejection included
    rate = hops / best
    print(f"{a.k}x{a.k} mesh, uniform random, {a.rate} flits/node/cycle, {a.size}-flit packets")
    print(f"  packets {len(src):,}  cycles {run.end_cycle:,}  flit-hops {hops:,} "
          f"({hops / len(src) / a.size:.2f} routers per flit)")
    print(f"  CPU {best:.3f} s  ->  {rate / 1e6:.2f} M flit-hops/s, {run.end_cycle / best / 1e3:.0f} k cycles/s "
          f"(goal {GOAL_HOPS_PER_S / 1e6:.0f} M: {'met' if rate >= GOAL_HOPS_PER_S else 'NOT met'})")
    print(f"  mean packet latency {np.mean(run.atime - ctime):.2f} cycles")


if __name__ == "__main__":
    main()
