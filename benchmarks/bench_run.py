"""Time a full-network simulation: wall seconds, simulation events, events/s, peak memory.

    python benchmarks/bench_run.py [--arch arch/simba.yaml] [--workload workloads/resnet50.yaml] [--repeat 3]
                                   [--dataflow dram|resident] [--mapping fixed|search]

Prints one line per repetition and the median. Peak memory is the process's
maximum resident set size (getrusage), which includes the interpreter and
the imported libraries.

Goals (2-core machine, ResNet-50 on simba): under 5 s wall and 200 MB, i.e.
interactive; a sweep of 100 configurations then fits in minutes.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import api  # noqa: E402

GOAL_WALL_S = 5.0
GOAL_PEAK_MB = 200.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default=str(ROOT / "arch/simba.yaml"))
    p.add_argument("--workload", default=str(ROOT / "workloads/resnet50.yaml"))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dataflow", choices=api.DATAFLOWS, default="dram")
    p.add_argument("--mapping", choices=api.MAPPINGS, default="fixed")
    args = p.parse_args()
    arch = api.load_arch(args.arch)
    workload = api.load_workload(args.workload)
    walls = []
    for i in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = api.simulate(arch, workload, dataflow=args.dataflow, mapping=args.mapping)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        walls.append(wall)
        print(f"run {i + 1}: {wall:.2f} s wall, {cpu:.2f} s CPU, {result.events:,} events, {result.events / wall:,.0f} events/s, "
              f"latency {result.latency_cycles:,} cycles")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = statistics.median(walls)
    print(f"{workload.name} on {arch.name}: median {med:.2f} s wall, {result.events:,} events, "
          f"{result.events / med:,.0f} events/s, peak memory {peak_mb:.0f} MB")
    print(f"goal (< {GOAL_WALL_S:.0f} s, < {GOAL_PEAK_MB:.0f} MB): "
          f"{'met' if med < GOAL_WALL_S and peak_mb < GOAL_PEAK_MB else 'MISSED'}")


if __name__ == "__main__":
    main()
