"""Single layers on simba: latency against compute and DRAM lower bounds.

    python benchmarks/validate_layers.py [--reference ../shared/reference/scalesim]

Prints a Markdown table: per layer, simulated latency, the compute bound
ceil(MACs / peak MACs per cycle), the DRAM bound (weights + inputs + outputs
bytes / total DRAM bandwidth), the DRAM bytes actually moved, and the ratio of
latency to the larger bound.
"""
from __future__ import annotations

import argparse
import sys
from math import ceil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import api  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reference", default=str(ROOT.parent / "shared" / "reference" / "scalesim"))
    p.add_argument("--arch", default=str(ROOT / "arch/simba.yaml"))
    args = p.parse_args()
    ref = Path(args.reference)
    if not ref.is_dir():
        sys.exit(f"{ref}: reference folder not found")
    arch = api.load_arch(args.arch)
    dram_bw = arch.package.dram.channels * arch.package.dram.channel_bandwidth_bytes_per_cycle
    print("| layer | MACs | latency (cycles) | compute bound | DRAM bound | DRAM bytes moved / minimum | latency / max bound |")
    print("|---|---|---|---|---|---|---|")
    for name in ("single_conv3x3", "single_conv1x1", "single_fc"):
        workload = api.load_workload(ref / f"{name}.csv")
        layer = workload.layers[0]
        result = api.simulate(arch, workload)
        lat = result.layers[0].latency_cycles
        compute = ceil(layer.macs / arch.peak_macs_per_cycle)
        minimum = layer.weight_count + layer.input_count + layer.output_count
        dram = ceil(minimum / dram_bw)
        moved = result.layers[0].bytes_moved()["dram_bytes"]
        print(f"| {name} | {layer.macs:,} | {lat:,} | {compute:,} | {dram:,} | {moved / minimum:.2f} | "
              f"{lat / max(compute, dram):.2f} |")


if __name__ == "__main__":
    main()
