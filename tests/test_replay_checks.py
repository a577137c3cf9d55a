"""Replaying a trace checks its header: the architecture it was made for, its workload name, and the
approximation file its MAC configurations come from."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ARCH_DIR
from simulator.cli import main

TINY = str(ARCH_DIR / "tiny.yaml")

WORKLOAD = """\
version: 1
name: replay_small
layers:
  - {name: conv1, type: conv, input: [8, 8, 8], out_channels: 16, kernel: 3, padding: 1}
  - {name: pool1, type: pool, mode: max, input: [16, 8, 8], kernel: 2, stride: 2}
  - {name: fc, type: fc, in_features: 256, out_features: 10}
"""
APPROX = """\
version: 1
configs:
  drum4: {type: lut, generator: {kind: drum, k: 4}, relative_power: 0.45}
default: drum4
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("replay")
    (d / "w.yaml").write_text(WORKLOAD)
    (d / "a.yaml").write_text(APPROX)
    assert main(["trace", "--arch", TINY, "--workload", str(d / "w.yaml"), "--out", str(d / "exact.jsonl")]) == 0
    assert main(["trace", "--arch", TINY, "--workload", str(d / "w.yaml"), "--approx", str(d / "a.yaml"),
                 "--out", str(d / "approx.jsonl")]) == 0
    return {"dir": d, "exact": d / "exact.jsonl", "approx": d / "approx.jsonl", "approx_file": d / "a.yaml"}


def test_workload_name_from_the_header(made, tmp_path):
    out = tmp_path / "run"
    assert main(["run", "--arch", TINY, "--trace", str(made["exact"]), "--out", str(out), "--quiet"]) == 0
    assert json.loads((out / "summary.json").read_text())["workload"] == "replay_small"


def test_other_architecture_is_an_error_unless_forced(made, tmp_path, capsys, write_arch):
    other = write_arch({"chiplet.noc.link_width_bits": 32}, base="tiny")  # same name, other content
    args = ["run", "--arch", str(other), "--trace", str(made["exact"]), "--quiet"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "generated for architecture 'tiny'" in err and "arch_hash" in err and "--force" in err
    assert not (tmp_path / "a").exists()
    assert main(args + ["--out", str(tmp_path / "b"), "--force"]) == 0
    assert "replayed anyway (--force)" in capsys.readouterr().err
    assert (tmp_path / "b" / "summary.json").is_file()


def test_approximate_trace_needs_its_approximation_file(made, tmp_path, capsys):
    args = ["run", "--arch", TINY, "--trace", str(made["approx"]), "--quiet"]
    assert main(args + ["--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "--approx FILE" in err and "'drum4'" in err and str(made["approx_file"]) in err
    assert "Traceback" not in err
    assert main(args + ["--out", str(tmp_path / "b"), "--approx", str(made["approx_file"])]) == 0


def test_approximation_file_without_the_trace_configs(made, tmp_path, capsys):
    other = made["dir"] / "other.yaml"
    other.write_text("version: 1\nconfigs:\n  t2: {type: lut, generator: {kind: truncated, t: 2}, "
                     "relative_power: 0.9}\ndefault: t2\n")
    assert main(["run", "--arch", TINY, "--trace", str(made["approx"]), "--approx", str(other), "--quiet",
                 "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err
    assert "does not define" in err and "'drum4'" in err


def test_compute_steps_without_slices_are_counted_in_lock_step_with_a_warning(made, tmp_path, capsys):
    """A generated trace names every PE's work (no warning); with the ``data`` of its compute lines
    removed, and the ``k`` of its vector step, replay warns how many steps are counted in lock-step
    and in which layers (docs/trace-format.md, "Actions of a compute step")."""
    assert main(["run", "--arch", TINY, "--trace", str(made["exact"]), "--out", str(tmp_path / "a"),
                 "--quiet"]) == 0
    assert "per-PE work slices" not in capsys.readouterr().err
    lines = made["exact"].read_text().splitlines()
    computes = 0
    for i, line in enumerate(lines[1:], start=1):
        record = json.loads(line)
        if record.get("op") == "compute":
            computes += 1
            record.pop("data" if record.get("vector_ops") is None else "k")
            lines[i] = json.dumps(record)
    bare = tmp_path / "bare.jsonl"
    bare.write_text("\n".join(lines) + "\n")
    assert main(["run", "--arch", TINY, "--trace", str(bare), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    err = " ".join(capsys.readouterr().err.split())
    assert f"{computes} of {computes} compute transactions (layers conv1, pool1, fc) give no per-PE work slices" in err
    assert "counted as if every PE did the whole step" in err
