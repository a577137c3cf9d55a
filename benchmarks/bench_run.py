"""Time a full-network simulation: wall seconds, simulation events, events/s, peak memory.

    python benchmarks/bench_run.py [--arch arch/simba.yaml] [--workload workloads/resnet50.yaml] [--repeat 3]
                                   [--dataflow dram|resident] [--mapping fixed|search] [--[no-]prefetch]
                                   [--write BLOCK]

``--write BLOCK`` also writes the median CPU seconds (user + sys), wall seconds, events and peak
memory, with the machine load, into the generated block BLOCK of docs/performance.md, e.g.

    .venv/bin/python benchmarks/bench_run.py --dataflow resident --mapping search --write bench-run-default

Prints one line per repetition and the median. Peak memory is the process's
maximum resident set size (getrusage), which includes the interpreter and
the imported libraries.

Goals (2-core machine, ResNet-50 on simba): under 5 s of CPU (user + sys) and 200 MB, i.e.
interactive; a sweep of 100 configurations then fits in minutes.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "benchmarks"))

from doc_blocks import replace_block  # noqa: E402
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
    p.add_argument("--prefetch", action=argparse.BooleanOptionalAction, default=None,
                   help="weight prefetch across layers (default: on with --dataflow resident)")
    p.add_argument("--write", metavar="BLOCK", help="write the figures into this block of docs/performance.md")
    args = p.parse_args()
    arch = api.load_arch(args.arch)
    workload = api.load_workload(args.workload)
    walls, cpus = [], []
    for i in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = api.simulate(arch, workload, dataflow=args.dataflow, mapping=args.mapping, prefetch=args.prefetch)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        walls.append(wall)
        cpus.append(cpu)
        print(f"run {i + 1}: {wall:.2f} s wall, {cpu:.2f} s CPU, {result.events:,} events, {result.events / wall:,.0f} events/s, "
              f"latency {result.latency_cycles:,} cycles")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    med = statistics.median(walls)
    print(f"{workload.name} on {arch.name}: median {med:.2f} s wall, {result.events:,} events, "
          f"{result.events / med:,.0f} events/s, peak memory {peak_mb:.0f} MB")
    cpu_med = statistics.median(cpus)  # CPU (user + sys): wall seconds depend on the machine's load
    print(f"goal (< {GOAL_WALL_S:.0f} s CPU, < {GOAL_PEAK_MB:.0f} MB): median {cpu_med:.2f} s CPU, "
          f"{'met' if cpu_med < GOAL_WALL_S and peak_mb < GOAL_PEAK_MB else 'MISSED'}")
    if args.write:
        load = os.getloadavg()
        prefetch = args.prefetch if args.prefetch is not None else args.dataflow == "resident"
        body = ("| workload | dataflow | mapping | prefetch | events | CPU s (median) | wall s (median) | peak MB "
                "| load (1/5/15 min) |\n|---|---|---|---|---|---|---|---|---|\n"
                f"| {workload.name} | {args.dataflow} | {args.mapping} | {'on' if prefetch else 'off'} "
                f"| {result.events:,} | {statistics.median(cpus):.2f} | {med:.2f} | {peak_mb:.0f} "
                f"| {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} |\n")
        replace_block(ROOT / "docs" / "performance.md", args.write, body)


if __name__ == "__main__":
    main()
