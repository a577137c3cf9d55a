"""Run folders a user can trust: atomic writes, no mixing with earlier runs, CSVs that sum to the
summary exactly, time and utilization columns, multiplier error metrics per layer."""
from __future__ import annotations

import csv
import json
from math import fsum
from pathlib import Path

import numpy as np
import pytest

from conftest import ARCH_DIR
from simulator.cli import main
from simulator.config import load_arch

TINY = str(ARCH_DIR / "tiny.yaml")
AXBXP = str(ARCH_DIR / "simba_axbxp.yaml")

WORKLOAD = """\
version: 1
name: outputs_small
layers:
  - {name: conv1, type: conv, input: [3, 16, 16], out_channels: 16, kernel: 3, padding: 1}
  - {name: pool1, type: pool, mode: max, input: [16, 16, 16], kernel: 2, stride: 2}
  - {name: conv2, type: conv, input: [16, 8, 8], out_channels: 32, kernel: 3, padding: 1}
  - {name: add1, type: add, inputs: [conv2, conv2], input: [32, 8, 8]}
  - {name: fc, type: fc, in_features: 2048, out_features: 10}
"""

APPROX = """\
version: 1
name: trunc-study
configs:
  t4: {type: lut, generator: {kind: truncated, t: 4}, relative_power: 0.8}
default: t4
layers:
  conv1: exact
  resnet_only_layer: exact
"""


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("outputs")
    (d / "w.yaml").write_text(WORKLOAD)
    (d / "a.yaml").write_text(APPROX)
    return {"workload": d / "w.yaml", "approx": d / "a.yaml", "dir": d}


@pytest.fixture(scope="module")
def approx_run(files) -> Path:
    out = files["dir"] / "run_approx"
    assert main(["run", "--arch", TINY, "--workload", str(files["workload"]), "--approx", str(files["approx"]),
                 "--out", str(out), "--quiet"]) == 0
    return out


