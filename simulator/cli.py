"""The ``axsim`` command line: a thin layer over :mod:`simulator.api`.

Errors in user input are printed as one line per problem (file, key path,
bad value, what is allowed) and exit with status 2, without a traceback.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from rich.console import Console

from simulator import __version__, api
from simulator.errors import AxsimError

DEFAULT_ARCH = "arch/simba.yaml"
DEFAULT_WORKLOAD = "workloads/resnet50.yaml"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axsim", description="Cycle-level simulator of approximate DNN accelerators.")
    p.add_argument("--version", action="version", version=f"axsim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a workload (or replay a trace) and write a run folder")
    run.add_argument("--arch", default=DEFAULT_ARCH, help=f"architecture file (default {DEFAULT_ARCH})")
    run.add_argument("--workload", default=DEFAULT_WORKLOAD, help=f"workload file (default {DEFAULT_WORKLOAD})")
    run.add_argument("--trace", help="replay this layer-trace file instead of mapping the workload")
    run.add_argument("--approx", help="approximation file: MAC configuration per layer and data structure")
    run.add_argument("--out", help="run folder (default traces/<arch>_<workload>_<time>)")
    run.add_argument("--seed", type=int, default=0, help="run seed for every random draw (default 0)")
    run.add_argument("--quiet", action="store_true", help="no progress bar, totals only")
    run.add_argument("--events", action="store_true",
                     help="also write events.json (Chrome trace-event format, opens in Perfetto)")

    val = sub.add_parser("validate", help="check input files (architecture, workload, technology, trace)")
    val.add_argument("files", nargs="+")

    pl = sub.add_parser("plot", help="draw the figures of a run folder (energy and latency per layer, NoP links)")
    pl.add_argument("run_dir")
    pl.add_argument("--format", default="png", help="png (default), svg or pdf")

    tr = sub.add_parser("trace", help="write the layer traces of a workload mapped on an architecture")
    tr.add_argument("--arch", default=DEFAULT_ARCH)
    tr.add_argument("--workload", default=DEFAULT_WORKLOAD)
    tr.add_argument("--approx", help="approximation file (changes MAC labels and stored bits)")
    tr.add_argument("--out", help="trace file (default traces/<arch>_<workload>.trace.jsonl)")
    from simulator.noc.cli import add_parser as add_noc
    add_noc(sub)
    return p


def _plan(path: str | None, arch, layer_names) -> api.MacPlan | None:
    if path is None:
        return None
    from simulator.approx.plan import load_approx, resolve
    return resolve(load_approx(path), arch, layer_names)


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from simulator.report.console import print_summary, progress_bar
    from simulator.report.files import write_run

    arch = api.load_arch(args.arch)
    if args.trace:
        from simulator.mapping.tracefile import read_traces
        _, traces = read_traces(args.trace, arch)
        workload, name = None, Path(args.trace).name.split(".")[0]
        layer_names = [t.layer for t in traces]
    else:
        workload = api.load_workload(args.workload)
        traces, name = None, workload.name
        layer_names = [layer.name for layer in workload.layers]
    plan = _plan(args.approx, arch, layer_names)
    out = Path(args.out) if args.out else _fresh_folder(Path("traces") / f"{arch.name}_{name}_"
                                                        f"{time.strftime('%Y%m%d-%H%M%S')}")
    recorder = None
    if args.events:
        from simulator.report.events import EventRecorder
        recorder = EventRecorder(arch.clock_ghz)
    extra = {"arch_file": args.arch, "workload_file": args.trace or args.workload,
             "approx_file": args.approx}
    try:
        with progress_bar(console, enabled=not args.quiet and console.is_terminal) as progress:
            result = api.simulate(arch, workload, traces=traces, plan=plan, seed=args.seed, progress=progress,
                                  on_txn=recorder)
    except (AxsimError, KeyboardInterrupt) as exc:
        partial = getattr(exc, "partial_result", None)
        if partial is not None and partial.layers:
            write_run(partial, out, {**extra, "stopped_by": str(exc) or type(exc).__name__})
            print(f"the run stopped after {len(partial.layers)} layers; their results are in {out}",
                  file=sys.stderr)
        raise
    write_run(result, out, extra)
    if recorder is not None:
        recorder.write(out / "events.json")
    print_summary(console, result, per_layer=not args.quiet)
    console.print(f"run folder: {out}")
    return 0


def _fresh_folder(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``, ... if it exists: never overwrite an earlier run."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _kind_of(path: Path) -> str:
    if path.suffix == ".csv":
        return "workload"
    if path.suffix == ".jsonl":
        return "trace"
    from simulator.config.yamlio import read_mapping
    data = read_mapping(path)
    if "package" in data or "chiplet" in data:
        return "arch"
    if "configs" in data or "default" in data:
        return "approx"
    if "layers" in data:
        return "workload"
    if "energy" in data:
        return "tech"
    raise AxsimError(f"{path}: cannot tell what kind of file this is (architecture files have 'package', "
                     "workloads 'layers', technology tables 'energy', approximation files 'configs')")


def cmd_validate(args: argparse.Namespace, console: Console) -> int:
    from simulator.config import load_tech
    from simulator.mapping.tracefile import read_traces
    failed = 0
    for name in args.files:
        path = Path(name)
        try:
            kind = _kind_of(path)
            from simulator.approx.plan import load_approx
            {"arch": api.load_arch, "workload": api.load_workload, "tech": load_tech,
             "trace": read_traces, "approx": load_approx}[kind](path)
            console.print(f"{path}: ok ({kind})")
        except AxsimError as exc:
            failed += 1
            print(str(exc), file=sys.stderr)
    return 2 if failed else 0


def cmd_trace(args: argparse.Namespace, console: Console) -> int:
    from simulator.config import config_hash
    from simulator.mapping.tracefile import write_traces
    arch = api.load_arch(args.arch)
    workload = api.load_workload(args.workload)
    plan = _plan(args.approx, arch, [layer.name for layer in workload.layers])
    out = Path(args.out) if args.out else Path("traces") / f"{arch.name}_{workload.name}.trace.jsonl"
    header = {"arch": arch.name, "arch_hash": config_hash(arch), "workload": workload.name,
              "layers": len(workload.layers), "generator": f"axsim {__version__} weight-stationary"}
    write_traces(out, api.generate_traces(arch, workload, plan), header)
    console.print(f"trace: {out}")
    return 0


def cmd_plot(args: argparse.Namespace, console: Console) -> int:
    from simulator.plots import plot_run
    for path in plot_run(args.run_dir, args.format):
        console.print(f"figure: {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:  # files and pipes: wide enough for the per-layer table
        console = Console(width=140)
    try:
        commands = {"run": cmd_run, "validate": cmd_validate, "trace": cmd_trace, "plot": cmd_plot}
        return commands.get(args.command, getattr(args, "func", None))(args, console)
    except AxsimError as exc:
        print(f"error: {exc}" if "\n" not in str(exc) else f"error:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
