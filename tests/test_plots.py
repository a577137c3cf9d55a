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
    assert names == {"energy_by_layer.png", "latency_by_layer.png"}  # one chiplet: no NoP links
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
