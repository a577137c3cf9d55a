"""No input makes a run hang: dimension bounds, shape chaining between layers, named producers,
and the mapper's refusal of layers whose trace would be absurdly large."""
from __future__ import annotations

import time
from dataclasses import replace

import pytest
import yaml

from conftest import ARCH_DIR, WORKLOAD_DIR
from simulator.config import load_arch
from simulator.errors import InputError
from simulator.mapping.tiling import MappingError
from simulator.mapping.weight_stationary import MAX_COMPUTE_TXNS, map_layer
from simulator.workload import Layer, Workload, load_workload, parse_yaml_workload, workload_to_yaml
from simulator.workload.checks import (MAX_CHANNELS, MAX_SPATIAL, chain_problems, previous_layer_producers,
                                       producers_from_names)


def _problems(text: str) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        parse_yaml_workload(text, "w.yaml")
    return {p.path: p.message for p in info.value.problems}


def _resnet_with(edit) -> str:
    data = yaml.safe_load((WORKLOAD_DIR / "resnet50.yaml").read_text())
    edit(data)
    return yaml.safe_dump(data, sort_keys=False)


def test_the_fuzzed_resnet_dimension_is_a_clear_error():
    """layers[15].input[2] = 10**30 once passed validation and then never finished."""
    def edit(d):
        d["layers"][15]["input"][2] = 10 ** 30
    probs = _problems(_resnet_with(edit))
    assert list(probs) == ["layers[15].input[2]"]
    assert probs["layers[15].input[2]"].startswith(f"{10 ** 30}: must be at most {MAX_SPATIAL:,}")


@pytest.mark.parametrize("key,value,path", [
    ("out_channels", MAX_CHANNELS + 1, "layers[1].out_channels"),
    ("kernel", MAX_SPATIAL + 1, "layers[1].kernel"),
    ("stride", [1, MAX_SPATIAL + 1], "layers[1].stride"),
])
def test_bounds_per_key(key, value, path):
    layer = {"name": "b", "type": "conv", "input": [8, 8, 8], "out_channels": 8, "kernel": 1, key: value}
    if key == "kernel":
        layer["padding"] = MAX_SPATIAL  # keeps the kernel inside the padded input
    text = yaml.safe_dump({"version": 1, "layers": [
        {"name": "a", "type": "conv", "input": [8, 8, 8], "out_channels": 8, "kernel": 1}, layer]})
    probs = _problems(text)
    assert path in probs and f"must be at most" in probs[path]


def test_at_the_bound_is_accepted_by_the_bounds_check():
    layers = [Layer("big", "conv", MAX_CHANNELS, 1, 1, 8)]
    from simulator.workload.checks import bound_problems
    assert bound_problems(layers, ["layers[0]"]) == []
    assert [p.path for p in bound_problems([Layer("big", "conv", MAX_CHANNELS + 1, 1, 1, 8)], ["layers[0]"])] \
        == ["layers[0].input[0]"]


def test_shapes_must_chain():
    text = """
version: 1
layers:
  - {name: c1, type: conv, input: [3, 32, 32], out_channels: 16, kernel: 3, stride: 2, padding: 1}
  - {name: c2, type: conv, input: [16, 32, 32], out_channels: 16, kernel: 3, padding: 1}
  - {name: fc, type: fc, in_features: 100, out_features: 10}
"""
    probs = _problems(text)
    assert set(probs) == {"layers[1].input", "layers[2].in_features"}
    assert "'c1' outputs [16, 16, 16]; expected input: [16, 16, 16]" in probs["layers[1].input"]
    # the fc takes c2's output flattened: 16 x 32 x 32 (c2 as written keeps 32 x 32)
    assert "expected in_features: 16384 (flattened [16, 32, 32])" in probs["layers[2].in_features"]


