"""The weight-compression knob of sweep files: checks before anything runs, the compressed run,
its decompression cost, and the compressed weights handed to the accuracy evaluator."""
from pathlib import Path

import numpy as np
import pytest

from _sweep_util import ROOT, write_sweep
from simulator import api
from simulator.compress.layers import decompression_cost, plan_for
from simulator.dse.evaluate import Point, run_group
from simulator.dse.spec import load_sweep
from simulator.errors import InputError

SIMBA = str(ROOT / "arch" / "simba.yaml")
DIGITS = str(ROOT / "workloads" / "digits_cnn.yaml")


def data(**over):
    d = {"version": 1, "name": "c", "arch": SIMBA, "workload": DIGITS,
         "knobs": [{"name": "wc", "compress": "conv*", "values": ["none", "lowbits:2", "prune:0.5"]}],
         "objectives": [{"name": "energy_pj"}, {"name": "latency_cycles"}]}
    d.update(over)
    return d


def test_bad_compression_knobs_are_named_before_anything_runs(tmp_path):
    bad = data(knobs=[{"compress": "conv*", "values": ["none", "gzip"]},
                      {"compress": "nosuch*", "values": ["zrle"]}])
    with pytest.raises(InputError) as err:
        load_sweep(write_sweep(tmp_path, bad))
    text = str(err.value)
    assert "knobs[0].values[1]" in text and "'gzip'" in text and "prune:S" in text
    assert "knobs[1].compress" in text and "matches no layer" in text
    no_weights = data(workload=str(ROOT / "workloads" / "resnet50.yaml"),
                      knobs=[{"compress": "*", "values": ["none", "zrle"]}])
    with pytest.raises(InputError, match=r"knobs\[0\].values.*zrle.*no 'weights:'.*ratio:2"):
        load_sweep(write_sweep(tmp_path, no_weights, "nw.yaml"))
    both = data(knobs=[{"compress": "*", "layers": "*", "values": ["none"]}])
    with pytest.raises(InputError, match="exactly one of"):
        load_sweep(write_sweep(tmp_path, both, "both.yaml"))


def test_compressed_point_equals_a_hand_made_run(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, data()))
    assert sweep.knobs[0].family == "compression" and sweep.knobs[0].baseline == "none"
    rows = run_group(sweep, [Point(i, {"wc": v}) for i, v in enumerate(["none", "lowbits:2"])], None)
    arch, wl = api.load_arch(SIMBA), api.load_workload(DIGITS)
    plain = api.simulate(arch, wl)
    assert rows[0]["energy_pj"] == pytest.approx(plain.energy_pj, rel=1e-12)
    assert rows[0]["decompressed_bytes"] == 0
    plan = plan_for(wl, [("conv*", "lowbits:2")])
    traces = list(api.generate_traces(arch, wl, weight_ratio=plan.ratios()))
    run = api.simulate(arch, traces=traces)
    cost = decompression_cost(plan, traces, arch.tech_table, {t.layer: t.meta["used_pes"] for t in traces})
    assert cost.bytes_decompressed > 0
    assert rows[1]["energy_pj"] == pytest.approx(run.energy_pj + cost.energy_pj, rel=1e-12)
    assert rows[1]["latency_cycles"] == run.latency_cycles + cost.latency_cycles
    n = {layer.name: layer.weight_count for layer in wl.layers}
    assert rows[1]["weight_bytes_stored"] == sum(n[c] * 6 // 8 for c in ("conv1", "conv2", "conv3")) + n["fc"]
    assert rows[0]["weight_bytes_stored"] == sum(n.values())


def test_lossy_compression_reaches_the_accuracy_evaluator(tmp_path, monkeypatch):
    from simulator.dse import evaluate as ev
    seen = []

    def fake(arch, workload, plan, dataset, seed, weights=None):
        seen.append(None if weights is None else weights.layer("conv2").weight.copy())
        return 0.0 if weights is None else 0.5
    monkeypatch.setattr(ev, "_ACCURACY", [fake])
    sweep = load_sweep(write_sweep(tmp_path, data(dataset=str(ROOT / "datasets" / "digits.npz"),
                                                  objectives=[{"name": "energy_pj"}, {"name": "accuracy_loss"}])))
    rows = run_group(sweep, [Point(0, {"wc": "none"}), Point(1, {"wc": "lowbits:2"})], None)
    assert seen[0] is None and np.all(seen[1] % 4 == 0)
    assert [r["accuracy_loss"] for r in rows] == [0.0, 0.5]


def test_point_run_folder_of_a_compressed_point(tmp_path):
    """--point N of a compressed point: the run carries the compressed bytes and records the
    decompression, whose energy plus the run's equals the sweep's row."""
    import json

    from simulator.dse.outputs import write_point_run
    from simulator.dse.runner import run_sweep
    sweep = load_sweep(write_sweep(tmp_path, data()))
    outcome = run_sweep(sweep, tmp_path / "out", jobs=1)
    row = outcome.rows[1]
    assert row["wc"] == "lowbits:2"
    folder = write_point_run(sweep, tmp_path / "out", 1)
    summary = json.loads((folder / "summary.json").read_text())
    comp = summary["weight_compression"]
    assert comp["schemes"] == {"conv1": "lowbits:2", "conv2": "lowbits:2", "conv3": "lowbits:2"}
    assert comp["decompressed_bytes"] == row["decompressed_bytes"]
    assert summary["energy_pj"] + comp["decompression_energy_pj"] == pytest.approx(row["energy_pj"], rel=1e-12)


def test_real_evaluator_measures_the_loss_of_lossy_weights(tmp_path):
    """At the nominal operating point (no bit errors) the sweep's accuracy loss of a lossy scheme
    equals the exact accuracy of the workload's weights minus that of the compressed weights,
    computed here with the int8 engine directly."""
    from simulator.accuracy.engine import infer, quantize_input
    from simulator.accuracy.evaluate import accuracy, load_dataset
    from simulator.accuracy.model import load_weights
    dataset = str(ROOT / "datasets" / "digits.npz")
    sweep = load_sweep(write_sweep(tmp_path, data(
        dataset=dataset, knobs=[{"name": "wc", "compress": "*", "values": ["none", "prune:0.8"]}],
        objectives=[{"name": "energy_pj"}, {"name": "accuracy_loss"}])))
    rows = run_group(sweep, [Point(0, {"wc": "none"}), Point(1, {"wc": "prune:0.8"})], None)
    wl = api.load_workload(DIGITS)
    model = load_weights(wl)
    x, y = load_dataset(dataset)
    codes = quantize_input(model, x)
    exact = accuracy(infer(model, codes), y)
    pruned = accuracy(infer(plan_for(wl, [("*", "prune:0.8")]).apply(model), codes), y)
    assert rows[0]["accuracy_loss"] == pytest.approx(0.0, abs=1e-12)
    assert rows[1]["accuracy_loss"] == pytest.approx(exact - pruned, abs=1e-12)
    assert rows[1]["accuracy_loss"] > 0.01  # 80% of the weights pruned: a visible loss
