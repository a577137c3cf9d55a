"""Point evaluation: the concrete architecture, reuse (runs, re-pricing, accuracy) and what each row records."""

import pytest
import yaml

from _sweep_util import BLOCK_MAC, SMALL, sweep_data, write_sweep
from conftest import arch_data
from simulator import api
from simulator.macs.approxfile import load_approx, resolve
from simulator.dse.evaluate import GroupContext, Point, evaluate, run_group
from simulator.dse.spec import load_sweep


@pytest.fixture
def sweep(tmp_path):
    return load_sweep(write_sweep(tmp_path, sweep_data()))


def direct(tmp_path, noc_bits, conv_mac, tech=None):
    """Independent path: edit the architecture file by hand, resolve the plan, simulate."""
    data = arch_data("tiny")
    data["chiplet"]["noc"]["link_width_bits"] = noc_bits
    data["chiplet"]["pe"]["mac"] = dict(BLOCK_MAC)
    if tech:
        data["tech"] = tech
    path = tmp_path / f"direct_{noc_bits}_{conv_mac}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    arch = api.load_arch(path)
    workload = api.load_workload(SMALL)
    spec = load_approx(sweep_data()["approx"])
    spec = type(spec)(spec.file, spec.name, spec.configs, spec.default, (("conv", conv_mac),))
    return api.simulate(arch, workload, plan=resolve(spec, arch, [layer.name for layer in workload.layers]))


def test_point_equals_a_hand_made_run(sweep, tmp_path):
    row = evaluate(sweep, Point(0, {"pe_mac": BLOCK_MAC, "noc_bits": 32, "conv_mac": "msb2"}), GroupContext())
    ref = direct(tmp_path, 32, "msb2")
    assert (row["status"], row["reused"]) == ("ok", "none")
    assert row["energy_pj"] == ref.energy_pj and row["latency_cycles"] == ref.latency_cycles
    assert row["edp_pj_cycles"] == ref.energy_pj * ref.latency_cycles
    # the knob values really change the result (a swapped knob would not match)
    other = direct(tmp_path, 64, "exact")
    assert (other.energy_pj, other.latency_cycles) != (ref.energy_pj, ref.latency_cycles)


def test_cache_hits_return_identical_results(sweep):
    p = {"pe_mac": BLOCK_MAC, "noc_bits": 32, "conv_mac": "msb2"}
    ctx = GroupContext()
    first = evaluate(sweep, Point(0, p), ctx)
    again = evaluate(sweep, Point(1, p), ctx)            # same configuration: the run is reused
    fresh = evaluate(sweep, Point(1, p), GroupContext())  # no cache
    assert again["reused"] == "run" and fresh["reused"] == "none"
    for key in ("energy_pj", "latency_cycles", "edp_pj_cycles", "structural_hash"):
        assert first[key] == again[key] == fresh[key]


def scaled_tech(tmp_path, factor):
    """A copy of the 16 nm table with every energy and leakage figure multiplied by ``factor``."""
    from conftest import TECH_DIR
    data = yaml.safe_load((TECH_DIR / "simba_16nm.yaml").read_text())
    for entry in data["energy"].values():
        entry["pj"] = entry["pj"] * factor
    for entry in (data.get("leakage") or {}).values():
        entry["mw"] = entry["mw"] * factor
    path = tmp_path / f"tech_x{factor}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_energy_only_knob_is_repriced_not_resimulated(tmp_path):
    from conftest import TECH_DIR
    base, double = str(TECH_DIR / "simba_16nm.yaml"), scaled_tech(tmp_path, 2.0)
    knobs = sweep_data()["knobs"] + [{"name": "tech_table", "path": "tech", "values": [base, double]}]
    sweep = load_sweep(write_sweep(tmp_path, sweep_data(knobs=knobs)))
    assert sweep.knobs[-1].klass == "energy"
    values = {"pe_mac": BLOCK_MAC, "noc_bits": 64, "conv_mac": "exact"}
    rows = run_group(sweep, [Point(0, {**values, "tech_table": base}), Point(1, {**values, "tech_table": double})],
                     None)
    assert [r["reused"] for r in rows] == ["none", "run+reprice"]
    assert rows[0]["structural_hash"] == rows[1]["structural_hash"]
    assert rows[1]["latency_cycles"] == rows[0]["latency_cycles"]
    ref = direct(tmp_path, 64, "exact", tech=double)  # independent run on the scaled table
    assert rows[1]["energy_pj"] == pytest.approx(ref.energy_pj, rel=1e-12)
    assert rows[1]["energy_pj"] == pytest.approx(2 * rows[0]["energy_pj"], rel=1e-9)


