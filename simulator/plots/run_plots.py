"""Figures from a run folder's CSV files (reads only finished results).

- ``energy_by_layer``: stacked bars of each layer's energy by component class;
- ``latency_by_layer``: each layer's latency in cycles, with its MAC utilization (points, only
  for layers with MACs);

Per-layer figures use horizontal bars, one labelled row per layer, so 70+
layers stay legible; axes and colour bars carry units.
- ``nop_links``: the chiplet mesh with each network-on-package link coloured by
  its utilization (busy cycles / run latency), for packages of several chiplets;
- ``link_flips`` (runs with an error exposure): the expected bit flips per NoP link
  and per NoC link position (summed over the chiplets).
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402

from simulator.errors import AxsimError  # noqa: E402

FORMATS = ("png", "svg", "pdf")


def _rows(path: Path) -> list[dict]:
    if not path.is_file():
        raise AxsimError(f"{path}: not found; is {path.parent} a run folder written by 'axsim run'?")
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _layer_axis(ax, names: list[str]) -> None:
    """Layers top to bottom on the y axis, one readable label each."""
    ax.set_yticks(range(len(names)), names, fontsize=7 if len(names) > 40 else 8)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.grid(axis="x", alpha=0.3)


def _height(n: int) -> float:
    """Figure height in inches: 0.14 in per layer (about 10 pt), so 70+ layers stay legible."""
    return max(4.0, 0.14 * n + 1.5)


def _energy_by_layer(layers: list[dict], title: str, out: Path) -> Path:
    classes = [k for k in layers[0] if k.startswith("energy_pj_")]
    names = [r["layer"] for r in layers]
    fig, ax = plt.subplots(figsize=(9, _height(len(names))))
    left = [0.0] * len(names)
    cmap = colormaps["tab20"]
    for i, cls in enumerate(sorted(classes, key=lambda c: -sum(float(r[c]) for r in layers))):
        values = [float(r[cls]) / 1e6 for r in layers]
        if not any(values):
            continue
        ax.barh(range(len(names)), values, left=left, color=cmap(i % 20), label=cls[len("energy_pj_"):],
                height=0.8)
        left = [b + v for b, v in zip(left, values)]
    _layer_axis(ax, names)
    ax.set_xlabel("energy (µJ)")
    ax.set_title(f"{title}: energy per layer by component class", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def _latency_by_layer(layers: list[dict], title: str, out: Path) -> Path:
    """Latency bars, and MAC utilization as points only for the layers that have MACs."""
    names = [r["layer"] for r in layers]
    fig, (ax, util) = plt.subplots(1, 2, sharey=True, figsize=(10, _height(len(names))),
                                   gridspec_kw={"width_ratios": [3, 1]})
    ax.barh(range(len(names)), [int(r["latency_cycles"]) for r in layers], color="tab:blue", height=0.8)
    _layer_axis(ax, names)
    ax.set_xlabel("latency (cycles)")
    with_macs = [i for i, r in enumerate(layers) if int(r["macs"]) > 0]
    util.plot([100 * float(layers[i]["utilization"]) for i in with_macs], with_macs, "o", color="tab:red",
              markersize=3, linestyle="none")
    util.set_xlabel("MAC utilization (%)")
    util.grid(axis="x", alpha=0.3)
    util.set_title("layers with MACs", fontsize=8)
    fig.suptitle(f"{title}: latency per layer", fontsize=10)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def _draw_mesh(ax, links: list[dict], values: list[float], cmap, norm) -> tuple[int, int]:
    coords = [tuple(map(int, r[end].split(","))) for r in links for end in ("from", "to")]
    rows, cols = max(c[0] for c in coords) + 1, max(c[1] for c in coords) + 1
    for r, u in zip(links, values):
        (r0, c0), (r1, c1) = (tuple(map(int, r[e].split(","))) for e in ("from", "to"))
        # the two directions of a link are drawn side by side
        dx, dy = (0.06 * (r1 - r0), 0.06 * (c0 - c1))
        ax.annotate("", xy=(c1 + dx, r1 + dy), xytext=(c0 + dx, r0 + dy),
                    arrowprops={"arrowstyle": "->", "color": cmap(norm(u)), "lw": 2.5})
    ax.scatter([c for c in range(cols) for _ in range(rows)], [r for _ in range(cols) for r in range(rows)],
               s=300, color="lightgray", zorder=0)
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    ax.set_xticks(range(cols))
    ax.set_yticks(range(rows))
    return rows, cols


def _nop_links(links: list[dict], title: str, out: Path) -> Path | None:
    nop = [r for r in links if r["network"] == "nop"]
    if not nop:
        return None
    util = [float(r["utilization"]) for r in nop]
    norm = Normalize(0, max(max(util), 1e-9))
    cmap = colormaps["viridis"]
    coords = [tuple(map(int, r[end].split(","))) for r in nop for end in ("from", "to")]
    rows, cols = max(c[0] for c in coords) + 1, max(c[1] for c in coords) + 1
    fig, ax = plt.subplots(figsize=(1.2 * cols + 2, 1.2 * rows + 1))
    _draw_mesh(ax, nop, util, cmap, norm)
    ax.set_xlabel("chiplet column")
    ax.set_ylabel("chiplet row")
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                 label="link utilization (busy cycles / run cycles)")
    ax.set_title(f"{title}: network-on-package links")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def _link_flips(links: list[dict], title: str, out: Path) -> Path | None:
    """Expected flips per NoP link, and per NoC link position summed over the chiplets."""
    if not links or "expected_flips" not in links[0] or any(r["expected_flips"] == "" for r in links):
        return None  # no exposure computed
    nop = [r for r in links if r["network"] == "nop"]
    noc: dict[tuple[str, str], float] = {}
    for r in links:
        if r["network"].endswith(".noc"):
            key = (r["from"], r["to"])
            noc[key] = noc.get(key, 0.0) + float(r["expected_flips"])
    panels = [(name, rows, vals) for name, rows, vals in (
        ("network-on-package links", nop, [float(r["expected_flips"]) for r in nop]),
        ("chiplet NoC links (sum over chiplets)", [{"from": a, "to": b} for a, b in noc], list(noc.values())))
        if rows and len({r["from"] for r in rows} | {r["to"] for r in rows}) > 1]
    if not panels or not any(v for _, _, vals in panels for v in vals):
        return None
    cmap = colormaps["magma_r"]
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 5.5), squeeze=False)
    for ax, (name, rows, vals) in zip(axes[0], panels):
        norm = Normalize(0, max(max(vals), 1e-12))
        _draw_mesh(ax, rows, vals, cmap, norm)
        ax.set_xlabel("column")
        ax.set_ylabel("row")
        ax.set_title(name, fontsize=9)
        fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="expected bit flips")
    fig.suptitle(f"{title}: expected bit flips per link")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_run(run_dir: str | Path, fmt: str = "png", skipped: list[str] | None = None) -> list[Path]:
    """Write the run's figures into ``run_dir``; return their paths. Figures that do not apply are
    left out with the reason appended to ``skipped``."""
    skipped = [] if skipped is None else skipped
    run = Path(run_dir)
    if fmt not in FORMATS:
        raise AxsimError(f"plot format {fmt!r}: must be one of {', '.join(FORMATS)}")
    if not run.is_dir():
        raise AxsimError(f"{run}: no such run folder")
    layers = _rows(run / "layers.csv")
    if not layers:
        raise AxsimError(f"{run / 'layers.csv'}: no layers to plot")
    summary_path = run / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    title = f"{summary.get('workload', run.name)} on {summary.get('arch', '?')}"
    made = [_energy_by_layer(layers, title, run / f"energy_by_layer.{fmt}"),
            _latency_by_layer(layers, title, run / f"latency_by_layer.{fmt}")]
    links = run / "links.csv"
    if not links.is_file():
        skipped.append(f"nop_links.{fmt}: {links} not found")
    else:
        rows = _rows(links)
        path = _nop_links(rows, title, run / f"nop_links.{fmt}")
        if path:
            made.append(path)
        else:
            skipped.append(f"nop_links.{fmt}: the package has one chiplet, so no network-on-package links")
        path = _link_flips(rows, title, run / f"link_flips.{fmt}")
        if path:
            made.append(path)
        else:
            skipped.append(f"link_flips.{fmt}: no error exposure in this run (nominal operating point, "
                           "or axsim run --exposure off)")
    tech = run / "inputs" / "tech.yaml"
    if tech.is_file():  # the run's technology table: energy and error rates vs swing and Vdd
        from simulator.config import load_tech
        from simulator.plots.tech_plots import plot_tech
        made += plot_tech(load_tech(tech), run, fmt, summary.get("operating_point"))
    return made
