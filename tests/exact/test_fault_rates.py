"""Error rates of an operating point (``simulator/faults/operating.py``), by the formulas and table
points, on ``arch/tiny.yaml`` (1x1 package: no NoP links; a 2 x 2 NoC) with edited operating points
and technology tables. BER(V) = 0.5 erfc(V / (2 sqrt 2 sigma)), sigma = 0.0569 V; SRAM bit-failure
points 0.50 V 1.2e-2, 0.60 V 1.3e-5, 0.70 V 1e-9 (log-linear between them).
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import yaml

from conftest import TECH_DIR
from simulator.config import load_arch
from simulator.faults.operating import OperatingRates, link_ber, sram_failure_rate

SIGMA = 0.0569


def q(v: float) -> float:
    return 0.5 * math.erfc(v / (2 * math.sqrt(2) * SIGMA))


def tech_file(tmp_path, edit) -> str:
    tech = yaml.safe_load((TECH_DIR / "simba_16nm.yaml").read_text())
    edit(tech)
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(tech), encoding="utf-8")
    return str(path)


def test_links_and_buffers_of_a_persistent_table(write_arch):
    arch = load_arch(write_arch({
        "chiplet.noc.links": [{"from": [0, 0], "to": [0, 1], "swing_v": 0.4,
                               "bit_groups": [{"bits": [0, 3]}, {"bits": [4, 7], "swing_v": 0.6}]}],
        "chiplet.global_buffer.vdd_v_per_ds": {"weights": 0.6},
        "chiplet.pe.input_buffer.vdd_v": 0.5}, base="tiny"))
    r = OperatingRates(arch)
    np.testing.assert_allclose(r.link("chiplet[0,0].noc", (0, 0), (0, 1)), [q(0.4)] * 4 + [q(0.6)] * 4, rtol=1e-12)
    np.testing.assert_allclose(r.link("chiplet[0,0].noc", [0, 1], [0, 0]), [q(0.8)] * 8, rtol=1e-12)   # lists work
    table = r.link_table("chiplet[0,0].noc")
    assert table.shape == (8, 8) and r.link_table("nop").shape == (0, 8)
    np.testing.assert_allclose(table[0], [q(0.4)] * 4 + [q(0.6)] * 4, rtol=1e-12)
    # persistent table: stuck cells, no read flips
    np.testing.assert_allclose(r.sram_stuck("global_buffer", "weights"), [1.3e-5] * 8, rtol=1e-9)
    np.testing.assert_allclose(r.sram_stuck("input_buffer", "inputs"), [1.2e-2] * 8, rtol=1e-9)
    assert not r.sram_stuck("global_buffer", "inputs").any()            # nominal supply: no failures
    assert not r.sram_read("input_buffer", "inputs").any()
    # a data structure the buffer has no own supply for: the buffer's supply
    np.testing.assert_allclose(r.sram_stuck("input_buffer", "weights"), [1.2e-2] * 8, rtol=1e-9)
    # the arrays are shared with callers: read-only
    with pytest.raises(ValueError):
        r.sram_stuck("input_buffer", "inputs")[0] = 0.0
    with pytest.raises(ValueError):
        table[0, 0] = 0.0


def test_errors_name_the_link_and_the_buffer(write_arch):
    r = OperatingRates(load_arch(write_arch({}, base="tiny")))
    with pytest.raises(ValueError) as info:
        r.link("chiplet[0,0].noc", (0, 0), (1, 1))
    assert str(info.value) == "no link (0, 0) -> (1, 1) in network 'chiplet[0,0].noc'"
    with pytest.raises(ValueError) as info:
        r.sram_read("register_file", "weights")
    assert str(info.value) == ("unknown buffer 'register_file'; known: global_buffer, weight_buffer, input_buffer, "
                               "accumulation_buffer")
    with pytest.raises(ValueError, match="unknown buffer 'x'"):
        r.sram_stuck("x", "inputs")


def test_a_transient_table_flips_on_reads(tmp_path, write_arch):
    arch = load_arch(write_arch({"tech": tech_file(tmp_path, lambda t: t["sram"].update(fault_model="transient")),
                                 "chiplet.pe.weight_buffer.vdd_v": 0.55,
                                 "chiplet.global_buffer.vdd_v_per_ds": {"weights": 0.6}}, base="tiny"))
    r = OperatingRates(arch)
    np.testing.assert_allclose(r.sram_read("global_buffer", "weights"), [1.3e-5] * 8, rtol=1e-9)
    assert not r.sram_read("global_buffer", "inputs").any()
    p = math.exp((math.log(1.2e-2) + math.log(1.3e-5)) / 2)               # log-linear midpoint of 0.5 and 0.6 V
    np.testing.assert_allclose(r.sram_read("weight_buffer", "weights"), [p] * 8, rtol=1e-9)
    assert not r.sram_stuck("weight_buffer", "weights").any()


def test_tables_without_models_have_no_errors(tmp_path, write_arch):
    def strip(t):
        del t["signalling"]
        del t["sram"]
    arch = load_arch(write_arch({"tech": tech_file(tmp_path, strip)}, base="tiny"))
    tech = arch.tech_table
    assert link_ber(tech, "noc_link", np.full((3, 8), 0.2)).tolist() == np.zeros((3, 8)).tolist()
    assert sram_failure_rate(tech, [0.5, 0.6]).tolist() == [0.0, 0.0]
    r = OperatingRates(arch)
    assert not r.link("chiplet[0,0].noc", (0, 0), (0, 1)).any()
    assert not r.sram_stuck("global_buffer", "weights").any() and not r.sram_read("global_buffer", "weights").any()


def test_a_ber_curve_instead_of_the_gaussian(tmp_path, write_arch):
    """A table BER curve (log-linear): 1e-3 at 0.4 V, 1e-9 at 0.8 V -> 1e-6 at 0.6 V."""
    def curve(t):
        t["signalling"]["noc_link"]["ber"] = {"model": "table", "points": [[0.4, 1e-3], [0.8, 1e-9]], "source": "test"}
    arch = load_arch(write_arch({"tech": tech_file(tmp_path, curve), "chiplet.noc.swing_v": 0.6}, base="tiny"))
    np.testing.assert_allclose(OperatingRates(arch).link("chiplet[0,0].noc", (1, 1), (1, 0)), [1e-6] * 8, rtol=1e-9)


def test_nothing_flips_only_when_every_rate_is_zero(tmp_path, write_arch):
    """is_zero, with a table without link error models: zero at the nominal supplies; a
    per-data-structure supply of one buffer makes the architecture fault-prone, for stuck cells
    (persistent table) and for read flips (transient table)."""
    from simulator.faults.flips import is_zero
    from simulator.faults.operating import error_rates

    def quiet(t, model="persistent"):
        del t["signalling"]
        t["sram"]["fault_model"] = model
    persistent = tech_file(tmp_path, quiet)
    nominal = load_arch(write_arch({"tech": persistent}, base="tiny"))
    assert is_zero(error_rates(nominal), nominal)
    stuck = load_arch(write_arch({"tech": persistent, "chiplet.global_buffer.vdd_v_per_ds": {"weights": 0.55}},
                                 base="tiny", name="s.yaml"))
    assert not is_zero(error_rates(stuck), stuck)
    (tmp_path / "t.yaml").rename(tmp_path / "p.yaml")
    transient = tech_file(tmp_path, lambda t: quiet(t, "transient"))
    flips = load_arch(write_arch({"tech": transient, "chiplet.pe.input_buffer.vdd_v_per_ds": {"inputs": 0.55}},
                                 base="tiny", name="t2.yaml"))
    assert not is_zero(error_rates(flips), flips)


def test_stuck_cell_probabilities_are_checked():
    from simulator.faults.inject import stuck_cells
    with pytest.raises(ValueError) as info:
        stuck_cells(np.random.default_rng(0), 10, np.full(8, 1.5))
    assert str(info.value) == "p_stuck must hold probabilities in [0, 1]"
    with pytest.raises(ValueError) as info:
        stuck_cells(np.random.default_rng(0), 10, np.zeros(3))
    assert str(info.value) == "p_stuck must have shape (8,), got (3,)"
