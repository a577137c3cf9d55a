"""Energy scales of an operating point (``simulator/energy/operating.py``) with technology tables
edited so that nothing cancels: leakage ratios doubled (2.0 at the nominal 0.8 V, so a ratio is
not its numerator), no ``signalling`` section, no ``sram`` section. Expected values from the
table points (``sram.leakage_ratio``: 0.5 V 0.186, 0.8 V 1.0, 0.9 V 1.75, doubled here).
"""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from conftest import TECH_DIR
from simulator.config import load_arch
from simulator.energy.operating import OperatingScales, swing_energy_scale
from simulator.energy.price import price_layer


def table(tmp_path, name: str, edit) -> str:
    tech = yaml.safe_load((TECH_DIR / "simba_16nm.yaml").read_text())
    edit(tech)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(tech), encoding="utf-8")
    return str(path)


def doubled(tech):
    tech["sram"]["leakage_ratio"]["points"] = [[v, 2 * r] for v, r in tech["sram"]["leakage_ratio"]["points"]]


def test_leakage_scales_are_ratios_to_the_nominal_point(tmp_path, write_arch):
    """Chip supply 0.9 V, global buffer at 0.5 V: buffer leakage r(0.5)/r(0.8) = 0.372/2.0; logic
    and the buffers without their own supply r(0.9)/r(0.8) = 3.5/2.0; dynamic logic (0.9/0.8)^2."""
    arch = load_arch(write_arch({"tech": table(tmp_path, "t", doubled), "vdd_v": 0.9,
                                 "chiplet.global_buffer.vdd_v": 0.5}, base="tiny"))
    op = OperatingScales.from_arch(arch)
    assert op.leakage["global_buffer"] == pytest.approx(0.372 / 2.0, rel=1e-12)
    for cls in ("pe", "nop_router", "weight_buffer", "input_buffer", "accumulation_buffer"):
        assert op.leakage[cls] == pytest.approx(3.5 / 2.0, rel=1e-12), cls
    assert op.core == pytest.approx((0.9 / 0.8) ** 2, rel=1e-12)
    assert op.sram_base["global_buffer"] == pytest.approx((0.5 / 0.8) ** 2, rel=1e-12)
    assert op.sram_scale("global_buffer", "weights") == pytest.approx((0.5 / 0.8) ** 2, rel=1e-12)
    assert op.sram_scale("weight_buffer", "weights") == pytest.approx((0.9 / 0.8) ** 2, rel=1e-12)
    assert op.core_scale("mac") == op.core and op.core_scale("dram") == 1.0 and not op.nominal


def test_a_table_without_signalling_leaves_links_unscaled(tmp_path, write_arch):
    arch = load_arch(write_arch({"tech": table(tmp_path, "t", lambda t: t.pop("signalling"))}, base="tiny"))
    op = OperatingScales.from_arch(arch)
    assert sorted(op.link) == ["chiplet[0,0].noc", "nop"]
    assert op.link["nop"].shape == (0,) and op.link["chiplet[0,0].noc"].tolist() == [1.0] * 8
    assert op.nominal


def test_without_an_sram_section_leakage_is_priced_unscaled(tmp_path, write_arch):
    """No sram section: no leakage scales; at a non-nominal point (NoC swing 0.6 V) the leakage
    rows are n x P x t: pe 4 x 0.5 mW x 50 ns, global buffer 0.3 mW x 50 ns (100 cycles at 2 GHz)."""
    arch = load_arch(write_arch({"tech": table(tmp_path, "t", lambda t: t.pop("sram")), "chiplet.noc.swing_v": 0.6},
                                base="tiny"))
    op = OperatingScales.from_arch(arch)
    assert op.leakage == {} and not op.nominal
    rows = price_layer({}, arch.tech_table, 100, 2.0, {"pe": 4, "global_buffer": 1}, op)
    assert [r.component_class for r in rows] == ["global_buffer", "pe"]
    assert [r.energy_pj for r in rows] == pytest.approx([0.3 * 50, 4 * 0.5 * 50], rel=1e-12)


def test_swing_scale_averages_over_bit_positions():
    swings = np.array([[0.4] * 4 + [0.8] * 4, [0.8] * 8])
    np.testing.assert_allclose(swing_energy_scale(swings, 0.8, "swing_squared"), [(4 * 0.25 + 4) / 8, 1.0])
    np.testing.assert_allclose(swing_energy_scale(swings, 0.8, "swing_times_vdd", 1.5), [(4 * 0.5 + 4) / 8 * 1.5, 1.5])
    # without a chip-supply ratio the supply is the nominal one (ratio 1)
    np.testing.assert_allclose(swing_energy_scale(swings, 0.8, "swing_times_vdd"), [(4 * 0.5 + 4) / 8, 1.0])
