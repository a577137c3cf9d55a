"""Which bound limits each layer: ResNet-50 on arch/simba.yaml, on-package dataflow, batch 1.

Lower bounds per layer, in cycles (transaction-level model, exact MACs):

* compute: MACs / (PEs in use x vector MACs x lanes) (the partition's PEs, all busy);
* DRAM: DRAM bytes / (channels x bytes per cycle per channel) (all channels busy);
* NoP, NoC: the busiest link's bits / link width (the layer's links.csv counts);
* global buffer: the busiest chiplet's global-buffer bytes / its bytes per cycle.

The limiting bound is the largest; "sim / bound" is the simulated latency over it (>= 1).

    .venv/bin/python benchmarks/validate_bounds.py [--write]   # --write: into docs/validation.md
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from doc_blocks import replace_block  # noqa: E402
from simulator import api  # noqa: E402


def bounds(arch, layer) -> dict[str, float]:
    pe = arch.chiplet.pe
    used = layer.meta.get("used_pes", arch.total_pes)
    out = {"compute": layer.macs / (used * pe.vector_macs * pe.lanes) if layer.macs else 0.0}
    dram = layer.bytes_moved()["dram_bytes"]
    d = arch.package.dram
    out["DRAM"] = dram / (d.channels * d.channel_bandwidth_bytes_per_cycle)
    nop = layer.link_bits.get("nop")
    out["NoP"] = float(np.max(nop)) / arch.package.nop.link_width_bits if nop is not None and len(nop) else 0.0
    noc = [float(np.max(v)) for k, v in layer.link_bits.items() if k != "nop" and len(v)]
    out["NoC"] = max(noc, default=0.0) / arch.chiplet.noc.link_width_bits
    gb = {}
    for e in layer.energy:
        if e.component_class == "global_buffer" and e.action.endswith("_bit"):
            gb[e.component] = gb.get(e.component, 0.0) + e.count / 8
    out["global buffer"] = max(gb.values(), default=0.0) / arch.chiplet.global_buffer.bytes_per_cycle
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--dataflow", default="resident", choices=("resident", "dram"))
    args = ap.parse_args()
    arch = api.load_arch(ROOT / "arch" / "simba.yaml")
    wl = api.load_workload(ROOT / "workloads" / "resnet50.yaml")
    res = api.simulate(arch, wl, dataflow=args.dataflow, mapping="fixed", prefetch=False)
    head = ["layer", "kind", "latency cycles", "compute", "DRAM", "NoP", "NoC", "global buffer", "limit",
            "sim / bound"]
    rows, limits, ratios = [], Counter(), []
    for layer in res.layers:
        if layer.latency_cycles == 0:
            continue  # a fused add: its work is in the layer before it
        b = bounds(arch, layer)
        limit = max(b, key=b.get)
        ratio = layer.latency_cycles / b[limit]
        limits[limit] += 1
        ratios.append(ratio)
        rows.append([layer.name, layer.kind, str(layer.latency_cycles), *[f"{b[k]:.0f}" for k in head[3:8]],
                     limit, f"{ratio:.2f}"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]
    summary = (f"{len(rows)} layers (fused adds left out): limited by "
               + ", ".join(f"{k} {v}" for k, v in limits.most_common())
               + f"; simulated / bound: median {np.median(ratios):.2f}, max {max(ratios):.2f}.\n")
    print("\n".join(lines))
    print(summary)
    if args.write:
        replace_block(ROOT / "docs" / "validation.md", "bounds-summary", summary)
        replace_block(ROOT / "docs" / "validation.md", "bounds", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
