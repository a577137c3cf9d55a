"""Architecture files and technology tables: loading, every kind of bad input, immutability.

Each bad-input test checks that the message names the file, the key path and the
bad value (the contract of :mod:`simulator.errors`).
"""
from __future__ import annotations

import pydantic
import pytest
import yaml

from conftest import ARCH_DIR, DELETE, TECH_DIR
from simulator.config import Arch, TechTable, config_hash, cross_check, load_arch, load_tech
from simulator.config.tech import REQUIRED_ENERGY_KEYS
from simulator.errors import AxsimError, InputError


def load_error(path) -> InputError:
    with pytest.raises(InputError) as info:
        load_arch(path)
    return info.value


def one_line(err: InputError, key_path: str) -> str:
    """The single message line about ``key_path``."""
    lines = [line for line in str(err).splitlines() if f": {key_path}: " in line]
    assert len(lines) == 1, f"expected one line about {key_path!r} in:\n{err}"
    return lines[0]


# --------------------------------------------------------------------------- good files
def test_simba_numbers(simba_arch):
    a = simba_arch
    assert isinstance(a, Arch)
    assert a.name == "simba" and a.version == 1 and a.clock_ghz == 2.0
    assert a.chiplets == 36 and a.chiplet.pes == 16 and a.total_pes == 576
    assert a.chiplet.pe.macs_per_cycle == 64
    assert a.peak_macs_per_cycle == 576 * 64
    assert a.chiplet.pe.accumulation_buffer.entries == 3072 * 8 // 24
    assert a.chiplet.global_buffer.bytes_per_cycle == 4 * 64 // 8
    assert a.package.nop.hop_cycles == 40 and a.chiplet.noc.hop_cycles == 2
    # six channels, default ports on the west edge, one per row
    assert a.dram_attach() == [(r, 0) for r in range(6)]
    assert a.source.endswith("simba.yaml")
    assert isinstance(a.tech_table, TechTable)
    assert a.tech_table.energy_pj("mac.op") == pytest.approx(0.077)
    assert cross_check(a) == []


def test_tiny_numbers(tiny_arch):
    a = tiny_arch
    assert a.name == "tiny" and a.chiplets == 1 and a.total_pes == 4
    assert a.chiplet.pe.macs_per_cycle == 16 and a.peak_macs_per_cycle == 64
    assert a.dram_attach() == [(0, 0)]
    assert a.chiplet.noc.gb_node == (0, 0)
    assert a.max_cycles == 10**12  # the default watchdog


def test_loaded_copy_loads_identically(write_arch, simba_arch):
    path = write_arch({})
    copy = load_arch(path)
    # only the tech path differs (the copy's is absolute)
    assert copy.model_dump(exclude={"tech"}) == simba_arch.model_dump(exclude={"tech"})
    assert copy.tech_table == simba_arch.tech_table
    assert config_hash(copy) == config_hash(load_arch(write_arch({}, name="again.yaml")))
    changed = load_arch(write_arch({"clock_ghz": 1.5}, name="b.yaml"))
    assert config_hash(changed) != config_hash(copy)


def test_explicit_dram_attach(write_arch):
    a = load_arch(write_arch({"package.dram.channels": 2, "package.dram.attach": [[0, 5], [5, 5]]}))
    assert a.dram_attach() == [(0, 5), (5, 5)]


def test_tech_table_loads_with_sources():
    table = load_tech(TECH_DIR / "simba_16nm.yaml")
    assert set(REQUIRED_ENERGY_KEYS) <= set(table.energy)
    assert all(entry.source for entry in table.energy.values())
    assert table.leakage_mw("pe") == pytest.approx(0.5)
    assert table.leakage_mw("no_such_class") == 0.0


# --------------------------------------------------------------------------- schema problems
def test_missing_key(write_arch):
    path = write_arch({"chiplet.pe.lanes": DELETE})
    line = one_line(load_error(path), "chiplet.pe.lanes")
    assert line.startswith(str(path))
    assert "missing" in line


def test_wrong_type(write_arch):
    path = write_arch({"chiplet.pe.lanes": "eight"})
    line = one_line(load_error(path), "chiplet.pe.lanes")
    assert line.startswith(str(path)) and "'eight'" in line and "integer" in line


@pytest.mark.parametrize("value", [4.0, True])
def test_integer_key_rejects_float_and_bool(write_arch, value):
    path = write_arch({"chiplet.pe.vector_macs": value})
    line = one_line(load_error(path), "chiplet.pe.vector_macs")
    assert str(value) in line


def test_boolean_key_rejects_string(write_arch):
    path = write_arch({"chiplet.pe.double_buffering": "yes"})
    line = one_line(load_error(path), "chiplet.pe.double_buffering")
    assert "'yes'" in line and "true or false" in line


def test_negative_size(write_arch):
    path = write_arch({"chiplet.pe.weight_buffer.size_bytes": -1})
    err = load_error(path)
    assert str(err) == f"{path}: chiplet.pe.weight_buffer.size_bytes: -1: must be > 0"
    assert err.file == str(path) and len(err.problems) == 1


