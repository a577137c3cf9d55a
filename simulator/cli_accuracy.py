"""``axsim accuracy``: accuracy of a workload with trained weights under approximate MACs and bit errors."""
from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

from simulator import api
from simulator.errors import AxsimError

DEFAULT_WORKLOAD = "workloads/digits_cnn.yaml"


def add_parser(sub) -> None:
    p = sub.add_parser("accuracy", help="accuracy of a network with trained weights: exact, approximate MACs, "
                                        "bit errors over Monte Carlo seeds")
    p.add_argument("--workload", default=DEFAULT_WORKLOAD,
                   help=f"workload with trained weights (default {DEFAULT_WORKLOAD})")
    p.add_argument("--approx", help="approximation file: the MAC configuration of each layer")
    p.add_argument("--arch", help="also simulate the run on this architecture (latency, energy; checks that "
                                  "its PEs can run the approximation file); with --ber each PE's weight and "
                                  "input copies are corrupted separately, as the mapping places them")
    p.add_argument("--dataset", help="samples and labels (.npz with arrays x and y; default: the workload's dataset)")
    p.add_argument("--ber", type=float, default=0.0,
                   help="uniform bit-error rate per bit of the data structures in --ber-on (default 0)")
    p.add_argument("--ber-on", default="weights,inputs",
                   help="data structures hit by --ber: any of weights, inputs, psums, outputs (default weights,inputs)")
    p.add_argument("--arch-errors", action="store_true",
                   help="with --arch: bit errors of the architecture's operating points (link swings, SRAM Vdd), "
                        "drawn per PE copy and step from the run's error exposure, instead of --ber")
    p.add_argument("--seeds", type=int, default=10, help="Monte Carlo seeds when bit errors are on (default 10)")
    p.add_argument("--seed", type=int, default=0, help="run seed (default 0)")
    p.add_argument("--limit", type=int, help="use only the first N samples")
    p.add_argument("--out", help="folder for accuracy.json and accuracy_layers.csv (and the run, with --arch)")
    p.add_argument("--overwrite", action="store_true",
                   help="with --arch: replace an existing --out run folder as a whole")


def _dataset_path(args, workload) -> Path:
    if args.dataset:
        return Path(args.dataset)
    if workload.dataset:
        path = Path(workload.dataset)
        return path if path.is_absolute() else Path(workload.source).parent / path
    raise AxsimError(f"{workload.source}: no dataset: give --dataset DATA.npz (arrays x and y) "
                     "or add 'dataset: FILE.npz' to the workload file")


