"""Mapping search against the fixed partition on the bundled networks (arch/simba.yaml, resident dataflow).

For each network: total simulated latency with ``mapping=fixed`` and ``mapping=search``, the
per-layer error of the cost model's prediction (simulated / predicted), and the layers where
the search's simulated latency exceeds the fixed one's.

    .venv/bin/python benchmarks/mapping_search.py [network ...]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import api  # noqa: E402

NETWORKS = ("resnet50", "alexnet", "mobilenetv2", "vgg16")


def run(net: str, mapping: str):
    arch = api.load_arch(str(ROOT / "arch/simba.yaml"))
    wl = api.load_workload(str(ROOT / f"workloads/{net}.yaml"))
    t0 = time.process_time()
    res = api.simulate(arch, wl, dataflow="resident", mapping=mapping, prefetch=False)
    return res, time.process_time() - t0


def ratios(res) -> list[float]:
    return [layer.latency_cycles / layer.meta["predicted_cycles"] for layer in res.layers
            if layer.latency_cycles and layer.meta.get("predicted_cycles")]


def main(nets) -> None:
    print("| network | fixed cycles | search cycles | search/fixed | layers changed | "
          "worst changed layer (search/fixed) | sim/pred fixed (min-max) | sim/pred search (min-max) | "
          "CPU s fixed / search |")
    print("|---|---|---|---|---|---|---|---|---|")
    for net in nets:
        fixed, cf = run(net, "fixed")
        search, cs = run(net, "search")
        changed = sum(1 for layer in search.layers if layer.meta.get("mapping_is_fixed") is False)
        rf, rs = ratios(fixed), ratios(search)
        tf, ts = fixed.latency_cycles, search.latency_cycles
        worst = max((b.latency_cycles / a.latency_cycles for a, b in zip(fixed.layers, search.layers)
                     if b.meta.get("mapping_is_fixed") is False), default=float("nan"))
        print(f"| {net} | {tf} | {ts} | {ts / tf:.3f} | {changed}/{len(search.layers)} | {worst:.3f} | "
              f"{min(rf):.2f}-{max(rf):.2f} | {min(rs):.2f}-{max(rs):.2f} | {cf:.1f} / {cs:.1f} |")
        for a, b in zip(fixed.layers, search.layers):
            if b.latency_cycles > a.latency_cycles * 1.05:
                print(f"    worse: {b.name} {b.meta.get('mapping')} {b.latency_cycles} vs fixed "
                      f"{a.meta.get('mapping')} {a.latency_cycles} (pred {b.meta.get('predicted_cycles')} vs "
                      f"{b.meta.get('predicted_fixed_cycles')})")


if __name__ == "__main__":
    main(sys.argv[1:] or NETWORKS)
