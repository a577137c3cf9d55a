"""Bit-error study and the sweep accuracy evaluator: exposure per operating point from one journey walk."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from conftest import ROOT, WORKLOAD_DIR
from simulator import api
from simulator.accuracy.evaluate import evaluate, load_dataset
from simulator.accuracy.exposure_hook import exposure_ber, units_of_run
from simulator.accuracy.model import load_weights
from simulator.accuracy.runs import exposure_at, journeys_of
from simulator.accuracy.study import OperatingPoint, operating_points

DATA = ROOT / "datasets" / "digits.npz"


@pytest.fixture(scope="module")
def digits():
    return api.load_workload(WORKLOAD_DIR / "digits_cnn.yaml")


def test_exposure_at_an_operating_point_equals_simulating_it(digits, simba_arch):
    """Journeys walked once at the base point, priced at another point, give the exposure that a
    simulation at that point computes (probabilities, stuck cells, work records)."""
    variant = api.with_operating_point(simba_arch, OperatingPoint("swing+vdd", 0.45, 0.55).edits())
    got = exposure_at(journeys_of(simba_arch, digits), variant, 3)
    want = api.simulate(variant, digits, seed=3, exposure=True).exposure.data
    for name in ("p_flip", "p_acc", "stuck_group", "stuck_element", "stuck_bit", "work_slice", "work_weights"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))
    assert len(want.stuck_element) > 0 and want.p_flip.max() > 1e-5


def test_operating_points_alone_and_combined():
    pts = operating_points([0.5, 0.4], [0.6])
    assert [(p.knob, p.swing_v, p.vdd_v) for p in pts] == [
        ("nominal", None, None), ("swing", 0.5, None), ("swing", 0.4, None), ("vdd", None, 0.6),
        ("swing+vdd", 0.5, 0.6), ("swing+vdd", 0.4, 0.6)]
    assert pts[3].edits()["chiplet.pe.weight_buffer.vdd_v"] == 0.6 and "package.nop.swing_v" not in pts[3].edits()


def test_study_command(tmp_path):
    from simulator.cli import main
    out = tmp_path / "s"
    assert main(["study", "ber", "--arch", str(ROOT / "arch/tiny.yaml"), "--workload",
                 str(WORKLOAD_DIR / "digits_cnn.yaml"), "--swing", "0.4", "--vdd", "0.55", "--seeds", "2",
                 "--limit", "60", "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "study_ber.csv").open()))
    assert [r["knob"] for r in rows] == ["nominal", "swing", "vdd", "swing+vdd"]
    e = [float(r["energy_pj"]) for r in rows]
    assert e[1] < e[0] and e[2] < e[0] and e[3] < min(e[1], e[2])  # lower swing / supply: less energy
    assert float(rows[0]["loss_mean"]) == 0.0  # nominal BER ~1e-12: no flip in 60 images
    assert float(rows[1]["mean_ber_weights"]) > 1e-4 > float(rows[0]["mean_ber_weights"])
    assert (out / "accuracy_vs_ber.png").stat().st_size > 0 and (out / "accuracy_vs_energy.png").is_file()
    assert main(["study", "ber", "--out", str(out)]) == 2


def test_sweep_evaluator_is_the_exposure_path(digits, monkeypatch):
    """The sweep's default evaluator: the mean loss of the exposure at the point's operating
    points, as computed through a simulation of that point."""
    from simulator.accuracy.sweep_eval import accuracy_loss
    from simulator.dse import evaluate as ev
    monkeypatch.setattr(ev, "_ACCURACY", [])
    assert ev.accuracy_evaluator() is accuracy_loss
    arch = api.load_arch(ROOT / "arch/simba_lowpower.yaml")
    x, y = load_dataset(DATA)
    model = load_weights(digits)
    data = api.simulate(arch, digits, exposure=True).exposure.data
    report = evaluate(model, x, y, None, exposure_ber(data, {ly.name: ly for ly in digits.layers}, 0), 3,
                      units_of_run(data, digits.layers))
    want = float(np.mean([report.exact_accuracy - a for a in report.seed_accuracies]))
    assert accuracy_loss(arch, digits, None, DATA, 0, seeds=3) == pytest.approx(want, abs=1e-12)
    assert want > 0  # the low-power point costs accuracy


def test_sweep_with_an_accuracy_objective_runs_end_to_end(tmp_path):
    """A sweep file with an accuracy_loss objective: no registration by hand, one loss per point,
    zero at the nominal swing (BER ~1e-12) and positive at 0.4 V on simba's NoP."""
    from simulator.cli import main
    (tmp_path / "s.yaml").write_text(f"""version: 1
name: acc
arch: {ROOT / 'arch/simba.yaml'}
workload: {WORKLOAD_DIR / 'digits_cnn.yaml'}
dataset: {DATA}
knobs:
  - {{name: nop_swing, path: package.nop.swing_v, values: [0.8, 0.4]}}
objectives:
  - {{name: energy_pj, goal: min}}
  - {{name: accuracy_loss, goal: min}}
search: {{kind: grid}}
""")
    assert main(["sweep", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "out"), "--jobs", "1"]) == 0
    rows = list(csv.DictReader((tmp_path / "out" / "results.csv").open()))
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert float(rows[0]["accuracy_loss"]) == 0.0 and float(rows[1]["accuracy_loss"]) > 0.01
