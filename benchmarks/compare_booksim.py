"""Side-by-side table of ``axsim noc`` results and the BookSim2 reference curves.

    axsim noc --booksim ../shared/reference/booksim/meshcfg_p1_r0.05.cfg \\
        --rates 0.05,0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.45 --packet-sizes 1,4 --out noc_latency
    axsim noc --booksim ../shared/reference/booksim/meshcfg_p1_throughput_r0.60.cfg \\
        --packet-sizes 1,4 --out noc_saturation
    python benchmarks/compare_booksim.py noc_latency noc_saturation

Prints a markdown table: latency (axsim, BookSim2, difference) per packet size and load,
whether the load is below 80% of BookSim2's saturation throughput (where the 10% bound
applies), and the saturation throughputs.
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("latency_dir")
    p.add_argument("saturation_dir", nargs="?")
    p.add_argument("--reference", default=str(ROOT.parent / "shared" / "reference" / "booksim"))
    a = p.parse_args()
    ref = Path(a.reference)
    if not ref.is_dir():
        raise SystemExit(f"reference folder {ref} not found")
    bs = {(int(r["packet_size"]), round(float(r["offered_flits_per_node_cycle"]), 4)): r
          for r in _rows(ref / "latency_vs_load_meshcfg.csv")}
    sat = {int(r["packet_size"]): float(r["accepted_flits_per_node_cycle"])
           for r in _rows(ref / "saturation_meshcfg.csv") if r["sim_type"] == "throughput"}
    print("| flits | offered | axsim latency | BookSim2 latency | difference | < 80% of saturation | "
          "axsim accepted | BookSim2 accepted |")
    print("|---|---|---|---|---|---|---|---|")
    worst = {}
    for r in _rows(Path(a.latency_dir) / "noc.csv"):
        size, rate = int(r["packet_flits"]), round(float(r["offered_flits_per_node_cycle"]), 4)
        b = bs.get((size, rate))
        if b is None:
            continue
        ours = r["packet_latency_cycles"]
        theirs = b["packet_latency_avg"]
        below = rate < 0.8 * sat.get(size, 0)
        diff = ""
        if ours and theirs:
            d = float(ours) / float(theirs) - 1
            diff = f"{100 * d:+.1f}%"
            if below:
                worst[size] = max(worst.get(size, 0), abs(d))
        print(f"| {size} | {rate:.2f} | {ours or r['status']} | {theirs or b['status']} | {diff} | "
              f"{'yes' if below else 'no'} | {r['accepted_flits_per_node_cycle']} | "
              f"{b['accepted_flits_per_node_cycle'] or '-'} |")
    for size, w in sorted(worst.items()):
        print(f"\nlargest latency difference below 80% of saturation, {size}-flit packets: {100 * w:.1f}%")
    if a.saturation_dir:
        print("\n| flits | axsim saturation throughput | BookSim2 | difference |\n|---|---|---|---|")
        for r in _rows(Path(a.saturation_dir) / "noc.csv"):
            size = int(r["packet_flits"])
            ours = float(r["accepted_flits_per_node_cycle"])
            print(f"| {size} | {ours:.4f} | {sat[size]:.4f} | {100 * (ours / sat[size] - 1):+.1f}% |")


if __name__ == "__main__":
    main()
