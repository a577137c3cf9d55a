"""Sweep files: every problem is reported with file and key path before any point runs."""
import pytest

from _sweep_util import sweep_data, write_sweep
from simulator.cli import main
from simulator.dse.spec import Range, load_sweep
from simulator.errors import InputError


def problems(tmp_path, **over):
    path = write_sweep(tmp_path, sweep_data(**over))
    with pytest.raises(InputError) as info:
        load_sweep(path)
    assert info.value.file == str(path)
    return {p.path: p.message for p in info.value.problems}


def test_valid_sweep_expands_knobs(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, sweep_data()))
    assert [k.name for k in sweep.knobs] == ["pe_mac", "noc_bits", "conv_mac"]
    assert sweep.grid_size == 1 * 2 * 2
    noc = sweep.knobs[1]
    assert (noc.kind, noc.target, noc.values, noc.baseline, noc.klass) == (
        "arch", "chiplet.noc.link_width_bits", (32, 64), 64, "structural")  # tiny.yaml has 64
    mac = sweep.knobs[2]
    assert (mac.kind, mac.target, mac.baseline, mac.family) == ("approx", "conv", "exact", "compute")


def test_bad_knob_path_lists_nearest_keys(tmp_path):
    knobs = sweep_data()["knobs"]
    knobs[1] = {"path": "chiplet.noc.link_with_bits", "values": [32]}
    found = problems(tmp_path, knobs=knobs)
    msg = found["knobs[1].path"]
    assert "'chiplet.noc.link_with_bits'" in msg and "nearest valid keys" in msg
    assert "chiplet.noc.link_width_bits" in msg


def test_bad_knob_path_stops_the_cli_before_anything_runs(tmp_path, capsys):
    knobs = sweep_data()["knobs"]
    knobs[1] = {"path": "chiplet.global_bufer.size_bytes", "values": [8192]}
    path = write_sweep(tmp_path, sweep_data(knobs=knobs))
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{path}: knobs[1].path:" in err and "chiplet.global_buffer.size_bytes" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_knob_value_that_breaks_the_architecture_is_named(tmp_path):
    knobs = sweep_data()["knobs"]
    knobs[1] = {"path": "chiplet.global_buffer.size_bytes", "values": [16384, 100]}
    found = problems(tmp_path, knobs=knobs)
    assert "knobs[1].values[1]" in found
    assert "100" in found["knobs[1].values[1]"] and "global_buffer.size_bytes" in found["knobs[1].values[1]"]
    assert "knobs[1].values[0]" not in found


def test_path_of_the_format_absent_from_the_file_is_accepted(tmp_path):
    # chiplet.pe.mac is not written in tiny.yaml but is a key of the architecture format
    sweep = load_sweep(write_sweep(tmp_path, sweep_data()))
    assert sweep.knobs[0].target == "chiplet.pe.mac"


def test_approximation_knob_problems(tmp_path):
    knobs = sweep_data()["knobs"]
    knobs[2] = {"layers": "layer9.*", "values": ["exact", "msb7"]}
    found = problems(tmp_path, knobs=knobs)
    assert "msb7" in found["knobs[2].values[1]"] and "msb3" in found["knobs[2].values[1]"]
    assert "matches no layer" in found["knobs[2].layers"]
    found = problems(tmp_path, approx=None)
    assert "needs an approximation file" in found["knobs[2].layers"]


def test_approximation_needing_hardware_the_base_lacks(tmp_path):
    knobs = sweep_data()["knobs"][1:]  # no block-wise MACs on tiny.yaml
    found = problems(tmp_path, knobs=knobs)
    assert any("block multipliers" in m for m in found.values())


def test_schema_problems(tmp_path):
    found = problems(tmp_path, objectives=[{"name": "power"}], constraints=["energy_pj < "],
                     search={"kind": "random"}, extra_key=1)
    assert "energy_pj" in found["objectives[0].name"]
    assert "METRIC OP NUMBER" in found["constraints"]
    assert "needs 'points'" in found["search"]
    assert "allowed keys" in found["extra_key"]


def test_knob_needs_one_target_and_one_value_source(tmp_path):
    knobs = [{"path": "clock_ghz", "layers": "conv", "values": [1.0]}, {"path": "clock_ghz"}]
    found = problems(tmp_path, knobs=knobs)
    assert "exactly one of 'path'" in found["knobs[0]"]
    assert "exactly one of 'values'" in found["knobs[1]"]


def test_accuracy_objective_without_an_evaluator_is_refused(tmp_path, monkeypatch):
    from simulator.dse import evaluate as ev
    monkeypatch.setattr(ev, "_ACCURACY", [])
    monkeypatch.setattr(ev, "_default_accuracy", lambda: None)  # a build without the inference engine
    found = problems(tmp_path, objectives=[{"name": "energy_pj"}, {"name": "accuracy_loss"}])
    assert "no accuracy evaluator" in found["objectives"]


def test_missing_files_are_named(tmp_path):
    found = problems(tmp_path, workload="nowhere.yaml")
    assert "no such file" in found["workload"]


def test_range_is_inclusive_and_keeps_integers():
    assert Range(start=32, stop=128, step=32).values() == [32, 64, 96, 128]
    assert Range(start=0.4, stop=1.0, step=0.2).values() == [0.4, 0.6, 0.8, 1.0]
    assert Range(start=1, stop=2, step=0.5).values() == [1.0, 1.5, 2.0]
    with pytest.raises(ValueError):
        Range(start=2, stop=1, step=1).values()


def test_tech_knob_is_energy_only_and_checked(tmp_path):
    knobs = sweep_data()["knobs"] + [{"path": "tech", "values": ["tech/simba_16nm.yaml", "tech/none.yaml"]}]
    found = problems(tmp_path, knobs=knobs)
    assert "no such technology file" in found["knobs[3].values[1]"]


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield prefix + (i,)
            yield from _paths(v, prefix + (i,))


def test_mutated_sweep_files_end_in_a_clear_error_or_a_valid_sweep(tmp_path):
    """Every key deleted or replaced by a wrong value: load_sweep accepts the file or raises an
    AxsimError naming it, never another exception."""
    import copy

    from simulator.errors import AxsimError
    base = sweep_data(constraints=["latency_cycles <= 1e9"])
    outcomes = {"ok": 0, "error": 0}
    for path in list(_paths(base)):
        for mutant in ("delete", "not-a-number", -7, None, 0.5, ["x", "x"], {"zz": 1}):
            data = copy.deepcopy(base)
            parent = data
            for key in path[:-1]:
                parent = parent[key]
            if mutant == "delete":
                del parent[path[-1]]
            else:
                parent[path[-1]] = mutant
            file = write_sweep(tmp_path, data, "m.yaml")
            try:
                load_sweep(file)
                outcomes["ok"] += 1
            except AxsimError as exc:
                assert str(file) in str(exc), (path, mutant, str(exc))
                outcomes["error"] += 1
    assert outcomes["error"] > 100 and outcomes["ok"] > 0
