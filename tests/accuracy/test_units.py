"""Work units from a run's exposure (one per PE and step of the mapping): together exactly the layer."""
from __future__ import annotations

import numpy as np
import pytest

from simulator.accuracy.engine import infer, quantize_input
from simulator.accuracy.model import load_weights
from simulator import api
from simulator.accuracy.exposure_hook import units_of_run
from simulator.faults.rates import zero_rates
from simulator.mapping.weight_stationary import map_layer
from simulator.workload import load_workload

from conftest import ROOT, WORKLOAD_DIR


@pytest.fixture(scope="module")
def digits():
    wl = load_workload(WORKLOAD_DIR / "digits_cnn.yaml")
    model = load_weights(wl)
    x = quantize_input(model, np.load(ROOT / "datasets" / "digits.npz")["x"][:40].astype(np.float32))
    return wl, model, x


@pytest.mark.parametrize("arch_name", ["simba", "tiny"])
def test_mapped_units_compute_the_layer_exactly(digits, request, arch_name):
    arch = request.getfixturevalue(f"{arch_name}_arch")
    wl, model, x = digits
    data = api.simulate(arch, wl, rates=zero_rates(), exposure=True, mapping="fixed").exposure.data  # as map_layer
    units = units_of_run(data, wl.layers)
    for layer in wl.layers:
        trace = map_layer(layer, arch)
        assert len({u.pe.split(" ")[0] for u in units[layer.name]}) == trace.meta["used_pes"]
        macs = sum((u.k1 - u.k0) * (u.p1 - u.p0) * (u.q1 - u.q0) * (u.c1 - u.c0) * layer.kernel_h * layer.kernel_w
                   for u in units[layer.name])
        assert macs == layer.macs
    if arch_name == "simba":  # output channels, rows and reductions are all split
        flat = [u for us in units.values() for u in us]
        assert any(u.c0 > 0 for u in flat) and any(u.p0 > 0 for u in flat) and any(u.k0 > 0 for u in flat)
    seen = {}

    def spy(name, ds, t, unit):
        seen.setdefault((name, ds), []).append(unit)
        return t
    got = infer(model, x, units=units, corrupt=spy, keep=True)
    exact = infer(model, x, keep=True)
    for layer in wl.layers:
        np.testing.assert_array_equal(got.tensors[layer.name].codes, exact.tensors[layer.name].codes)
        assert len(seen[(layer.name, "weights")]) == len(units[layer.name])
