"""Operating points: validation of swings, bit groups and supplies; error rates from the tables;
energy at an operating point (nominal = the pricing without operating points, ratios between
swings and supplies); re-pricing a finished run equals a fresh run; resolved inputs reproduce it."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import yaml

from conftest import ARCH_DIR, TECH_DIR, arch_data
from simulator import api
from simulator.config import load_arch, load_tech
from simulator.energy.price import price_layer
from simulator.errors import AxsimError, InputError
from simulator.faults.operating import error_rates
from simulator.report.files import write_run

SIGMA = 0.0569  # sigma_N of both link classes in arch/tech/simba_16nm.yaml


def q(swing_v: float, sigma: float = SIGMA) -> float:
    """Q(V / 2 sigma) from its definition, 0.5 erfc(x / sqrt 2)."""
    return 0.5 * math.erfc(swing_v / (2 * sigma) / math.sqrt(2))


def message(write_arch, edits, base="simba") -> str:
    path = write_arch(edits, base=base)
    with pytest.raises(InputError) as info:
        load_arch(path)
    return str(info.value)


# ----------------------------------------------------------------------------- validation
@pytest.mark.parametrize("edits, expected", [
    ({"package.nop.swing_v": 1.4}, "package.nop.swing_v: 1.4 > vdd_v 1.2 (the chip supply)"),
    ({"chiplet.noc.bit_groups": [{"bits": [0, 3], "swing_v": 0.4}]},
     "chiplet.noc.bit_groups: bits [4, 5, 6, 7] in no group"),
    ({"chiplet.noc.bit_groups": [{"bits": [0, 4]}, {"bits": [4, 7]}]}, "bits [4] in several groups"),
    ({"package.nop.bit_groups": [{"bits": [0, 9]}]}, "package.nop.bit_groups[0].bits: [0, 9]"),
    ({"package.nop.links": [{"from": [0, 0], "to": [1, 1], "swing_v": 0.5}]},
     "package.nop.links[0]: from [0, 0] to [1, 1]: not a link of the 6x6 mesh"),
    ({"chiplet.noc.links": [{"from": [0, 0], "to": [0, 1], "chiplet": [6, 0]}]},
     "chiplet.noc.links[0].chiplet: [6, 0]: outside the 6x6 chiplet mesh"),
    ({"chiplet.pe.weight_buffer.vdd_v": 0.3}, "chiplet.pe.weight_buffer.vdd_v: 0.3: outside the allowed range [0.5, 1.2]"),
    ({"chiplet.global_buffer.vdd_v_per_ds": {"weights": 1.3}},
     "chiplet.global_buffer.vdd_v_per_ds.weights: 1.3: outside the allowed range [0.5, 1.2]"),
    ({"chiplet.pe.input_buffer.vdd_v_per_ds": {"weights": 0.7}},
     "chiplet.pe.input_buffer.vdd_v_per_ds.weights: the input_buffer never holds weights"),
    ({"package.nop.swing_v": -0.2}, "package.nop.swing_v: -0.2: must be > 0"),
])
def test_bad_operating_points_name_file_key_and_value(write_arch, edits, expected):
    text = message(write_arch, edits)
    assert "arch.yaml: " in text and expected in text, text


def test_swing_outside_a_ber_table_is_rejected(write_arch, tmp_path):
    tech = yaml.safe_load((TECH_DIR / "simba_16nm.yaml").read_text())
    tech["signalling"]["noc_link"]["ber"] = {"model": "table", "points": [[0.4, 1e-3], [0.8, 1e-12]],
                                             "source": "test"}
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(tech))
    text = message(write_arch, {"tech": str(tmp_path / "t.yaml"), "chiplet.noc.swing_v": 0.3})
    assert "chiplet.noc.swing_v: 0.3: outside the allowed range [0.4, 0.8] V" in text


@pytest.mark.parametrize("edit, expected", [
    (lambda t: t["signalling"]["nop_link"]["ber"].pop("sigma_n_v"), "signalling.nop_link.ber.sigma_n_v: missing"),
    (lambda t: t["sram"]["bit_failure_rate"].update(points=[[0.6, 1e-5], [0.5, 1e-2]]),
     "sram.bit_failure_rate.points: [0.6, 0.5]: voltages must increase strictly"),
    (lambda t: t["sram"]["bit_failure_rate"].update(points=[[0.5, 1.5], [0.9, 0.0]]),
     "sram.bit_failure_rate.points[0]: failure rate 1.5: must be in [0.0, 1.0]"),
    (lambda t: t["signalling"]["noc_link"].update(nominal_swing_v=0.9), "signalling.noc_link.nominal_swing_v: 0.9 > vdd_v 0.8"),
    (lambda t: t["sram"].update(nominal_vdd_v=1.3), "sram.nominal_vdd_v: 1.3: outside the tables' range [0.5, 1.2]"),
    (lambda t: t["signalling"]["nop_link"].update(energy_scaling="linear"), "signalling.nop_link.energy_scaling"),
])
def test_bad_technology_tables(tmp_path, edit, expected):
    tech = yaml.safe_load((TECH_DIR / "simba_16nm.yaml").read_text())
    edit(tech)
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(tech))
    with pytest.raises(InputError) as info:
        load_tech(path)
    assert f"{path}: " in str(info.value) and expected in str(info.value), str(info.value)


# ----------------------------------------------------------------------------- error rates
def test_ber_at_nominal_and_per_bit_group_equals_the_formula():
    nominal = error_rates(load_arch(ARCH_DIR / "simba.yaml"))
    np.testing.assert_allclose(nominal.link("nop", (2, 2), (2, 3)), [q(0.8)] * 8, rtol=1e-12)
    # the NoC swing is derived from the chip supply (swing_times_vdd): rail to rail at simba's 1.2 V
    np.testing.assert_allclose(nominal.link("chiplet[5,5].noc", (1, 0), (0, 0)), [q(1.2)] * 8, rtol=1e-12)
    tiny = error_rates(load_arch(ARCH_DIR / "tiny.yaml"))  # no vdd_v: the table's nominal 0.8 V
    np.testing.assert_allclose(tiny.link("chiplet[0,0].noc", (1, 0), (0, 0)), [q(0.8)] * 8, rtol=1e-12)
    assert q(0.8) == pytest.approx(1e-12, rel=0.05)  # the calibration stated in the table's source
    low = error_rates(load_arch(ARCH_DIR / "simba_lowpower.yaml"))
    np.testing.assert_allclose(low.link("nop", (0, 0), (1, 0)), [q(0.45)] * 4 + [q(0.8)] * 4, rtol=1e-12)
    assert q(0.45) == pytest.approx(3.8e-5, rel=0.05)
    np.testing.assert_allclose(low.link("chiplet[0,0].noc", (0, 0), (0, 1)), [q(1.2)] * 8, rtol=1e-12)
    # weight buffers at 0.60 V: the failure table's point (1.3e-5), persistent: stuck, no read flips
    np.testing.assert_allclose(low.sram_stuck("weight_buffer", "weights"), [1.3e-5] * 8, rtol=1e-12)
    np.testing.assert_array_equal(low.sram_read("weight_buffer", "weights"), [0.0] * 8)
    np.testing.assert_array_equal(low.sram_stuck("input_buffer", "inputs"), [0.0] * 8)


def test_one_low_swing_noc_link_on_one_chiplet(write_arch):
    """Hand case: only chiplet[0,0]'s link (0,0)->(0,1), bits 0-3 at 0.35 V; everything else nominal."""
    path = write_arch({"chiplet.noc.links": [{"from": [0, 0], "to": [0, 1], "chiplet": [0, 0],
                                              "bit_groups": [{"bits": [0, 3], "swing_v": 0.35}, {"bits": [4, 7]}]}]},
                      base="tiny")
    rates = error_rates(load_arch(path))
    np.testing.assert_allclose(rates.link("chiplet[0,0].noc", (0, 0), (0, 1)), [q(0.35)] * 4 + [q(0.8)] * 4,
                               rtol=1e-12)
    assert q(0.35) == pytest.approx(1.05e-3, rel=0.01)
    for src, dst in [((0, 1), (0, 0)), ((0, 0), (1, 0)), ((1, 1), (1, 0))]:
        np.testing.assert_allclose(rates.link("chiplet[0,0].noc", src, dst), [q(0.8)] * 8, rtol=1e-12)
    with pytest.raises(ValueError):
        rates.link("chiplet[0,0].noc", (0, 0), (1, 1))


