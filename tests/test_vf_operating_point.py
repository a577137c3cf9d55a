"""One operating point: the chip supply ``vdd_v`` reaches ``clock_ghz`` on the technology's
voltage-frequency table, and on-chip energies scale with the supply (docs/models.md, "Operating point")."""
from __future__ import annotations

from math import exp, log

import pytest
import yaml

from conftest import ARCH_DIR, DELETE
from simulator import api
from simulator.config.loader import load_arch, load_tech
from simulator.errors import InputError

TECH = ARCH_DIR / "tech" / "simba_16nm.yaml"


def _message(path) -> str:
    with pytest.raises(InputError) as info:
        load_arch(path)
    return str(info.value)


def _fmax(v: float) -> float:
    """The table's straight line from (0.42 V, 0.16 GHz) to (1.2 V, 2.0 GHz), by hand."""
    return 0.16 + (v - 0.42) / (1.2 - 0.42) * (2.0 - 0.16)


def test_vf_table_interpolates_linearly_between_its_points():
    vf = load_tech(TECH).vf
    for v in (0.42, 0.6, 0.8, 0.9, 1.2):
        assert vf.max_clock_ghz(v) == pytest.approx(_fmax(v), rel=1e-12)
    assert vf.max_clock_ghz(0.8) == pytest.approx(1.0564, abs=1e-4)
    assert vf.min_vdd_v(2.0) == pytest.approx(1.2, rel=1e-12)
    assert vf.min_vdd_v(1.0) == pytest.approx(0.42 + (1.0 - 0.16) / 1.84 * 0.78, rel=1e-12)
    assert vf.min_vdd_v(2.5) is None


def test_a_clock_the_supply_cannot_reach_is_an_error_naming_file_key_value_and_maximum(write_arch):
    text = _message(write_arch({"vdd_v": 0.9}))
    assert "arch.yaml: clock_ghz: 2.0 GHz > 1.292 GHz, the maximum clock at vdd_v 0.9 V" in text, text
    assert "raise vdd_v to >= 1.200 V" in text
    # without vdd_v the chip runs at the table's nominal 0.8 V, which reaches 1.056 GHz only
    text = _message(write_arch({"vdd_v": DELETE}))
    assert "clock_ghz: 2.0 GHz > 1.056 GHz, the maximum clock at vdd_v (absent: the nominal 0.8 V" in text, text
    # just reachable: 1.0 GHz at 0.8 V (tiny), 2.0 GHz at 1.2 V (simba)
    assert load_arch(ARCH_DIR / "tiny.yaml").clock_ghz == 1.0
    assert load_arch(ARCH_DIR / "simba.yaml").vdd_v == 1.2
    assert "clock_ghz: 1.1 GHz > 1.056 GHz" in _message(write_arch({"clock_ghz": 1.1}, base="tiny"))


@pytest.mark.parametrize("vdd, expected", [
    (1.3, "vdd_v: 1.3: outside the voltage-frequency table [0.42, 1.2] V"),
    (0.3, "vdd_v: 0.3: outside the voltage-frequency table [0.42, 1.2] V"),
    (0.45, "vdd_v: 0.45: outside [0.5, 1.2] V, where the sram tables"),
])
def test_a_supply_outside_the_tables_is_an_error(write_arch, vdd, expected):
    text = _message(write_arch({"vdd_v": vdd, "clock_ghz": 0.1}))
    assert expected in text, text


def test_swings_may_not_exceed_the_chip_supply(write_arch):
    text = _message(write_arch({"vdd_v": 1.0, "clock_ghz": 1.0, "chiplet.noc.swing_v": 1.1}))
    assert "chiplet.noc.swing_v: 1.1 > vdd_v 1.0 (the chip supply)" in text, text


def test_bad_vf_tables(tmp_path):
    tech = yaml.safe_load(TECH.read_text())
    tech["vf"]["points"] = [[0.42, 2.0], [1.2, 0.16]]
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(tech))
    with pytest.raises(InputError, match=r"vf.points: \[2.0, 0.16\]: the maximum clock must not fall"):
        load_tech(path)
    tech["vf"]["points"] = [[0.9, 1.0], [1.2, 2.0]]
    path.write_text(yaml.safe_dump(tech))
    with pytest.raises(InputError, match=r"vdd_v: 0.8: outside the vf table's range \[0.9, 1.2\] V"):
        load_tech(path)


