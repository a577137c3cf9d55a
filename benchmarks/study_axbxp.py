"""Ax-BxP study: system energy and performance of block-wise approximate MACs on simba_axbxp.

    python benchmarks/study_axbxp.py [--out docs/axbxp-study-table.md] [--networks alexnet resnet50]
    python benchmarks/study_axbxp.py --dataflow resident   # the same study on the on-package dataflow
    python benchmarks/study_axbxp.py --dataflow default    # ... with the searched mapping and weight prefetch

For each network (workloads/<name>.yaml) on arch/simba_axbxp.yaml, the exact
plan (BxP: all 16 block products of 2-bit blocks, the default plan) is
compared with Ax-BxP configurations applied to every layer, and with one
configuration whose first and last MAC layers stay exact. Each plan goes
through ``simulator.macs.approxfile.resolve`` as an approximation file would.

Columns (ratios are baseline / configuration, so > 1 means a saving or a speed-up):

* ``L``: block products per multiplication; ``f``: MACs per lane per cycle
  (floor(16 / L)); ``bits a/w``: stored bits per activation / weight;
* ``E ratio``, ``perf ratio``: system energy and latency against the BxP exact mode;
* ``MAC E ratio``: the same for the MAC datapath energy alone;
* ``DRAM ratio``: DRAM bytes read and written, BxP exact / configuration;
* ``E vs fixed``, ``perf vs fixed``: against arch/simba.yaml (fixed-point
  8-bit MACs, no block multipliers);
* ``layer E ratio``: smallest and largest per-layer energy ratio over the
  layers with MACs (conv, fc);
* MAE, MRE, EP, WCE (percent): error metrics of the unsigned 8 x 8-bit
  multiplier of the configuration (``simulator.approx.metrics``); the first
  and last layers of the ``+ exact ends`` row are exact, the metrics are those
  of the other layers' multiplier.

The ``fixed-point 8-bit (simba.yaml)`` row gives the plain fixed-point
package against the BxP exact mode (its ``E ratio`` > 1: the BxP PE in exact
mode spends more than the fixed-point PE).

A second table splits the gain of ``static msb [2,2]`` (4 products, f = 4,
4-bit operands) into its two mechanisms, each applied alone: the MAC
configuration with 8-bit stored operands (``MACs only``: throughput and MAC
energy), and exact MACs with 4-bit stored operands (``storage only``). Its
last column is the range of the latency ratio over depthwise layers.

A third table gives where the energy of the BxP exact run goes (percent of
the total per component class) and its MAC utilization.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import api  # noqa: E402
from simulator.approx import blocked, generators  # noqa: E402
from simulator.approx.metrics import error_metrics  # noqa: E402
from simulator.macs.approxfile import ApproxSpec, resolve  # noqa: E402
from simulator.macs.config import MacConfig  # noqa: E402
from simulator.hw.mac import MacPlan  # noqa: E402
from simulator.macs.timing import block_mac_model, exact_model  # noqa: E402
from simulator.results import RunResult  # noqa: E402

NETWORKS = ("alexnet", "resnet50", "mobilenetv2")


@dataclass(frozen=True)
class Study:
    label: str
    cfg: blocked.BlockConfig
    exact_ends: bool = False


STUDIES = (
    Study("static msb [3,3]", blocked.static_msb(3, 3)),
    Study("static msb [2,2]", blocked.static_msb(2, 2)),
    Study("static top 10", blocked.static_top(10)),
    Study("static top 6", blocked.static_top(6)),
    Study("dynamic keep 3/3", blocked.dynamic(3, 3)),
    Study("dynamic keep 2/2", blocked.dynamic(2, 2)),
    Study("dynamic keep 2/2 + exact ends", blocked.dynamic(2, 2), exact_ends=True),
    Study("mixed: activations dynamic 2, weights msb 3", blocked.mixed(keep_a=2, msb_w=3)),
)


def plan_for(study: Study, arch, workload) -> MacPlan:
    """The MAC plan of ``study``, resolved like an approximation file."""
    key = "cfg"
    layers: tuple[tuple[str, str], ...] = ()
    if study.exact_ends:
        mac_layers = [layer.name for layer in workload.layers if layer.kind in ("conv", "fc")]
        layers = ((mac_layers[0], "exact"), (mac_layers[-1], "exact"))
    spec = ApproxSpec(file="<study>", name=study.label,
                      configs={key: MacConfig(key, "axbxp", block=study.cfg)}, default=key, layers=layers)
    return resolve(spec, arch, [layer.name for layer in workload.layers])


def mac_energy(result: RunResult) -> float:
    return sum(layer.energy_by_class().get("mac", 0.0) for layer in result.layers)


def dram_bytes(result: RunResult) -> float:
    return sum(layer.bytes_moved()["dram_bytes"] for layer in result.layers)


DATAFLOW = "dram"  # --dataflow: the dataflow every run of the study uses


def simulate(*args, **kwargs) -> RunResult:
    if DATAFLOW == "default":  # what `axsim run` does: on-package, searched mapping, weight prefetch
        return api.simulate(*args, dataflow="resident", mapping="search", prefetch=True, **kwargs)
    return api.simulate(*args, dataflow=DATAFLOW, mapping="fixed", prefetch=False, **kwargs)


def layer_energy_ratios(base: RunResult, run: RunResult) -> tuple[float, float]:
    ratios = [b.energy_pj / r.energy_pj for b, r in zip(base.layers, run.layers) if b.kind in ("conv", "fc")]
    return min(ratios), max(ratios)


HEADER = ("network", "configuration", "L", "f", "bits a/w", "energy (uJ)", "latency (ms)", "E ratio",
          "perf ratio", "MAC E ratio", "DRAM ratio", "E vs fixed", "perf vs fixed", "layer E ratio",
          "MAE %", "MRE %", "EP %", "WCE %")


def fmt_row(cells) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def run(networks, decompose: bool = True, verbose: bool = True) -> tuple[list[str], list[str], list[str]]:
    arch = api.load_arch(ROOT / "arch" / "simba_axbxp.yaml")
    fixed_arch = api.load_arch(ROOT / "arch" / "simba.yaml")
    metrics = {s.label: error_metrics(generators.from_block_config(s.cfg)) for s in STUDIES}
    lines = [fmt_row(HEADER), fmt_row(["---"] * len(HEADER))]
    split = [fmt_row(SPLIT_HEADER), fmt_row(["---"] * len(SPLIT_HEADER))] if decompose else []
    shares = [fmt_row(SHARE_HEADER), fmt_row(["---"] * len(SHARE_HEADER))]
    for net in networks:
        workload = api.load_workload(ROOT / "workloads" / f"{net}.yaml")
        started = time.perf_counter()
        exact = simulate(arch, workload)
        results: dict[str, RunResult] = {}
        fixed = simulate(fixed_arch, workload)
        e0, t0, m0, d0 = exact.energy_pj, exact.latency_cycles, mac_energy(exact), dram_bytes(exact)
        ef, tf = fixed.energy_pj, fixed.latency_cycles
        lines.append(fmt_row([net, "fixed-point 8-bit (simba.yaml)", "-", "1", "8/8", f"{ef / 1e6:.1f}",
                              f"{fixed.latency_ms:.3f}", f"{e0 / ef:.3f}", f"{t0 / tf:.3f}",
                              f"{m0 / mac_energy(fixed):.3f}", f"{d0 / dram_bytes(fixed):.3f}", "1.000", "1.000",
                              "-", "0", "0", "0", "0"]))
        lines.append(fmt_row([net, "exact BxP (16 block products)", "16", "1", "8/8", f"{e0 / 1e6:.1f}",
                              f"{exact.latency_ms:.3f}", "1.000", "1.000", "1.000", "1.000", f"{ef / e0:.3f}",
                              f"{tf / t0:.3f}", "-", "0", "0", "0", "0"]))
        for study in STUDIES:
            plan = plan_for(study, arch, workload)
            result = results[study.label] = simulate(arch, workload, plan=plan)
            model = plan.default
            lo, hi = layer_energy_ratios(exact, result)
            m = metrics[study.label]
            lines.append(fmt_row([
                net, study.label, study.cfg.products_per_mac, f"{model.lane_factor:g}",
                f"{model.input_bits:g}/{model.weight_bits:g}", f"{result.energy_pj / 1e6:.1f}",
                f"{result.latency_ms:.3f}", f"{e0 / result.energy_pj:.3f}", f"{t0 / result.latency_cycles:.3f}",
                f"{m0 / mac_energy(result):.3f}", f"{d0 / dram_bytes(result):.3f}", f"{ef / result.energy_pj:.3f}",
                f"{tf / result.latency_cycles:.3f}", f"{lo:.2f}–{hi:.2f}",
                f"{m.mae:.3f}", f"{m.mre:.2f}", f"{m.ep:.2f}", f"{m.wce:.2f}"]))
        if decompose:
            split.extend(decomposition(arch, workload, exact, results["static msb [2,2]"]))
        if verbose:
            print(f"# {net}: {len(workload.layers)} layers, {len(STUDIES) + 2 + 2 * decompose} runs in "
                  f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
        shares.append(share_row(net, exact))
    return lines, split, shares


SHARE_HEADER = ("network (exact BxP)", "DRAM %", "NoP %", "NoC %", "SRAM buffers %", "MAC %", "leakage %",
                "other %", "MAC utilization %")
SHARE_GROUPS = {"DRAM": ("dram",), "NoP": ("nop_link", "nop_router"), "NoC": ("noc_link", "noc_router"),
                "SRAM": ("global_buffer", "weight_buffer", "input_buffer", "accumulation_buffer"),
                "MAC": ("mac",), "leakage": ("leakage",)}


def share_row(net: str, result: RunResult) -> str:
    by_class: dict[str, float] = {}
    for layer in result.layers:
        for key, pj in layer.energy_by_class().items():
            by_class[key] = by_class.get(key, 0.0) + pj
    total = result.energy_pj
    cells = [100 * sum(by_class.get(c, 0.0) for c in classes) / total for classes in SHARE_GROUPS.values()]
    return fmt_row([net, *(f"{c:.1f}" for c in cells), f"{100 - sum(cells):.1f}", f"{100 * result.utilization:.1f}"])


SPLIT_HEADER = ("network", "variant", "f", "bits a/w", "E ratio", "perf ratio", "MAC E ratio", "DRAM ratio",
                "depthwise perf ratio")


def decomposition(arch, workload, exact: RunResult, both: RunResult) -> list[str]:
    """static msb [2,2] split into its MAC configuration and its stored bits, each alone."""
    pe = arch.chiplet.pe
    full = block_mac_model(blocked.static_msb(2, 2), pe, "msb2")
    variants = (("MACs only (8-bit storage)", replace(full, name="msb2_macs", input_bits=8, weight_bits=8)),
                ("storage only (exact MACs)", replace(exact_model(pe), name="msb2_bits", input_bits=4,
                                                      weight_bits=4)),
                ("both = static msb [2,2]", full))
    depthwise = [i for i, layer in enumerate(workload.layers) if layer.kind == "conv" and layer.groups > 1]
    rows = []
    for label, model in variants:
        result = both if model is full else simulate(arch, workload, plan=MacPlan(model, label=model.name))
        dw = [exact.layers[i].latency_cycles / result.layers[i].latency_cycles for i in depthwise]
        rows.append(fmt_row([workload.name, label, f"{model.lane_factor:g}",
                             f"{model.input_bits:g}/{model.weight_bits:g}",
                             f"{exact.energy_pj / result.energy_pj:.3f}",
                             f"{exact.latency_cycles / result.latency_cycles:.3f}",
                             f"{mac_energy(exact) / mac_energy(result):.3f}",
                             f"{dram_bytes(exact) / dram_bytes(result):.3f}",
                             f"{min(dw):.2f}–{max(dw):.2f}" if dw else "-"]))
    return rows


DOC = ROOT / "docs" / "axbxp-study.md"


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def summary_text(lines: list[str]) -> str:
    """The ranges the docs quote, from the results table: energy and performance against fixed point
    and the per-layer energy ratio, over the approximate configurations (not the two baselines)."""
    col = {name: i for i, name in enumerate(HEADER)}
    rows = [_cells(r) for r in lines[2:]]
    rows = [r for r in rows if r[col["configuration"]] not in ("fixed-point 8-bit (simba.yaml)",
                                                               "exact BxP (16 block products)")]
    energy = [float(r[col["E vs fixed"]]) for r in rows]
    perf = [float(r[col["perf vs fixed"]]) for r in rows]
    layer = [float(x) for r in rows for x in r[col["layer E ratio"]].split("–")]
    return (f"Measured here against the fixed-point package (`E vs fixed`, `perf vs fixed`), over the "
            f"{len({r[col['configuration']] for r in rows})} configurations and "
            f"{len({r[col['network']] for r in rows})} networks: {min(energy):.3f}–{max(energy):.3f}× energy and "
            f"{min(perf):.3f}–{max(perf):.3f}× performance; per layer (against the exact BxP run) "
            f"{min(layer):.2f}–{max(layer):.2f}× energy.\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", help="also write the Markdown tables to this file")
    p.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS)
    p.add_argument("--no-split", action="store_true", help="leave out the second table (2 runs per network)")
    p.add_argument("--no-docs", action="store_true",
                   help="do not write the tables into docs/axbxp-study.md (done by default for a full run)")
    p.add_argument("--dataflow", choices=("dram", "resident", "default"), default="dram",
                   help="dram (the study's tables in docs/axbxp-study.md), resident (its '-resident' tables: "
                        "fixed mapping, no prefetch) or default (its '-default' tables: axsim run's defaults, "
                        "on-package dataflow with the searched mapping and weight prefetch)")
    args = p.parse_args()
    global DATAFLOW
    DATAFLOW = args.dataflow
    suffix = "" if DATAFLOW == "dram" else f"-{DATAFLOW}"
    started = time.perf_counter()
    tables = run(args.networks, decompose=not args.no_split)
    text = "\n\n".join("\n".join(t) for t in tables if t) + "\n"
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    if not args.no_docs and not args.no_split and list(args.networks) == list(NETWORKS):
        from doc_blocks import replace_block
        results, split, shares = tables
        for name, lines in (("axbxp-results", results), ("axbxp-split", split), ("axbxp-shares", shares)):
            replace_block(DOC, name + suffix, "\n".join(lines) + "\n")
        replace_block(DOC, "axbxp-summary" + suffix, summary_text(results))
    print(f"# total {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