def test_zero_clock(write_arch):
    path = write_arch({"clock_ghz": 0.0})
    line = one_line(load_error(path), "clock_ghz")
    assert "0.0" in line and "> 0" in line


def test_unknown_key_lists_allowed_keys(write_arch):
    path = write_arch({"chiplet.pe.vector_mac": 8})
    line = one_line(load_error(path), "chiplet.pe.vector_mac")
    assert line.startswith(str(path))
    assert "unknown key" in line and "8" in line
    allowed = line.split("allowed keys:")[1]
    for key in ("vector_macs", "lanes", "precision_bits", "double_buffering", "weight_buffer",
                "input_buffer", "accumulation_buffer"):
        assert key in allowed


def test_unknown_key_in_list_item_model(write_arch):
    path = write_arch({"package.mesh.layers": 2})
    line = one_line(load_error(path), "package.mesh.layers")
    assert "allowed keys: cols, rows" in line


def test_loader_only_fields_are_not_file_keys(write_arch):
    path = write_arch({"source": "elsewhere.yaml"})
    err = load_error(path)
    assert "source" in str(err)


def test_literal_choice(write_arch):
    path = write_arch({"chiplet.pe.precision_bits": 12})
    line = one_line(load_error(path), "chiplet.pe.precision_bits")
    assert "12" in line and "4, 8 or 16" in line


def test_wrong_version(write_arch):
    path = write_arch({"version": 2})
    err = load_error(path)
    assert str(err) == f"{path}: version: 2: supported versions: 1"


def test_missing_version(write_arch):
    path = write_arch({"version": DELETE})
    line = one_line(load_error(path), "version")
    assert "missing" in line and "supported versions: 1" in line


def test_boolean_version_rejected(write_arch):
    load_error(write_arch({"version": True}))


def test_top_level_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    err = load_error(path)
    assert str(path) in str(err) and "list" in str(err) and "mapping" in str(err)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert "empty" in str(load_error(path))


def test_yaml_syntax_error_has_line_number(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("version: 1\nname: x\npackage:\n  mesh: {rows: 1, cols: 1\n  nop: 3\n")
    err = load_error(path)
    text = str(err)
    assert text.startswith(f"{path}: line 5, column ")
    assert "invalid YAML" in text


def test_missing_arch_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(AxsimError) as info:
        load_arch(path)
    assert str(path) in str(info.value) and "no such file" in str(info.value)


# --------------------------------------------------------------------------- cross-field rules
def test_weight_buffer_too_small_for_smallest_tile(write_arch):
    # simba: 8 x 8 lanes, double-buffered -> at least 128 bytes
    path = write_arch({"chiplet.pe.weight_buffer.size_bytes": 64})
    line = one_line(load_error(path), "chiplet.pe.weight_buffer.size_bytes")
    assert line == (f"{path}: chiplet.pe.weight_buffer.size_bytes: 64 < 128: too small for the smallest "
                    "tile (one weight per MAC lane, double-buffered)")


def test_input_buffer_too_small(write_arch):
    path = write_arch({"chiplet.pe.input_buffer.size_bytes": 8})
    line = one_line(load_error(path), "chiplet.pe.input_buffer.size_bytes")
    assert "8 < 16" in line


def test_single_buffering_halves_the_smallest_tile(write_arch):
    # 64 bytes is enough when not double-buffered
    load_arch(write_arch({"chiplet.pe.weight_buffer.size_bytes": 64,
                          "chiplet.pe.double_buffering": False}))


def test_global_buffer_smaller_than_input_buffer(write_arch):
    path = write_arch({"chiplet.global_buffer.size_bytes": 4096})
    line = one_line(load_error(path), "chiplet.global_buffer.size_bytes")
    assert "4096 < 8192" in line


def test_accumulation_entry_bits_too_small(write_arch):
    path = write_arch({"chiplet.pe.accumulation_buffer.entry_bits": 12})
    line = one_line(load_error(path), "chiplet.pe.accumulation_buffer.entry_bits")
    assert line == (f"{path}: chiplet.pe.accumulation_buffer.entry_bits: 12: "
                    "must be >= 2 x precision_bits (16)")


def test_accumulation_buffer_fewer_entries_than_vector_macs(write_arch):
    path = write_arch({"chiplet.pe.accumulation_buffer.size_bytes": 12})  # 4 entries < 8
    line = one_line(load_error(path), "chiplet.pe.accumulation_buffer.size_bytes")
    assert "12" in line and "4 entries" in line and "(8)" in line


def test_size_not_a_multiple_of_banks(write_arch):
    path = write_arch({"chiplet.pe.weight_buffer.size_bytes": 32769})
    line = one_line(load_error(path), "chiplet.pe.weight_buffer.size_bytes")
    assert "32769" in line and "multiple of banks (8)" in line


def test_gb_node_outside_mesh(write_arch):
    path = write_arch({"chiplet.noc.gb_node": [4, 0]})
    line = one_line(load_error(path), "chiplet.noc.gb_node")
    assert line == f"{path}: chiplet.noc.gb_node: [4, 0]: outside the 4x4 PE mesh"


def test_dram_attach_outside_mesh(write_arch):
    path = write_arch({"package.dram.channels": 2, "package.dram.attach": [[0, 0], [2, 6]]})
    err = load_error(path)
    line = one_line(err, "package.dram.attach[1]")
    assert line == f"{path}: package.dram.attach[1]: [2, 6]: outside the 6x6 chiplet mesh"
    assert len(err.problems) == 1


def test_dram_attach_wrong_count(write_arch):
    path = write_arch({"package.dram.attach": [[0, 0], [1, 0]]})  # 6 channels
    line = one_line(load_error(path), "package.dram.attach")
    assert "2 ports listed" in line and "(6)" in line


def test_more_channels_than_west_edge_without_attach(write_arch):
    path = write_arch({"package.dram.channels": 7})
    line = one_line(load_error(path), "package.dram.channels")
    assert "7" in line and "package.dram.attach" in line


def test_missing_tech_file(write_arch):
    path = write_arch({"tech": "no/such/table.yaml"})
    line = one_line(load_error(path), "tech")
    assert line.startswith(str(path)) and "'no/such/table.yaml'" in line and "no such file" in line


def test_tech_path_is_relative_to_the_arch_file(tmp_path, write_arch):
    table = yaml.safe_load((TECH_DIR / "simba_16nm.yaml").read_text())
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "t.yaml").write_text(yaml.safe_dump(table))
    arch = load_arch(write_arch({"tech": "tables/t.yaml"}))
    assert arch.tech_table.name == table["name"]


