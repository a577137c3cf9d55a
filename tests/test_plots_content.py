"""What the figures draw: axes, labels, series lengths and values, checked against the run's CSV files.

The figures are captured before they are closed (``plt.close`` is wrapped), so
their artists can be inspected; the files are still written.
"""
from __future__ import annotations

import csv

import pytest

from quad import quad_arch
from simulator import api
from simulator.plots import run_plots
from simulator.report.files import write_run
from simulator.workload import Layer, Workload

LAYERS = (Layer("c1", "conv", 8, 8, 8, 16, 3, 3, pad_h=1, pad_w=1), Layer.fc("fc", 64, 10))


@pytest.fixture
def figures(monkeypatch):
    captured = []
    real_close = run_plots.plt.close

    def keep(fig=None):
        captured.append(fig)
        real_close(fig)

    monkeypatch.setattr(run_plots.plt, "close", keep)
    return captured


@pytest.fixture
def run_dir(tmp_path):
    arch = quad_arch(tmp_path)
    result = api.simulate(arch, Workload("w", LAYERS, "<test>"))
    return write_run(result, tmp_path / "run", extra=None), result


def rows(path):
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_energy_and_latency_figures_draw_the_csv(run_dir, figures):
    run, result = run_dir
    made = run_plots.plot_run(run)
    assert [p.name for p in made] == ["energy_by_layer.png", "latency_by_layer.png", "nop_links.png"]
    layers = rows(run / "layers.csv")
    names = [r["layer"] for r in layers]
    energy_fig, latency_fig, nop_fig = figures

    ax = energy_fig.axes[0]  # horizontal bars, one row per layer
    assert [t.get_text() for t in ax.get_yticklabels()] == names == ["c1", "fc"]
    assert ax.get_xlabel() == "energy (µJ)" and ax.get_title() == "w on quad: energy per layer by component class"
    classes = [k[len("energy_pj_"):] for k in layers[0] if k.startswith("energy_pj_")]
    drawn = {c.get_label(): [p.get_width() for p in c.patches] for c in ax.containers}
    nonzero = {c for c in classes if any(float(r[f"energy_pj_{c}"]) for r in layers)}
    assert set(drawn) == nonzero and nonzero >= {"mac", "dram", "nop_link"}
    for cls, widths in drawn.items():
        assert widths == pytest.approx([float(r[f"energy_pj_{cls}"]) / 1e6 for r in layers]), cls
    # stacked: the right end of each row is the layer's total energy
    ends = [max(p.get_x() + p.get_width() for c in ax.containers for p in c.patches
                if p.get_y() < i < p.get_y() + p.get_height()) for i in range(len(names))]
    assert ends == pytest.approx([float(r["energy_pj"]) / 1e6 for r in layers], rel=1e-4)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert set(legend) == nonzero

    bars_ax, util_ax = latency_fig.axes
    assert [p.get_width() for p in bars_ax.patches] == [int(r["latency_cycles"]) for r in layers]
    assert [p.get_width() for p in bars_ax.patches] == [layer.latency_cycles for layer in result.layers]
    assert bars_ax.get_xlabel() == "latency (cycles)" and util_ax.get_xlabel() == "MAC utilization (%)"
    (points,) = util_ax.get_lines()  # both layers have MACs
    assert list(points.get_ydata()) == [0, 1]
    assert list(points.get_xdata()) == pytest.approx([100 * float(r["utilization"]) for r in layers])


def test_nop_figure_draws_one_arrow_per_link(run_dir, figures):
    run, result = run_dir
    run_plots.plot_run(run, "svg")
    nop = [r for r in rows(run / "links.csv") if r["network"] == "nop"]
    assert len(nop) == 8                                   # 2x2 mesh: 4 neighbour pairs, 2 directions
    ax = figures[2].axes[0]
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == len(nop)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("chiplet column", "chiplet row")
    assert ax.get_xlim() == (-0.5, 1.5) and ax.get_ylim() == (1.5, -0.5)   # rows grow downwards
    # the colour scale runs from 0 to the busiest link's utilization
    colorbar = figures[2].axes[1]
    assert colorbar.get_ylim()[1] == pytest.approx(max(float(r["utilization"]) for r in nop))
    # each arrow starts near its link's source chiplet (x = column, y = row)
    for r, arrow in zip(nop, arrows):
        r0, c0 = map(int, r["from"].split(","))
        x, y = arrow.xyann
        assert abs(x - c0) < 0.1 and abs(y - r0) < 0.1
