"""Single layers on simba: latency against compute and DRAM lower bounds.

    python benchmarks/validate_layers.py [--reference ../shared/reference/scalesim]

Prints a Markdown table and writes it into docs/validation.md (block
``single-layers``; ``--no-docs`` to skip): per layer, simulated latency, the compute bound
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


def table(arch_path: str | Path, ref: Path) -> str:
    """The Markdown table of the three single layers."""
    arch = api.load_arch(arch_path)
    dram_bw = arch.package.dram.channels * arch.package.dram.channel_bandwidth_bytes_per_cycle
    lines = ["| layer | MACs | latency (cycles) | compute bound | DRAM bound | DRAM bytes moved / minimum | "
             "latency / max bound |", "|---|---|---|---|---|---|---|"]
    for name in ("single_conv3x3", "single_conv1x1", "single_fc"):
        workload = api.load_workload(ref / f"{name}.csv")
        layer = workload.layers[0]
        result = api.simulate(arch, workload, dataflow="dram", mapping="fixed")
        lat = result.layers[0].latency_cycles
        compute = ceil(layer.macs / arch.peak_macs_per_cycle)
        minimum = layer.weight_count + layer.input_count + layer.output_count
        dram = ceil(minimum / dram_bw)
        moved = result.layers[0].bytes_moved()["dram_bytes"]
        lines.append(f"| {name} | {layer.macs:,} | {lat:,} | {compute:,} | {dram:,} | {moved / minimum:.2f} | "
                     f"{lat / max(compute, dram):.2f} |")
    return "\n".join(lines) + "\n"


DOC = ROOT / "docs" / "validation.md"
BLOCK = "single-layers"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reference", default=str(ROOT.parent / "shared" / "reference" / "scalesim"))
    p.add_argument("--arch", default=str(ROOT / "arch/simba.yaml"))
    p.add_argument("--no-docs", action="store_true",
                   help=f"do not write the table into {DOC.relative_to(ROOT)} (done by default for arch/simba.yaml)")
    args = p.parse_args()
    ref = Path(args.reference)
    if not ref.is_dir():
        sys.exit(f"{ref}: reference folder not found")
    text = table(args.arch, ref)
    print(text, end="")
    if not args.no_docs and Path(args.arch).resolve() == (ROOT / "arch/simba.yaml").resolve():
        from doc_blocks import replace_block
        replace_block(DOC, BLOCK, text)


if __name__ == "__main__":
    main()
