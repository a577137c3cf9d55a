"""Every bundled input loads with the values written in the file (not only with the right types).

Each loaded object is compared with an independent parse of the same file by
PyYAML: every key the file sets has that value in the loaded model, and every
workload layer appears with its name, kind and shape in file order.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import ARCH_DIR, TECH_DIR, WORKLOAD_DIR
from simulator.config import load_arch, load_tech
from simulator.workload import load_workload


def leaves(data, prefix=()):
    """(key path, value) of every scalar in a parsed YAML tree; lists of scalars stay whole."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from leaves(v, prefix + (k,))
    elif isinstance(data, list) and data and all(isinstance(x, (list, dict)) for x in data):
        for i, v in enumerate(data):
            yield from leaves(v, prefix + (i,))
    else:
        yield prefix, data


def lookup(model_dump, path):
    node = model_dump
    for key in path:
        node = node[key]
    return node


def as_plain(value):
    if isinstance(value, (list, tuple)):
        return [as_plain(v) for v in value]
    return value


@pytest.mark.parametrize("path", sorted(ARCH_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_arch_values_are_the_file_values(path):
    raw = yaml.safe_load(path.read_text())
    arch = load_arch(path)
    dump = arch.model_dump(mode="python")
    checked = 0
    for key, value in leaves(raw):
        assert as_plain(lookup(dump, key)) == as_plain(value), (path.name, key)
        checked += 1
    assert checked >= 20
    # derived numbers follow from the file's values
    pkg, chip = raw["package"], raw["chiplet"]
    assert arch.chiplets == pkg["mesh"]["rows"] * pkg["mesh"]["cols"]
    assert arch.total_pes == arch.chiplets * chip["noc"]["mesh"]["rows"] * chip["noc"]["mesh"]["cols"]
    assert arch.peak_macs_per_cycle == arch.total_pes * chip["pe"]["vector_macs"] * chip["pe"]["lanes"]
    assert arch.chiplet.global_buffer.bytes_per_cycle == (chip["global_buffer"]["banks"]
                                                          * chip["global_buffer"]["bank_width_bits"] // 8)
    # the technology table is the file named by `tech`, relative to the architecture file
    tech_raw = yaml.safe_load((path.parent / raw["tech"]).read_text())
    assert arch.tech_table.name == tech_raw["name"]
    assert arch.source == str(path)


@pytest.mark.parametrize("path", sorted(TECH_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_tech_values_are_the_file_values(path):
    raw = yaml.safe_load(path.read_text())
    table = load_tech(path)
    assert (table.name, table.node_nm, table.vdd_v) == (raw["name"], raw["node_nm"], raw["vdd_v"])
    assert set(table.energy) == set(raw["energy"])
    for key, entry in raw["energy"].items():
        assert table.energy_pj(key) == entry["pj"] and table.energy[key].source == entry["source"], key
    for cls, entry in raw.get("leakage", {}).items():
        assert table.leakage_mw(cls) == entry["mw"], cls
    assert table.leakage_mw("no_such_class") == 0.0


def _int_pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


@pytest.mark.parametrize("path", sorted(WORKLOAD_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_workload_layers_are_the_file_layers(path: Path):
    raw = yaml.safe_load(path.read_text())
    wl = load_workload(path)
    assert wl.name == raw["name"] and wl.batch == raw.get("batch", 1)
    assert [layer.name for layer in wl.layers] == [entry["name"] for entry in raw["layers"]]
    kinds = {"conv": "conv", "fc": "fc", "pool": "pool", "add": "add", "dwconv": "conv"}
    for layer, entry in zip(wl.layers, raw["layers"]):
        assert layer.kind == kinds.get(entry["type"], entry["type"]), layer.name
        if "input" in entry:
            assert [layer.in_channels, layer.in_h, layer.in_w] == entry["input"], layer.name
        if "out_channels" in entry:
            assert layer.out_channels == entry["out_channels"], layer.name
        if "kernel" in entry:
            assert (layer.kernel_h, layer.kernel_w) == _int_pair(entry["kernel"]), layer.name
        if "stride" in entry:
            assert (layer.stride_h, layer.stride_w) == _int_pair(entry["stride"]), layer.name
        if "in_features" in entry:
            assert (layer.in_channels, layer.out_channels) == (entry["in_features"], entry["out_features"])
