"""The speed goals of sweeps (docs/performance.md, "Sweep goals"):

* a 1,000-point energy-only sweep on ResNet-50 in under 30 s: arch/simba.yaml, NoP swing x NoC
  swing x weight-buffer Vdd (10 values each), in this process (``--jobs 1``);
* a 100-point sweep on the digits network in under 2 minutes on 2 cores (2 local processes):
  random points of examples/sweeps/digits_combined.yaml, with ``accuracy_loss`` among the
  objectives when an accuracy evaluator is registered (otherwise energy and latency only, and the
  script says so);
* the speed-up of 2 Dask workers over 1 on that same 100-point sweep (a ``LocalCluster`` of
  worker processes with one thread each, started before the clock starts).

    python benchmarks/bench_sweep_goals.py [--repeat 3]

Prints medians of ``--repeat`` runs and the machine's load average (other work on the machine
slows every figure).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.dse.evaluate import accuracy_evaluator  # noqa: E402
from simulator.dse.runner import run_sweep  # noqa: E402
from simulator.dse.spec import load_sweep  # noqa: E402

SWINGS = [0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25]
VDDS = [0.8, 0.76, 0.72, 0.68, 0.64, 0.6, 0.58, 0.56, 0.53, 0.5]


def energy_only_spec(tmp: Path) -> Path:
    spec = tmp / "resnet50_energy_only.yaml"
    spec.write_text(yaml.safe_dump({
        "version": 1, "name": "bench-energy-only-1000", "arch": str(ROOT / "arch" / "simba.yaml"),
        "workload": str(ROOT / "workloads" / "resnet50.yaml"),
        "knobs": [{"name": "nop_swing_v", "path": "package.nop.swing_v", "values": SWINGS},
                  {"name": "noc_swing_v", "path": "chiplet.noc.swing_v", "values": SWINGS},
                  {"name": "wb_vdd_v", "path": "chiplet.pe.weight_buffer.vdd_v", "values": VDDS}],
        "objectives": [{"name": "energy_pj"}, {"name": "latency_cycles"}]}, sort_keys=False))
    return spec


def digits_spec(tmp: Path) -> tuple[Path, bool]:
    data = yaml.safe_load((ROOT / "examples" / "sweeps" / "digits_combined.yaml").read_text())
    here = ROOT / "examples" / "sweeps"
    for key in ("arch", "workload", "approx"):
        data[key] = str((here / data[key]).resolve())
    data["name"] = "bench-digits-100"
    data["search"] = {"kind": "random", "points": 100, "seed": 1}
    with_accuracy = accuracy_evaluator() is not None
    if with_accuracy:
        data["dataset"] = str(ROOT / "datasets" / "digits.npz")
        data["objectives"].append({"name": "accuracy_loss"})
    spec = tmp / "digits_100.yaml"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    return spec, with_accuracy


def timed(sweep, tmp: Path, **kw) -> tuple[float, int]:
    out = tmp / f"run-{time.monotonic_ns()}"
    started = time.perf_counter()
    outcome = run_sweep(sweep, out, **kw)
    return time.perf_counter() - started, len(outcome.rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="axsim-bench-goals-") as name:
        tmp = Path(name)
        sweep = load_sweep(energy_only_spec(tmp))
        walls = [timed(sweep, tmp, jobs=1)[0] for _ in range(args.repeat)]
        print(f"ResNet-50, 1000 energy-only points, in-process: {statistics.median(walls):.1f} s "
              f"(median of {args.repeat}; goal < 30 s)", flush=True)
        spec, with_accuracy = digits_spec(tmp)
        sweep = load_sweep(spec)
        what = "with accuracy" if with_accuracy else "energy and latency only (no accuracy evaluator registered)"
        walls = [timed(sweep, tmp, jobs=2)[0] for _ in range(args.repeat)]
        print(f"digits, 100 random points, {what}, 2 local processes: {statistics.median(walls):.1f} s "
              f"(goal < 120 s)", flush=True)
        try:
            from dask.distributed import LocalCluster
        except ImportError:
            print("dask.distributed is not installed: no Dask figures")
            return
        dask = {}
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster:
                dask[workers] = statistics.median(timed(sweep, tmp, scheduler=cluster.scheduler_address)[0]
                                                  for _ in range(args.repeat))
            print(f"digits, 100 points, Dask {workers} worker(s): {dask[workers]:.1f} s", flush=True)
        print(f"speed-up of 2 Dask workers over 1: {dask[1] / dask[2]:.2f}x")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
