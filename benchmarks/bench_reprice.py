"""Re-pricing a finished run at many operating points (goal: 1,000 points on ResNet-50 in < 10 s).

Simulates ResNet-50 on arch/simba.yaml once (not timed), writes its run folder, then
times: loading counts.npz, building 1,000 validated operating points (NoP low-order bit
swing x NoC swing x weight- and global-buffer Vdd) and pricing them all.
Run: ``python benchmarks/bench_reprice.py [--points N]``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import api  # noqa: E402
from simulator.report.files import write_run  # noqa: E402

GOAL_S = 10.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1000)
    args = ap.parse_args()
    arch = api.load_arch(ROOT / "arch/simba.yaml")
    t0 = time.perf_counter()
    result = api.simulate(arch, api.load_workload(ROOT / "workloads/resnet50.yaml"),
                          dataflow="dram", mapping="fixed")
    sim_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        write_run(result, tmp, arch=arch)
        grid = np.linspace(0.0, 1.0, args.points)
        t0 = time.perf_counter()
        points = [api.with_operating_point(arch, {
            "package.nop.bit_groups": [{"bits": [0, 3], "swing_v": round(0.3 + 0.5 * x, 4)}, {"bits": [4, 7]}],
            "chiplet.noc.swing_v": round(0.8 - 0.4 * ((7 * x) % 1.0), 4),
            "chiplet.pe.weight_buffer.vdd_v": round(0.5 + 0.3 * ((3 * x) % 1.0), 4),
            "chiplet.global_buffer.vdd_v_per_ds": {"weights": round(0.5 + 0.3 * ((5 * x) % 1.0), 4)},
        }) for x in grid]
        build_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        priced = api.reprice_many(tmp, points)
        price_s = time.perf_counter() - t1
    total = build_s + price_s
    print(f"ResNet-50 on simba: simulated once in {sim_s:.2f} s ({len(result.layers)} layers)")
    print(f"{args.points} operating points: build + validate {build_s:.2f} s, price {price_s:.2f} s, "
          f"total {total:.2f} s ({1e3 * total / args.points:.2f} ms per point)")
    print(f"energy range: {priced.energy_pj.min() / 1e6:.1f} .. {priced.energy_pj.max() / 1e6:.1f} uJ "
          f"(nominal run {result.energy_pj / 1e6:.1f} uJ)")
    ok = total < GOAL_S * args.points / 1000
    print(f"goal (1,000 points < {GOAL_S:.0f} s): {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
