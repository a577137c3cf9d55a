"""Mapping search against the fixed partition on the bundled networks (arch/simba.yaml, resident dataflow).

For each network: total simulated latency with ``mapping=fixed`` and ``mapping=search``, the layers
the search changed (partition, placement or loop order), the worst changed layer and the worst
unchanged layer (simulated latency under search / under fixed), the per-layer error of the cost
model's prediction (simulated / predicted), the NoP byte-hops of both runs, and the layers whose
search latency exceeds the fixed one's by more than 5 %, with whether a producer of theirs changed.

    .venv/bin/python benchmarks/mapping_search.py [--write] [network ...]   # --write: into docs/validation.md
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


def run(net: str, mapping: str):
    arch = api.load_arch(str(ROOT / "arch/simba.yaml"))
    wl = api.load_workload(str(ROOT / f"workloads/{net}.yaml"))
    t0 = time.process_time()
    res = api.simulate(arch, wl, dataflow="resident", mapping=mapping, prefetch=False)
    return wl, res, time.process_time() - t0


def ratios(res) -> list[float]:
    return [layer.latency_cycles / layer.meta["predicted_cycles"] for layer in res.layers
            if layer.latency_cycles and layer.meta.get("predicted_cycles")]


def byte_hops_mb(res) -> float:
    return sum(layer.bytes_moved()["nop_byte_hops"] for layer in res.layers) / 1e6


def upstream_changed(wl, res) -> dict[str, bool]:
    """Per layer: whether the search changed the mapping of a producer of its inputs (looking through
    fused residual adds, which have no mapping of their own)."""
    meta = {layer.name: layer.meta for layer in res.layers}
    prods = wl.producers()

    def changed(name: str) -> bool:
        m = meta.get(name, {})
        if m.get("mapping_is_fixed") is False:
            return True
        return "fused_into" in m and any(changed(p) for p in prods[name])
    return {layer.name: any(changed(p) for p in prods[layer.name]) for layer in wl.layers}


def describe(layer) -> str:
    m = layer.meta
    return f"{m.get('mapping')} {m.get('placement', 'id')} {m.get('loop_order', '')}".strip()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the table into docs/validation.md")
    ap.add_argument("networks", nargs="*", default=list(NETWORKS))
    args = ap.parse_args()
    load = os.getloadavg()
    head = ("| network | fixed cycles | search cycles | search/fixed | layers changed | worst changed layer "
            "(search/fixed) | worst unchanged layer (search/fixed) | sim/pred fixed (min-max) | "
            "sim/pred search (min-max) | NoP byte-hops MB fixed / search | CPU s fixed / search |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    notes = []
    for net in args.networks:
        wl, fixed, cf = run(net, "fixed")
        _, search, cs = run(net, "search")
        pairs = list(zip(fixed.layers, search.layers))
        changed = [(a, b) for a, b in pairs if b.meta.get("mapping_is_fixed") is False]
        same = [(a, b) for a, b in pairs if b.meta.get("mapping_is_fixed") is not False and a.latency_cycles]
        rf, rs = ratios(fixed), ratios(search)
        tf, ts = fixed.latency_cycles, search.latency_cycles

        def worst(group):
            if not group:
                return "-"
            a, b = max(group, key=lambda ab: ab[1].latency_cycles / ab[0].latency_cycles)
            return f"{b.latency_cycles / a.latency_cycles:.3f} ({b.name})"
        lines.append(f"| {net} | {tf:,} | {ts:,} | {ts / tf:.3f} | {len(changed)}/{len(search.layers)} | "
                     f"{worst(changed)} | {worst(same)} | {min(rf):.2f}-{max(rf):.2f} | {min(rs):.2f}-{max(rs):.2f} | "
                     f"{byte_hops_mb(fixed):.1f} / {byte_hops_mb(search):.1f} | {cf:.1f} / {cs:.1f} |")
        up = upstream_changed(wl, search)
        for a, b in pairs:
            if b.latency_cycles > a.latency_cycles * 1.05:
                notes.append(f"- {net} `{b.name}`: {b.latency_cycles:,} vs {a.latency_cycles:,} cycles "
                             f"({b.latency_cycles / a.latency_cycles:.2f}x; search {describe(b)}, fixed {describe(a)}; "
                             f"{'producer changed' if up[b.name] else 'producers unchanged'})")
    lines.append("")
    lines.append(f"Layers slower under search than under fixed by more than 5 % (machine load "
                 f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} when measured; cycles are deterministic, "
                 "CPU seconds are not):")
    lines.append("")
    lines += notes or ["- none"]
    body = "\n".join(lines) + "\n"
    print(body, end="")
    if args.write:
        replace_block(ROOT / "docs" / "validation.md", "mapping_search", body)


if __name__ == "__main__":
    main()