def test_invalid_combination_is_a_row_with_its_reason(tmp_path):
    knobs = sweep_data()["knobs"] + [
        {"name": "gb", "path": "chiplet.global_buffer.size_bytes", "values": [16384, 2048]},
        {"name": "ib", "path": "chiplet.pe.input_buffer.size_bytes", "values": [2048, 4096]}]
    sweep = load_sweep(write_sweep(tmp_path, sweep_data(knobs=knobs)))
    row = evaluate(sweep, Point(0, {"pe_mac": BLOCK_MAC, "noc_bits": 64, "conv_mac": "exact",
                                    "gb": 2048, "ib": 4096}), GroupContext())
    assert (row["status"], row["feasible"], row["energy_pj"]) == ("invalid", False, "")
    assert "global_buffer.size_bytes" in row["message"] and "gb=2048" in row["message"]


def test_constraints_mark_feasibility(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, sweep_data(constraints=["latency_cycles <= 2500"])))
    rows = run_group(sweep, [Point(0, {"pe_mac": BLOCK_MAC, "noc_bits": 32, "conv_mac": "exact"}),
                             Point(1, {"pe_mac": BLOCK_MAC, "noc_bits": 32, "conv_mac": "msb2"})], None)
    for r in rows:
        assert r["feasible"] == (r["latency_cycles"] <= 2500)
    assert {r["feasible"] for r in rows} == {True, False}


def test_accuracy_seam_is_called_once_per_accuracy_configuration(tmp_path, monkeypatch):
    """With an evaluator registered, accuracy_loss is measured once per accuracy hash and reused
    for points that differ only in energy-only, non-error-rate keys (the technology table)."""
    from conftest import TECH_DIR
    from simulator.dse import evaluate as ev
    calls = []

    def fake_accuracy(arch, workload, plan, dataset, seed):
        calls.append(plan.model_for("conv").name)
        return {"exact": 0.0, "msb2": 0.25}[plan.model_for("conv").name]
    monkeypatch.setattr(ev, "_ACCURACY", [fake_accuracy])
    dataset = tmp_path / "data.bin"
    dataset.write_bytes(b"\x01\x02")
    base, double = str(TECH_DIR / "simba_16nm.yaml"), scaled_tech(tmp_path, 2.0)
    knobs = sweep_data()["knobs"] + [{"name": "tech_table", "path": "tech", "values": [base, double]}]
    sweep = load_sweep(write_sweep(tmp_path, sweep_data(
        knobs=knobs, dataset=str(dataset), objectives=[{"name": "energy_pj"}, {"name": "accuracy_loss"}],
        constraints=["accuracy_loss <= 0.1"])))
    v = {"pe_mac": BLOCK_MAC, "noc_bits": 64}
    rows = run_group(sweep, [Point(0, {**v, "conv_mac": "msb2", "tech_table": base}),
                             Point(1, {**v, "conv_mac": "msb2", "tech_table": double})], None)
    assert calls == ["msb2"]
    assert [r["reused"] for r in rows] == ["none", "run+reprice+accuracy"]
    assert [r["accuracy_loss"] for r in rows] == [0.25, 0.25]
    assert [r["feasible"] for r in rows] == [False, False]
    monkeypatch.setattr(ev, "_ACCURACY", [])
    monkeypatch.setattr(ev, "_default_accuracy", lambda: None)  # a build without the inference engine
    with pytest.raises(Exception, match="no accuracy evaluator"):
        run_group(sweep, [Point(2, {**v, "conv_mac": "exact", "tech_table": base})], None)


