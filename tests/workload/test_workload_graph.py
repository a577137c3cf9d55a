"""The workload graph: named inputs, activations, weights and dataset files."""
from __future__ import annotations

import pytest

from simulator.errors import InputError
from simulator.workload import load_workload, parse_yaml_workload, workload_to_yaml

from conftest import WORKLOAD_DIR

GRAPH = """
version: 1
name: g
weights: g.npz
layers:
  - {name: a, type: conv, input: [4, 8, 8], out_channels: 4, kernel: 3, padding: 1, activation: relu}
  - {name: b, type: conv, input: [4, 8, 8], out_channels: 4, kernel: 3, padding: 1, activation: relu6}
  - {name: s, type: add, input: [4, 8, 8], inputs: [a, b]}
  - {name: f, type: fc, in_features: 256, out_features: 3, inputs: s}
"""


def test_named_inputs_and_activations():
    wl = parse_yaml_workload(GRAPH, "g.yaml")
    assert wl.weights == "g.npz" and wl.dataset is None
    assert wl.producers() == {"a": ("input",), "b": ("a",), "s": ("a", "b"), "f": ("s",)}
    assert [layer.activation for layer in wl.layers] == ["relu", "relu6", None, None]
    again = parse_yaml_workload(workload_to_yaml(wl), "g2.yaml")
    assert again.layers == wl.layers and again.weights == "g.npz"


def test_sequential_files_still_load_with_default_producers():
    wl = load_workload(WORKLOAD_DIR / "resnet50.yaml")
    prod = wl.producers()
    names = [layer.name for layer in wl.layers]
    assert prod[names[0]] == ("input",) and prod[names[4]] == (names[3],)
    assert prod["layer1.0.downsample.0"] == ("maxpool",)  # named in the file


@pytest.mark.parametrize("edit, message", [
    ("inputs: [a, b]}", "layers[3].inputs: ['a', 'b']: fc layers take 1 input"),
    ("inputs: zz}", "layers[3].inputs: 'zz': not the name of an earlier layer"),
    ("inputs: f}", "layers[3].inputs: 'f': not the name of an earlier layer"),
    ("activation: gelu}", "layers[3].activation: 'gelu': unknown activation; allowed: relu, relu6"),
])
def test_graph_key_problems(edit, message):
    text = GRAPH.replace("inputs: s}", edit)
    with pytest.raises(InputError) as err:
        parse_yaml_workload(text, "g.yaml")
    assert message in str(err.value)


def test_add_needs_two_inputs():
    with pytest.raises(InputError, match=r"layers\[2\].inputs: 'a': add layers take 2 inputs"):
        parse_yaml_workload(GRAPH.replace("inputs: [a, b]", "inputs: a"), "g.yaml")
