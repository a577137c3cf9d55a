"""``axsim reprice RUN_DIR --arch OTHER.yaml``: a finished run's energy at another operating point."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from simulator import api
from simulator.errors import AxsimError


def add_parser(sub) -> None:
    p = sub.add_parser("reprice", help="energy of a finished run at another operating point of the same "
                                       "hardware (link swings, SRAM Vdd), without re-simulating")
    p.add_argument("run_dir", help="a run folder written by 'axsim run' (it keeps counts.npz and inputs/)")
    p.add_argument("--arch", required=True, help="architecture file: the run's hardware at another operating point")
    p.add_argument("--out", help="also write the result as JSON to this file")
    p.add_argument("--accept-other-build", action="store_true",
                   help="re-price a run folder written by another simulator build (recorded as mixed_builds)")


def cmd_reprice(args: argparse.Namespace, console: Console) -> int:
    run = Path(args.run_dir)
    if not run.is_dir():
        raise AxsimError(f"{run}: no such run folder")
    arch = api.load_arch(args.arch)
    new = api.reprice(str(run), arch, args.accept_other_build)
    summary_path = run / "summary.json"
    old = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    old_classes = old.get("energy_pj_by_class", {})
    table = Table(title=f"{run.name}: energy at the operating point of {args.arch}")
    for col in ("class", "run (uJ)", "re-priced (uJ)", "ratio"):
        table.add_column(col, justify="left" if col == "class" else "right")
    rows = sorted(set(old_classes) | set(new["energy_pj_by_class"]))
    for c in rows + ["total"]:
        a = old.get("energy_pj") if c == "total" else old_classes.get(c)
        b = new["energy_pj"] if c == "total" else new["energy_pj_by_class"].get(c, 0.0)
        ratio = f"{b / a:.4f}" if a else "-"
        table.add_row(c, "-" if a is None else f"{a / 1e6:.3f}", f"{b / 1e6:.3f}", ratio)
    console.print(table)
    if new["mixed_builds"]:
        console.print(f"note: counts of simulator build {new['run_build']} priced by build {new['pricing_build']}",
                      markup=False)
    if args.out:
        Path(args.out).write_text(json.dumps({"run_dir": str(run), "arch_file": args.arch, **new}, indent=2) + "\n")
        console.print(f"written: {args.out}")
    return 0
