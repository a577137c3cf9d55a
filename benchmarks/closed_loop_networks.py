"""Closed-loop full runs: the transaction-level and the flit-level networks, per layer.

    python benchmarks/closed_loop_networks.py [--arch arch/simba.yaml] \\
        [--workload workloads/resnet50.yaml] [--layers N] [--models "flit;nop=flit;noc=flit"] \
        [--dataflow dram|resident] [--csv out.csv]

Runs the workload with ``--network-model transaction`` and with each of ``--models``
(default: ``flit`` for both networks, then the NoP alone and the NoCs alone flit-level,
which attributes the difference to a network). Prints the CPU time of every run and the
flit-hops it simulated, the per-layer latency of each model and the difference, and per
traffic class (network, data structure, mode) the mean transfer time (issue to delivery)
in each model. Closed loop: a transfer's delivery releases its dependents, so a slower
transfer delays the layer.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import api  # noqa: E402
from simulator.hw.network import parse_network_model  # noqa: E402


def run(arch, wl, models: dict, dataflow: str):
    cls = defaultdict(lambda: [0, 0])  # (net, ds, mode) -> [count, cycles]

    def on_txn(trace, txn, start, finish):
        if txn.op in ("nop", "noc"):
            c = cls[(txn.op, txn.ds, txn.mode)]
            c[0] += 1
            c[1] += finish - start

    t = time.process_time()
    res = api.simulate(arch, wl, network_model=models, on_txn=on_txn, exposure=False, dataflow=dataflow,
                       mapping="fixed", prefetch=False)
    return res, time.process_time() - t, cls


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default=str(ROOT / "arch" / "simba.yaml"))
    p.add_argument("--workload", default=str(ROOT / "workloads" / "resnet50.yaml"))
    p.add_argument("--layers", type=int, default=0, help="only the first N layers (0: all)")
    p.add_argument("--models", default="flit;nop=flit;noc=flit",
                   help="network models to compare with the transaction model, separated by ';'")
    p.add_argument("--dataflow", default="dram", choices=api.DATAFLOWS,
                   help="activations through DRAM (default, the API's) or resident on the package")
    p.add_argument("--csv", help="write the per-layer table here")
    a = p.parse_args()
    arch = api.load_arch(a.arch)
    wl = api.load_workload(a.workload)
    if a.layers:
        wl = replace(wl, layers=wl.layers[: a.layers])
    api.simulate(arch, replace(wl, layers=wl.layers[:1]), network_model=parse_network_model("flit"),
                 exposure=False)  # compile the kernel outside the timings
    base, cpu, base_cls = run(arch, wl, parse_network_model("transaction"), a.dataflow)
    print(f"transaction: {cpu:.1f} s CPU, {sum(la.latency_cycles for la in base.layers)} cycles")
    results = []
    for spec in a.models.split(";"):
        res, cpu, cls = run(arch, wl, parse_network_model(spec), a.dataflow)
        flit_hops = sum(int(bits.sum()) // (arch.package.nop.link_width_bits if net == "nop"
                                            else arch.chiplet.noc.link_width_bits)
                        for la in res.layers for net, bits in la.link_bits.items())
        total = sum(la.latency_cycles for la in res.layers)
        b = sum(la.latency_cycles for la in base.layers)
        print(f"{spec}: {cpu:.1f} s CPU, {flit_hops:.3e} flit-hops, {total} cycles "
              f"({100 * (total - b) / b:+.1f}% vs transaction)")
        results.append((spec, res, cls))
    print("\nper traffic class: transfers, mean cycles transaction -> each model")
    for key in sorted(base_cls):
        n, c = base_cls[key]
        cells = [f"{cls[key][1] / max(1, cls[key][0]):.0f}" for _, _, cls in results]
        print(f"  {'/'.join(key):28s} {n:7d}  {c / n:8.0f} -> " + " | ".join(cells))
    rows = []
    for i, la in enumerate(base.layers):
        row = {"layer": la.name, "transaction_cycles": la.latency_cycles}
        for spec, res, _ in results:
            other = res.layers[i].latency_cycles
            row[f"{spec}_cycles"] = other
            b = la.latency_cycles
            row[f"{spec}_diff_pct"] = round(100 * (other - b) / b, 2) if b else ""
        rows.append(row)
    if a.csv:
        with open(a.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    else:
        for row in rows:
            print(row)


if __name__ == "__main__":
    main()
