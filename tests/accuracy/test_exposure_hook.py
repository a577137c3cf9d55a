"""The exposure of a run drives the int8 engine: per-PE, per-step copies of weights and inputs.

Deterministic check: a test double of the error rates flips bit 0 of every byte with
p = 1 on the NoC link (0,0) -> (0,1) of arch/tiny.yaml. The weight and input copies of the
PEs whose routes cross it ((0,1) and (1,1), X-first from the global buffer at (0,0)) have
bit 0 inverted, all others are exact, and the outputs (routes back avoid that link) are
not touched. The expected network output is computed independently: units from the
exposure, with a hook that inverts bit 0 of the weights and inputs of those two PEs.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ROOT, WORKLOAD_DIR
from simulator import api
from simulator.accuracy.engine import infer, quantize_input
from simulator.accuracy.exposure_hook import exposure_ber, units_from_exposure
from simulator.accuracy.model import load_weights
from simulator.faults.rates import zero_rates
from simulator.workload import load_workload


class BitZeroFlips:
    def link(self, network, src, dst):
        return np.array([1.0] + [0.0] * 7) if (src, dst) == ((0, 0), (0, 1)) else np.zeros(8)

    def sram_read(self, buffer, ds):
        return np.zeros(8)

    def sram_stuck(self, buffer, ds):
        return np.zeros(8)


@pytest.fixture(scope="module")
def digits():
    wl = load_workload(WORKLOAD_DIR / "digits_cnn.yaml")
    model = load_weights(wl)
    x = quantize_input(model, np.load(ROOT / "datasets" / "digits.npz")["x"][:20].astype(np.float32))
    return wl, model, x


def test_units_from_exposure_compute_the_network_exactly(digits, tiny_arch):
    wl, model, x = digits
    data = api.simulate(tiny_arch, wl, rates=zero_rates(), exposure=True).exposure.data
    units = {layer.name: units_from_exposure(data, layer) for layer in wl.layers if layer.is_compute}
    busy = sum(1 for w in data.work_slice if w[1] > w[0] and w[5] > w[4])
    assert sum(len(u) for u in units.values()) == busy  # one unit per busy PE and step
    exact = infer(model, x)
    by_units = infer(model, x, units=units, corrupt=exposure_ber(data, {l.name: l for l in wl.layers})(0))
    np.testing.assert_array_equal(by_units.output.codes, exact.output.codes)


def test_the_hook_corrupts_exactly_the_copies_behind_the_low_swing_link(digits, tiny_arch):
    wl, model, x = digits
    data = api.simulate(tiny_arch, wl, rates=BitZeroFlips(), exposure=True).exposure.data
    units = {layer.name: units_from_exposure(data, layer) for layer in wl.layers if layer.is_compute}
    hook = exposure_ber(data, {l.name: l for l in wl.layers})(0)

    def reference(layer, ds, t, unit=None):
        if unit is not None and ds in ("weights", "inputs") and unit.pe.split(" ")[0].endswith(
                ("pe[0,1]", "pe[1,1]")):
            return t ^ np.array(1, dtype=t.dtype)
        return t

    got = infer(model, x, units=units, corrupt=hook)
    want = infer(model, x, units=units, corrupt=reference)
    exact = infer(model, x, units=units)
    np.testing.assert_array_equal(got.output.codes, want.output.codes)
    assert not np.array_equal(got.output.codes, exact.output.codes)


def test_many_steps_per_pe_reuse_each_copy(tmp_path, tiny_arch):
    """A convolution that takes several steps per PE on tiny (row and column tiles): exact
    without errors, and with bit 0 inverted on the copies behind the link as the reference says."""
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "w.npz", **{
        "input.scale": np.float32(0.05), "input.zero_point": np.int64(3),
        "c.weight": rng.integers(-20, 20, size=(32, 16, 3, 3)).astype(np.int8),
        "c.bias": rng.integers(-50, 50, size=32).astype(np.int32),
        "c.weight_scale": np.full(32, 0.02, np.float32),
        "c.scale": np.float32(0.5), "c.zero_point": np.int64(10)})
    (tmp_path / "w.yaml").write_text(
        "version: 1\nname: w\nweights: w.npz\nlayers:\n"
        "  - {name: c, type: conv, input: [16, 10, 10], out_channels: 32, kernel: 3, padding: 1}\n")
    wl = load_workload(tmp_path / "w.yaml")
    model = load_weights(wl)
    x = rng.integers(0, 256, size=(5, 16, 10, 10)).astype(np.uint8)
    layers = {l.name: l for l in wl.layers}
    clean = api.simulate(tiny_arch, wl, rates=zero_rates(), exposure=True).exposure.data
    units = {"c": units_from_exposure(clean, wl.layers[0])}
    assert len(units["c"]) > 4 * len({u.pe.split(" ")[0] for u in units["c"]})
    exact = infer(model, x)
    np.testing.assert_array_equal(infer(model, x, units=units, corrupt=exposure_ber(clean, layers)(0)).output.codes,
                                  exact.output.codes)
    data = api.simulate(tiny_arch, wl, rates=BitZeroFlips(), exposure=True).exposure.data

    def reference(layer, ds, t, unit=None):
        if unit is not None and ds in ("weights", "inputs") and unit.pe.split(" ")[0].endswith(
                ("pe[0,1]", "pe[1,1]")):
            return t ^ np.array(1, dtype=t.dtype)
        return t

    got = infer(model, x, units=units, corrupt=exposure_ber(data, layers)(0)).output.codes
    np.testing.assert_array_equal(got, infer(model, x, units=units, corrupt=reference).output.codes)
    assert not np.array_equal(got, exact.output.codes)


def test_axsim_accuracy_with_the_architectures_errors(tmp_path, capsys):
    import json

    from simulator.cli import main
    out = tmp_path / "acc"
    assert main(["accuracy", "--arch", str(ROOT / "arch/simba_lowpower.yaml"), "--seeds", "2",
                 "--limit", "40", "--out", str(out)]) == 0
    acc = json.loads((out / "accuracy.json").read_text())
    assert acc["errors"].startswith("operating points of") and len(acc["seed_accuracies"]) == 2
    assert (out / "exposure.npz").is_file()


def test_axsim_accuracy_run_folder(tmp_path, capsys):
    """--run applies the run's exposure and writes into the folder without touching its files;
    the same numbers as simulating with --arch; clear errors for nominal runs and other workloads."""
    import json

    from simulator.cli import main
    run = tmp_path / "run"
    assert main(["run", "--arch", str(ROOT / "arch/simba_lowpower.yaml"), "--workload",
                 str(WORKLOAD_DIR / "digits_cnn.yaml"), "--out", str(run)]) == 0
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert main(["accuracy", "--run", str(run), "--seeds", "3", "--limit", "60"]) == 0
    after = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert set(after) - set(before) == {"accuracy.json", "accuracy_layers.csv"}
    assert all(after[k] == v for k, v in before.items())
    acc = json.loads(after["accuracy.json"])
    assert acc["run_dir"] == str(run) and len(acc["seed_accuracies"]) == 3
    assert "MAE (errors)" in capsys.readouterr().out
    fresh = tmp_path / "fresh"
    assert main(["accuracy", "--arch", str(ROOT / "arch/simba_lowpower.yaml"), "--workload",
                 str(WORKLOAD_DIR / "digits_cnn.yaml"), "--seeds", "3", "--limit", "60", "--out", str(fresh)]) == 0
    assert json.loads((fresh / "accuracy.json").read_text())["seed_accuracies"] == acc["seed_accuracies"]
    nominal = tmp_path / "nominal"
    assert main(["run", "--arch", str(ROOT / "arch/simba.yaml"), "--workload",
                 str(WORKLOAD_DIR / "digits_cnn.yaml"), "--out", str(nominal)]) == 0
    capsys.readouterr()
    assert main(["accuracy", "--run", str(nominal), "--limit", "5"]) == 2
    assert "the run has no error exposure" in capsys.readouterr().err
    other = tmp_path / "other.yaml"
    other.write_text("version: 1\nname: other\nlayers:\n"
                     "  - {name: c, type: conv, input: [1, 8, 8], out_channels: 4, kernel: 3, padding: 1}\n")
    assert main(["accuracy", "--run", str(run), "--workload", str(other), "--limit", "5"]) == 2
    assert "not the workload of run" in capsys.readouterr().err
    assert main(["accuracy", "--run", str(tmp_path), "--limit", "5"]) == 2
    assert "not a run folder" in capsys.readouterr().err


def _all_bits(data, ds):
    """``data`` with every bit of the groups of ``ds`` flipped for sure (p = 1), nothing else."""
    from simulator.accuracy.exposure_hook import uniform_exposure
    return uniform_exposure(data, 1.0, [ds])


def test_partial_sums_of_a_split_reduction_are_corrupted_on_their_way(digits, simba_arch):
    """simba splits the reductions of conv3 and fc over PEs: with p = 1 on the psums groups, every
    partial sum of part > 0 arrives inverted (~x), part 0 (which stays) and everything else exact."""
    wl, model, x = digits
    data = api.simulate(simba_arch, wl, rates=zero_rates(), exposure=True).exposure.data
    units = {layer.name: units_from_exposure(data, layer) for layer in wl.layers if layer.is_compute}
    assert any(u.c0 > 0 for u in units["fc"])
    hook = exposure_ber(_all_bits(data, "psums"), {l.name: l for l in wl.layers})(0)

    def reference(layer, ds, t, unit=None):
        return ~t if ds == "psums" and unit is not None and unit.c0 > 0 else t
    got = infer(model, x, units=units, corrupt=hook, keep=True)
    want = infer(model, x, units=units, corrupt=reference, keep=True)
    for name in ("conv1", "conv2", "conv3", "fc"):
        np.testing.assert_array_equal(got.tensors[name].codes, want.tensors[name].codes)
    assert not np.array_equal(got.output.codes, infer(model, x).output.codes)


def test_accumulator_stage_uses_p_acc(digits, simba_arch):
    """p_acc = 1 on every output group: each tile's int32 accumulator is inverted before requantization."""
    import dataclasses
    wl, model, x = digits
    data = api.simulate(simba_arch, wl, rates=zero_rates(), exposure=True).exposure.data
    units = {layer.name: units_from_exposure(data, layer) for layer in wl.layers if layer.is_compute}
    acc = dataclasses.replace(data, p_acc=np.where((data.group_ds == 2)[:, None], 1.0, 0.0).repeat(8, axis=1)
                              .astype(np.float32))
    hook = exposure_ber(acc, {l.name: l for l in wl.layers})(0)

    def reference(layer, ds, t, unit=None):
        return ~t if ds == "acc" else t
    np.testing.assert_array_equal(infer(model, x, units=units, corrupt=hook).output.codes,
                                  infer(model, x, units=units, corrupt=reference).output.codes)


