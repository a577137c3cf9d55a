"""Energy pricing: counts x table values + leakage (mW x ns = pJ), errors, per-class totals."""
from __future__ import annotations

import pytest

from simulator import api
from simulator.config.tech import EnergyEntry, LeakageEntry, TechTable
from simulator.energy.price import component_class_of, price_layer
from simulator.errors import AxsimError


@pytest.fixture
def table() -> TechTable:
    src = "test value"
    return TechTable(
        name="t", node_nm=16, vdd_v=0.8,
        energy={"mac.op": EnergyEntry(pj=0.5, per="MAC", source=src),
                "noc_link.bit": EnergyEntry(pj=0.25, per="bit", source=src),
                "dram.read_bit": EnergyEntry(pj=8.0, per="bit", source=src)},
        leakage={"pe": LeakageEntry(mw=2.0, source=src), "dram": LeakageEntry(mw=0.0, source=src),
                 "global_buffer": LeakageEntry(mw=0.5, source=src)})


def test_hand_numbers(table):
    counts = {("chiplet[0,0].pes", "mac.op"): 1000, ("chiplet[0,0].noc", "noc_link.bit"): 64,
              ("dram.ch0", "dram.read_bit"): 10}
    # 2000 cycles at 2 GHz = 1000 ns
    rows = price_layer(counts, table, latency_cycles=2000, clock_ghz=2.0,
                       instances={"pe": 4, "dram": 1, "global_buffer": 2, "nop_router": 1})
    dynamic = {(r.component, r.component_class, r.action): (r.count, r.energy_pj)
               for r in rows if r.component != "leakage"}
    assert dynamic == {("chiplet[0,0].pes", "mac", "op"): (1000, 500.0),
                       ("chiplet[0,0].noc", "noc_link", "bit"): (64, 16.0),
                       ("dram.ch0", "dram", "read_bit"): (10, 80.0)}
    leakage = {r.component_class: (r.count, r.energy_pj) for r in rows if r.component == "leakage"}
    # mW x ns = pJ: 4 PEs x 2 mW x 1000 ns; 2 GBs x 0.5 mW x 1000 ns; zero-leakage and unknown classes skipped
    assert leakage == {"pe": (4000.0, 8000.0), "global_buffer": (2000.0, 1000.0)}
    assert sum(r.energy_pj for r in rows) == pytest.approx(500 + 16 + 80 + 8000 + 1000)


def test_zero_latency_has_no_leakage(table):
    rows = price_layer({("x", "mac.op"): 2}, table, 0, 1.0, {"pe": 10})
    assert [(r.component, r.energy_pj) for r in rows if r.component != "leakage"] == [("x", 1.0)]
    assert sum(r.energy_pj for r in rows if r.component == "leakage") == 0.0


def test_leakage_scales_with_time_and_clock(table):
    def leak(cycles, ghz):
        return sum(r.energy_pj for r in price_layer({}, table, cycles, ghz, {"pe": 1}))
    assert leak(1000, 1.0) == pytest.approx(2000.0)
    assert leak(2000, 1.0) == pytest.approx(2 * leak(1000, 1.0))
    assert leak(1000, 2.0) == pytest.approx(leak(1000, 1.0) / 2)


def test_unknown_action_key(table):
    with pytest.raises(AxsimError) as info:
        price_layer({("chiplet[0,0].noc", "noc_router.bit"): 5}, table, 10, 1.0, {})
    text = str(info.value)
    assert "'noc_router.bit'" in text and "chiplet[0,0].noc" in text and "'t'" in text


def test_component_class_of():
    assert component_class_of("weight_buffer.read_bit") == ("weight_buffer", "read_bit")
    assert component_class_of("mac.op") == ("mac", "op")


def test_bundled_table_prices_what_the_engine_counts(tiny_arch, small_workload):
    result = api.simulate(tiny_arch, small_workload)
    tech = tiny_arch.tech_table
    for layer in result.layers:
        for row in layer.energy:
            if row.component == "leakage":
                continue
            per = tech.energy_pj(f"{row.component_class}.{row.action}")
            assert row.energy_pj == pytest.approx(row.count * per)


def test_per_class_totals_sum_to_the_total(tiny_arch, small_workload):
    result = api.simulate(tiny_arch, small_workload)
    by_class = result.energy_by_class()
    assert "leakage" in by_class and "mac" in by_class and "dram" in by_class
    assert sum(by_class.values()) == pytest.approx(result.energy_pj, rel=1e-12)
    for layer in result.layers:
        assert sum(layer.energy_by_class().values()) == pytest.approx(layer.energy_pj, rel=1e-12)
        assert layer.energy_pj == pytest.approx(sum(r.energy_pj for r in layer.energy), rel=1e-12)
    assert result.energy_pj == pytest.approx(sum(x.energy_pj for x in result.layers), rel=1e-12)


def test_leakage_rows_of_a_run(tiny_arch, small_workload):
    result = api.simulate(tiny_arch, small_workload)
    tech = tiny_arch.tech_table
    for layer in result.layers:
        leak = {r.component_class: r.energy_pj for r in layer.energy if r.component == "leakage"}
        ns = layer.latency_cycles / tiny_arch.clock_ghz
        assert leak["pe"] == pytest.approx(tiny_arch.total_pes * tech.leakage_mw("pe") * ns)
        assert leak["global_buffer"] == pytest.approx(tech.leakage_mw("global_buffer") * ns)
        assert "dram" not in leak  # 0 mW in the table


def test_class_is_the_text_before_the_first_dot_and_leakage_is_per_nanosecond(table):
    assert component_class_of("noc_link.bit.lsb") == ("noc_link", "bit.lsb")
    rows = price_layer({}, table, 1000, 2.0, {"pe": 3})
    assert [(r.component, r.component_class, r.action) for r in rows] == [("leakage", "pe", "leakage_ns")]
    assert rows[0].count == 3 * 500.0
