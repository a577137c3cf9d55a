"""``axsim accuracy``: files written, Monte Carlo statistics, bad datasets."""
from __future__ import annotations

import json

import numpy as np
import pytest

from simulator.accuracy.evaluate import load_dataset, mean_ci
from simulator.cli import main
from simulator.errors import InputError

from conftest import ROOT

WL = str(ROOT / "workloads" / "digits_cnn.yaml")


def test_accuracy_command_writes_results(tmp_path, capsys):
    out = tmp_path / "acc"
    assert main(["accuracy", "--workload", WL, "--ber", "0.02", "--seeds", "4", "--limit", "120",
                 "--out", str(out)]) == 0
    data = json.loads((out / "accuracy.json").read_text())
    assert data["samples"] == 120 and data["monte_carlo_seeds"] == 4
    accs = data["seed_accuracies"]
    mean, half = mean_ci([data["exact_accuracy"] - a for a in accs])
    assert data["loss_mean"] == pytest.approx(mean) and data["loss_ci95"] == pytest.approx(half)
    assert data["approx_accuracy"] == data["exact_accuracy"]  # no approximation file: exact MACs
    assert mean > 0.0  # 2% of the bits flipped costs accuracy
    rows = (out / "accuracy_layers.csv").read_text().splitlines()
    assert rows[0].startswith("layer,mae_approx") and len(rows) == 5
    assert "with bit errors" in capsys.readouterr().out


def test_same_seed_same_numbers(tmp_path):
    for name in ("a", "b"):
        main(["accuracy", "--workload", WL, "--ber", "0.01", "--seeds", "2", "--limit", "50",
              "--seed", "7", "--out", str(tmp_path / name)])
    assert (tmp_path / "a" / "accuracy.json").read_bytes() == (tmp_path / "b" / "accuracy.json").read_bytes()


def test_mean_ci_matches_t_formula():
    mean, half = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5 and half == pytest.approx(3.182 * np.std([1, 2, 3, 4], ddof=1) / 2)
    assert mean_ci([0.3]) == (0.3, 0.0)


def test_bad_datasets(tmp_path, capsys):
    np.savez(tmp_path / "noy.npz", x=np.zeros((3, 8, 8)))
    with pytest.raises(InputError, match="noy.npz: y: missing array"):
        load_dataset(tmp_path / "noy.npz")
    np.savez(tmp_path / "count.npz", x=np.zeros((3, 8, 8)), y=np.zeros(4, int))
    with pytest.raises(InputError, match="count.npz: y: 4 labels for 3 samples"):
        load_dataset(tmp_path / "count.npz")
    np.savez(tmp_path / "labels.npz", x=np.zeros((3, 8, 8)), y=np.array([0, 12, 1]))
    assert main(["accuracy", "--workload", WL, "--dataset", str(tmp_path / "labels.npz")]) == 2
    assert "labels.npz: y: label 12: the network has 10 outputs" in capsys.readouterr().err
    np.savez(tmp_path / "shape.npz", x=np.zeros((3, 9, 9)), y=np.zeros(3, int))
    assert main(["accuracy", "--workload", WL, "--dataset", str(tmp_path / "shape.npz")]) == 2
    assert "input samples of shape (1, 9, 9)" in capsys.readouterr().err
    assert main(["accuracy", "--workload", WL, "--ber-on", "weights,links"]) == 2
    assert "--ber-on 'weights,links'" in capsys.readouterr().err


def test_accuracy_with_arch_corrupts_per_pe_copies(tmp_path):
    out = tmp_path / "r"
    assert main(["accuracy", "--workload", WL, "--arch", str(ROOT / "arch" / "simba.yaml"), "--ber", "0.01",
                 "--seeds", "2", "--limit", "60", "--out", str(out)]) == 0
    data = json.loads((out / "accuracy.json").read_text())
    assert data["energy_pj"] > 0 and (out / "summary.json").exists() and (out / "layers.csv").exists()
    assert len(data["seed_accuracies"]) == 2


def test_synthetic_ber_with_a_block_wise_file_uses_the_exact_mapping(tmp_path):
    """--ber without --arch: the per-PE copies of exact MACs on arch/simba.yaml (whose PEs could not
    run the block-wise file); the MACs of the file still compute."""
    out = tmp_path / "b"
    assert main(["accuracy", "--approx", str(ROOT / "examples/approx/axbxp_msb3.yaml"), "--ber", "0.001",
                 "--seeds", "2", "--limit", "40", "--out", str(out)]) == 0
    data = json.loads((out / "accuracy.json").read_text())
    assert data["copies_of"] == "arch/simba.yaml (exact MACs)" and data["errors"].startswith("synthetic uniform")
