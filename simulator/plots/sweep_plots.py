"""Figures of a finished sweep (reads rows of its results table; fronts are computed by the caller).

- ``pareto``: every usable point, ``y`` against ``x``, coloured by ``color`` when given
  (accuracy loss against energy coloured by latency when accuracy was measured; latency
  against energy otherwise), with the non-dominated front drawn as a step line;
- ``family_fronts``: the fronts of the knob families (compute only, communication only,
  memory only) and of all knobs combined, on one figure.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {"energy_pj": "energy (pJ)", "latency_cycles": "latency (cycles)",
          "accuracy_loss": "accuracy loss", "edp_pj_cycles": "energy-delay product (pJ x cycles)"}
STYLES = {"compute only": ("tab:red", "o"), "communication only": ("tab:blue", "s"),
          "memory only": ("tab:green", "^"),
          "compression only": ("tab:purple", "v"), "combined": ("black", "D")}


def _xy(rows: list[dict], x: str, y: str):
    return [float(r[x]) for r in rows], [float(r[y]) for r in rows]


def plot_pareto(rows: list[dict], front: list[dict], x: str, y: str, color: str | None, out: Path,
                title: str, fmt: str = "png") -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    xs, ys = _xy(rows, x, y)
    if color and rows:
        sc = ax.scatter(xs, ys, c=[float(r[color]) for r in rows], cmap="viridis", s=22, alpha=0.85,
                        label="points")
        fig.colorbar(sc, ax=ax, label=LABELS.get(color, color))
    else:
        ax.scatter(xs, ys, s=22, alpha=0.6, color="tab:gray", label="points")
    if front:
        fx, fy = _xy(front, x, y)
        ax.step(fx, fy, where="post", color="tab:red", lw=1.5, label="non-dominated")
        ax.scatter(fx, fy, facecolors="none", edgecolors="tab:red", s=60)
    return _finish(fig, ax, x, y, title, out / f"pareto.{fmt}")


def plot_family_fronts(fronts: dict[str, list[dict]], x: str, y: str, out: Path, title: str,
                       fmt: str = "png") -> Path:
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    for label, rows in fronts.items():
        if not rows:
            continue
        colour, marker = STYLES.get(label, ("tab:gray", "x"))
        fx, fy = _xy(rows, x, y)
        ax.step(fx, fy, where="post", color=colour, lw=1.4, alpha=0.9)
        ax.scatter(fx, fy, color=colour, marker=marker, s=30, label=f"{label} ({len(rows)})")
    return _finish(fig, ax, x, y, title, out / f"family_fronts.{fmt}")


def _finish(fig, ax, x: str, y: str, title: str, path: Path) -> Path:
    """Axis labels, title, legend and grid of a front figure; save and close it."""
    ax.set_xlabel(LABELS.get(x, x))
    ax.set_ylabel(LABELS.get(y, y))
    ax.set_title(title)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
