"""Weight prefetch across layers on the bundled networks (arch/simba.yaml, batch 1, exact MACs).

Per network, the on-package dataflow with searched mappings, without and with prefetch: latency,
energy per inference, DRAM bytes (the same: prefetch moves nothing more), the weight bytes whose
loads started while the previous layer computed ("prefetched") and those that had to wait for
the previous layer to finish (not enough room in the global buffer), the layers that overlapped
their predecessor, and the CPU seconds of the replay (machine load beside it).

    .venv/bin/python benchmarks/validate_prefetch.py            # print the table
    .venv/bin/python benchmarks/validate_prefetch.py --write    # also into docs/validation.md
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from doc_blocks import replace_block  # noqa: E402
from simulator import api  # noqa: E402

NETWORKS = ("resnet50", "alexnet", "mobilenetv2", "vgg16")


def row(arch, net: str, prefetch: bool) -> tuple[list[str], float]:
    wl = api.load_workload(ROOT / "workloads" / f"{net}.yaml")
    traces = list(api.generate_traces(arch, wl, prefetch=prefetch))
    dram = sum(t.bytes for tr in traces for t in tr.txns if t.op in ("dram_read", "dram_write"))
    early = sum(tr.meta.get("prefetch_bytes", 0) for tr in traces)
    waited = sum(tr.meta.get("prefetch_waiting_bytes", 0) for tr in traces)
    t0 = time.process_time()
    res = api.simulate(arch, traces=traces, workload_name=wl.name)
    cpu = time.process_time() - t0
    overlapped = sum(1 for layer in res.layers if layer.overlap_cycles > 0)
    lat_ms = res.latency_cycles / (arch.clock_ghz * 1e6)
    cells = [net, "on" if prefetch else "off", f"{res.latency_cycles:,}", f"{lat_ms:.3f}",
             f"{res.energy_pj / 1e9:.3f}", f"{dram / 1e6:.2f}", f"{early / 1e6:.2f}", f"{waited / 1e6:.2f}",
             f"{overlapped}/{sum(1 for layer in res.layers if layer.events)}", f"{cpu:.1f}"]
    return cells, res.latency_cycles


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the table into docs/validation.md")
    ap.add_argument("--networks", default=",".join(NETWORKS))
    args = ap.parse_args()
    arch = api.load_arch(ROOT / "arch" / "simba.yaml")
    head = ["network", "prefetch", "latency cycles", "latency ms", "energy mJ", "DRAM MB", "prefetched MB",
            "waited MB", "layers overlapped", "replay CPU s", "speed-up"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for net in args.networks.split(","):
        base = None
        for prefetch in (False, True):
            cells, cycles = row(arch, net, prefetch)
            base = base or cycles
            lines.append("| " + " | ".join(cells + [f"{base / cycles:.3f}"]) + " |")
            print(lines[-1], flush=True)
    load = os.getloadavg()
    lines.append("")
    lines.append(f"Machine load while measuring (1/5/15-minute averages, 2 cores): "
                 f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}.")
    if args.write:
        replace_block(ROOT / "docs" / "validation.md", "prefetch", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
