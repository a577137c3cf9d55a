"""The DRAM and on-package dataflows side by side on the bundled networks (arch/simba.yaml, batch 1).

Per network and dataflow: latency, images/s, energy per inference, pJ per MAC, MAC utilization,
DRAM bytes per inference against the minimum (every weight once, the input image once, the
network output once, 8-bit values), bytes kept on the package, bytes spilled, CPU seconds.

    .venv/bin/python benchmarks/validate_dataflow.py            # print the table
    .venv/bin/python benchmarks/validate_dataflow.py --write    # also into docs/validation.md
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from doc_blocks import replace_block  # noqa: E402
from simulator import api  # noqa: E402

NETWORKS = ("resnet50", "alexnet", "mobilenetv2", "vgg16")


def minimum_dram_bytes(wl) -> int:
    first, last = wl.layers[0], wl.layers[-1]
    return (sum(layer.weight_count for layer in wl.layers) + first.in_channels * first.in_h * first.in_w
            + last.out_channels * last.out_h * last.out_w) * wl.batch


def row(arch, net: str, dataflow: str) -> list[str]:
    wl = api.load_workload(ROOT / "workloads" / f"{net}.yaml")
    moved = {"dram": 0, "kept": 0, "spill": 0}
    traces = []
    # the fixed mapping, layers one after another (docs/validation.md "Weight prefetch" adds both)
    for tr in api.generate_traces(arch, wl, dataflow=dataflow, mapping="fixed", prefetch=False):
        moved["dram"] += sum(t.bytes for t in tr.txns if t.op in ("dram_read", "dram_write"))
        moved["spill"] += tr.meta.get("spill_bytes", 0)
        traces.append(tr)
    t0 = time.process_time()
    res = api.simulate(arch, traces=traces, workload_name=wl.name)
    cpu = time.process_time() - t0
    macs = wl.total_macs()
    lat_s = res.latency_cycles / (arch.clock_ghz * 1e9)
    util = macs / (res.latency_cycles * arch.peak_macs_per_cycle)
    mn = minimum_dram_bytes(wl)
    return [net, dataflow, f"{lat_s * 1e3:.3f}", f"{1 / lat_s:,.0f}", f"{res.energy_pj / 1e9:.2f}",
            f"{res.energy_pj / macs:.2f}", f"{util:.3f}", f"{moved['dram'] / 1e6:.2f}", f"{mn / 1e6:.2f}",
            f"{moved['dram'] / mn:.2f}", f"{moved['spill'] / 1e6:.2f}", f"{cpu:.1f}"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the table into docs/validation.md")
    ap.add_argument("--networks", default=",".join(NETWORKS))
    args = ap.parse_args()
    arch = api.load_arch(ROOT / "arch" / "simba.yaml")
    head = ["network", "dataflow", "latency ms", "images/s", "energy mJ", "pJ/MAC", "MAC util.",
            "DRAM MB", "min. DRAM MB", "DRAM / min.", "spilled MB", "replay CPU s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for net in args.networks.split(","):
        for dataflow in ("dram", "resident"):
            lines.append("| " + " | ".join(row(arch, net, dataflow)) + " |")
            print(lines[-1], flush=True)
    if args.write:
        replace_block(ROOT / "docs" / "validation.md", "dataflow", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