def _leak_ratio(v: float) -> float:
    """sram.leakage_ratio of the table at ``v`` (log-linear between its points), by hand."""
    pts = [(0.5, 0.186), (0.8, 1.0), (0.9, 1.75), (1.2, 9.40)]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 <= v <= x1:
            t = (v - x0) / (x1 - x0)
            return exp(log(y0) * (1 - t) + log(y1) * t)
    raise ValueError(v)


def test_energy_scales_with_the_chip_supply(write_arch, small_workload):
    """tiny at 0.8 V (the table's nominal) and at 1.0 V, same clock: logic, buffers and the NoC
    (swing from the supply) scale as (1.0/0.8)^2; the NoP links (separate supply) and DRAM do
    not; leakage follows the leakage curve."""
    base = api.simulate(load_arch(ARCH_DIR / "tiny.yaml"), small_workload)
    high = api.simulate(load_arch(write_arch({"vdd_v": 1.0}, base="tiny")), small_workload)
    assert high.latency_cycles == base.latency_cycles
    b, h = base.energy_by_class(), high.energy_by_class()
    square = (1.0 / 0.8) ** 2
    scaled = ["mac", "noc_router", "noc_link", "weight_buffer", "input_buffer", "accumulation_buffer",
              "global_buffer"]
    for cls in scaled + ["nop_router", "vector"]:
        if cls in b:
            assert h[cls] / b[cls] == pytest.approx(square, rel=1e-12), cls
    for cls in scaled:
        assert b[cls] > 0, cls
    for cls in ("nop_link", "dram"):
        assert h.get(cls, 0.0) == b.get(cls, 0.0)
    assert b["leakage"] > 0
    assert h["leakage"] / b["leakage"] == pytest.approx(_leak_ratio(1.0) / _leak_ratio(0.8), rel=1e-9)


def test_a_buffer_without_its_own_supply_runs_at_the_chip_supply(write_arch, small_workload):
    own = api.simulate(load_arch(write_arch({"vdd_v": 1.0, "chiplet.pe.weight_buffer.vdd_v": 0.8}, base="tiny")),
                       small_workload)
    chip = api.simulate(load_arch(write_arch({"vdd_v": 1.0}, base="tiny", name="b.yaml")), small_workload)
    o, c = own.energy_by_class(), chip.energy_by_class()
    assert c["weight_buffer"] / o["weight_buffer"] == pytest.approx((1.0 / 0.8) ** 2, rel=1e-12)
    assert c["input_buffer"] == o["input_buffer"]


def test_a_chip_supply_is_a_repricing(write_arch, small_workload, tmp_path):
    """The chip supply changes energies only: a run re-priced at another vdd_v equals a fresh run there
    (the core-logic scale included), and back."""
    from simulator.report.files import write_run
    low_arch = load_arch(ARCH_DIR / "tiny.yaml")
    high_arch = load_arch(write_arch({"vdd_v": 1.0, "chiplet.noc.swing_v": 0.9,
                                      "chiplet.pe.input_buffer.vdd_v": 0.7}, base="tiny"))
    low = api.simulate(low_arch, small_workload)
    write_run(low, tmp_path / "run", arch=low_arch)
    high = api.simulate(high_arch, small_workload)
    assert high.latency_cycles == low.latency_cycles and high.energy_pj > low.energy_pj
    priced = api.reprice(str(tmp_path / "run"), high_arch)
    assert priced["energy_pj"] == pytest.approx(high.energy_pj, rel=1e-12)
    for cls, value in high.energy_by_class().items():
        assert priced["energy_pj_by_class"][cls] == pytest.approx(value, rel=1e-12, abs=1e-9), cls
    write_run(high, tmp_path / "high", arch=high_arch)
    back = api.reprice_many(str(tmp_path / "high"), [low_arch, high_arch])
    assert back.energy_pj == pytest.approx([low.energy_pj, high.energy_pj], rel=1e-12)
