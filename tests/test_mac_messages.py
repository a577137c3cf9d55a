"""MAC models: the full error messages and the defaults of a MAC plan."""
from __future__ import annotations

import pytest

from simulator.approx import blocked
from simulator.errors import AxsimError
from simulator.hw.mac import MacPlan, block_mac_model
from simulator.hw.pe import EXACT


def test_block_model_on_a_fixed_point_pe(simba_arch):
    with pytest.raises(AxsimError) as info:
        block_mac_model(blocked.static_msb(3, 3), simba_arch.chiplet.pe, "msb3")
    assert str(info.value) == ("block-wise MAC configurations need PEs with block multipliers "
                               "(chiplet.pe.mac in the architecture file, e.g. arch/simba_axbxp.yaml)")


def test_default_plan():
    plan = MacPlan()
    assert plan.describe() == {"label": "exact", "default": "exact", "per_layer": {}}
    assert plan.models() == {"exact": EXACT}
