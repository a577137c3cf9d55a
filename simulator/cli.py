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

from simulator import __version__, api, cli_reprice
from simulator.errors import AxsimError
from simulator.hw.network import parse_network_model

DEFAULT_ARCH = "arch/simba.yaml"
DEFAULT_WORKLOAD = "workloads/resnet50.yaml"


DESCRIPTION = ("Transaction-level simulator of approximate DNN accelerators: layer traces replayed on a "
               "chiplet package in integer cycles, energy priced from technology tables.")
SEED_HELP = ("run seed, recorded in summary.json and the config hash (default 0); it draws the stuck-cell "
             "maps of SRAM buffers below their nominal supply (exposure.npz); timing and energy draw nothing, "
             "so latency and energy do not depend on it")


DATAFLOW_HELP = ("resident (default): layer outputs stay in the global buffers when they fit and travel "
                 "over the NoP to the next layers; dram: every layer reads from and writes to DRAM")
MAPPING_HELP = ("search (default): per layer, the partition of K, P and C across the PEs, the tile loop order "
                "and the placement on the chiplets with the lowest latency predicted by the analytical cost "
                "model (docs/models.md, \"Mapping search\"); fixed: K, then P, then C for every layer, row-major")
PREFETCH_HELP = ("--prefetch (default with --dataflow resident): the next layer's first weight tiles load "
                 "while the current layer computes, where the buffers have room (docs/models.md, \"Weight "
                 "prefetch across layers\"); --no-prefetch: each layer starts when the previous has finished")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="axsim", description=DESCRIPTION)
    p.add_argument("--version", action="version", version=f"axsim {__version__}", help="print the version")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a workload (or replay a trace) and write a run folder")
    run.add_argument("--arch", default=DEFAULT_ARCH, help=f"architecture file (default {DEFAULT_ARCH})")
    run.add_argument("--workload", default=DEFAULT_WORKLOAD, help=f"workload file (default {DEFAULT_WORKLOAD})")
    run.add_argument("--trace", help="replay this layer-trace file instead of mapping the workload")
    run.add_argument("--force", action="store_true",
                     help="replay a trace even if its header names another architecture")
    run.add_argument("--approx", help="approximation file: MAC configuration per layer and data structure")
    run.add_argument("--out", help="run folder (default traces/<arch>_<workload>_<time>); must not exist "
                                   "unless --overwrite is given")
    run.add_argument("--overwrite", action="store_true",
                     help="replace an existing --out folder as a whole (never mixed with an earlier run)")
    run.add_argument("--seed", type=int, default=0, help=SEED_HELP)
    run.add_argument("--quiet", action="store_true", help="no progress bar, totals only")
    run.add_argument("--events", action="store_true",
                     help="also write events.json (Chrome trace-event format, opens in Perfetto; "
                          "about 10 MB per ResNet-50 run)")
    run.add_argument("--events-layers", metavar="GLOB[,GLOB]",
                     help="events.json keeps only these layers (names or glob patterns, comma-separated)")
    run.add_argument("--events-units", metavar="GLOB[,GLOB]",
                     help="events.json keeps only these units: dram, nop, chiplet[r,c] (glob patterns; "
                          "quote them, e.g. 'chiplet[[]0,*')")
    run.add_argument("--dataflow", choices=api.DATAFLOWS, default="resident", help=DATAFLOW_HELP)
    run.add_argument("--mapping", choices=api.MAPPINGS, default="search", help=MAPPING_HELP)
    run.add_argument("--prefetch", action=argparse.BooleanOptionalAction, default=None, help=PREFETCH_HELP)
    run.add_argument("--exposure", choices=("auto", "on", "off"), default="auto",
                     help="error exposure of every element group (exposure.npz, flips.csv, expected flips): "
                          "auto (default) computes it when the operating point is not nominal")
    run.add_argument("--network-model", default="transaction", metavar="MODEL",
                     help="transaction (default: link calendars), transaction-ports (plus one-flit-per-cycle "
                          "injection and ejection ports), flit (virtual-channel routers, multicast replicated "
                          "in the routers) or flit-unicast (multicast as repeated unicast) for both "
                          "networks, or per network, e.g. nop=flit,noc=transaction")

    kinds = ("check input files: architecture, workload (YAML or SCALE-Sim CSV), technology table, "
             "layer trace (.jsonl), approximation file")
    val = sub.add_parser("validate", help=kinds, description=kinds[0].upper() + kinds[1:] + ". Every problem is listed "
                         "with file, key path, bad value and what is allowed.")
    val.add_argument("files", nargs="+", help="files to check; the kind is recognised from the contents")

    pl = sub.add_parser("plot", help="draw the figures of a run folder (energy and latency per layer, NoP links)")
    pl.add_argument("run_dir", nargs="?", help="a run folder written by 'axsim run' (its figures are written into it)")
    pl.add_argument("--format", default="png", help="png (default), svg or pdf")
    pl.add_argument("--tech", help="instead: draw energy and error rates vs swing and Vdd of this technology table")
    pl.add_argument("--out", default=".", help="folder for the --tech figures (default: current folder)")

    cli_reprice.add_parser(sub)

    tr = sub.add_parser("trace", help="write the layer traces of a workload mapped on an architecture")
    tr.add_argument("--arch", default=DEFAULT_ARCH, help=f"architecture file (default {DEFAULT_ARCH})")
    tr.add_argument("--workload", default=DEFAULT_WORKLOAD, help=f"workload file (default {DEFAULT_WORKLOAD})")
    tr.add_argument("--approx", help="approximation file (changes MAC labels and stored bits)")
    tr.add_argument("--dataflow", choices=api.DATAFLOWS, default="resident", help=DATAFLOW_HELP)
    tr.add_argument("--mapping", choices=api.MAPPINGS, default="search", help=MAPPING_HELP)
    tr.add_argument("--prefetch", action=argparse.BooleanOptionalAction, default=None, help=PREFETCH_HELP)
    tr.add_argument("--out", help="trace file (default traces/<arch>_<workload>.trace.jsonl)")

    from simulator import cli_accuracy, cli_import, cli_study
    cli_accuracy.add_parser(sub)
    cli_import.add_parser(sub)
    cli_study.add_parser(sub)
    from simulator.dse.cli import add_parser as add_sweep_parser
    add_sweep_parser(sub)
    from simulator.noc.cli import add_parser as add_noc
    add_noc(sub)
    return p


