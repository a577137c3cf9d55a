"""The combined study: each approximation alone and all combined, on the digits network and
ResNet-50 (docs/combined-study.md holds the output of this script and its reading).

    python benchmarks/study_combined.py --out /tmp/combined-study        # both sweeps, ~8 min
    python benchmarks/study_combined.py --out DIR --skip-resnet          # the digits network only

1. Runs ``examples/sweeps/combined.yaml`` (ResNet-50, energy and latency) and
   ``examples/sweeps/digits_combined.yaml`` (digits network, with the ``accuracy_loss``
   objective: the sweep's accuracy evaluator) with ``axsim sweep``'s runner. A finished sweep
   folder under ``--out`` is reused only if this simulator build wrote it (its ``build.json``);
   otherwise the script stops: give a new ``--out``.
2. Digits accuracy: the sweep's ``accuracy_loss`` column (MACs, decompressed weights and the
   bit errors of each operating point). Run on a sweep folder without that column, the script
   measures the accuracy of the nominal-operating-point points itself with the int8 engine
   and leaves the others out of the accuracy fronts.
3. Prints markdown tables: the effect of each knob alone, the fronts per family and combined
   (accuracy loss vs energy on digits; energy and latency on ResNet-50), the knob settings of the
   combined front, and the lowest energy within an accuracy-loss bound reached by the best single
   knob vs by all knobs together.
"""
from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from simulator.dse import pareto, store  # noqa: E402
from simulator.dse.inputs import check_inputs  # noqa: E402
from simulator.dse.runner import run_sweep  # noqa: E402
from simulator.dse.spec import load_sweep  # noqa: E402

BOUNDS = (0.0, 0.005, 0.01, 0.02, 0.05)


def run(spec: Path, out: Path) -> tuple:
    sweep = load_sweep(spec)
    if (out / "results.csv").is_file() and len(list((out / "points").glob("*.json"))) == sweep.grid_size:
        done = store.read_points(out)
        store.check_build(out, done)  # only points of this simulator build and these inputs are reused
        check_inputs(sweep, out, len(done))
        print(f"{spec.name}: reusing the finished sweep in {out}", file=sys.stderr)
    else:
        started = time.perf_counter()
        run_sweep(sweep, out, resume=out.exists())
        print(f"{spec.name}: {sweep.grid_size} points in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    with (out / "results.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["status"] == "ok"]
    for r in rows:
        r["energy_pj"], r["latency_cycles"] = float(r["energy_pj"]), int(r["latency_cycles"])
    return sweep, rows


def at_baseline(sweep, row, families) -> bool:
    return all(pareto._same(row[k.name], k.baseline) for k in sweep.knobs if k.family in families)


def single_knob_table(sweep, rows) -> list[str]:
    base = next(r for r in rows if all(pareto._same(r[k.name], k.baseline) for k in sweep.knobs))
    lines = ["| knob | value | energy / baseline | latency / baseline |" + (" accuracy loss |" if "acc" in base else ""),
             "|---|---|---|---|" + ("---|" if "acc" in base else "")]
    for knob in sweep.knobs:
        for r in rows:
            if all(pareto._same(r[k.name], k.baseline) for k in sweep.knobs if k is not knob):
                acc = "" if "acc" not in base else (f" {r['acc']:.4f} |" if r["acc"] is not None
                                                     else " not measured (bit errors) |")
                lines.append(f"| {knob.name} | `{r[knob.name]}` | {r['energy_pj'] / base['energy_pj']:.4f} | "
                             f"{r['latency_cycles'] / base['latency_cycles']:.4f} |{acc}")
    return lines


def digits_accuracy(sweep, rows) -> None:
    """Accuracy loss of every row: the sweep's ``accuracy_loss`` column when the sweep measured it
    (the evaluator registered for sweeps: MACs, decompressed weights and bit errors); otherwise
    the int8 engine here, for the nominal-operating-point rows only (exact minus the point's)."""
    if rows and rows[0].get("accuracy_loss") not in ("", None):
        for r in rows:
            r["acc"] = float(r["accuracy_loss"])
        print("\naccuracy loss: measured by the sweep (int8 engine, the point's MACs, decompressed weights "
              "and bit errors; mean of 5 Monte Carlo seeds; 360 test images)\n")
        return
    from simulator.accuracy.engine import infer, quantize_input
    from simulator.accuracy.evaluate import accuracy, load_dataset
    from simulator.accuracy.model import load_weights
    from simulator.compress.layers import plan_for
    from simulator.dse.evaluate import workload_of
    from simulator.macs.approxfile import load_approx
    workload = workload_of(sweep)
    model = load_weights(workload)
    x, y = load_dataset(ROOT / "datasets" / "digits.npz")
    codes = quantize_input(model, x)
    exact = accuracy(infer(model, codes), y)
    spec = load_approx(sweep.approx_file)
    mac_knob = next(k for k in sweep.knobs if k.kind == "approx")
    comp_knob = next(k for k in sweep.knobs if k.kind == "compress")
    cache: dict[tuple, float] = {}
    for r in rows:
        if not at_baseline(sweep, r, ("communication", "memory")):
            r["acc"] = None
            continue
        key = (r[mac_knob.name], r[comp_knob.name])
        if key not in cache:
            macs = None if key[0] == "exact" else spec.config(key[0])
            weights = plan_for(workload, [(comp_knob.target, key[1])]).apply(model)
            cache[key] = exact - accuracy(infer(weights, codes, macs), y)
        r["acc"] = cache[key]
    print(f"\nexact int8 accuracy of the digits network: {exact:.4f} (360 test images)\n")


