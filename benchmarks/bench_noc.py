"""Speed of the flit-level mesh kernel: 8x8 mesh, uniform random traffic, the reference router.

    python benchmarks/bench_noc.py [--rate 0.1] [--cycles 60105] [--repeat 3]
    python benchmarks/bench_noc.py --doc      # the three cases of docs/performance.md, table rewritten

The router is BookSim2's example mesh configuration (16 VCs x 8 flits, iSLIP with
2 iterations, credit delay 2, pipeline 0/1/1/1 + 1-cycle links). A flit-hop is one
router traversal (BookSim2 counts about 6.25 per packet on this mesh: 5.25 links +
the destination router). Time is the CPU time (process time) of the compiled kernel's call
(``simulator.noc.kernel_uni.simulate_uni``, the unicast-only kernel these cases run, or
``simulator.noc.kernel.simulate`` with ``--kernel general``: the simulated work), the best of ``--repeat`` runs after one
warm-up call that loads the compiled kernel; the whole ``run_packets`` call (plus sorting the
packets into the interfaces' queues and allocating the state) is reported next to it.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from simulator.noc import kernel, kernel_uni  # noqa: E402
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


KERNELS = {"auto": (kernel_uni, "simulate_uni"), "general": (kernel, "simulate")}


def measure(k: int, rate: float, size: int, cycles: int, repeat: int, which: str = "auto") -> dict:
    """Best CPU time (process time) of ``repeat`` kernel runs of the case, and what it simulated
    (``which``: ``run_packets``' ``kernel_choice``, "auto" or "general")."""
    cfg = RouterConfig()
    src, dst, size_, ctime = workload(k, rate, size, cycles)
    run_packets(2, 2, cfg, np.array([0]), np.array([3]), np.array([1]), np.array([0]), kernel_choice=which)  # load
    module, fn = KERNELS[which]
    plain, spent = getattr(module, fn), []

    def timed(*args):  # the kernel call alone
        t0 = time.process_time()
        status = plain(*args)
        spent.append(time.process_time() - t0)
        return status

    best, whole, run = None, None, None
    setattr(module, fn, timed)
    try:
        for _ in range(repeat):
            t0 = time.process_time()
            run = run_packets(k, k, cfg, src, dst, size_, ctime, kernel_choice=which)
            if not spent:
                raise SystemExit(f"bench_noc.py: run_packets did not call {module.__name__}.{fn}")
            dt = time.process_time() - t0
            whole = dt if whole is None else min(whole, dt)
            best = spent[-1] if best is None else min(best, spent[-1])
    finally:
        setattr(module, fn, plain)
    hops = int(run.link_flits.sum())  # router traversals, ejection included
    return {"k": k, "rate": rate, "size": size, "packets": len(src), "cycles": run.end_cycle, "hops": hops,
            "cpu_s": best, "whole_s": whole, "hops_per_s": hops / best, "latency": float(np.mean(run.atime - ctime))}


def report(m: dict) -> None:
    print(f"{m['k']}x{m['k']} mesh, uniform random, {m['rate']} flits/node/cycle, {m['size']}-flit packets")
    print(f"  packets {m['packets']:,}  cycles {m['cycles']:,}  flit-hops {m['hops']:,} "
          f"({m['hops'] / m['packets'] / m['size']:.2f} routers per flit)")
    rate = m["hops_per_s"]
    print(f"  kernel CPU {m['cpu_s']:.3f} s  ->  {rate / 1e6:.2f} M flit-hops/s, {m['cycles'] / m['cpu_s'] / 1e3:.0f} k "
          f"cycles/s (goal {GOAL_HOPS_PER_S / 1e6:.0f} M: {'met' if rate >= GOAL_HOPS_PER_S else 'NOT met'}); "
          f"whole run_packets call {m['whole_s']:.3f} s")
    print(f"  mean packet latency {m['latency']:.2f} cycles")


def write_doc(rows: list[dict], load: str) -> None:
    from doc_blocks import DOCS, replace_block
    lines = [f"Measured by `python benchmarks/bench_noc.py --doc` (CPU time of the kernel call, best of 3; "
             f"load average before the run: {load}; last column: the whole `run_packets` call, queueing "
             "the packets and allocating the state included):", "",
             "| case (8 × 8, reference router, uniform random) | kernel CPU s | flit-hops | flit-hops/s "
             "| simulated cycles/s | run_packets CPU s |",
             "|---|---|---|---|---|---|"]
    for m in rows:
        lines.append(f"| {m['size']}-flit packets at {m['rate']} flits/node/cycle | {m['cpu_s']:.3f} | "
                     f"{m['hops']:,} | {m['hops_per_s'] / 1e6:.2f} M | {m['cycles'] / m['cpu_s'] / 1e3:.0f} k | "
                     f"{m['whole_s']:.3f} |")
    replace_block(DOCS / "performance.md", "bench-noc", "\n".join(lines) + "\n")


def case_args(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The benchmark case's options (mesh k x k, offered rate, packet flits, cycles), shared with
    profile_noc.py."""
    p.add_argument("--k", type=int, default=8)
    p.add_argument("--rate", type=float, default=0.1)
    p.add_argument("--size", type=int, default=1)
    p.add_argument("--cycles", type=int, default=60105)
    return p


def main() -> None:
    p = case_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--kernel", choices=("auto", "general"), default="auto",
                   help="general: time the general (multicast-capable) kernel instead of the unicast-only one")
    p.add_argument("--doc", action="store_true",
                   help="run 1-flit @0.1, 4-flit @0.1 and 1-flit @0.3 and rewrite the table in docs/performance.md")
    a = p.parse_args()
    if not a.doc:
        report(measure(a.k, a.rate, a.size, a.cycles, a.repeat, a.kernel))
        return
    import os
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    rows = [measure(8, rate, size, a.cycles, 3) for size, rate in ((1, 0.1), (4, 0.1), (1, 0.3))]
    for m in rows:
        report(m)
    write_doc(rows, load)


if __name__ == "__main__":
    main()
