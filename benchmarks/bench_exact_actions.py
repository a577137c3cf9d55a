"""CPU cost of counting each PE's own work (exact actions of uneven splits) in a full run.

    .venv/bin/python benchmarks/bench_exact_actions.py [--workload workloads/resnet50.yaml] [--write]

The PE array counts the actions of a compute step from its PEs' work slices
(``simulator.hw.pe.step_work``, docs/models.md "Exact actions of uneven splits"), a Python
loop over up to 16 slices per compute transaction. This script measures, on the traces of
``axsim run``'s defaults: the number of compute transactions and slices, the CPU seconds
(user + sys) of ``step_work`` over all of them (median of 5 passes) and of the replay of the
same traces (``api.simulate(traces=...)``, median of 3), with the machine load. ``--write``
puts the row into the block ``exact-actions-cost`` of docs/performance.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from doc_blocks import replace_block  # noqa: E402
from simulator import api  # noqa: E402
from simulator.hw.pe import step_work  # noqa: E402


def cpu() -> float:
    t = os.times()
    return t.user + t.system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default=str(ROOT / "arch/simba.yaml"))
    ap.add_argument("--workload", default=str(ROOT / "workloads/resnet50.yaml"))
    ap.add_argument("--write", action="store_true", help="write the row into docs/performance.md")
    args = ap.parse_args()
    arch, wl = api.load_arch(args.arch), api.load_workload(args.workload)
    pe = arch.chiplet.pe
    traces = list(api.generate_traces(arch, wl))
    steps = [t for tr in traces for t in tr.txns if t.op == "compute" and not t.vector_ops]
    slices = sum(len(t.data) for t in steps)
    counting = []
    for _ in range(5):
        start = cpu()
        for t in steps:
            step_work(t.data, t.rs, pe.vector_macs, pe.lanes)
        counting.append(cpu() - start)
    replay = []
    for _ in range(3):
        start = cpu()
        api.simulate(arch, traces=traces)
        replay.append(cpu() - start)
    count_s, replay_s = statistics.median(counting), statistics.median(replay)
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    header = ("| workload | compute steps (MAC) | PE slices | step_work CPU s | replay CPU s | share | "
              "load (1/5/15 min) |\n|---|---|---|---|---|---|---|\n")
    row = (f"| {wl.name} | {len(steps):,} | {slices:,} | {count_s:.3f} | {replay_s:.2f} | "
           f"{100 * count_s / replay_s:.1f} % | {load} |\n")
    print(header + row, end="")
    if args.write:
        replace_block(ROOT / "docs" / "performance.md", "exact-actions-cost", header + row)


if __name__ == "__main__":
    main()
