"""Transaction-level vs flit-level networks on the transfers of a full run (open loop).

    python benchmarks/compare_network_models.py [--arch arch/simba.yaml] \\
        [--workload workloads/resnet50.yaml] [--layers N] [--csv out.csv] [--multicast replicate|unicast]

Runs the workload once with the transaction-level engine and records every NoP
and NoC transfer with the cycle at which it was issued. Then, per layer and
per network (the NoP and every chiplet NoC), the same transfers are replayed
with the same issue cycles through (a) a fresh transaction-level mesh
(``simulator/hw/mesh.py``: link calendars, multicast trees) and (b) the
flit-level mesh (``simulator/noc``: VC routers, credits, packets of at most 32
flits; multicast replicated in the routers, or with ``--multicast unicast`` as repeated
unicast). Both see only network contention (no
global-buffer ports), so the difference is the network model's.

This is an *open-loop* comparison: issue cycles come from the transaction-level
run, so a slower transfer does not delay the transactions that depend on it.
It shows which traffic the transaction model gets wrong and by how much; it
is not the closed-loop per-layer latency of a flit-level full run.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import api  # noqa: E402
from simulator.hw.mesh import Mesh  # noqa: E402
from simulator.noc.network import TransferBatch, router_for  # noqa: E402
from simulator.stats.counters import Counters  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default=str(ROOT / "arch" / "simba.yaml"))
    p.add_argument("--workload", default=str(ROOT / "workloads" / "resnet50.yaml"))
    p.add_argument("--layers", type=int, default=0, help="only the first N layers (0: all)")
    p.add_argument("--csv", help="write the per-layer table here")
    p.add_argument("--multicast", choices=("replicate", "unicast"), default="replicate",
                   help="flit-level multicast: replicated in the routers (default) or repeated unicast")
    a = p.parse_args()
    arch = api.load_arch(a.arch)
    wl = api.load_workload(a.workload)
    if a.layers:
        from dataclasses import replace
        wl = replace(wl, layers=wl.layers[: a.layers])
    transfers: dict[str, list] = defaultdict(list)  # layer -> [(net, ready, txn)]
    order: list[str] = []

    def on_txn(trace, txn, ready, finish):
        if txn.op in ("nop", "noc"):
            if trace.layer not in transfers:
                order.append(trace.layer)
            net = "nop" if txn.op == "nop" else f"chiplet[{txn.chiplet[0]},{txn.chiplet[1]}].noc"
            transfers[trace.layer].append((net, ready, txn))

    t0 = time.process_time()
    result = api.simulate(arch, wl, on_txn=on_txn, dataflow="dram", mapping="fixed")
    t_txn = time.process_time() - t0
    nop_link, noc_link = arch.package.nop, arch.chiplet.noc
    shapes = {"nop": (arch.package.mesh.rows, arch.package.mesh.cols, nop_link),
              "noc": (noc_link.mesh.rows, noc_link.mesh.cols, noc_link)}
    cfgs = {k: router_for(v[2], multicast=a.multicast) for k, v in shapes.items()}
    rows_out = []
    by_class: dict[str, list] = defaultdict(lambda: [0, 0.0, 0.0])  # n, sum txn lat, sum flit lat
    hops_total, t_flit = 0, 0.0
    layer_lat = {lr.name: lr.latency_cycles for lr in result.layers}
    for layer in order:
        per_net: dict[str, list] = defaultdict(list)
        for net, ready, txn in transfers[layer]:
            per_net[net].append((ready, txn))
        lay = {"layer": layer, "engine_latency_cycles": layer_lat.get(layer, 0), "transfers": 0,
               "txn_mean": 0.0, "flit_mean": 0.0, "txn_span": 0, "flit_span": 0}
        sums = [0.0, 0.0]
        for net, items in per_net.items():
            kind = "nop" if net == "nop" else "noc"
            rows_, cols_, link = shapes[kind]
            mesh = Mesh(net, rows_, cols_, link, "l", "r", Counters())
            batch = TransferBatch(rows_, cols_, link.link_width_bits, multicast=a.multicast,
                                  buffer_flits=cfgs[kind].vc_buf_size)
            items.sort(key=lambda x: x[0])
            fin_t = []
            for ready, txn in items:
                fin_t.append(mesh.transfer(ready, txn.src, txn.dsts, txn.bytes, txn.mode, net, now=ready))
                batch.add(ready, txn.src, txn.dsts, txn.bytes, txn.mode)
            s = time.process_time()
            fin_f, run = batch.run(cfgs[kind], name=f"{layer}: {net}")
            t_flit += time.process_time() - s
            hops_total += int(run.link_flits.sum())
            for (ready, txn), ft, ff in zip(items, fin_t, fin_f.tolist()):
                cls = f"{kind} {txn.mode} {txn.ds}"
                c = by_class[cls]
                c[0] += 1
                c[1] += ft - ready
                c[2] += ff - ready
                sums[0] += ft - ready
                sums[1] += ff - ready
                lay["transfers"] += 1
            start = min(r for r, _ in items)
            lay["txn_span"] = max(lay["txn_span"], max(fin_t) - start)
            lay["flit_span"] = max(lay["flit_span"], int(fin_f.max()) - start)
        n = max(lay["transfers"], 1)
        lay["txn_mean"], lay["flit_mean"] = sums[0] / n, sums[1] / n
        rows_out.append(lay)
    print(f"transaction-level run: {t_txn:.1f} s CPU; flit-level replays: {t_flit:.1f} s CPU for "
          f"{hops_total:,} flit-hops ({hops_total / max(t_flit, 1e-9) / 1e6:.2f} M/s)")
    print("\n| traffic (network, mode, data) | transfers | transaction mean latency | flit mean latency | "
          "flit / transaction |\n|---|---|---|---|---|")
    for cls, (n, st, sf) in sorted(by_class.items()):
        print(f"| {cls} | {n} | {st / n:.1f} | {sf / n:.1f} | {sf / max(st, 1e-9):.2f} |")
    print("\n| layer | engine latency | transfers | mean latency txn / flit | network span txn / flit |"
          "\n|---|---|---|---|---|")
    for r in rows_out:
        print(f"| {r['layer']} | {r['engine_latency_cycles']} | {r['transfers']} | "
              f"{r['txn_mean']:.0f} / {r['flit_mean']:.0f} | {r['txn_span']} / {r['flit_span']} "
              f"({r['flit_span'] / max(r['txn_span'], 1):.2f}x) |")
    if a.csv:
        with open(a.csv, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows_out[0]))
            w.writeheader()
            w.writerows(rows_out)


if __name__ == "__main__":
    main()