# ------------------------------------------------------------------ run folders
def test_existing_out_is_refused_then_replaced_whole(files, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["run", "--arch", TINY, "--workload", str(files["workload"]), "--out", str(out), "--quiet"]
    assert main(args) == 0
    (out / "stale_from_an_old_run.csv").write_text("x\n")
    before = (out / "summary.json").read_text()
    assert main(args + ["--seed", "7"]) == 2
    err = capsys.readouterr().err
    assert str(out) in err and "--overwrite" in err and "Traceback" not in err
    assert (out / "summary.json").read_text() == before          # untouched
    assert main(args + ["--seed", "7", "--overwrite"]) == 0
    assert not (out / "stale_from_an_old_run.csv").exists()      # replaced as a whole
    assert json.loads((out / "summary.json").read_text())["seed"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no temporary folder left


def test_interrupted_write_leaves_no_folder(files, tmp_path, monkeypatch):
    from simulator.report import files as report_files
    real = report_files._write_files

    def write_then_stop(result, out, extra):
        real(result, out, extra)
        raise KeyboardInterrupt  # after every file was written, before the rename

    monkeypatch.setattr(report_files, "_write_files", write_then_stop)
    out = tmp_path / "run"
    assert main(["run", "--arch", TINY, "--workload", str(files["workload"]), "--out", str(out),
                 "--quiet"]) == 130
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ one set of numbers
def test_csvs_sum_to_the_summary_exactly(approx_run):
    summary = json.loads((approx_run / "summary.json").read_text())
    layers = read_csv(approx_run / "layers.csv")
    components = read_csv(approx_run / "components.csv")
    by_layer_class: dict[tuple[str, str], list[float]] = {}
    by_layer: dict[str, list[float]] = {}
    for row in components:
        by_layer_class.setdefault((row["layer"], row["component_class"]), []).append(float(row["energy_pj"]))
        by_layer.setdefault(row["layer"], []).append(float(row["energy_pj"]))
    classes = sorted(summary["energy_pj_by_class"])
    assert "leakage" in classes
    assert {c for _, c in by_layer_class} == set(classes)
    assert [k for k in layers[0] if k.startswith("energy_pj_")] == [f"energy_pj_{c}" for c in classes]
    for row in layers:  # components -> layers, exactly
        assert float(row["energy_pj"]) == fsum(by_layer[row["layer"]])
        for c in classes:
            assert float(row[f"energy_pj_{c}"]) == fsum(by_layer_class.get((row["layer"], c), [0.0]))
    for c in classes:  # layers -> summary, exactly
        assert summary["energy_pj_by_class"][c] == fsum(float(r[f"energy_pj_{c}"]) for r in layers)
    assert summary["energy_pj"] == fsum(float(r["energy_pj"]) for r in layers)
    # any other grouping agrees to rounding
    assert fsum(float(r["energy_pj"]) for r in components) == pytest.approx(summary["energy_pj"], rel=1e-14)
    # leakage rows name the leaking class and carry no instance path
    leak = [r for r in components if r["component_class"] == "leakage"]
    assert leak and {r["component"] for r in leak} <= {"pe", "global_buffer", "nop_router", "dram"}


def test_time_and_utilization_columns(approx_run):
    arch = load_arch(TINY)
    summary = json.loads((approx_run / "summary.json").read_text())
    layers = read_csv(approx_run / "layers.csv")
    peak = arch.chiplet.pes * arch.chiplet.pe.vector_macs * arch.chiplet.pe.lanes * arch.chiplets
    end = 0
    for row in layers:
        start, stop, cycles = int(row["start_cycle"]), int(row["end_cycle"]), int(row["latency_cycles"])
        assert start == end and stop == start + cycles
        end = stop
        assert float(row["latency_ms"]) == pytest.approx(cycles / (arch.clock_ghz * 1e6), rel=1e-15)
        assert float(row["utilization"]) == pytest.approx(int(row["macs"]) / (cycles * peak), rel=1e-15)
    assert end == summary["latency_cycles"]
    macs = sum(int(r["macs"]) for r in layers)
    assert summary["utilization"] == pytest.approx(macs / (end * peak), rel=1e-15)
    assert 0 < summary["utilization"] < 1  # a fraction, not a percentage


def test_console_shows_utilization_in_percent(files, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--arch", TINY, "--workload", str(files["workload"]), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    util = json.loads((out / "summary.json").read_text())["utilization"]
    assert f"utilization {util:.2%}" in text


# ------------------------------------------------------------------ approximation outputs
def _truncated_metrics(t: int) -> dict[str, float]:
    """EvoApprox metrics of the product with its t low bits zeroed, by brute force (percent)."""
    a = np.arange(256)[:, None]
    b = np.arange(256)[None, :]
    exact = a * b
    err = exact % (1 << t)
    nz = exact != 0
    return {"mae": 100 * err.mean() / 65536, "wce": 100 * err.max() / 65536,
            "mre": 100 * (err[nz] / exact[nz]).mean(), "ep": 100 * np.count_nonzero(err) / err.size}


def test_layers_carry_multiplier_metrics_and_no_mac_label_without_macs(approx_run):
    rows = {r["layer"]: r for r in read_csv(approx_run / "layers.csv")}
    assert rows["conv1"]["mac_config"] == "exact"
    assert rows["conv2"]["mac_config"] == rows["fc"]["mac_config"] == "t4"
    assert rows["pool1"]["mac_config"] == rows["add1"]["mac_config"] == "none"
    want = _truncated_metrics(4)
    for key in ("mae", "mre", "wce", "ep"):
        assert float(rows["conv2"][f"mul_{key}_percent"]) == pytest.approx(want[key], rel=1e-12)
        assert float(rows["conv1"][f"mul_{key}_percent"]) == 0.0
        assert rows["pool1"][f"mul_{key}_percent"] == ""
    summary = json.loads((approx_run / "summary.json").read_text())
    assert summary["mac_error_metrics_percent"]["t4"]["wce"] == pytest.approx(want["wce"])


def test_unmatched_pattern_warns_and_the_run_goes_on(files, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--arch", TINY, "--workload", str(files["workload"]), "--approx", str(files["approx"]),
                 "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "layers.resnet_only_layer: matches no layer" in err


def test_exact_run_has_no_metric_columns(files, tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--arch", TINY, "--workload", str(files["workload"]), "--out", str(out), "--quiet"]) == 0
    header = read_csv(out / "layers.csv")[0]
    assert not [k for k in header if k.startswith("mul_")]
    assert "mac_error_metrics_percent" not in json.loads((out / "summary.json").read_text())
