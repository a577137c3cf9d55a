"""`axsim plot`: figures from a run folder, clear errors for folders that are not runs."""
from __future__ import annotations

from simulator.cli import main
from simulator.plots import plot_run


def _run(tmp_path, repo_root, arch="arch/tiny.yaml"):
    wl = tmp_path / "w.yaml"
    wl.write_text("version: 1\nname: w\nlayers:\n"
                  "  - {name: c1, type: conv, input: [8, 8, 8], out_channels: 16, kernel: 3, padding: 1}\n"
                  "  - {name: fc, type: fc, in_features: 1024, out_features: 10}\n")
    out = tmp_path / "run"
    assert main(["run", "--arch", str(repo_root / arch), "--workload", str(wl), "--out", str(out),
                 "--quiet"]) == 0
    return out


def test_plots_are_written(tmp_path, repo_root):
    run = _run(tmp_path, repo_root)
    made = plot_run(run)
    names = {p.name for p in made}
    # one chiplet: no NoP links; the run's technology table (inputs/tech.yaml): links and SRAM vs V
    assert names == {"energy_by_layer.png", "latency_by_layer.png", "tech_links.png", "tech_sram.png"}
    for path in made:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_nop_figure_for_multichip_packages(tmp_path, repo_root, write_arch):
    arch = write_arch({"package.mesh.rows": 2, "package.mesh.cols": 2, "package.dram.channels": 2}, base="tiny")
    run = _run(tmp_path, repo_root, arch=str(arch))
    assert main(["plot", str(run), "--format", "svg"]) == 0
    svg = (run / "nop_links.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "network-on-package" in svg


def test_not_a_run_folder(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "layers.csv" in err and "run folder" in err and "Traceback" not in err
    assert main(["plot", str(tmp_path / "missing")]) == 2
    assert main(["plot", str(tmp_path), "--format", "bmp"]) == 2


def test_link_flips_map(tmp_path, repo_root, tiny_arch):
    """A run with an error exposure gets a map of expected flips per link; a nominal run does not."""
    import numpy as np

    from simulator import api
    from simulator.report.files import write_run
    from simulator.workload import Layer, Workload

    class OneNoCLink:
        def link(self, network, src, dst):
            return np.full(8, 1e-3) if (src, dst) == ((0, 0), (0, 1)) else np.zeros(8)

        def sram_read(self, buffer, ds):
            return np.zeros(8)

        def sram_stuck(self, buffer, ds):
            return np.zeros(8)

    w = Workload("w", (Layer("c", "conv", 8, 8, 8, 16, 3, 3, 1, 1, 1, 1),), "test")
    write_run(api.simulate(tiny_arch, w, rates=OneNoCLink()), tmp_path / "err")
    names = {p.name for p in plot_run(tmp_path / "err", "svg")}
    assert "link_flips.svg" in names
    assert "expected bit flips" in (tmp_path / "err" / "link_flips.svg").read_text()
    assert "link_flips.png" not in {p.name for p in plot_run(_run(tmp_path, repo_root))}


def test_technology_figures(tmp_path, repo_root, capsys):
    out = tmp_path / "figs"
    assert main(["plot", "--tech", str(repo_root / "arch/tech/simba_16nm.yaml"), "--out", str(out),
                 "--format", "svg"]) == 0
    links = (out / "tech_links.svg").read_text()
    sram = (out / "tech_sram.svg").read_text()
    assert "links vs swing" in links and "56.9 mV" in links  # sigma_N of the table in the legend
    assert "SRAM vs supply" in sram and "persistent" in sram
    assert main(["plot"]) == 2
    assert "run folder, or --tech" in capsys.readouterr().err
    assert main(["plot", "--tech", str(tmp_path / "none.yaml")]) == 2


def test_technology_figures_mark_the_runs_operating_point(tmp_path, repo_root, write_arch):
    arch = write_arch({"chiplet.noc.swing_v": 0.45, "chiplet.pe.input_buffer.vdd_v": 0.6}, base="tiny")
    run = _run(tmp_path, repo_root, arch=str(arch))
    assert main(["plot", str(run), "--format", "svg"]) == 0
    # Q(0.45 / (2 x 0.0569)) = 3.8e-5; the failure table's 0.60 V point is 1.3e-5
    assert "noc_link 0.45 V: 3.8e-05" in (run / "tech_links.svg").read_text()
    assert "0.6 V: 1.3e-05" in (run / "tech_sram.svg").read_text()
def test_one_chiplet_says_the_nop_figure_is_skipped(tmp_path, repo_root, capsys):
    run = _run(tmp_path, repo_root)
    capsys.readouterr()
    assert main(["plot", str(run)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "skipped: nop_links.png: the package has one chiplet, so no network-on-package links" in out


def _png_size(path):
    import struct
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return width, height


def test_per_layer_figures_stay_legible_for_many_layers(tmp_path, repo_root, monkeypatch):
    """74 layers (ResNet-50): horizontal bars, one row per layer of at least ~10 pt; utilization is
    drawn as points for the layers with MACs only (no line through pooling and add layers)."""
    import csv
    from simulator.plots import run_plots
    run = tmp_path / "r50"
    assert main(["run", "--workload", str(repo_root / "workloads/resnet50.yaml"), "--out", str(run),
                 "--quiet"]) == 0
    figures = []
    monkeypatch.setattr(run_plots.plt, "close", lambda fig: figures.append(fig))
    made = plot_run(run)
    with (run / "layers.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 72
    dpi = figures[0].dpi
    for path in made[:2]:
        _, height = _png_size(path)
        assert height / dpi / len(rows) >= 0.13  # inches per layer row (10 pt = 0.139 in)
    energy_fig, latency_fig = figures[0], figures[1]
    labels = [t.get_text() for t in energy_fig.axes[0].get_yticklabels()]
    assert labels == [r["layer"] for r in rows]
    assert energy_fig.axes[0].get_xlabel() == "energy (µJ)"
    bars, util = latency_fig.axes
    assert bars.get_xlabel() == "latency (cycles)" and util.get_xlabel() == "MAC utilization (%)"
    (points,) = util.get_lines()
    assert points.get_linestyle() == "None"
    assert list(points.get_ydata()) == [i for i, r in enumerate(rows) if int(r["macs"]) > 0]
    assert list(points.get_xdata()) == [100 * float(r["utilization"]) for r in rows if int(r["macs"]) > 0]