def test_ber_table_and_failure_table_interpolate_log_linearly(write_arch, tmp_path):
    tech = yaml.safe_load((TECH_DIR / "simba_16nm.yaml").read_text())
    tech["signalling"]["noc_link"]["ber"] = {"model": "table", "points": [[0.4, 1e-3], [0.8, 1e-11]],
                                             "source": "test"}
    tech["sram"]["fault_model"] = "transient"
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(tech))
    path = write_arch({"tech": str(tmp_path / "t.yaml"), "chiplet.noc.swing_v": 0.6,
                       "chiplet.pe.accumulation_buffer.vdd_v": 0.55}, base="tiny")
    rates = error_rates(load_arch(path))
    # halfway in V = geometric mean of the ends: sqrt(1e-3 x 1e-11) = 1e-7
    np.testing.assert_allclose(rates.link("chiplet[0,0].noc", (0, 0), (1, 0)), [1e-7] * 8, rtol=1e-9)
    # 0.55 V is halfway between the 0.50 V (1.2e-2) and 0.60 V (1.3e-5) points; transient: per read
    np.testing.assert_allclose(rates.sram_read("accumulation_buffer", "psums"), [math.sqrt(1.2e-2 * 1.3e-5)] * 8,
                               rtol=1e-9)
    np.testing.assert_array_equal(rates.sram_stuck("accumulation_buffer", "psums"), [0.0] * 8)