def test_tech_table_missing_energy_keys(tmp_path, write_arch):
    table = yaml.safe_load((TECH_DIR / "simba_16nm.yaml").read_text())
    del table["energy"]["noc_link.bit"]
    del table["energy"]["dram.write_bit"]
    tech = tmp_path / "partial.yaml"
    tech.write_text(yaml.safe_dump(table))
    with pytest.raises(InputError) as info:
        load_tech(tech)
    err = info.value
    assert err.file == str(tech)
    assert {p.path for p in err.problems} == {"energy.noc_link.bit", "energy.dram.write_bit"}
    assert all(line.startswith(f"{tech}: energy.") and "missing" in line for line in str(err).splitlines())
    # through the architecture that points to it
    with pytest.raises(InputError) as info:
        load_arch(write_arch({"tech": str(tech)}))
    assert str(tech) in str(info.value) and "energy.noc_link.bit" in str(info.value)


def test_tech_table_bad_entry(tmp_path):
    table = yaml.safe_load((TECH_DIR / "simba_16nm.yaml").read_text())
    table["energy"]["mac.op"]["pj"] = -0.5
    table["energy"]["vector.op"]["source"] = ""
    tech = tmp_path / "bad.yaml"
    tech.write_text(yaml.safe_dump(table))
    with pytest.raises(InputError) as info:
        load_tech(tech)
    text = str(info.value)
    assert f"{tech}: energy.mac.op.pj: -0.5: must be >= 0" in text
    assert "energy.vector.op.source" in text


# --------------------------------------------------------------------------- all at once
def test_several_schema_problems_reported_at_once(write_arch):
    path = write_arch({"chiplet.pe.lanes": -1, "clock_ghz": "fast", "chiplet.noc.bogus": 2,
                       "package.mesh.rows": DELETE})
    err = load_error(path)
    assert {p.path for p in err.problems} == {"chiplet.pe.lanes", "clock_ghz", "chiplet.noc.bogus",
                                              "package.mesh.rows"}
    lines = str(err).splitlines()
    assert len(lines) == 4 and all(line.startswith(f"{path}: ") for line in lines)


def test_several_cross_field_problems_reported_at_once(write_arch):
    path = write_arch({"chiplet.noc.gb_node": [9, 9], "package.dram.attach": [[0, 7]],
                       "package.dram.channels": 1, "chiplet.pe.accumulation_buffer.entry_bits": 8,
                       "tech": "missing.yaml"})
    err = load_error(path)
    assert {p.path for p in err.problems} == {"chiplet.noc.gb_node", "package.dram.attach[0]",
                                              "chiplet.pe.accumulation_buffer.entry_bits", "tech"}


# --------------------------------------------------------------------------- immutability
def test_models_are_frozen(tiny_arch):
    with pytest.raises(pydantic.ValidationError):
        tiny_arch.clock_ghz = 3.0
    with pytest.raises(pydantic.ValidationError):
        tiny_arch.chiplet.pe.lanes = 2
    with pytest.raises(pydantic.ValidationError):
        tiny_arch.package.dram.latency_cycles = 1
    with pytest.raises(pydantic.ValidationError):
        tiny_arch.tech_table.vdd_v = 0.5
    assert tiny_arch.clock_ghz == 1.0 and tiny_arch.chiplet.pe.lanes == 4


def test_model_copy_with_update_leaves_original(tiny_arch):
    other = tiny_arch.model_copy(update={"max_cycles": 10})
    assert other.max_cycles == 10 and tiny_arch.max_cycles == 10**12


def test_bundled_arch_files_exist():
    assert (ARCH_DIR / "simba.yaml").is_file() and (ARCH_DIR / "tiny.yaml").is_file()