def _plan(path: str | None, arch, layer_names) -> api.MacPlan | None:
    if path is None:
        return None
    from simulator.macs.approxfile import load_approx, resolve
    plan = resolve(load_approx(path), arch, layer_names)
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return plan


def _patterns(text: str | None) -> list[str] | None:
    return [p.strip() for p in text.split(",") if p.strip()] if text else None


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    from simulator.report.console import print_summary, progress_bar
    from simulator.report.files import check_out_dir, write_run

    networks = parse_network_model(args.network_model)
    arch = api.load_arch(args.arch)
    if args.out:
        check_out_dir(args.out, args.overwrite)
    if args.trace:
        from simulator.mapping.replay_checks import check_trace_arch, check_trace_macs, lock_step_warnings
        from simulator.mapping.tracefile import read_traces
        header, traces = read_traces(args.trace, arch)
        for warning in check_trace_arch(header, arch, args.trace, args.force) + lock_step_warnings(traces, args.trace):
            print(f"warning: {warning}", file=sys.stderr)
        workload, name = None, str(header.get("workload") or Path(args.trace).name.split(".")[0])
        layer_names = [t.layer for t in traces]
    else:
        workload = api.load_workload(args.workload)
        traces, name = None, workload.name
        layer_names = [layer.name for layer in workload.layers]
    plan = _plan(args.approx, arch, layer_names)
    if args.trace:
        known = set((plan or api.MacPlan(api.exact_model(arch.chiplet.pe))).models()) | {"exact"}
        check_trace_macs(traces, known, header, args.trace, args.approx is not None)
    out = Path(args.out) if args.out else _fresh_folder(Path("traces") / f"{arch.name}_{name}_"
                                                        f"{time.strftime('%Y%m%d-%H%M%S')}")
    recorder = None
    if args.events:
        from simulator.report.events import EventRecorder
        recorder = EventRecorder(arch.clock_ghz, layers=_patterns(args.events_layers),
                                 units=_patterns(args.events_units))
    extra = {"arch_file": args.arch, "workload_file": args.trace or args.workload,
             "approx_file": args.approx, "dataflow": "trace" if args.trace else args.dataflow,
             "mapping": "trace" if args.trace else args.mapping,
             "prefetch": "trace" if args.trace else (args.dataflow == "resident" if args.prefetch is None
                                                     else args.prefetch)}
    if set(networks.values()) != {"transaction"}:
        extra["network_model"] = networks
    more = (lambda folder: recorder.write(folder / "events.json")) if recorder is not None else None
    try:
        with progress_bar(console, enabled=not args.quiet and console.is_terminal) as progress:
            result = api.simulate(arch, workload, traces=traces, plan=plan, seed=args.seed, progress=progress,
                                  on_txn=recorder, workload_name=name,
                                  exposure={"auto": None, "on": True, "off": False}[args.exposure],
                                  dataflow=args.dataflow, network_model=networks, mapping=args.mapping,
                                  prefetch=args.prefetch)
    except (AxsimError, KeyboardInterrupt) as exc:
        partial = getattr(exc, "partial_result", None)
        if partial is not None and partial.layers:
            write_run(partial, out, {**extra, "stopped_by": str(exc) or type(exc).__name__}, args.overwrite,
                      arch=arch, approx_file=args.approx, plan=plan, workload_file=args.trace or args.workload)
            print(f"the run stopped after {len(partial.layers)} layers; their results are in {out}",
                  file=sys.stderr)
        raise
    write_run(result, out, extra, args.overwrite, more, arch=arch, approx_file=args.approx, plan=plan,
              workload_file=args.trace or args.workload)
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
    if "knobs" in data:
        return "sweep"
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
            from simulator.dse.spec import load_sweep
            from simulator.macs.approxfile import load_approx
            loaded = {"arch": api.load_arch, "workload": api.load_workload, "tech": load_tech,
                      "trace": read_traces, "approx": load_approx, "sweep": load_sweep}[kind](path)
            if kind == "workload" and loaded.weights:  # trained weights must match the layers
                from simulator.accuracy.model import load_weights
                load_weights(loaded)
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
              "layers": len(workload.layers), "generator": f"axsim {__version__} weight-stationary",
              "dataflow": args.dataflow, "mapping": args.mapping,
              "prefetch": args.dataflow == "resident" if args.prefetch is None else args.prefetch}
    if args.approx:
        header["approx"] = args.approx
    write_traces(out, api.generate_traces(arch, workload, plan, args.dataflow, mapping=args.mapping,
                                          prefetch=args.prefetch), header)
    console.print(f"trace: {out}")
    return 0