def test_pool_and_add_inputs_and_outputs(tmp_path, simba_arch):
    """Pool and add layers: their input groups cover both operands of the add and the pool's input;
    with p = 1 every code arrives inverted; outputs likewise; other structures untouched."""
    (tmp_path / "pa.yaml").write_text(
        "version: 1\nname: pa\nlayers:\n"
        "  - {name: c1, type: conv, input: [4, 8, 8], out_channels: 8, kernel: 3, padding: 1}\n"
        "  - {name: c2, type: conv, input: [8, 8, 8], out_channels: 8, kernel: 3, padding: 1}\n"
        "  - {name: a, type: add, inputs: [c1, c2], input: [8, 8, 8]}\n"
        "  - {name: p, type: pool, mode: max, input: [8, 8, 8], kernel: 2, stride: 2}\n")
    wl = load_workload(tmp_path / "pa.yaml")
    layers = {l.name: l for l in wl.layers}
    # the DRAM dataflow: the add runs as its own layer (the on-package dataflow fuses it into c2)
    data = api.simulate(simba_arch, wl, rates=zero_rates(), exposure=True, dataflow="dram",
                        mapping="fixed").exposure.data
    rng = np.random.default_rng(3)
    t_add = rng.integers(0, 256, (2, 3, 8, 8, 8)).astype(np.uint8)
    t_pool = rng.integers(0, 256, (3, 8, 8, 8)).astype(np.uint8)
    t_out = rng.integers(0, 256, (3, 8, 4, 4)).astype(np.uint8)
    inputs = exposure_ber(_all_bits(data, "inputs"), layers)(0)
    np.testing.assert_array_equal(inputs("a", "inputs", t_add), ~t_add)
    np.testing.assert_array_equal(inputs("p", "inputs", t_pool), ~t_pool)
    np.testing.assert_array_equal(inputs("p", "outputs", t_out), t_out)
    outputs = exposure_ber(_all_bits(data, "outputs"), layers)(0)
    np.testing.assert_array_equal(outputs("p", "outputs", t_out), ~t_out)
    np.testing.assert_array_equal(outputs("a", "inputs", t_add), t_add)


