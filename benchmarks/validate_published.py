"""The bundled networks on arch/simba.yaml beside published accelerator figures (docs/validation.md §17).

Runs ResNet-50, AlexNet, MobileNetV2 and VGG-16 at batch 1 with the defaults of ``axsim run``
(dataflow and mapping read from the CLI's own parser) and writes, between markers in
docs/validation.md:

* ``published-networks``: per network latency, images/s, energy per inference, pJ per MAC, MAC
  utilization, the shares of leakage and DRAM in the energy, DRAM bytes per inference against the
  minimum (every weight once, the input image once, the network output once; 8-bit values);
* ``published-compare``: published figures (cited in :data:`PUBLISHED`) beside the simulated ones,
  with the ratio simulated / published;
* ``published-bounds``: per network, which bound limits its layers (compute, DRAM, NoP, NoC,
  global buffer, PE buffer; :func:`layer_bounds`) and how far the simulated latency is above it;
  the per-layer rows go to a CSV (``--csv``);
* ``published-sensitivity``: ResNet-50 re-run or re-priced with one assumption changed at a time
  (operating point, leakage curve, NoP hop latency, batch);
* ``published-conditions``: the commit and the conditions the tables came from.

    .venv/bin/python benchmarks/validate_published.py            # print the tables
    .venv/bin/python benchmarks/validate_published.py --write    # also into docs/validation.md
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from doc_blocks import replace_block  # noqa: E402
from validate_bounds import bounds  # noqa: E402
from simulator import api  # noqa: E402
from simulator.report.files import summary_dict  # noqa: E402

PAGE = ROOT / "docs" / "validation.md"
NETWORKS = ("resnet50", "alexnet", "mobilenetv2", "vgg16")
PE_BUFFERS = ("weight_buffer", "input_buffer", "accumulation_buffer")

#: Published figures. ``metric`` -> value; ``scope`` "network" (the whole network) or "conv" (its
#: convolutional layers only, as the source measured); ``macs_per_op`` 0.5: the source counts a MAC
#: as two operations. Conditions are those the source states; "not stated" where it does not.
PUBLISHED = [
    {"system": "Simba, 36 chiplets", "network": "resnet50", "scope": "network",
     "metrics": {"latency ms": 0.50, "images/s": 1988, "MAC util.": 1988 * 4.09e9 / 63.9e12},
     "peak_tmacs": 63.9,
     "conditions": "16 nm, batch 1, 8-bit; clock and supply of this run not stated in the abstract; peak "
                   "127.8 TOPS = 63.9 TMAC/s (VLSI 2019), utilization derived assuming the run at that peak "
                   "clock (about 1.73 GHz)",
     "source": "Shao et al., MICRO 2019, abstract"},
    {"system": "Simba, 36 chiplets", "network": "resnet50", "scope": "network",
     "metrics": {"images/s": 2615}, "peak_tmacs": 63.9,
     "conditions": "16 nm, 8-bit; batch and operating point not stated in the abstract",
     "source": "Zimmer et al., VLSI 2019 / JSSC 2020, abstract"},
    {"system": "Simba, one chiplet (peak efficiency)", "network": "resnet50", "scope": "network",
     "metrics": {"pJ/MAC": 0.22},
     "conditions": "16 nm, 0.11 pJ/op = 0.22 pJ/MAC at the chiplet's most efficient operating point (the low "
                   "end of its 0.42-1.2 V range; the abstract gives no voltage); chiplet only, no DRAM or NoP",
     "source": "Zimmer et al., VLSI 2019 / JSSC 2020, abstract and title"},
    {"system": "Simba, 36-chiplet package (best efficiency)", "network": "resnet50", "scope": "network",
     "metrics": {"pJ/MAC": 2 / 6.1},
     "conditions": "16 nm, up to 6.1 TOPS/W = 0.33 pJ/MAC; workload and supply not stated in the abstract",
     "source": "Shao et al., MICRO 2019, abstract"},
    {"system": "NVDLA nv_full (2048 MACs, 512 KB conv. buffer)", "network": "resnet50", "scope": "network",
     "metrics": {"images/s": 269, "latency ms": 1e3 / 269, "energy mJ": 291 / 269,
                 "MAC util.": 269 * 4.09e9 / (2048 * 1e9)}, "peak_tmacs": 2.048,
     "conditions": "estimate, 16 nm, 1 GHz, int8, 20 GB/s DRAM, 291 mW average (chip only); "
                   "utilization from the workload's 4.09 GMAC",
     "source": "nvdla.org Primer, table 'Example Area and Performance with NVDLA'"},
    {"system": "Eyeriss (168 PEs)", "network": "alexnet", "scope": "conv",
     "metrics": {"images/s": 34.7, "energy mJ": 278 / 34.7, "pJ/MAC": 278e-3 / 34.7 / 666e6 * 1e12},
     "peak_tmacs": 168 * 0.2e-3,
     "conditions": "65 nm, 16-bit fixed point, batch 4, conv layers only (666 MMAC), 278 mW chip only; "
                   "core clock 100-250 MHz, peak taken at 200 MHz (168 MACs x 0.2 GHz)",
     "source": "Chen et al., ISSCC 2016 / JSSC 2017, abstract"},
    {"system": "Eyeriss (168 PEs)", "network": "vgg16", "scope": "conv",
     "metrics": {"images/s": 0.7, "energy mJ": 236 / 0.7}, "peak_tmacs": 168 * 0.2e-3,
     "conditions": "65 nm, 16-bit fixed point, batch 3, conv layers only, 236 mW chip only",
     "source": "Chen et al., JSSC 2017, abstract"},
    {"system": "Eyeriss v2 (sparse MobileNet v1)", "network": "mobilenetv2", "scope": "network",
     "metrics": {"images/s": 1470.6, "energy mJ": 1e3 / 2560.3},
     "conditions": "65 nm, batch 1, pruned MobileNet v1 (a different, sparse network); precision, clock "
                   "and peak MAC rate not stated in the abstract",
     "source": "Chen et al., IEEE JETCAS 2019, abstract"},
]


def cli_defaults() -> tuple[str, str]:
    """The dataflow and mapping ``axsim run`` uses when none is given."""
    from simulator.cli import _parser
    args = _parser().parse_args(["run"])
    return args.dataflow, args.mapping


def _minimum(layers, batch: int) -> int:
    first, last = layers[0], layers[-1]
    return sum(layer.weight_count for layer in layers) + batch * (
        first.in_channels * first.in_h * first.in_w + last.out_channels * last.out_h * last.out_w)


def minimum_dram_bytes(workload) -> int:
    """Least DRAM traffic of any dataflow, 8-bit values: every weight once per batch, the input
    image and the network output once per sample."""
    return _minimum(workload.layers, workload.batch)


def conv_minimum_dram_bytes(workload) -> int:
    """The same for the convolutional layers alone (their weights, the input image, the last
    convolutional layer's output)."""
    return _minimum([layer for layer in workload.layers if layer.kind == "conv"], workload.batch)


def dram_bytes(result) -> float:
    """DRAM bytes read and written in the run (its DRAM bit counts / 8)."""
    return sum(layer.bytes_moved()["dram_bytes"] for layer in result.layers)


def nop_byte_hops(layers) -> float:
    """Bytes x NoP links crossed (the NoP link bit counts / 8)."""
    return sum(layer.bytes_moved()["nop_byte_hops"] for layer in layers)


def network_row(summary: dict, arch, batch: int, moved_bytes: float, min_bytes: float,
                nop_byte_hops: float) -> dict:
    """The derived columns of one run from its summary.json fields, by their definitions."""
    lat_ms = summary["latency_ms"]
    energy, macs = summary["energy_pj"], summary["macs"]
    by_class = summary["energy_pj_by_class"]
    return {"latency ms": lat_ms, "images/s": batch * 1e3 / lat_ms, "energy mJ": energy / batch / 1e9,
            "pJ/MAC": energy / macs, "GMAC": macs / batch / 1e9,
            "MAC util.": macs / (summary["latency_cycles"] * arch.peak_macs_per_cycle),
            "leakage %": 100 * by_class.get("leakage", 0.0) / energy,
            "DRAM energy %": 100 * by_class.get("dram", 0.0) / energy,
            "DRAM MB": moved_bytes / batch / 1e6, "min. DRAM MB": min_bytes / batch / 1e6,
            "DRAM / min.": moved_bytes / min_bytes, "NoP byte-hops / DRAM bytes": nop_byte_hops / moved_bytes}


NET_FORMAT = {"latency ms": "{:.3f}", "images/s": "{:,.0f}", "energy mJ": "{:.2f}", "pJ/MAC": "{:.2f}",
              "GMAC": "{:.3f}", "MAC util.": "{:.4f}", "leakage %": "{:.1f}", "DRAM energy %": "{:.1f}",
              "DRAM MB": "{:.2f}", "min. DRAM MB": "{:.2f}", "DRAM / min.": "{:.2f}",
              "NoP byte-hops / DRAM bytes": "{:.1f}"}


def scope_summary(result, kinds: tuple[str, ...]) -> dict:
    """summary.json's fields restricted to the layers of the given kinds (e.g. conv layers only)."""
    layers = [layer for layer in result.layers if layer.kind in kinds]
    part = dataclasses.replace(result, layers=layers)
    return summary_dict(part)


def table(head: list[str], rows: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                     + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def parse_table(block: str) -> tuple[list[str], list[list[str]]]:
    lines = [line for line in block.splitlines() if line.startswith("|") and not line.startswith("|---")]
    head, *rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    return head, rows


def number(text: str) -> float:
    return float(text.replace(",", ""))


def compare_block(net_block: str, sim_peak_tmacs: float) -> str:
    """The published figures beside the simulated ones, from the ``published-networks`` table (its
    rounded values, so the block can be regenerated from the page alone). For throughput and latency,
    "at equal peak" rescales the ratio by the peak MAC rates (simulated / published), i.e. compares
    the utilization of the peak."""
    head, rows = parse_table(net_block)
    sim = {(r[0], r[1]): {k: number(v) for k, v in zip(head[2:], r[2:])} for r in rows}
    out = []
    for pub in PUBLISHED:
        s = sim[(pub["network"], pub["scope"])]
        for metric, value in pub["metrics"].items():
            ratio = s[metric] / value
            peak = pub.get("peak_tmacs")
            scale = {"images/s": 1.0, "latency ms": -1.0}.get(metric) if peak else None
            equal = f"{ratio * (peak / sim_peak_tmacs) ** scale:.2f}" if scale else "-"
            out.append([pub["system"], pub["network"] + (" (conv layers)" if pub["scope"] == "conv" else ""),
                        metric, f"{value:,.4g}", NET_FORMAT[metric].format(s[metric]), f"{ratio:.2f}", equal,
                        pub["conditions"], pub["source"]])
    return table(["published system", "network", "metric", "published", "simulated", "sim / published",
                  "sim / published at equal peak", "conditions of the published figure", "source"], out)


def peak_tmacs(arch) -> float:
    """Peak MAC rate of the architecture, 10^12 MAC/s."""
    return arch.peak_macs_per_cycle * arch.clock_ghz / 1e3


def layer_bounds(arch, layer) -> dict[str, float]:
    """validate_bounds.bounds plus the PE-buffer bound: the busiest PE buffer's reads by the MAC units
    (bits) over the PEs in use and its width (banks x bank width), the PEs running in lock step with
    equal work. The accumulation buffer's reads of finished outputs (gathers to the global buffer)
    are not in the MAC pipeline and are left out (docs/models.md, "Timed PE buffers")."""
    b = bounds(arch, layer)
    pe = arch.chiplet.pe
    used = layer.meta.get("used_pes", arch.total_pes)
    worst = 0.0
    for kind in PE_BUFFERS:
        spec = getattr(pe, kind)
        reads = sum(bits for (_, key, ds), bits in layer.sram_bits.items()
                    if key == f"{kind}.read_bit" and not (kind == "accumulation_buffer" and ds == "outputs"))
        worst = max(worst, reads / (used * spec.banks * spec.bank_width_bits))
    b["PE buffer"] = worst
    return b


BOUND_NAMES = ("compute", "DRAM", "NoP", "NoC", "global buffer", "PE buffer")


def layer_rows(arch, net: str, result) -> list[dict]:
    rows = []
    for layer in result.layers:
        if layer.latency_cycles == 0:
            continue  # a fused add: its work is in the layer it was fused into
        b = layer_bounds(arch, layer)
        limit = max(BOUND_NAMES, key=lambda k: b[k])
        rows.append({"network": net, "layer": layer.name, "kind": layer.kind,
                     "latency_cycles": layer.latency_cycles, **{k: round(b[k], 1) for k in BOUND_NAMES},
                     "limit": limit, "sim_over_bound": layer.latency_cycles / b[limit],
                     "mapping": layer.meta.get("mapping", ""),
                     "predicted_cycles": layer.meta.get("predicted_cycles", ""),
                     "predicted_bound": layer.meta.get("predicted_bound", "")})
    return rows


def bounds_summary(rows: list[dict], total_cycles: int, clock_ghz: float) -> list[str]:
    """One row per network: layers by limiting bound, simulated / bound (median, max, cycle-weighted),
    the sum of the layers' largest bounds against the simulated latency, the compute bound's share."""
    limits = Counter(r["limit"] for r in rows)
    ratios = np.array([r["sim_over_bound"] for r in rows])
    cycles = np.array([r["latency_cycles"] for r in rows], dtype=float)
    bound_sum = float(sum(r[r["limit"]] for r in rows))
    compute_sum = float(sum(r["compute"] for r in rows))
    top = max(rows, key=lambda r: r["latency_cycles"])
    share = Counter()
    for r in rows:
        share[r["limit"]] += r["latency_cycles"]
    return [rows[0]["network"], str(len(rows)), ", ".join(f"{k} {v}" for k, v in limits.most_common()),
            ", ".join(f"{k} {100 * v / cycles.sum():.0f} %" for k, v in share.most_common()),
            f"{np.median(ratios):.2f}", f"{ratios.max():.2f}", f"{cycles.sum() / bound_sum:.2f}", f"{bound_sum / (clock_ghz * 1e6):.3f}",
            f"{compute_sum / total_cycles:.3f}",
            f"{top['layer']} ({100 * top['latency_cycles'] / total_cycles:.0f} %, {top['limit']}, "
            f"{top['sim_over_bound']:.2f})"]


BOUNDS_HEAD = ["network", "layers", "limited by (layers)", "limited by (share of the layers' cycles)",
               "sim / bound median", "sim / bound max", "Σ sim / Σ bound", "Σ bound ms", "Σ compute bound / latency",
               "longest layer (share, limit, sim / bound)"]


def run(arch, workload, dataflow: str, mapping: str, prefetch: bool | None = None):
    """A run with ``axsim run``'s defaults (weight prefetch on with the on-package dataflow);
    ``prefetch=False``: layers one after another, for per-layer bounds of a layer alone."""
    return api.simulate(arch, workload, dataflow=dataflow, mapping=mapping, prefetch=prefetch)


def unscaled_leakage_pj(arch, result) -> tuple[float, float]:
    """(leakage energy of the run, the same leakage priced without the voltage scaling r(V)/r(V_nom))."""
    from simulator.energy.operating import OperatingScales
    scale = OperatingScales.from_arch(arch).leakage
    rows = [e for layer in result.layers for e in layer.energy if e.component == "leakage"]
    return (sum(e.energy_pj for e in rows), sum(e.energy_pj / scale.get(e.component_class, 1.0) for e in rows))


CLASSES = ("mac", "weight_buffer", "input_buffer", "accumulation_buffer", "global_buffer", "noc_router",
           "noc_link", "nop_router", "nop_link", "dram", "leakage", "vector")


def class_row(label: str, summary: dict) -> tuple[str, dict, int, float]:
    """A run's energy per component class, as summary.json gives it, for :func:`class_table`."""
    return label, summary["energy_pj_by_class"], summary["macs"], summary["energy_pj"]


def class_table(rows: list[tuple[str, dict, int, float]]) -> str:
    """pJ per MAC of each component class; classes the list above does not name get their own
    columns after it (a new energy class is shown, not dropped)."""
    extra = sorted({c for _, by_class, _, _ in rows for c in by_class} - set(CLASSES))
    cols = [*CLASSES, *extra]
    return table(["run", *cols, "total"],
                 [[label, *[f"{by_class.get(c, 0.0) / macs:.3f}" for c in cols], f"{energy / macs:.3f}"]
                  for label, by_class, macs, energy in rows])


SENS_HEAD = ["variant", "latency ms", "images/s", "pJ/MAC", "pJ/MAC without DRAM", "leakage %", "MAC util.",
             "how"]


def sensitivity_row(label: str, result, batch: int, how: str, energy_pj: float | None = None,
                    leakage_pj: float | None = None) -> list[str]:
    s = summary_dict(result)
    by_class = s["energy_pj_by_class"]
    e = s["energy_pj"] if energy_pj is None else energy_pj
    leak = by_class.get("leakage", 0.0) if leakage_pj is None else leakage_pj
    chip = e - by_class.get("dram", 0.0)
    return [label, f"{s['latency_ms']:.3f}", f"{batch * 1e3 / s['latency_ms']:,.0f}", f"{e / s['macs']:.3f}",
            f"{chip / s['macs']:.3f}", f"{100 * leak / e:.1f}", f"{s['utilization']:.4f}", how]


def sensitivity(arch, dataflow: str, mapping: str, base) -> tuple[str, list[list[str]]]:
    """ResNet-50 with one assumption changed at a time (the first row is the default run ``base``),
    and the energy per class of the runs at other operating points."""
    wl = api.load_workload(ROOT / "workloads" / "resnet50.yaml")
    rows = [sensitivity_row(f"default: {arch.vdd_v} V, {arch.clock_ghz} GHz", base, 1, "simulated")]
    total = summary_dict(base)["energy_pj"]
    leak, flat = unscaled_leakage_pj(arch, base)
    rows.append(sensitivity_row("leakage without voltage scaling, r(V) = r(V_nom)", base, 1,
                                "default run re-priced: leakage / r(V)/r(V_nom)", total - leak + flat, flat))
    rows.append(sensitivity_row("no leakage", base, 1, "default run re-priced: leakage removed",
                                total - leak, 0.0))
    classes = []
    for vdd, ghz in ((0.8, 1.0), (0.5, 0.34)):
        point = api.with_operating_point(arch, {"vdd_v": vdd, "clock_ghz": ghz})
        res = run(point, wl, dataflow, mapping)
        rows.append(sensitivity_row(f"operating point {vdd} V, {ghz} GHz", res, 1,
                                    "simulated; DRAM and NoP keep their cycles"))
        classes.append(class_row(f"resnet50 at {vdd} V, {ghz} GHz", summary_dict(res)))
    for router, link in ((5, 5), (1, 1)):
        variant = api.with_operating_point(arch, {"package.nop.router_latency_cycles": router,
                                                  "package.nop.link_latency_cycles": link})
        rows.append(sensitivity_row(f"NoP hop {router + link} cycles (default 40 = 20 ns)",
                                    run(variant, wl, dataflow, mapping), 1, "simulated"))
    for rows_, cols_, channels in ((2, 2, 2), (1, 1, 1)):
        variant = api.with_operating_point(arch, {"package.mesh.rows": rows_, "package.mesh.cols": cols_,
                                                  "package.dram.channels": channels})
        res = run(variant, wl, dataflow, mapping)
        peak = variant.peak_macs_per_cycle * variant.clock_ghz / 1e3
        label = f"{rows_}x{cols_} chiplets, {channels} DRAM channel{'s' * (channels > 1)} ({peak:.2f} TMAC/s peak)"
        rows.append(sensitivity_row(label, res, 1, "simulated"))
        classes.append(class_row(f"resnet50 on {rows_}x{cols_} chiplets at {arch.vdd_v} V, {arch.clock_ghz} GHz",
                                 summary_dict(res)))
    res4 = run(arch, dataclasses.replace(wl, batch=4), dataflow, mapping)
    rows.append(sensitivity_row("batch 4 (per image: energy; per batch: latency)", res4, 4, "simulated"))
    classes.append(class_row(f"resnet50 batch 4 at {arch.vdd_v} V, {arch.clock_ghz} GHz", summary_dict(res4)))
    return table(SENS_HEAD, rows), classes


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":!docs/validation.md"], cwd=ROOT, capture_output=True, text=True)  # the page being written
    return head.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write the tables into docs/validation.md")
    ap.add_argument("--csv", default=str(ROOT / "traces" / "validate_published_layers.csv"),
                    help="per-layer bounds (default traces/validate_published_layers.csv)")
    ap.add_argument("--no-sensitivity", action="store_true",
                    help="skip the ResNet-50 sensitivity runs (and leave their blocks and the class table as they are)")
    args = ap.parse_args()
    dataflow, mapping = cli_defaults()
    arch = api.load_arch(ROOT / "arch" / "simba.yaml")
    net_rows, bound_rows, class_rows, all_layers, base = [], [], [], [], None
    for net in NETWORKS:
        wl = api.load_workload(ROOT / "workloads" / f"{net}.yaml")
        res = run(arch, wl, dataflow, mapping)
        base = res if net == "resnet50" else base
        mn = minimum_dram_bytes(wl)
        summary = summary_dict(res)
        row = network_row(summary, arch, wl.batch, dram_bytes(res), mn, nop_byte_hops(res.layers))
        class_rows.append(class_row(f"{net} at {arch.vdd_v} V, {arch.clock_ghz} GHz", summary))
        net_rows.append([net, "network", *[NET_FORMAT[k].format(row[k]) for k in NET_FORMAT]])
        if net in {p["network"] for p in PUBLISHED if p["scope"] == "conv"}:
            conv = [layer for layer in res.layers if layer.kind == "conv"]
            conv_bytes = sum(layer.bytes_moved()["dram_bytes"] for layer in conv)
            conv_min = conv_minimum_dram_bytes(wl)
            crow = network_row(scope_summary(res, ("conv",)), arch, wl.batch, conv_bytes, conv_min,
                               nop_byte_hops(conv))
            net_rows.append([net, "conv", *[NET_FORMAT[k].format(crow[k]) for k in NET_FORMAT]])
        # per-layer bounds are those of a layer alone: measured on the same mapping without prefetch
        alone = run(arch, wl, dataflow, mapping, prefetch=False) if dataflow == "resident" else res
        layers = layer_rows(arch, net, alone)
        all_layers += layers
        bound_rows.append(bounds_summary(layers, alone.latency_cycles, arch.clock_ghz))
        print(net_rows[-1], flush=True)
    net_block = table(["network", "scope", *NET_FORMAT], net_rows)
    cmp_block = compare_block(net_block, peak_tmacs(arch))
    bnd_block = table(BOUNDS_HEAD, bound_rows)
    print(net_block, cmp_block, bnd_block, sep="\n")
    Path(args.csv).parent.mkdir(parents=True, exist_ok=True)
    with open(args.csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(all_layers[0]))
        writer.writeheader()
        writer.writerows(all_layers)
    print(f"# wrote {args.csv}")
    sens = None
    if not args.no_sensitivity:
        sens, more = sensitivity(arch, dataflow, mapping, base)
        class_rows += more
        print(sens)
    cls_block = class_table(class_rows)
    print(cls_block)
    cond = (f"Generated at commit {commit()} by `benchmarks/validate_published.py --write`: arch/simba.yaml "
            f"({arch.vdd_v} V, {arch.clock_ghz} GHz, {arch.peak_macs_per_cycle:,} MACs/cycle, energies of "
            f"{arch.tech}), batch 1, exact "
            f"8-bit MACs, `--dataflow {dataflow} --mapping {mapping}` (the defaults of `axsim run`, weight "
            f"prefetch on with the on-package dataflow), transaction-level networks; the per-layer bounds "
            f"and the CSV come from the same mapping without prefetch (each layer alone).\n")
    print(cond)
    if args.write:
        replace_block(PAGE, "published-conditions", cond)
        replace_block(PAGE, "published-networks", net_block)
        replace_block(PAGE, "published-compare", cmp_block)
        replace_block(PAGE, "published-bounds", bnd_block)
        if sens:  # the class table includes the sensitivity runs' rows
            replace_block(PAGE, "published-classes", cls_block)
            replace_block(PAGE, "published-sensitivity", sens)


if __name__ == "__main__":
    main()