# ----------------------------------------------------------------------------- energy
def _rows(layer):
    return {(e.component, e.component_class, e.action): e.energy_pj for e in layer.energy}


@pytest.mark.parametrize("name", ["tiny"])
def test_shipped_files_price_exactly_as_without_operating_points(name, small_workload):
    arch = load_arch(ARCH_DIR / f"{name}.yaml")
    result = api.simulate(arch, small_workload)
    for layer in result.layers:
        counts = {(e.component, f"{e.component_class}.{e.action}"): e.count
                  for e in layer.energy if e.component != "leakage"}
        plain = price_layer(counts, arch.tech_table, layer.latency_cycles, arch.clock_ghz, result.instances)
        assert {(e.component, e.component_class, e.action): e.energy_pj for e in plain} == _rows(layer)
        # the per-class counts add up to the per-component counts
        for (component, cls, action), _ in _rows(layer).items():
            if component == "leakage":
                continue
            if cls in ("nop_link", "noc_link"):
                assert layer.link_bits[component].sum() == counts[(component, f"{cls}.{action}")]
            if cls.endswith("_buffer"):
                parts = sum(v for (c, k, _), v in layer.sram_bits.items() if (c, k) == (component, f"{cls}.{action}"))
                assert parts == pytest.approx(counts[(component, f"{cls}.{action}")], rel=1e-12)


def test_energy_ratio_between_two_swings_and_supplies(write_arch, small_workload):
    base = api.simulate(load_arch(ARCH_DIR / "simba.yaml"), small_workload)
    low = api.simulate(load_arch(write_arch({"package.nop.swing_v": 0.4, "chiplet.noc.swing_v": 0.6,
                                             "chiplet.pe.input_buffer.vdd_v": 0.6})), small_workload)
    assert low.latency_cycles == base.latency_cycles
    b, lo = base.energy_by_class(), low.energy_by_class()
    assert b["nop_link"] > 0 and b["noc_link"] > 0
    assert lo["nop_link"] / b["nop_link"] == pytest.approx((0.4 / 0.8) ** 2, rel=1e-12)   # swing_squared
    # swing_times_vdd at simba's 1.2 V chip supply: the base swing is the supply itself
    assert lo["noc_link"] / b["noc_link"] == pytest.approx(0.6 / 1.2, rel=1e-12)
    assert lo["input_buffer"] / b["input_buffer"] == pytest.approx((0.6 / 1.2) ** 2, rel=1e-12)
    for cls in ("dram", "mac", "weight_buffer", "noc_router", "leakage"):
        assert lo[cls] == b[cls]


