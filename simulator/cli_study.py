"""``axsim study ber``: accuracy loss and energy vs link swing and SRAM supply (simulator/accuracy/study.py)."""
from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from rich.console import Console
from rich.table import Table

from simulator import api
from simulator.errors import AxsimError


def add_parser(sub) -> None:
    st = sub.add_parser("study", help="studies over operating points (ber: accuracy vs link swing and SRAM Vdd)")
    ssub = st.add_subparsers(dest="study", required=True)
    p = ssub.add_parser("ber", help="accuracy loss and energy vs NoP link swing and SRAM supply, alone and "
                                    "combined, per multiplier choice (one simulation per choice, re-priced)")
    p.add_argument("--arch", default="arch/simba.yaml", help="base architecture (default arch/simba.yaml)")
    p.add_argument("--workload", default="workloads/digits_cnn.yaml", help="workload with trained weights")
    p.add_argument("--approx", action="append", default=[],
                   help="an approximation file to compare with exact MACs (repeatable)")
    p.add_argument("--swing", type=float, nargs="+", default=[], help="link swings (V) of the NoP and the chiplet NoCs")
    p.add_argument("--vdd", type=float, nargs="+", default=[], help="SRAM supplies (V) of PE and global buffers")
    p.add_argument("--dataset", help="samples and labels (.npz, arrays x and y; default: the workload's)")
    p.add_argument("--seeds", type=int, default=5, help="Monte Carlo seeds per point (default 5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, help="use only the first N samples")
    p.add_argument("--out", required=True, help="folder for study_ber.csv and the plots")
    p.set_defaults(handler=cmd_study)


def cmd_study(args: argparse.Namespace, console: Console) -> int:
    from simulator.accuracy.evaluate import check_labels, load_dataset
    from simulator.accuracy.model import load_weights
    from simulator.accuracy.study import COLUMNS, ber_study, operating_points, plot_study
    from simulator.cli_accuracy import _dataset_path
    from simulator.macs.approxfile import load_approx

    if args.seeds < 1:
        raise AxsimError(f"--seeds {args.seeds}: must be >= 1")
    if args.limit is not None and args.limit < 1:
        raise AxsimError(f"--limit {args.limit}: must be >= 1")
    for v in args.swing + args.vdd:
        if not math.isfinite(v) or v <= 0:
            raise AxsimError(f"--swing/--vdd {v}: must be a positive voltage")
    if not args.swing and not args.vdd:
        raise AxsimError("study ber needs --swing V... and/or --vdd V...")
    arch = api.load_arch(args.arch)
    workload = api.load_workload(args.workload)
    model = load_weights(workload)
    data_path = _dataset_path(args, workload)
    x, y = load_dataset(data_path)
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    check_labels(model, y, str(data_path))
    choices = {"exact": None, **{Path(f).stem: load_approx(f) for f in args.approx}}
    points = operating_points(args.swing, args.vdd)
    for p in points:  # every point is a valid architecture before any work
        api.with_operating_point(arch, p.edits())
    rows = ber_study(arch, workload, model, x, y, choices, points, args.seeds, args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "study_ber.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows({k: ("" if r[k] is None else r[k]) for k in COLUMNS} for r in rows)
    plot_study(rows, out)
    t = Table(title=f"bit-error study: {workload.name} on {arch.name}, {len(y)} samples, {args.seeds} seeds")
    for col in ("MAC", "knob", "swing V", "Vdd V", "BER w / in", "stuck", "energy", "accuracy", "loss (95% CI)"):
        t.add_column(col)
    for r in rows:
        t.add_row(r["mac"], r["knob"], str(r["swing_v"] or "-"), str(r["vdd_v"] or "-"),
                  f"{r['mean_ber_weights']:.1e} / {r['mean_ber_inputs']:.1e}", str(r["stuck_cells"]),
                  f"{r['energy_ratio']:.3f}×", f"{100 * r['accuracy']:.2f}%",
                  f"{100 * r['loss_mean']:.2f} ± {100 * r['loss_ci95']:.2f}")
    console.print(t)
    console.print(f"results: {out}")
    return 0
