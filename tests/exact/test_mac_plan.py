"""Which MAC configuration each layer uses (``simulator/hw/mac.py``)."""
from __future__ import annotations

from simulator.hw.mac import MacPlan
from simulator.hw.pe import EXACT, MacModel


def test_default_plan_and_overrides():
    plan = MacPlan()
    assert plan.default is EXACT and plan.per_layer == {} and plan.label == "exact"
    assert plan.warnings == [] and plan.metrics == {} and plan.configs == {}
    assert plan.model_for("conv1") is EXACT and plan.models() == {"exact": EXACT}
    fast = MacModel(name="fast", lane_factor=2.0)
    plan = MacPlan(EXACT, {"conv2": fast}, label="mixed")
    assert plan.model_for("conv2") is fast and plan.model_for("conv1") is EXACT
    assert plan.models() == {"exact": EXACT, "fast": fast}
    assert plan.describe() == {"label": "mixed", "default": "exact", "per_layer": {"conv2": "fast"}}
    # each plan has its own lists: a warning added to one is not seen by another
    plan.warnings.append("pattern 'x*' matches no layer")
    plan.configs["fast"] = object()
    other = MacPlan()
    assert other.warnings == [] and other.configs == {}
