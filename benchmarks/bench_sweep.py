"""Sweep throughput: points/s of a small sweep (in-process, 2 local processes) and the speed-up of
2 Dask workers over 1 on the same sweep.

    python benchmarks/bench_sweep.py [--repeat 3]

Sweeps (written to a temporary folder, removed afterwards):

* ``tiny``: examples/sweeps/tiny.yaml (arch/tiny.yaml, three layers, 36 grid points of about
  30 ms each: per-point overheads dominate);
* ``alexnet``: Ax-BxP configuration x NoP link width x PE weight-buffer size on AlexNet on
  arch/simba_axbxp.yaml (12 grid points of about 0.4 s each).

* ``energy-only``: ResNet-50 on arch/simba.yaml with one knob, the technology table (copies of
  arch/tech/simba_16nm.yaml with every figure scaled by 1, 0.9, 0.8, 0.7: stand-ins for
  operating points, for timing only): 4 points of one structural configuration; the first maps
  and simulates, the others replay its cached traces (``reused: trace``). Until re-pricing
  exists this is what an energy-only point costs.

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


def energy_only(tmp: Path) -> None:
    import json

    from simulator.dse.evaluate import GroupContext, Point, evaluate
    tech = yaml.safe_load((ROOT / "arch" / "tech" / "simba_16nm.yaml").read_text())
    tables = []
    for factor in (1.0, 0.9, 0.8, 0.7):
        data = json.loads(json.dumps(tech))
        for entry in data["energy"].values():
            entry["pj"] *= factor
        for entry in data["leakage"].values():
            entry["mw"] *= factor
        path = tmp / f"tech_{factor}.yaml"
        path.write_text(yaml.safe_dump(data))
        tables.append(str(path))
    spec = tmp / "energy_only.yaml"
    spec.write_text(yaml.safe_dump({
        "version": 1, "name": "bench-energy-only", "arch": str(ROOT / "arch" / "simba.yaml"),
        "workload": str(ROOT / "workloads" / "resnet50.yaml"),
        "knobs": [{"name": "tech_table", "path": "tech", "values": tables}],
        "objectives": [{"name": "energy_pj"}]}))
    sweep = load_sweep(spec)
    ctx = GroupContext()
    for i, table in enumerate(tables):
        cpu = time.process_time()
        row = evaluate(sweep, Point(i, {"tech_table": table}), ctx)
        print(f"energy-only ResNet-50 point {i}: reused {row['reused']:5}  "
              f"{time.process_time() - cpu:.2f} s of CPU", flush=True)


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
        energy_only(tmp)
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
