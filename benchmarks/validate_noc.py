"""NoC model against BookSim2: 8x8 mesh, XY routing, uniform random traffic.

    python benchmarks/validate_noc.py [--reference ../shared/reference/booksim] [--cycles 20000]

Drives :class:`simulator.hw.mesh.Mesh` with Bernoulli packet injection (each
node creates a packet of ``size`` flits with probability rate/size per cycle,
to a uniformly random destination, itself included as in BookSim), issues the
transfers in creation order (first come, first served) and reports average
packet latency (creation to last flit delivered, source queueing included)
and accepted throughput, beside the BookSim2 figures when the reference
folder is present. One flit = one link width. With the default options the
table is also written into docs/validation.md (block ``noc-booksim``).
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.config.arch import Link  # noqa: E402
from simulator.hw.mesh import Mesh  # noqa: E402
from simulator.stats.counters import Counters  # noqa: E402

K = 8


def run(rate: float, size: int, cycles: int, seed: int, router: int, link: int, overhead: int):
    rng = np.random.default_rng([seed, size, int(rate * 1e4)])
    mesh = Mesh("noc", K, K, Link(link_width_bits=64, router_latency_cycles=router, link_latency_cycles=link),
                "noc_link.bit", "noc_router.bit", Counters())
    nodes = K * K
    created = rng.random((cycles, nodes)) < rate / size
    t_idx, n_idx = np.nonzero(created)
    dst = rng.integers(0, nodes, size=len(t_idx))
    inject_free = [0] * nodes  # a source injects one flit per cycle
    warm = cycles // 5
    lat, delivered = [], 0
    for t, s, d in zip(t_idx.tolist(), n_idx.tolist(), dst.tolist()):
        ready = max(t, inject_free[s])
        inject_free[s] = ready + size
        finish = mesh.transfer(ready, divmod(s, K), (divmod(d, K),), size * 8, "multicast", "noc",
                               now=t) + overhead
        if t >= warm:
            lat.append(finish - t)
            if finish < cycles:
                delivered += size
    accepted = delivered / ((cycles - warm) * nodes)
    return float(np.mean(lat)), accepted


DOC = ROOT / "docs" / "validation.md"
BLOCK = "noc-booksim"
RATES = (0.05, 0.10, 0.20, 0.30, 0.35, 0.40, 0.45, 0.60)


def _ref_cells(row: dict) -> tuple[str, str]:
    """BookSim2 latency and accepted throughput; '-' where its run did not converge."""
    if not row or row.get("status") != "ok" or not row.get("packet_latency_avg"):
        return "unstable", row.get("accepted_flits_per_node_cycle") and \
            f"{float(row['accepted_flits_per_node_cycle']):.3f}" or "–"
    return f"{float(row['packet_latency_avg']):.1f}", f"{float(row['accepted_flits_per_node_cycle']):.3f}"


def table(args) -> str:
    ref = {}
    ref_file = Path(args.reference) / "latency_vs_load_meshcfg.csv"
    if ref_file.is_file():
        for row in csv.DictReader(ref_file.open()):
            ref[(int(row["packet_size"]), round(float(row["offered_flits_per_node_cycle"]), 3))] = row
    sat_file = Path(args.reference) / "saturation_meshcfg.csv"
    if sat_file.is_file():  # saturation throughput runs (offered load above capacity): accepted only
        for row in csv.reader(sat_file.open()):
            if len(row) >= 5 and row[3] == "throughput":
                ref[(int(row[1]), round(float(row[2]), 3))] = {"accepted_flits_per_node_cycle": row[4]}
    lines = ["| flits/packet | offered (flits/node/cycle) | axsim latency | BookSim2 latency | axsim accepted | "
             "BookSim2 accepted |", "|---|---|---|---|---|---|"]
    for size in (1, 4):
        for rate in RATES:
            cycles = args.cycles if rate < 0.5 else args.cycles // 4
            latency, accepted = run(rate, size, cycles, args.seed, args.router, args.link, args.overhead)
            bl, ba = _ref_cells(ref.get((size, rate), {}))
            shown = f"{latency:.0f} (saturated)" if accepted < 0.9 * rate else f"{latency:.1f}"
            lines.append(f"| {size} | {rate:.2f} | {shown} | {bl} | {accepted:.3f} | {ba} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reference", default=str(ROOT.parent / "shared" / "reference" / "booksim"))
    p.add_argument("--cycles", type=int, default=10000,
                   help="simulated cycles per point (a quarter of it beyond saturation, where queues grow)")
    p.add_argument("--router", type=int, default=3, help="router latency per hop (cycles)")
    p.add_argument("--link", type=int, default=1, help="link latency per hop (cycles)")
    p.add_argument("--overhead", type=int, default=5,
                   help="fixed injection + ejection cycles added to every packet")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-docs", action="store_true",
                   help="do not write the table into docs/validation.md (done by default with the default options)")
    args = p.parse_args()
    print(f"8x8 mesh, router {args.router} + link {args.link} cycles per hop, +{args.overhead} cycles per packet")
    text = table(args)
    print(text, end="")
    defaults = p.parse_args([])
    same = all(getattr(args, k) == getattr(defaults, k) for k in ("cycles", "router", "link", "overhead", "seed"))
    if not args.no_docs and same and (Path(args.reference) / "latency_vs_load_meshcfg.csv").is_file():
        from doc_blocks import replace_block
        replace_block(DOC, BLOCK, text)


if __name__ == "__main__":
    main()
