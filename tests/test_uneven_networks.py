"""MAC actions of whole networks equal their true MAC counts (docs/models.md, "Exact actions of
uneven splits"): the lock-step steps of unevenly split layers are sized by the largest part, but
each PE counts its own work slice.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

from conftest import ARCH_DIR, WORKLOAD_DIR
from simulator import api
from simulator.hw.mac import MacPlan
from simulator.macs.timing import exact_model


def lock_step_macs(trace) -> int:
    """What one compute transaction per chiplet and step sized by the largest part would count."""
    return sum(t.pes * t.k * t.c * t.rs * t.pixels for t in trace.txns if t.op == "compute")


@pytest.mark.parametrize("mapping", ["fixed", "search"])
def test_every_resnet50_layer_counts_its_true_macs(mapping, simba_arch):
    """ResNet-50 on simba: per layer, the MAC actions equal K·(C/groups)·R·S·P·Q of the layer
    (workload.total_macs), under the fixed mapping and under the search; some layers are split
    unevenly (their lock-step size exceeds their MACs: 8/7 in the 14 x 14 and 7 x 7 layers), so the equality
    is not that of even splits."""
    wl = api.load_workload(WORKLOAD_DIR / "resnet50.yaml")
    traces = list(api.generate_traces(simba_arch, wl, mapping=mapping))
    padded = {tr.layer: lock_step_macs(tr) / tr.macs for tr in traces if tr.macs}
    assert max(padded.values()) >= 8 / 7 - 1e-12
    result = api.simulate(simba_arch, traces=traces)
    by_name = {layer.name: layer.macs for layer in wl.layers}
    for layer in result.layers:
        assert layer.count("mac.op") == by_name[layer.name], (mapping, layer.name)
    assert sum(layer.count("mac.op") for layer in result.layers) == wl.total_macs()


def test_axbxp_storage_only_keeps_the_mac_energy():
    """Exact MACs with 4-bit stored operands (the Ax-BxP study's `storage only`) against the exact
    BxP run of MobileNetV2 on simba_axbxp (axsim run's defaults: searched mapping): the mapping
    differs (other partitions for narrower operands, so other latencies), the MAC actions do not.
    Each MAC-class action count is equal; the energies are equal up to the rounding of summing the
    same products in another grouping over chiplets (relative 1e-12)."""
    arch = api.load_arch(ARCH_DIR / "simba_axbxp.yaml")
    wl = api.load_workload(WORKLOAD_DIR / "mobilenetv2.yaml")
    exact = exact_model(arch.chiplet.pe)
    storage = replace(exact, name="bits4", input_bits=4, weight_bits=4)
    a = api.simulate(arch, wl, plan=MacPlan(exact))
    b = api.simulate(arch, wl, plan=MacPlan(storage, label=storage.name))
    assert a.latency_cycles != b.latency_cycles          # the two runs are mapped differently
    for key in exact.actions_per_mac:
        per_a = [layer.count(key) for layer in a.layers]
        per_b = [layer.count(key) for layer in b.layers]
        assert per_a == per_b, key
    macs = {layer.name: layer.macs for layer in wl.layers}
    assert all(layer.count("mac.accumulate") == macs[layer.name] for layer in b.layers)  # one per MAC
    mac_a = sum(layer.energy_by_class().get("mac", 0.0) for layer in a.layers)
    mac_b = sum(layer.energy_by_class().get("mac", 0.0) for layer in b.layers)
    assert mac_a > 0 and mac_b == pytest.approx(mac_a, rel=1e-12)
