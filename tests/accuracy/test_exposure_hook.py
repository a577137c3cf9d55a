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
    assert main(["accuracy", "--arch", str(ROOT / "arch/simba_lowpower.yaml"), "--arch-errors", "--seeds", "2",
                 "--limit", "40", "--out", str(out)]) == 0
    acc = json.loads((out / "accuracy.json").read_text())
    assert acc["arch_errors"] is True and len(acc["seed_accuracies"]) == 2
    assert (out / "exposure.npz").is_file()
    assert main(["accuracy", "--arch-errors", "--limit", "5"]) == 2
    assert "--arch-errors needs --arch" in capsys.readouterr().err
