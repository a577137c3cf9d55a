"""Every validation rule of technology tables and input reading is triggered and its message checked:
file, key path, bad value and what is allowed."""
from __future__ import annotations

import copy

import pytest
import yaml

from conftest import TECH_DIR
from simulator.config import load_tech
from simulator.config.yamlio import read_mapping, read_text, read_yaml
from simulator.errors import AxsimError, InputError

BASE = yaml.safe_load((TECH_DIR / "simba_16nm.yaml").read_text())


def tech_error(tmp_path, edit) -> InputError:
    data = copy.deepcopy(BASE)
    edit(data)
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as info:
        load_tech(path)
    assert info.value.file == str(path)
    return info.value


def one(err: InputError, key: str) -> str:
    lines = [p.render(err.file) for p in err.problems if p.path == key]
    assert len(lines) == 1, [p.path for p in err.problems]
    return lines[0]


@pytest.mark.parametrize("key, value, allowed", [
    ("version", 2, "<= 1"), ("version", 0, ">= 1"),
    ("node_nm", 0, "> 0"), ("node_nm", -16, "> 0"),
    ("vdd_v", 0.0, "> 0.0"), ("vdd_v", -0.8, "> 0.0"),
])
def test_tech_table_ranges(tmp_path, key, value, allowed):
    err = tech_error(tmp_path, lambda d: d.__setitem__(key, value))
    assert one(err, key) == f"{err.file}: {key}: {value}: must be {allowed}"


def test_tech_energy_and_leakage_entries(tmp_path):
    def edit(d):
        d["energy"]["noc_link.bit"]["pj"] = -1.0
        d["energy"]["mac.op"]["per"] = 8
        d["leakage"] = {"pe": {"mw": -0.1, "source": "x"}, "dram": {"mw": 1.0, "source": ""}}
    err = tech_error(tmp_path, edit)
    assert one(err, "energy.noc_link.bit.pj").endswith("energy.noc_link.bit.pj: -1.0: must be >= 0.0")
    assert "must be a string" in one(err, "energy.mac.op.per")
    assert one(err, "leakage.pe.mw").endswith("leakage.pe.mw: -0.1: must be >= 0.0")
    assert "at least 1 character" in one(err, "leakage.dram.source")


def test_tech_energy_entry_needs_its_source(tmp_path):
    err = tech_error(tmp_path, lambda d: d["energy"]["dram.read_bit"].pop("source"))
    assert one(err, "energy.dram.read_bit.source").endswith("missing required key")


def test_tech_unknown_key_lists_the_allowed_ones(tmp_path):
    err = tech_error(tmp_path, lambda d: d.__setitem__("voltage", 1.0))
    line = one(err, "voltage")
    assert "unknown key" in line and "vdd_v" in line and "node_nm" in line and "leakage" in line


def test_tech_integer_node_rejects_a_float(tmp_path):
    err = tech_error(tmp_path, lambda d: d.__setitem__("node_nm", 16.5))
    assert one(err, "node_nm").endswith("node_nm: 16.5: must be an integer")


def test_a_file_that_cannot_be_read_is_named(tmp_path):
    binary = tmp_path / "latin1.yaml"
    binary.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(AxsimError) as info:
        read_text(binary, "architecture file")
    assert str(info.value).startswith(f"{binary}: cannot read architecture file: ")
    with pytest.raises(AxsimError) as info:
        read_yaml(binary)
    assert str(info.value).startswith(f"{binary}: cannot read file")
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    with pytest.raises(AxsimError, match="no such file") as info:
        read_yaml(folder)
    assert str(info.value) == f"{folder}: no such file"
    with pytest.raises(AxsimError) as info:
        read_text(tmp_path / "gone.yaml", "workload")
    assert str(info.value) == f"{tmp_path / 'gone.yaml'}: workload not found"


def test_top_level_must_be_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(InputError) as info:
        read_mapping(path)
    assert str(info.value) == f"{path}: top level is list: must be a mapping of keys"
    path.write_text("")
    with pytest.raises(InputError) as info:
        read_mapping(path)
    assert str(info.value) == f"{path}: top level is empty: must be a mapping of keys"


def test_yaml_error_position(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("a: 1\nb: [1, 2\n")
    with pytest.raises(InputError) as info:
        read_yaml(path)
    (problem,) = info.value.problems
    assert problem.path.startswith("line ") and ", column " in problem.path
    assert problem.message.startswith("invalid YAML: ")
