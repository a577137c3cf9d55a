"""Pricing one layer's counts (``simulator/energy/price.py``) row by row, by hand, on
``arch/tiny.yaml`` at the nominal point, at an operating point (link swings, SRAM supplies per
data structure) and at another chip supply. Energies and the leakage-ratio points are those of
``arch/tech/simba_16nm.yaml`` (see ``test_reprice_by_hand.py``); clock 1 GHz, 100 cycles.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import ARCH_DIR
from simulator.config import load_arch
from simulator.energy.operating import OperatingScales
from simulator.energy.price import ComponentEnergy, price_layer
from simulator.errors import AxsimError
from test_reprice_by_hand import GB, OP_EDITS

NOC = "chiplet[0,0].noc"
PES = "chiplet[0,0].pes"
COUNTS = {(PES, "mac.op"): 1000.0, ("dram", "dram.read_bit"): 64.0, (GB, "global_buffer.read_bit"): 90.0,
          (NOC, "noc_link.bit"): 150.0}
LINK_BITS = {NOC: np.array([100, 0, 0, 50, 0, 0, 0, 0]), "nop": np.zeros(0)}
SRAM_BITS = {(GB, "global_buffer.read_bit", "weights"): 80.0}   # 10 more bits name no data structure
INSTANCES = {"pe": 4, "global_buffer": 1, "dram": 1}


def rows(arch, op=None):
    return price_layer(COUNTS, arch.tech_table, 100, 1.0, INSTANCES, op, LINK_BITS, SRAM_BITS)


def test_nominal_rows():
    tiny = load_arch(ARCH_DIR / "tiny.yaml")
    want = [ComponentEnergy(GB, "global_buffer", "read_bit", 90.0, 90 * 0.12),
            ComponentEnergy(NOC, "noc_link", "bit", 150.0, 150 * 0.060),
            ComponentEnergy(PES, "mac", "op", 1000.0, 1000 * 0.077),
            ComponentEnergy("dram", "dram", "read_bit", 64.0, 64 * 8.0),
            ComponentEnergy("leakage", "global_buffer", "leakage_ns", 100.0, 0.3 * 100),
            ComponentEnergy("leakage", "pe", "leakage_ns", 400.0, 4 * 0.5 * 100)]   # dram: 0 mW, no row
    got = rows(tiny)
    assert [(r.component, r.component_class, r.action, r.count) for r in got] == \
        [(r.component, r.component_class, r.action, r.count) for r in want]
    assert [r.energy_pj for r in got] == pytest.approx([r.energy_pj for r in want], rel=1e-12)
    # a nominal operating point prices exactly the same
    assert rows(tiny, OperatingScales.from_arch(tiny)) == got


def test_operating_point_rows(write_arch):
    """NoC link 0 at 0.4 V (s = 0.5), the others at 0.6 V (s = 0.75); global-buffer weights at 0.55 V,
    the 10 bits without a data structure at the buffer's own (nominal) supply."""
    op_arch = load_arch(write_arch(OP_EDITS, base="tiny"))
    got = {(r.component, r.component_class): r.energy_pj for r in rows(op_arch, OperatingScales.from_arch(op_arch))}
    assert got[(NOC, "noc_link")] == pytest.approx(0.060 * (100 * 0.5 + 50 * 0.75), rel=1e-12)
    assert got[(GB, "global_buffer")] == pytest.approx(0.12 * (80 * (0.55 / 0.8) ** 2 + 10), rel=1e-12)
    assert got[(PES, "mac")] == pytest.approx(77.0, rel=1e-12)
    assert got[("dram", "dram")] == pytest.approx(512.0, rel=1e-12)
    assert got[("leakage", "pe")] == pytest.approx(200.0, rel=1e-12)


def test_chip_supply_scales_logic_and_leakage(write_arch):
    """vdd_v 0.9 V against the table's 0.8 V: logic energy x (0.9/0.8)^2, logic and buffer leakage
    x r(0.9)/r(0.8) = 1.75/1.0 (table points); the global buffer, without its own supply, runs
    at 0.9 V; DRAM unchanged."""
    arch = load_arch(write_arch({"vdd_v": 0.9}, base="tiny"))
    op = OperatingScales.from_arch(arch)
    assert op.core == pytest.approx((0.9 / 0.8) ** 2, rel=1e-12)
    got = {(r.component, r.component_class): r.energy_pj for r in rows(arch, op)}
    assert got[(PES, "mac")] == pytest.approx(77.0 * (0.9 / 0.8) ** 2, rel=1e-12)
    assert got[("dram", "dram")] == pytest.approx(512.0, rel=1e-12)
    assert got[(GB, "global_buffer")] == pytest.approx(90 * 0.12 * (0.9 / 0.8) ** 2, rel=1e-12)
    assert got[("leakage", "pe")] == pytest.approx(200.0 * 1.75, rel=1e-12)
    assert got[("leakage", "global_buffer")] == pytest.approx(30.0 * 1.75, rel=1e-12)


def test_an_action_missing_from_the_table_names_the_component():
    tiny = load_arch(ARCH_DIR / "tiny.yaml")
    with pytest.raises(AxsimError) as info:
        price_layer({(PES, "mac.bogus"): 1.0}, tiny.tech_table, 1, 1.0, {})
    assert str(info.value) == ("technology table 'simba-16nm' has no energy for action 'mac.bogus' "
                               f"(counted by {PES}); add it under 'energy:'")
