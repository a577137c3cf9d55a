"""``axsim noc``: synthetic traffic on the flit-level mesh, BookSim2 configuration files as input.

Writes ``noc.csv`` (one row per packet size and offered load) and
``latency_vs_load.png`` into the output folder.
"""
from __future__ import annotations

import argparse
import csv
from dataclasses import asdict
from pathlib import Path

from simulator.errors import AxsimError

COLUMNS = ("packet_flits", "offered_flits_per_node_cycle", "packet_latency_cycles",
           "network_latency_cycles", "accepted_flits_per_node_cycle", "status")

# option name -> (type, help); all optional: they override the BookSim2 file
_OPTIONS = {
    "k": (int, "mesh of k x k nodes (BookSim2 k; default 8)"),
    "num_vcs": (int, "virtual channels per input port (default 16)"),
    "vc_buf_size": (int, "flits of buffer per virtual channel (default 8)"),
    "alloc_iters": (int, "iSLIP iterations of the VC and switch allocators (default 2)"),
    "credit_delay": (int, "cycles for a credit to reach the upstream router (default 2)"),
    "routing_delay": (int, "route computation cycles (default 0)"),
    "vc_alloc_delay": (int, "VC allocation cycles (default 1)"),
    "sw_alloc_delay": (int, "switch allocation cycles (default 1)"),
    "st_final_delay": (int, "switch traversal cycles (default 1)"),
    "channel_latency": (int, "link (channel) latency in cycles (default 1)"),
    "wait_for_tail_credit": (int, "1: an output VC is reused only after its tail's credit is back (default 1)"),
    "routing_function": (str, "dor (XY) or o1turn (XY or YX per packet on separate VC halves)"),
    "traffic": (str, "uniform, transpose, bitcomp, hotspot or neighbor (default uniform)"),
    "hotspot_fraction": (float, "share of packets sent to a hotspot node (traffic hotspot; default 0.2)"),
    "sim_type": (str, "latency (wait for the measured packets) or throughput (accepted rate; default latency)"),
    "warmup_periods": (int, "warm-up length in sample periods (default 3)"),
    "sample_period": (int, "measurement window in cycles (default 10000)"),
    "latency_thres": (float, "average latency above which a load counts as saturated (default 500)"),
    "seed": (int, "run seed for the traffic draws (default 0)"),
    "multicast_fanout": (int, "destinations per packet, drawn uniformly without repeats (traffic uniform; default 1)"),
    "multicast": (str, "replicate (in the routers, default) or unicast (one copy per destination)"),
}


def add_parser(sub) -> None:
    p = sub.add_parser("noc", help="synthetic traffic on the flit-level mesh (BookSim2 configuration files)")
    p.add_argument("--booksim", metavar="FILE", help="BookSim2 configuration file (options below override it)")
    p.add_argument("--rates", help="offered loads in flits/node/cycle, comma-separated "
                                   "(default: the file's injection_rate)")
    p.add_argument("--packet-sizes", help="packet sizes in flits, comma-separated (default: packet_size)")
    p.add_argument("--hotspot-nodes", help="hotspot node ids, comma-separated (traffic hotspot)")
    for name, (kind, text) in _OPTIONS.items():
        p.add_argument("--" + name.replace("_", "-"), type=kind, default=None, dest=name, help=text)
    p.add_argument("--out", default="noc_out", help="output folder (default noc_out)")
    p.add_argument("--no-plot", action="store_true", help="write noc.csv only")
    p.set_defaults(handler=cmd_noc)


def _numbers(text: str | None, kind, what: str) -> list | None:
    if text is None:
        return None
    try:
        return [kind(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise AxsimError(f"--{what}: {text!r}: expected comma-separated numbers") from None


def cmd_noc(args: argparse.Namespace, console) -> int:
    from simulator.noc.booksim import load_setup
    from simulator.noc.traffic import run_point

    overrides = {name: getattr(args, name) for name in _OPTIONS}
    hot = _numbers(args.hotspot_nodes, int, "hotspot-nodes")
    if hot is not None:
        overrides["hotspot_nodes"] = hot
    base = load_setup(args.booksim, **overrides)
    rates = _numbers(args.rates, float, "rates") or [base.flit_rate]
    sizes = _numbers(args.packet_sizes, int, "packet-sizes") or [base.packet_size]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in sizes:
        for rate in rates:
            setup = load_setup(args.booksim, **{**overrides, "packet_size": size, "injection_rate": rate,
                                                "injection_rate_uses_flits": 1})
            pt = run_point(setup)
            rows.append(pt)
            lat = "-" if pt.packet_latency_cycles is None else f"{pt.packet_latency_cycles:.2f}"
            console.print(f"packet {size:>3} flits  offered {rate:.3f}  latency {lat:>8}  "
                          f"accepted {pt.accepted_flits_per_node_cycle:.4f}  {pt.status}")
    path = out / "noc.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for pt in rows:
            d = asdict(pt)
            w.writerow(["" if d[c] is None else (round(d[c], 4) if isinstance(d[c], float) else d[c])
                        for c in COLUMNS])
    console.print(f"table: {path}")
    if not args.no_plot:
        console.print(f"figure: {plot_latency(rows, out / 'latency_vs_load.png', base)}")
    return 0


def plot_latency(rows, path: Path, setup) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for size in sorted({r.packet_flits for r in rows}):
        pts = [(r.offered_flits_per_node_cycle, r.packet_latency_cycles) for r in rows
               if r.packet_flits == size and r.packet_latency_cycles is not None]
        if pts:
            ax.plot(*zip(*pts), marker="o", label=f"{size}-flit packets")
    ax.set_xlabel("offered load (flits/node/cycle)")
    ax.set_ylabel("average packet latency (cycles)")
    ax.set_title(f"{setup.k}x{setup.k} mesh, {setup.traffic} traffic, {setup.num_vcs} VCs x "
                 f"{setup.vc_buf_size} flits")
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no stable load: every point saturated or throughput runs", ha="center",
                transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