def test_uniform_rate_flips_binomially_and_each_copy_once(digits, simba_arch):
    """--ber's synthetic rate: the number of flipped weight bits over all copies of conv2 is
    Binomial(bits, p) (within 5 sigma), steps sharing a copy see the same copy, other
    structures are untouched."""
    from simulator.accuracy.exposure_hook import uniform_exposure
    wl, model, _ = digits
    data = api.simulate(simba_arch, wl, rates=zero_rates(), exposure=True).exposure.data
    p = 0.01
    hook = exposure_ber(uniform_exposure(data, p, ["weights"]), {l.name: l for l in wl.layers}, 5)(0)
    w = model.layers[1].weight
    flipped = bits = 0
    seen = {}
    for unit in units_from_exposure(data, wl.layers[1]):
        sl = w[unit.k0:unit.k1, unit.c0:unit.c1]
        got = hook("conv2", "weights", sl, unit)
        row = int(unit.pe.rsplit("#", 1)[1])
        gid = int(data.work_weights[row])
        if gid in seen:
            assert got is seen[gid]
            continue
        seen[gid] = got
        flipped += int(np.unpackbits((got.view(np.uint8) ^ sl.view(np.uint8)).ravel()).sum())
        bits += sl.size * 8
        x_in = np.arange(24, dtype=np.uint8).reshape(1, 1, 4, 6)
        np.testing.assert_array_equal(hook("conv2", "inputs", x_in, unit), x_in)
    mean, sd = bits * p, np.sqrt(bits * p * (1 - p))
    assert abs(flipped - mean) < 5 * sd and bits > 10_000