def cmd_accuracy(args: argparse.Namespace, console: Console) -> int:
    from simulator.accuracy.evaluate import STRUCTURES, check_labels, evaluate, load_dataset, uniform_ber
    from simulator.accuracy.model import load_weights
    from simulator.macs.approxfile import load_approx

    if not 0.0 <= args.ber <= 1.0 or math.isnan(args.ber):
        raise AxsimError(f"--ber {args.ber}: must be a probability in [0, 1]")
    if args.seeds < 1:
        raise AxsimError(f"--seeds {args.seeds}: must be >= 1")
    structures = [s.strip() for s in args.ber_on.split(",") if s.strip()]
    bad = [s for s in structures if s not in STRUCTURES]
    if bad or not structures:
        raise AxsimError(f"--ber-on {args.ber_on!r}: must name some of {', '.join(STRUCTURES)}")
    workload = api.load_workload(args.workload)
    model = load_weights(workload)
    data_path = _dataset_path(args, workload)
    x, y = load_dataset(data_path)
    if args.limit is not None:
        if args.limit < 1:
            raise AxsimError(f"--limit {args.limit}: must be >= 1")
        x, y = x[:args.limit], y[:args.limit]
    check_labels(model, y, str(data_path))
    spec = load_approx(args.approx) if args.approx else None
    if spec is not None:
        names = [layer.name for layer in workload.layers]
        from simulator.macs.approxfile import resolve
        if args.arch:
            resolve(spec, api.load_arch(args.arch), names)  # the architecture can run every configuration
        macs = {name: spec.config_for(name) for name in names}
    else:
        macs = None
    if args.arch_errors and (not args.arch or args.ber > 0):
        raise AxsimError("--arch-errors needs --arch (the architecture whose operating points cause the errors) "
                         "and replaces --ber: give one of them")
    errors = uniform_ber(args.ber, structures, args.seed) if args.ber > 0 else None
    units = None
    run = plan = None
    if args.arch_errors:  # the run's exposure: each PE's copies in each step, as the mapping moves them
        from simulator.accuracy.exposure_hook import exposure_ber, units_from_exposure
        arch = api.load_arch(args.arch)
        if spec is not None:
            from simulator.macs.approxfile import resolve
            plan = resolve(spec, arch, [layer.name for layer in workload.layers])
        run = api.simulate(arch, workload, plan=plan, seed=args.seed, exposure=True)
        exposure = run.exposure.data
        errors = exposure_ber(exposure, {layer.name: layer for layer in workload.layers}, args.seed)
        units = {layer.name: units_from_exposure(exposure, layer) for layer in workload.layers if layer.is_compute}
    elif args.arch and errors is not None:  # each PE's copies corrupted separately, as the mapping places them
        from simulator.accuracy.units import units_for
        arch = api.load_arch(args.arch)
        units = {layer.name: units_for(layer, arch) for layer in workload.layers}
    if args.out and args.arch:  # refuse an existing run folder before any work
        from simulator.report.files import check_out_dir
        check_out_dir(args.out, args.overwrite)
    report = evaluate(model, x, y, macs, errors, args.seeds, units)
    if args.arch and run is None:
        arch = api.load_arch(args.arch)
        plan = None
        if spec is not None:
            from simulator.macs.approxfile import resolve
            plan = resolve(spec, arch, [layer.name for layer in workload.layers])
        run = api.simulate(arch, workload, plan=plan, seed=args.seed)
    _print(console, report, args, run)
    if args.out:
        out = Path(args.out)
        data = {"workload_file": args.workload, "approx_file": args.approx, "dataset_file": str(data_path),
                "ber": args.ber, "ber_on": structures, "seed": args.seed, "arch_errors": args.arch_errors,
                **report.to_dict()}

        def write_accuracy(folder: Path) -> None:
            (folder / "accuracy.json").write_text(json.dumps(data, indent=2) + "\n")
            with (folder / "accuracy_layers.csv").open("w", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(["layer", "mae_approx", "snr_db_approx", "mae_with_errors", "snr_db_with_errors"])
                for name, row in data["layers"].items():
                    w.writerow([name, row["mae_approx"], row["snr_db_approx"], row.get("mae_with_errors", ""),
                                row.get("snr_db_with_errors", "")])

        if run is not None:  # one run folder, written atomically with the accuracy files in it
            from simulator.report.files import write_run
            data.update(latency_ms=run.latency_ms, energy_pj=run.energy_pj)
            write_run(run, out, {"arch_file": args.arch, "workload_file": args.workload, "approx_file": args.approx},
                      args.overwrite, write_accuracy, arch=arch, approx_file=args.approx, plan=plan,
                      workload_file=args.workload)
        else:
            out.mkdir(parents=True, exist_ok=True)
            write_accuracy(out)
        console.print(f"results: {out}")
    return 0


def _print(console: Console, report, args, run) -> None:
    mean, half = report.loss
    t = Table(title=f"accuracy on {report.samples} samples")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("exact int8", f"{100 * report.exact_accuracy:.2f}%")
    t.add_row(f"approximate MACs ({args.approx or 'exact'})", f"{100 * report.approx_accuracy:.2f}%")
    if report.seed_accuracies:
        accs = report.seed_accuracies
        t.add_row("with bit errors (the architecture's operating points)" if args.arch_errors
                  else f"with bit errors (BER {args.ber:g} on {args.ber_on})",
                  f"{100 * sum(accs) / len(accs):.2f}% over {len(accs)} seeds")
    t.add_row("loss (exact − this configuration)", f"{100 * mean:.2f} ± {100 * half:.2f} points (95% CI)"
              if report.seed_accuracies else f"{100 * mean:.2f} points (deterministic: no bit errors)")
    if run is not None:
        t.add_row("latency / energy (simulated)", f"{run.latency_ms:.4g} ms / {run.energy_pj / 1e6:.4g} µJ")
    console.print(t)
    lt = Table(title="per-layer output error against the exact run")
    for col in ("layer", "MAE", "SNR dB", *(["MAE (errors)", "SNR dB (errors)"] if report.layers_errors else [])):
        lt.add_column(col, justify="right" if col != "layer" else "left")
    for name, e in report.layers_approx.items():
        row = [name, f"{e.mae:.4g}", f"{e.snr_db:.1f}"]
        if report.layers_errors:
            er = report.layers_errors[name]
            row += [f"{er.mae:.4g}", f"{er.snr_db:.1f}"]
        lt.add_row(*row)
    console.print(lt)