def cmd_plot(args: argparse.Namespace, console: Console) -> int:
    from simulator.plots import plot_run
    skipped: list[str] = []
    if args.tech:
        from simulator.plots.tech_plots import plot_tech
        from simulator.config import load_tech
        if args.format not in ("png", "svg", "pdf"):
            raise AxsimError(f"plot format {args.format!r}: must be one of png, svg, pdf")
        made = plot_tech(load_tech(args.tech), args.out, args.format)
    elif args.run_dir is None:
        raise AxsimError("axsim plot needs a run folder, or --tech FILE")
    else:
        made = plot_run(args.run_dir, args.format, skipped)
    for path in made:
        console.print(f"figure: {path}")
    for reason in skipped:
        console.print(f"skipped: {reason}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:  # files and pipes: wide enough for the per-layer table
        console = Console(width=140)
    try:
        from simulator.cli_accuracy import cmd_accuracy
        from simulator.cli_import import cmd_import
        commands = {"run": cmd_run, "validate": cmd_validate, "trace": cmd_trace, "plot": cmd_plot,
                    "reprice": cli_reprice.cmd_reprice, "accuracy": cmd_accuracy, "import": cmd_import}
        return (commands.get(args.command) or args.handler)(args, console)
    except AxsimError as exc:
        print(f"error: {exc}" if "\n" not in str(exc) else f"error:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