def test_bit_groups_price_the_mean_over_bit_positions(write_arch, small_workload):
    base = api.simulate(load_arch(ARCH_DIR / "simba.yaml"), small_workload)
    groups = [{"bits": [0, 1], "swing_v": 0.4}, {"bits": [2, 7]}]
    low = api.simulate(load_arch(write_arch({"package.nop.bit_groups": groups})), small_workload)
    expected = (2 * (0.4 / 0.8) ** 2 + 6 * 1.0) / 8
    assert low.energy_by_class()["nop_link"] / base.energy_by_class()["nop_link"] == pytest.approx(expected, rel=1e-12)


OP_EDITS = {
    "chiplet.noc.swing_v": 0.5,
    "chiplet.noc.links": [{"from": [0, 0], "to": [0, 1], "swing_v": 0.3,
                           "bit_groups": [{"bits": [0, 3]}, {"bits": [4, 7], "swing_v": 0.7}]}],
    "chiplet.global_buffer.vdd_v": 0.7,
    "chiplet.global_buffer.vdd_v_per_ds": {"weights": 0.55},
    "chiplet.pe.weight_buffer.vdd_v": 0.6,
    "chiplet.pe.accumulation_buffer.vdd_v_per_ds": {"psums": 0.65},
}


def test_reprice_equals_a_fresh_run(write_arch, small_workload, tmp_path):
    nominal_arch = load_arch(ARCH_DIR / "tiny.yaml")
    op_arch = load_arch(write_arch(OP_EDITS, base="tiny"))
    nominal = api.simulate(nominal_arch, small_workload)
    write_run(nominal, tmp_path / "run", arch=nominal_arch)
    fresh = api.simulate(op_arch, small_workload)
    assert fresh.energy_pj < nominal.energy_pj
    priced = api.reprice(str(tmp_path / "run"), op_arch)
    assert priced["energy_pj"] == pytest.approx(fresh.energy_pj, rel=1e-12)
    for cls, value in fresh.energy_by_class().items():
        assert priced["energy_pj_by_class"][cls] == pytest.approx(value, rel=1e-12, abs=1e-9), cls
    assert [x["energy_pj"] for x in priced["layers"]] == pytest.approx([x.energy_pj for x in fresh.layers], rel=1e-12)
    # and back: the operating-point run re-priced at nominal equals the nominal run
    write_run(fresh, tmp_path / "op", arch=op_arch)
    back = api.reprice_many(str(tmp_path / "op"), [nominal_arch, op_arch])
    assert back.energy_pj == pytest.approx([nominal.energy_pj, fresh.energy_pj], rel=1e-12)


def test_reprice_refuses_other_hardware(write_arch, small_workload, tmp_path):
    arch = load_arch(ARCH_DIR / "tiny.yaml")
    write_run(api.simulate(arch, small_workload), tmp_path / "run", arch=arch)
    other = load_arch(write_arch({"chiplet.pe.weight_buffer.size_bytes": 8192}, base="tiny"))
    with pytest.raises(AxsimError, match=r"chiplet\.pe\.weight_buffer\.size_bytes: 4096 -> 8192"):
        api.reprice(str(tmp_path / "run"), other)
    with pytest.raises(AxsimError, match="counts.npz"):
        api.reprice(str(tmp_path), arch)


