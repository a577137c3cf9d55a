"""``axsim accuracy``: accuracy of a workload with trained weights under approximate MACs and bit errors."""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from simulator import api
from simulator.errors import AxsimError

DEFAULT_WORKLOAD = "workloads/digits_cnn.yaml"
DEFAULT_BER_ARCH = "arch/simba.yaml"  # the mapping whose per-PE copies a synthetic --ber corrupts


def add_parser(sub) -> None:
    p = sub.add_parser("accuracy", help="accuracy of a network with trained weights: exact, approximate MACs, "
                                        "bit errors of a simulated run over Monte Carlo seeds")
    p.add_argument("--run", help="a finished run folder (axsim run --out): apply its error exposure "
                                 "(exposure.npz) with its approximation file; results are written into it")
    p.add_argument("--accept-other-build", action="store_true",
                   help="with --run: use a run folder written by another simulator build (recorded in accuracy.json)")
    p.add_argument("--workload", default=None,
                   help=f"workload with trained weights (default {DEFAULT_WORKLOAD}; with --run: the run's)")
    p.add_argument("--approx", help="approximation file: the MAC configuration of each layer")
    p.add_argument("--arch", help="simulate the run on this architecture first (latency, energy, error "
                                  "exposure at its operating points) and apply its bit errors")
    p.add_argument("--dataset", help="samples and labels (.npz with arrays x and y; default: the workload's dataset)")
    p.add_argument("--ber", type=float, default=0.0,
                   help="synthetic study knob: a uniform bit-error rate on every bit of the data structures in "
                        "--ber-on, applied to the same per-PE copies as a run's exposure (mapping of --arch; without "
                        f"--arch, of exact MACs on {DEFAULT_BER_ARCH}); replaces the operating points' errors")
    p.add_argument("--ber-on", default="weights,inputs",
                   help="data structures hit by --ber: any of weights, inputs, psums, outputs (default weights,inputs)")
    p.add_argument("--seeds", type=int, default=10, help="Monte Carlo seeds when bit errors are on (default 10)")
    p.add_argument("--seed", type=int, default=None,
                   help="run seed: stuck-cell maps of a simulated run and the Monte Carlo draws (default 0; "
                        "with --run: the run's seed; another value changes only the Monte Carlo draws)")
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


def _check_args(args) -> list[str]:
    from simulator.accuracy.exposure_hook import STRUCTURES
    if not 0.0 <= args.ber <= 1.0 or math.isnan(args.ber):
        raise AxsimError(f"--ber {args.ber}: must be a probability in [0, 1]")
    if args.seeds < 1:
        raise AxsimError(f"--seeds {args.seeds}: must be >= 1")
    if args.limit is not None and args.limit < 1:
        raise AxsimError(f"--limit {args.limit}: must be >= 1")
    structures = [s.strip() for s in args.ber_on.split(",") if s.strip()]
    bad = [s for s in structures if s not in STRUCTURES]
    if bad or not structures:
        raise AxsimError(f"--ber-on {args.ber_on!r}: must name some of {', '.join(STRUCTURES)}")
    if args.run and (args.arch or args.approx):
        raise AxsimError("--run takes the architecture and approximation file of the run folder: "
                         "give --run, or --arch/--approx (which simulate first), not both")
    if args.accept_other_build and not args.run:
        raise AxsimError("--accept-other-build applies to --run RUN_DIR only")
    if args.run and args.overwrite:
        raise AxsimError("--overwrite applies to --arch --out; --run writes its accuracy files into the run folder")
    return structures


