"""``axsim sweep``: run a sweep file, resume a sweep folder, or write the run folder of one point.

    axsim sweep SPEC.yaml [--out DIR] [--jobs N | --scheduler tcp://HOST:PORT]
    axsim sweep SPEC.yaml --check          validate only
    axsim sweep --resume DIR [--jobs N | --scheduler ...] [--accept-other-build]
    axsim sweep --point N DIR              simulate point N again, write DIR/runs/point-N/
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

from rich.console import Console

from simulator.errors import AxsimError


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help="sweep knobs, write the results table and Pareto fronts (resumable)")
    p.add_argument("spec", nargs="?", help="sweep file (YAML); or, with --point, a sweep folder")
    p.add_argument("--out", help="sweep folder (default sweeps/<name>-<time>)")
    p.add_argument("--resume", metavar="DIR", help="continue the sweep in DIR: finished points are kept")
    p.add_argument("--accept-other-build", action="store_true",
                   help="with --resume: keep points of another simulator build and record the folder as mixing builds")
    p.add_argument("--accept-changed-inputs", action="store_true",
                   help="with --resume: keep points computed from input files that changed since, and record it")
    p.add_argument("--point", type=int, metavar="N", help="write the run folder of point N of sweep folder SPEC")
    p.add_argument("--jobs", type=int, default=None,
                   help="local worker processes (default: the number of cores; 1: in this process)")
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (instead of local processes)")
    p.add_argument("--check", action="store_true", help="validate the sweep file and stop")
    p.add_argument("--format", default="png", help="figure format: png (default), svg or pdf")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_sweep)


def cmd_sweep(args: argparse.Namespace, console: Console) -> int:
    from simulator.dse.spec import load_sweep
    if args.jobs is not None and args.jobs < 1:
        raise AxsimError(f"--jobs {args.jobs}: must be >= 1")
    if args.format not in ("png", "svg", "pdf"):
        raise AxsimError(f"--format {args.format!r}: must be png, svg or pdf")
    if args.accept_other_build and not args.resume:
        raise AxsimError("--accept-other-build applies to --resume DIR only (a new sweep folder holds one build)")
    if args.accept_changed_inputs and not args.resume:
        raise AxsimError("--accept-changed-inputs applies to --resume DIR only (a new sweep folder records its inputs)")
    if args.point is not None:
        if not args.spec:
            raise AxsimError("--point N needs the sweep folder: axsim sweep --point N DIR")
        from simulator.dse.outputs import write_point_run
        folder = Path(args.spec)
        sweep = load_sweep(_spec_in(folder))
        console.print(f"run folder: {write_point_run(sweep, folder, args.point)}")
        return 0
    if args.resume:
        if args.spec or args.out:
            raise AxsimError("--resume DIR takes the sweep file from DIR: give no SPEC and no --out")
        out = Path(args.resume)
        sweep = load_sweep(_spec_in(out))
    else:
        if not args.spec:
            raise AxsimError("give a sweep file (axsim sweep SPEC.yaml) or --resume DIR")
        sweep = load_sweep(args.spec)
        if args.check:
            console.print(f"{args.spec}: ok (sweep, {len(sweep.knobs)} knobs, search {sweep.search.kind}, "
                          f"{_size(sweep)} points)")
            return 0
        out = Path(args.out) if args.out else _fresh(Path("sweeps") / f"{sweep.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    return _run(sweep, out, args, console, resume=bool(args.resume))


def _size(sweep) -> int:
    return sweep.grid_size if sweep.search.kind == "grid" else sweep.search.points


def _spec_in(folder: Path) -> Path:
    spec = folder / "sweep.yaml"
    if not spec.is_file():
        raise AxsimError(f"{folder}: not a sweep folder (no sweep.yaml); it is written by 'axsim sweep SPEC'")
    return spec


def _fresh(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _run(sweep, out: Path, args, console: Console, resume: bool) -> int:
    from simulator.build import short
    from simulator.dse import outputs, pareto
    from simulator.dse.runner import run_sweep
    jobs = args.jobs if args.jobs is not None else (os.cpu_count() or 1)
    where = f"Dask scheduler {args.scheduler}" if args.scheduler else (
        f"{jobs} local processes" if jobs > 1 else "this process")
    console.print(f"sweep {sweep.name}: {_size(sweep)} points ({sweep.search.kind}) on {where}; folder {out}")
    try:
        with _progress(console, enabled=not args.quiet and console.is_terminal) as progress:
            outcome = run_sweep(sweep, out, jobs=jobs, scheduler=args.scheduler, progress=progress,
                                resume=resume, accept_other_build=args.accept_other_build,
                                accept_changed_inputs=args.accept_changed_inputs)
    except KeyboardInterrupt:
        print(f"finished points are kept in {out}; continue with: axsim sweep --resume {out}", file=sys.stderr)
        raise
    rows = [outcome.rows[i] for i in sorted(outcome.rows)]
    invalid = sum(1 for r in rows if r.get("status") != "ok")
    reused = sum(1 for r in rows if r.get("reused") not in ("none", None))
    console.print(f"{len(rows)} points ({outcome.resumed} already finished, {outcome.evaluated} evaluated now, "
                  f"{reused} reused work, {invalid} invalid) in {outcome.wall_s:.1f} s")
    if invalid:
        first = next(r for r in rows if r.get("status") != "ok")
        console.print(f"first invalid point {first['point']}: {first['message']}", markup=False)
    if len({short(b) for b in outcome.builds}) > 1:
        console.print(f"note: {out} mixes points of simulator builds {', '.join(short(b) for b in outcome.builds)} "
                      "(column 'build' of results.csv, build.json)", markup=False)
    console.print(f"results: {out / 'results.csv'}")
    console.print(f"pareto:  {outputs.write_pareto(sweep, out, rows)}")
    for path in outputs.write_figures(sweep, out, rows, args.format):
        console.print(f"figure:  {path}")
    x, y, _ = outputs.axes(sweep, rows)
    front = pareto.front(sweep, rows, [x, y])
    console.print(f"{len(front)} non-dominated points ({y} vs {x}): "
                  f"{', '.join(str(r['point']) for r in front[:12])}{' ...' if len(front) > 12 else ''}")
    return 0


@contextlib.contextmanager
def _progress(console: Console, enabled: bool):
    if not enabled:
        yield None
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)
    with Progress(TextColumn("[bold]sweep[/]"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("reused {task.fields[reused]}"), TimeElapsedColumn(), TextColumn("ETA"),
                  TimeRemainingColumn(), console=console, transient=True) as bar:
        task = bar.add_task("", total=None, reused=0)

        def update(done: int, total: int, reused: int) -> None:
            bar.update(task, completed=done, total=total or None, reused=reused)
        yield update