def front_table(sweep, rows, metrics, label) -> list[str]:
    fr = pareto.front(sweep, rows, metrics) if rows else []
    names = [k.name for k in sweep.knobs]
    out = [f"\n**{label}** ({len(fr)} points)\n", "| " + " | ".join(metrics + names) + " |",
           "|" + "---|" * (len(metrics) + len(names))]
    for r in fr:
        out.append("| " + " | ".join([_fmt(r[m]) for m in metrics] + [f"`{r[n]}`" for n in names]) + " |")
    return out


def _fmt(v) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def bound_table(sweep, rows, families) -> list[str]:
    """Lowest energy with accuracy loss <= bound: each family alone vs all together."""
    out = ["| accuracy loss <= | " + " | ".join(f"{f} only" for f in families) + " | combined |",
           "|---|" + "---|" * (len(families) + 1)]
    base = next(r for r in rows if all(pareto._same(r[k.name], k.baseline) for k in sweep.knobs))
    for b in BOUNDS:
        cells = []
        for fam in [*families, None]:
            ok = [r for r in rows if r["acc"] is not None and r["acc"] <= b + 1e-12
                  and (fam is None or pareto.family_of(sweep, r) <= {fam})]
            best = min(ok, key=lambda r: r["energy_pj"]) if ok else None
            cells.append(f"{best['energy_pj'] / base['energy_pj']:.3f}" if best else "-")
        out.append(f"| {b:g} | " + " | ".join(cells) + " |")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--skip-resnet", action="store_true")
    ap.add_argument("--write-docs", action="store_true", help="write the tables into docs/combined-study.md")
    args = ap.parse_args()
    import contextlib
    import io
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        tables(args)
    text = buffer.getvalue()
    print(text)
    if args.write_docs:
        from doc_blocks import replace_block
        replace_block(ROOT / "docs" / "combined-study.md", "combined-study",
                      text.strip("\n").replace("\n### ", "\n## ") + "\n")


def tables(args) -> None:
    sweep, rows = run(ROOT / "examples" / "sweeps" / "digits_combined.yaml", args.out / "digits")
    digits_accuracy(sweep, rows)
    print("### Digits network: each knob alone (others at baseline)\n")
    print("\n".join(single_knob_table(sweep, rows)))
    measured = [dict(r, accuracy_loss=r["acc"]) for r in rows if r["acc"] is not None]
    every = all(r["acc"] is not None for r in rows)
    families = ("compute", "communication", "memory", "compression") if every else ("compute", "compression")
    print("\n### Digits network: accuracy loss vs energy fronts"
          + ("" if every else " (nominal links and buffers)"))
    for fam in families:
        sub = [r for r in measured if pareto.family_of(sweep, r) <= {fam}]
        print("\n".join(front_table(sweep, sub, ["energy_pj", "accuracy_loss", "latency_cycles"], f"{fam} only")))
    print("\n".join(front_table(sweep, measured, ["energy_pj", "accuracy_loss", "latency_cycles"],
                                "all families combined" if every else "compute + compression combined")))
    print("\n### Digits network: lowest energy (relative to the exact baseline) within an accuracy-loss bound\n")
    print("\n".join(bound_table(sweep, rows, families)))
    lowest = min(rows, key=lambda r: r["energy_pj"])
    base = next(r for r in rows if all(pareto._same(r[k.name], k.baseline) for k in sweep.knobs))
    print(f"\nAll four families at their most aggressive values: accuracy loss "
          f"{format(lowest['acc'], '.4f') if lowest['acc'] is not None else 'not measured'}, energy "
          f"{lowest['energy_pj'] / base['energy_pj']:.3f} x baseline, latency "
          f"{lowest['latency_cycles'] / base['latency_cycles']:.3f} x; knobs "
          + ", ".join(f"{k.name}=`{lowest[k.name]}`" for k in sweep.knobs))
    if args.skip_resnet:
        return
    sweep, rows = run(ROOT / "examples" / "sweeps" / "combined.yaml", args.out / "resnet50")
    print("\n### ResNet-50: each knob alone (others at baseline)\n")
    print("\n".join(single_knob_table(sweep, rows)))
    fronts = pareto.family_fronts(sweep, rows, ["energy_pj", "latency_cycles"])
    print("\n### ResNet-50: energy vs latency fronts per family\n")
    names = [k.name for k in sweep.knobs]
    base = next(r for r in rows if all(pareto._same(r[k.name], k.baseline) for k in sweep.knobs))
    print("| front | points | energy / baseline | latency / baseline | knob settings |\n|---|---|---|---|---|")
    for label, fr in fronts.items():
        for r in fr:
            print(f"| {label} | {len(fr)} | {r['energy_pj'] / base['energy_pj']:.4f} | "
                  f"{r['latency_cycles'] / base['latency_cycles']:.4f} | "
                  + ", ".join(f"{n}=`{r[n]}`" for n in names if not pareto._same(r[n], next(
                      k.baseline for k in sweep.knobs if k.name == n))) + " |")


if __name__ == "__main__":
    main()