def test_run_folder_inputs_reproduce_the_run(write_arch, tmp_path, capsys):
    from simulator.cli import main
    wl = tmp_path / "wl.yaml"
    wl.write_text("version: 1\nname: w\nlayers:\n  - {name: c1, type: conv, input: [8, 8, 8], out_channels: 16, "
                  "kernel: 3, padding: 1}\n  - {name: fc, type: fc, in_features: 1024, out_features: 10}\n")
    arch_file = write_arch(OP_EDITS, base="tiny")
    assert main(["run", "--arch", str(arch_file), "--workload", str(wl), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert (tmp_path / "a" / "inputs" / "tech.yaml").is_file() and (tmp_path / "a" / "counts.npz").is_file()
    again = tmp_path / "a" / "inputs" / "arch.yaml"
    kept = tmp_path / "a" / "inputs" / "workload.yaml"
    assert kept.read_text() == wl.read_text()
    assert main(["run", "--arch", str(again), "--workload", str(kept), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    a, b = (json.loads((tmp_path / x / "summary.json").read_text()) for x in "ab")
    for key in ("latency_cycles", "energy_pj", "energy_pj_by_class", "hardware_hash"):
        assert a[key] == b[key], key
    op = a["operating_point"]
    assert (op["chip_vdd_v"], op["clock_ghz"]) == (0.8, 1.0)  # tiny: no vdd_v, the table's nominal
    assert op["links"]["noc_link"]["swing_v"] == [0.3, 0.5, 0.7] and op["links"]["noc_link"]["links_below_nominal"] == 8
    assert op["sram_vdd_v"]["global_buffer"] == {"weights": 0.55, "inputs": 0.7, "outputs": 0.7, "psums": 0.7}
    assert main(["reprice", str(tmp_path / "a"), "--arch", str(ARCH_DIR / "tiny.yaml"),
                 "--out", str(tmp_path / "p.json")]) == 0
    assert json.loads((tmp_path / "p.json").read_text())["energy_pj"] > a["energy_pj"]
    assert main(["reprice", str(tmp_path / "a"), "--arch", str(ARCH_DIR / "simba.yaml")]) == 2
    assert "not the hardware of this run" in capsys.readouterr().err


def test_ber_gaussian_accepts_scalars_and_arrays():
    from simulator.faults.operating import ber_gaussian
    assert float(ber_gaussian(0.4, SIGMA)) == pytest.approx(q(0.4), rel=1e-12)
    np.testing.assert_allclose(ber_gaussian(np.array([[0.3, 0.5]]), SIGMA), [[q(0.3), q(0.5)]], rtol=1e-12)


def test_run_folder_keeps_an_approximation_file_that_names_a_table(tmp_path):
    """inputs/approx.yaml still finds a LUT table given relative to the original file."""
    from simulator.cli import main
    src = tmp_path / "src"
    src.mkdir()
    a, b = np.meshgrid(np.arange(256, dtype=np.uint32), np.arange(256, dtype=np.uint32), indexing="ij")
    ((a * b) & ~np.uint32(1)).astype("<u2").tofile(src / "trunc.bin")  # exact product with bit 0 cleared
    (src / "approx.yaml").write_text("version: 1\nname: t\nconfigs:\n"
                                     "  lut: {type: lut, table: trunc.bin, relative_power: 0.9}\ndefault: lut\n")
    wl = tmp_path / "wl.yaml"
    wl.write_text("version: 1\nname: w\nlayers:\n  - {name: fc, type: fc, in_features: 1024, out_features: 10}\n")
    tiny = str(ARCH_DIR / "tiny.yaml")
    assert main(["run", "--arch", tiny, "--workload", str(wl), "--approx", str(src / "approx.yaml"),
                 "--out", str(tmp_path / "a"), "--quiet"]) == 0
    kept = tmp_path / "a" / "inputs" / "approx.yaml"
    assert str(src / "trunc.bin") in kept.read_text()
    plan = json.loads((tmp_path / "a" / "inputs" / "mac_plan.json").read_text())
    assert plan["default"] == "lut"
    assert main(["run", "--arch", str(tmp_path / "a" / "inputs" / "arch.yaml"), "--workload", str(wl),
                 "--approx", str(kept), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    x, y = (json.loads((tmp_path / r / "summary.json").read_text()) for r in "ab")
    assert x["energy_pj"] == y["energy_pj"] and x["latency_cycles"] == y["latency_cycles"]


def test_accesses_without_a_data_structure_use_the_buffer_supply(write_arch, tmp_path):
    """A hand-written trace whose sram transaction names no data structure: priced at the
    global buffer's vdd_v (0.6 V), not at its weights part (0.5 V); re-pricing agrees."""
    from simulator.mapping.trace import LayerTrace
    trace = LayerTrace("acc", "add", 0)
    trace.add("sram", chiplet=(0, 0), read_bytes=1000, write_bytes=500)
    trace.add("sram", ds="weights", chiplet=(0, 0), read_bytes=100)
    nominal = load_arch(ARCH_DIR / "tiny.yaml")
    op = load_arch(write_arch({"chiplet.global_buffer.vdd_v": 0.6,
                               "chiplet.global_buffer.vdd_v_per_ds": {"weights": 0.5}}, base="tiny"))
    tech = nominal.tech_table
    run = api.simulate(op, traces=[trace])
    expected = ((1000 * 8 * tech.energy_pj("global_buffer.read_bit") + 500 * 8 * tech.energy_pj("global_buffer.write_bit"))
                * (0.6 / 0.8) ** 2 + 100 * 8 * tech.energy_pj("global_buffer.read_bit") * (0.5 / 0.8) ** 2)
    assert run.energy_by_class()["global_buffer"] == pytest.approx(expected, rel=1e-12)
    base = api.simulate(nominal, traces=[trace])
    write_run(base, tmp_path / "run", arch=nominal)
    assert api.reprice(str(tmp_path / "run"), op)["energy_pj_by_class"]["global_buffer"] == pytest.approx(expected,
                                                                                                         rel=1e-12)


def test_global_buffer_leakage_follows_the_leakage_table(write_arch, small_workload):
    """0.65 V is halfway between the table's 0.50 V (0.186) and 0.80 V (1.0) points:
    log-linear gives sqrt(0.186); PE leakage (logic and PE buffers lumped) is not scaled."""
    def leakage(result, cls):
        return sum(e.energy_pj for layer in result.layers for e in layer.energy
                   if e.component == "leakage" and e.component_class == cls)
    base = api.simulate(load_arch(ARCH_DIR / "tiny.yaml"), small_workload)
    low = api.simulate(load_arch(write_arch({"chiplet.global_buffer.vdd_v": 0.65,
                                             "chiplet.pe.weight_buffer.vdd_v": 0.5}, base="tiny")), small_workload)
    assert leakage(low, "global_buffer") / leakage(base, "global_buffer") == pytest.approx(math.sqrt(0.186), rel=1e-12)
    assert leakage(low, "pe") == leakage(base, "pe") > 0


def test_lowpower_is_simba_at_another_operating_point():
    from simulator.config.identity import hardware_hash
    simba, low = load_arch(ARCH_DIR / "simba.yaml"), load_arch(ARCH_DIR / "simba_lowpower.yaml")
    assert hardware_hash(simba) == hardware_hash(low)
    assert hardware_hash(simba) != hardware_hash(load_arch(ARCH_DIR / "simba_axbxp.yaml"))


def test_with_operating_point_validates_like_a_file():
    simba = load_arch(ARCH_DIR / "simba.yaml")
    moved = api.with_operating_point(simba, {"chiplet.pe.input_buffer.vdd_v": 0.7})
    assert moved.chiplet.pe.input_buffer.vdd_v == 0.7 and simba.chiplet.pe.input_buffer.vdd_v is None
    assert moved.tech_table is simba.tech_table
    with pytest.raises(InputError, match=r"simba.yaml: package.nop.swing_v: 1.3 > vdd_v 1.2"):
        api.with_operating_point(simba, {"package.nop.swing_v": 1.3})
    with pytest.raises(InputError, match=r"package.nop.bit_groups: bits \[7\] in no group"):
        api.with_operating_point(simba, {"package.nop.bit_groups": [{"bits": [0, 6], "swing_v": 0.5}]})


def test_the_error_rate_interface_and_the_operating_points_name_the_same_buffers():
    from simulator.config.operating import BUFFER_DS, BYTE_BITS
    from simulator.faults import rates
    assert rates.BUFFER_KINDS == tuple(BUFFER_DS) and rates.BYTE_BITS == BYTE_BITS