def cmd_accuracy(args: argparse.Namespace, console: Console) -> int:
    from simulator.accuracy.evaluate import check_labels, evaluate, load_dataset
    from simulator.accuracy.exposure_hook import exposure_ber, uniform_exposure, units_of_run
    from simulator.accuracy.model import load_weights
    from simulator.macs.approxfile import load_approx, resolve

    structures = _check_args(args)
    if args.seed is None and not args.run:
        args.seed = 0
    run = arch = plan = None
    exposure = None
    source = None  # what the bit errors are
    if args.run:
        from simulator.accuracy.runs import load_run
        found = load_run(args.run, args.workload, args.accept_other_build)
        workload, workload_file, approx_file, exposure = found.workload, found.workload_file, found.approx_file, \
            found.exposure
        args.seed = found.seed if args.seed is None else args.seed
        source = f"run {args.run}"
    else:
        workload_file, approx_file = args.workload or DEFAULT_WORKLOAD, args.approx
        workload = api.load_workload(workload_file)
    model = load_weights(workload)
    data_path = _dataset_path(args, workload)
    x, y = load_dataset(data_path)
    if args.limit is not None:
        x, y = x[:args.limit], y[:args.limit]
    check_labels(model, y, str(data_path))
    names = [layer.name for layer in workload.layers]
    spec = load_approx(approx_file) if approx_file else None
    macs = {name: spec.config_for(name) for name in names} if spec is not None else None
    if args.arch or (args.ber > 0 and not args.run):
        arch = api.load_arch(args.arch or DEFAULT_BER_ARCH)
        if spec is not None and args.arch:  # the PEs can run every configuration
            plan = resolve(spec, arch, names)
        # without --arch, --ber uses the copies of the exact-MAC mapping on DEFAULT_BER_ARCH
    if args.out and args.arch:  # refuse an existing run folder before any work
        from simulator.report.files import check_out_dir
        check_out_dir(args.out, args.overwrite)
    if arch is not None and exposure is None:
        if args.arch:  # the run itself, with its exposure at the architecture's operating points
            run = api.simulate(arch, workload, plan=plan, seed=args.seed, exposure=True)
            exposure = run.exposure.data
            source = f"operating points of {args.arch}"
        else:  # only the mapping is needed for the synthetic uniform rate
            from simulator.accuracy.runs import exposure_at, journeys_of
            exposure = exposure_at(journeys_of(arch, workload, plan), arch, args.seed)
    if args.ber > 0:
        exposure = uniform_exposure(exposure, args.ber, structures)
        source = f"synthetic uniform BER {args.ber:g} on {','.join(structures)}"
    errors = units = None
    if exposure is not None:
        layers = {layer.name: layer for layer in workload.layers}
        errors = exposure_ber(exposure, layers, args.seed)
        units = units_of_run(exposure, workload.layers)
    report = evaluate(model, x, y, macs, errors, args.seeds, units)
    _print(console, report, args, run, approx_file, source)
    data = {"workload_file": workload_file, "approx_file": approx_file, "dataset_file": str(data_path),
            "run_dir": args.run, "errors": source,
            "copies_of": args.run or args.arch or (f"{DEFAULT_BER_ARCH} (exact MACs)" if args.ber > 0 else None),
            "ber": args.ber, "ber_on": structures if args.ber > 0 else [],
            "seed": args.seed, **report.to_dict()}
    if args.run:
        data.update(run_build=found.run_build, mixed_builds=found.mixed_builds)
    if run is not None:
        data.update(latency_ms=run.latency_ms, energy_pj=run.energy_pj)
    target = Path(args.out) if args.out else (Path(args.run) if args.run else None)
    if target is None:
        return 0
    if run is not None:  # one run folder, written atomically with the accuracy files in it
        from simulator.report.files import write_run
        write_run(run, target, {"arch_file": args.arch, "workload_file": workload_file, "approx_file": approx_file},
                  args.overwrite, lambda folder: write_accuracy(folder, data), arch=arch, approx_file=approx_file,
                  plan=plan, workload_file=workload_file)
    else:
        target.mkdir(parents=True, exist_ok=True)
        write_accuracy(target, data)
    console.print(f"results: {target}")
    return 0


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_accuracy(folder: Path, data: dict) -> None:
    """``accuracy.json`` and ``accuracy_layers.csv`` in ``folder``, each replaced atomically
    (the other files of a run folder are not touched)."""
    _atomic_write(folder / "accuracy.json", json.dumps(data, indent=2) + "\n")
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["layer", "mae_approx", "snr_db_approx", "mae_with_errors", "snr_db_with_errors",
                "mae_with_errors_ci95"])
    for name, row in data["layers"].items():
        w.writerow([name, row["mae_approx"], row["snr_db_approx"], row.get("mae_with_errors", ""),
                    row.get("snr_db_with_errors", ""), row.get("mae_with_errors_ci95", "")])
    _atomic_write(folder / "accuracy_layers.csv", buf.getvalue())


def _print(console: Console, report, args, run, approx_file, source) -> None:
    mean, half = report.loss
    t = Table(title=f"accuracy on {report.samples} samples")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("exact int8", f"{100 * report.exact_accuracy:.2f}%")
    t.add_row(f"approximate MACs ({approx_file or 'exact'})", f"{100 * report.approx_accuracy:.2f}%")
    if report.seed_accuracies:
        accs = report.seed_accuracies
        t.add_row(f"with bit errors ({source})", f"{100 * sum(accs) / len(accs):.2f}% over {len(accs)} seeds")
    t.add_row("loss (exact − this configuration)", f"{100 * mean:.2f} ± {100 * half:.2f} points (95% CI)"
              if report.seed_accuracies else f"{100 * mean:.2f} points (deterministic: no bit errors)")
    if run is not None:
        t.add_row("latency / energy (simulated)", f"{run.latency_ms:.4g} ms / {run.energy_pj / 1e6:.4g} µJ")
    console.print(t)
    seeds = len(report.seed_accuracies)
    lt = Table(title="per-layer output error against the exact run"
               + (f" (with errors: MAE mean ± 95% CI, SNR pooled, over {seeds} seeds)" if report.layers_errors else ""))
    for col in ("layer", "MAE", "SNR dB", *(["MAE (errors)", "SNR dB (errors)"] if report.layers_errors else [])):
        lt.add_column(col, justify="right" if col != "layer" else "left")
    for name, e in report.layers_approx.items():
        row = [name, f"{e.mae:.4g}", f"{e.snr_db:.1f}"]
        if report.layers_errors:
            er = report.layers_errors[name]
            row += [f"{er.mae:.4g} ± {er.mae_ci95:.2g}", f"{er.snr_db:.1f}"]
        lt.add_row(*row)
    console.print(lt)