def test_named_inputs_say_otherwise():
    text = """
version: 1
layers:
  - {name: stem, type: conv, input: [3, 16, 16], out_channels: 8, kernel: 1}
  - {name: a, type: conv, input: [8, 16, 16], out_channels: 32, kernel: 1}
  - {name: skip, type: conv, inputs: [stem], input: [8, 16, 16], out_channels: 32, kernel: 1}
  - {name: add, type: add, inputs: [a, skip], input: [32, 16, 16]}
  - {name: side, type: conv, inputs: [input], input: [5, 4, 4], out_channels: 2, kernel: 1}
"""
    wl = parse_yaml_workload(text, "w.yaml")
    assert [layer.name for layer in wl.layers] == ["stem", "a", "skip", "add", "side"]
    bad = text.replace("inputs: [a, skip], input: [32, 16, 16]", "inputs: [a, stem], input: [32, 16, 16]")
    probs = _problems(bad)
    assert list(probs) == ["layers[3].input"] and "'stem' outputs [8, 16, 16]" in probs["layers[3].input"]
    later = text.replace("inputs: [stem]", "inputs: [add]")
    assert "not the name of an earlier layer" in _problems(later)["layers[2].inputs"]


def test_chain_check_takes_any_producers():
    """The check is independent of how producers are named: swap the producers and it fails."""
    layers = [Layer("x", "conv", 3, 8, 8, 4), Layer("y", "conv", 3, 8, 8, 6), Layer("z", "conv", 4, 8, 8, 6)]
    paths = ["l0", "l1", "l2"]
    assert chain_problems(layers, [[], [], [0]], paths) == []
    assert [p.path for p in chain_problems(layers, [[], [], [1]], paths)] == ["l2.input"]
    assert [p.path for p in chain_problems(layers, previous_layer_producers(3), paths)] == ["l1.input", "l2.input"]
    producers, problems = producers_from_names(layers, [None, ["input"], ["x"]], paths)
    assert producers == [[], [], [0]] and problems == []


@pytest.mark.parametrize("name", ["resnet50", "alexnet", "mobilenetv2", "vgg16"])
def test_bundled_networks_chain_and_round_trip(name):
    wl = load_workload(WORKLOAD_DIR / f"{name}.yaml")
    again = parse_yaml_workload(workload_to_yaml(wl), "again.yaml")
    assert again.layers == wl.layers


def test_writer_names_producers_of_unchained_layers():
    layers = (Layer("a", "conv", 3, 8, 8, 4), Layer("b", "conv", 4, 8, 8, 4), Layer("c", "conv", 3, 8, 8, 4),
              Layer("d", "conv", 7, 2, 2, 4))
    text = workload_to_yaml(Workload("w", layers, "w.yaml"))
    assert "inputs: [input]" in text.splitlines()[-2] and "inputs: [input]" in text.splitlines()[-1]
    again = parse_yaml_workload(text, "w.yaml").layers
    assert [layer.inputs for layer in again] == [(), (), ("input",), ("input",)]
    assert [replace(layer, inputs=()) for layer in again] == list(layers)


def test_mapper_refuses_an_absurd_trace_before_generating_it():
    arch = load_arch(ARCH_DIR / "simba.yaml")
    layer = Layer("huge", "conv", 64, 60000, 60000, 64, 3, 3, pad_h=1, pad_w=1)
    started = time.perf_counter()
    with pytest.raises(MappingError) as info:
        map_layer(layer, arch)
    assert time.perf_counter() - started < 1.0  # refused from arithmetic, not after emitting
    message = str(info.value)
    assert "layer 'huge'" in message and f"{MAX_COMPUTE_TXNS:,} compute transactions" in message


def test_mapper_limit_is_far_above_the_bundled_networks():
    """The largest bundled layer (VGG-16 features.14) needs 3,136 compute transactions."""
    arch = load_arch(ARCH_DIR / "simba.yaml")
    layer = load_workload(WORKLOAD_DIR / "vgg16.yaml").layer("features.14")
    trace = map_layer(layer, arch)
    compute = sum(1 for t in trace.txns if t.op == "compute")
    assert compute == trace.meta["tiling"]["k_tiles"] * trace.meta["tiling"]["c_tiles"] * \
        trace.meta["tiling"]["row_tiles"] * trace.meta["tiling"]["col_tiles"] * trace.meta["chiplets"]
    assert 100 * compute < MAX_COMPUTE_TXNS