def test_operating_points_repriced_in_a_batch_equal_independent_runs(tmp_path):
    """Swing and Vdd points of one group are re-priced in one vectorised call; each must equal a
    run simulated from scratch on an architecture file edited by hand."""
    knobs = sweep_data()["knobs"] + [
        {"name": "noc_swing", "path": "chiplet.noc.swing_v", "values": [0.8, 0.5], "family": "communication"},
        {"name": "wb_vdd", "path": "chiplet.pe.weight_buffer.vdd_v", "values": [0.8, 0.6], "family": "memory"}]
    sweep = load_sweep(write_sweep(tmp_path, sweep_data(knobs=knobs)))
    base = {"pe_mac": BLOCK_MAC, "noc_bits": 64, "conv_mac": "exact"}
    combos = [(0.8, 0.8), (0.5, 0.8), (0.8, 0.6), (0.5, 0.6)]
    rows = run_group(sweep, [Point(i, {**base, "noc_swing": s, "wb_vdd": v}) for i, (s, v) in enumerate(combos)],
                     None)
    assert [r["reused"] for r in rows] == ["none"] + ["run+reprice"] * 3
    workload = api.load_workload(SMALL)
    spec = load_approx(sweep_data()["approx"])
    energies = []
    for (s, v), row in zip(combos, rows):
        data = arch_data("tiny")
        data["chiplet"]["noc"]["swing_v"] = s
        data["chiplet"]["pe"]["mac"] = dict(BLOCK_MAC)
        data["chiplet"]["pe"]["weight_buffer"]["vdd_v"] = v
        path = tmp_path / f"op_{s}_{v}.yaml"
        path.write_text(yaml.safe_dump(data), encoding="utf-8")
        arch = api.load_arch(path)
        plan = resolve(spec, arch, [layer.name for layer in workload.layers])
        ref = api.simulate(arch, workload, plan=plan, exposure=False)
        assert row["energy_pj"] == pytest.approx(ref.energy_pj, rel=1e-9)
        assert row["latency_cycles"] == ref.latency_cycles
        energies.append(row["energy_pj"])
    # lower swing and lower Vdd each save energy; the swing and the Vdd are not swapped
    assert energies[1] < energies[0] and energies[2] < energies[0] and energies[3] < min(energies[1:3])


def test_materialised_architecture_equals_load_arch(sweep, tmp_path):
    """The in-memory path (no temporary YAML file) gives the architecture load_arch gives."""
    from simulator.dse.evaluate import materialise
    m = materialise(sweep, Point(0, {"pe_mac": BLOCK_MAC, "noc_bits": 32, "conv_mac": "msb2"}))
    path = tmp_path / "same.yaml"
    path.write_text(yaml.safe_dump(m.arch_data), encoding="utf-8")
    ref = api.load_arch(path)
    assert m.arch.model_dump(exclude={"source"}) == ref.model_dump(exclude={"source"})
    assert m.arch.chiplet.noc.link_width_bits == 32


def test_materialise_rejects_out_of_range_operating_point(tmp_path):
    """A combination outside the technology table's range is an invalid point naming the key."""
    sweep = load_sweep(write_sweep(tmp_path, sweep_data()))
    data = dict(sweep.arch_data)
    data["chiplet"] = {**data["chiplet"], "noc": {**data["chiplet"]["noc"], "swing_v": 5.0}}
    from simulator.dse.evaluate import build_arch
    from simulator.errors import AxsimError
    with pytest.raises(AxsimError, match="swing_v"):
        build_arch(sweep, data)
