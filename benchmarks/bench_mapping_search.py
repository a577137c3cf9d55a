"""CPU cost of the mapping search: ResNet-50 on simba, resident dataflow with weight prefetch (the
defaults of ``axsim run``; goal: the whole run with the search under 5 s of CPU and 200 MB).

Per mapping (``fixed``, ``search``): CPU seconds (user + sys, ``time.process_time``) of the trace
generation alone (where the search runs: candidates, costs, placement) and of the whole simulation
(trace generation, replay, energy), the median of ``--repeat`` runs, and the peak resident memory of
a process that ran only that mapping (after its whole runs). The machine load is recorded beside the figures.

    .venv/bin/python benchmarks/bench_mapping_search.py [--repeat 3] [--write]   # --write: into docs/performance.md
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from doc_blocks import replace_block  # noqa: E402
from simulator import api  # noqa: E402

GOAL_CPU_S = 5.0
GOAL_PEAK_MB = 200.0


def cpu(fn) -> tuple[float, object]:
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def one(mapping: str, repeat: int) -> dict:
    """The figures of one mapping, in this process: whole runs first (the peak memory is taken after
    them), then the trace generation alone."""
    arch = api.load_arch(str(ROOT / "arch/simba.yaml"))
    wl = api.load_workload(str(ROOT / "workloads/resnet50.yaml"))
    run = []
    for _ in range(repeat):
        t, res = cpu(lambda: api.simulate(arch, wl, dataflow="resident", mapping=mapping))
        run.append(t)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gen = [cpu(lambda: sum(1 for _ in api.generate_traces(arch, wl, dataflow="resident", mapping=mapping)))[0]
           for _ in range(repeat)]
    return {"mapping": mapping, "gen": statistics.median(gen), "run": statistics.median(run), "peak": peak_mb,
            "cycles": res.latency_cycles}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="write the table into docs/performance.md")
    ap.add_argument("--one", choices=("fixed", "search"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.repeat)))
        return
    rows = []
    for mapping in ("fixed", "search"):   # each in a fresh process, so that its peak memory is its own
        out = subprocess.run([sys.executable, __file__, "--one", mapping, "--repeat", str(args.repeat)],
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        rows.append((r["mapping"], r["gen"], r["run"], r["peak"], r["cycles"]))
        print(f"{mapping}: traces {r['gen']:.2f} s CPU, run {r['run']:.2f} s CPU, peak {r['peak']:.0f} MB, "
              f"{r['cycles']:,} cycles", flush=True)
    load = os.getloadavg()
    search = rows[1]
    met = search[2] < GOAL_CPU_S and search[3] < GOAL_PEAK_MB
    lines = ["| mapping | trace generation CPU s | whole run CPU s | peak memory MB | latency cycles |",
             "|---|---|---|---|---|"]
    lines += [f"| {m} | {g:.2f} | {r:.2f} | {p:.0f} | {c:,} |" for m, g, r, p, c in rows]
    lines += ["", f"Median of {args.repeat} runs; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
              f"(1 / 5 / 15 min) on the 2-core machine when measured. The search costs "
              f"{rows[1][1] - rows[0][1]:.2f} s of CPU over the fixed mapping's trace generation. Goal (whole run "
              f"with the search under {GOAL_CPU_S:.0f} s of CPU and {GOAL_PEAK_MB:.0f} MB): "
              f"{'met' if met else 'MISSED'}."]
    body = "\n".join(lines) + "\n"
    print(body, end="")
    if args.write:
        replace_block(ROOT / "docs" / "performance.md", "mapping_search_cpu", body)


if __name__ == "__main__":
    main()
