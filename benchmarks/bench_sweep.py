"""Sweep throughput: points/s of a small sweep (in-process, 2 local processes) and the speed-up of
2 Dask workers over 1 on the same sweep.

    python benchmarks/bench_sweep.py [--repeat 3]

Sweeps (written to a temporary folder, removed afterwards):

* ``tiny``: examples/sweeps/tiny.yaml (arch/tiny.yaml, three layers, 36 grid points of about
  30 ms each: per-point overheads dominate);
* ``alexnet``: Ax-BxP configuration x NoP link width x PE weight-buffer size on AlexNet on
  arch/simba_axbxp.yaml (12 grid points of about 0.4 s each).

Dask runs use a ``LocalCluster`` of worker processes (one thread each) started before the
clock starts. Prints medians of ``--repeat`` runs; the figures are in docs/performance.md.
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

from simulator.dse.runner import run_sweep  # noqa: E402
from simulator.dse.spec import load_sweep  # noqa: E402

ALEXNET = {
    "version": 1, "name": "bench-alexnet", "arch": str(ROOT / "arch" / "simba_axbxp.yaml"),
    "workload": str(ROOT / "workloads" / "alexnet.yaml"), "approx": str(ROOT / "examples" / "sweeps" / "macs.yaml"),
    "knobs": [
        {"name": "mac", "layers": "features.*", "values": ["exact", "msb3", "msb2"], "family": "compute"},
        {"name": "nop_link_bits", "path": "package.nop.link_width_bits", "values": [100, 200],
         "family": "communication"},
        {"name": "wb_bytes", "path": "chiplet.pe.weight_buffer.size_bytes", "values": [32768, 16384],
         "family": "memory"},
    ],
    "objectives": [{"name": "energy_pj"}, {"name": "latency_cycles"}],
}


CPU: dict[str, list[float]] = {}


def timed(sweep, tmp: Path, label: str, **kw) -> float:
    out = tmp / f"{label}-{time.monotonic_ns()}"
    started, cpu = time.perf_counter(), time.process_time()
    outcome = run_sweep(sweep, out, **kw)
    wall = time.perf_counter() - started
    if kw.get("jobs") == 1:  # everything ran in this process: its CPU time is the sweep's
        CPU.setdefault(label, []).append((time.process_time() - cpu) / len(outcome.rows))
    assert outcome.evaluated == len(outcome.rows), "every point must be evaluated afresh"
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="axsim-bench-sweep-") as tmp_name:
        tmp = Path(tmp_name)
        spec = tmp / "alexnet.yaml"
        spec.write_text(yaml.safe_dump(ALEXNET, sort_keys=False))
        sweeps = {"tiny": load_sweep(ROOT / "examples" / "sweeps" / "tiny.yaml"), "alexnet": load_sweep(spec)}
        print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
              f"on {os.cpu_count()} cores (others' work slows every figure)")
        print(f"{'sweep':8} {'points':>6} {'executor':24} {'wall s (median)':>16} {'points/s':>9}")
        results = {}
        for name, sweep in sweeps.items():
            n = sweep.grid_size
            for label, kw in (("in-process (jobs 1)", {"jobs": 1}), ("2 local processes", {"jobs": 2})):
                wall = statistics.median(timed(sweep, tmp, name, **kw) for _ in range(args.repeat))
                results[(name, label)] = wall
                print(f"{name:8} {n:6d} {label:24} {wall:16.2f} {n / wall:9.1f}", flush=True)
        for name, values in CPU.items():
            print(f"{name}: {statistics.median(values) * 1e3:.0f} ms of CPU per point (in-process, "
                  "independent of the machine's load)")
        try:
            from dask.distributed import LocalCluster
        except ImportError:
            print("dask.distributed is not installed: no Dask figures")
            return
        sweep = sweeps["alexnet"]
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster:
                walls = [timed(sweep, tmp, "dask", scheduler=cluster.scheduler_address)
                         for _ in range(args.repeat)]
            results[("dask", workers)] = statistics.median(walls)
            print(f"{'alexnet':8} {sweep.grid_size:6d} {f'Dask, {workers} worker(s)':24} "
                  f"{results[('dask', workers)]:16.2f} {sweep.grid_size / results[('dask', workers)]:9.1f}",
                  flush=True)
        print(f"speed-up of 2 Dask workers over 1: {results[('dask', 1)] / results[('dask', 2)]:.2f}x")
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
