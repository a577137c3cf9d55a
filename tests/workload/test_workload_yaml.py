"""The YAML workload format: round trip and every kind of bad input."""
import textwrap
from dataclasses import replace

import pytest

from simulator.errors import InputError
from simulator.workload import (
    Layer, Workload, load_workload, parse_yaml_workload, workload_to_yaml,
)

EXAMPLE = """\
version: 1
name: tiny
description: a small example
batch: 4
layers:
  - {name: conv1, type: conv, input: [3, 32, 32], out_channels: 16, kernel: 3, stride: 2, padding: 1}
  - {name: pool1, type: pool, mode: max, input: [16, 16, 16], kernel: [2, 2], stride: 2}
  - {name: dw, type: conv, input: [16, 8, 8], out_channels: 16, kernel: [3, 1], padding: [1, 0], groups: 16}
  - {name: res, type: add, input: [16, 8, 8]}
  - {name: gap, type: pool, mode: avg, input: [16, 8, 8], kernel: 8}
  - {name: fc, type: fc, in_features: 16, out_features: 10}
"""


def expected(source: str) -> Workload:
    return Workload(
        name="tiny", source=source, batch=4, description="a small example",
        layers=(
            Layer("conv1", "conv", 3, 32, 32, 16, 3, 3, 2, 2, 1, 1),
            Layer("pool1", "pool", 16, 16, 16, 16, 2, 2, 2, 2, pool_mode="max"),
            Layer("dw", "conv", 16, 8, 8, 16, 3, 1, 1, 1, 1, 0, groups=16),
            Layer("res", "add", 16, 8, 8, 16),
            Layer("gap", "pool", 16, 8, 8, 16, 8, 8, pool_mode="avg"),
            Layer.fc("fc", 16, 10),
        ))


def test_round_trip(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(EXAMPLE)
    w = load_workload(path)
    assert w == expected(str(path))
    assert w.total_macs() == 4 * (16 * 3 * 9 * 16 * 16 + 16 * 3 * 64 + 160)
    # writing it back gives a file that loads into the same workload
    again = tmp_path / "again.yml"
    again.write_text(workload_to_yaml(w))
    assert load_workload(again) == expected(str(again))


def test_name_defaults_to_file_stem(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text("version: 1\nlayers:\n  - {name: a, type: add, input: [1, 2, 2]}\n")
    w = load_workload(path)
    assert (w.name, w.batch, w.description) == ("net", 1, "")


def errors_of(tmp_path, text: str) -> str:
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(InputError) as info:
        load_workload(path)
    message = str(info.value)
    assert all(line.startswith(f"{path}: ") for line in message.splitlines()), message
    return message


def layer_file(*layers: str, header: str = "version: 1\nname: t\n") -> str:
    return header + "layers:\n" + "".join(f"  - {l}\n" for l in layers)


BAD_LAYERS = [
    # (layer text, key path, fragments that must appear)
    ("{name: c, type: conv, input: [3, 8, 8], out_channels: 4, kernel: 3, stride: 0}",
     "layers[0].stride", ["0", ">= 1"]),
    ("{name: c, type: conv, input: [3, 8, 8], out_channels: 4, kernel: 3, padding: -1}",
     "layers[0].padding", ["-1", ">= 0"]),
    ("{name: c, type: conv, input: [3, 8, 8], out_channels: 4.5, kernel: 3}",
     "layers[0].out_channels", ["4.5", "integer"]),
    ("{name: c, type: conv, input: [3, 8, 8], out_channels: true, kernel: 3}",
     "layers[0].out_channels", ["True", "integer"]),
    ("{name: c, type: conv, input: [3, 8, 8], out_channels: '4', kernel: 3}",
     "layers[0].out_channels", ["'4'", "integer"]),
    ("{name: c, type: conv, input: [3, 8, 8], out_channels: 0, kernel: 3}",
     "layers[0].out_channels", ["0", ">= 1"]),
    ("{name: c, type: conv, input: [3, 8], out_channels: 4, kernel: 3}",
     "layers[0].input", ["[3, 8]", "[channels, height, width]"]),
    ("{name: c, type: conv, input: [3, 0, 8], out_channels: 4, kernel: 3}",
     "layers[0].input", ["[3, 0, 8]", ">= 1"]),
    ("{name: c, type: conv, input: [3, 8, 8], out_channels: 4, kernel: [3, 3, 3]}",
     "layers[0].kernel", ["[3, 3, 3]", "[height, width]"]),
    ("{name: c, type: conv, input: [3, 8, 8], out_channels: 4, kernel: 11, padding: 1}",
     "layers[0].kernel", ["11", "larger than the padded input", "at most 10"]),
    ("{name: c, type: conv, input: [3, 8, 8], out_channels: 4, kernel: 3, groups: 2}",
     "layers[0].groups", ["2", "divide", "3"]),
    ("{name: c, type: conv, input: [3, 8, 8], out_channels: 4, kernel: 3, stride: 1, strides: 2}",
     "layers[0].strides", ["'strides'", "allowed keys: name, type, input, out_channels, kernel,"
                           " stride, padding, groups"]),
    ("{name: c, type: conv, input: [3, 8, 8], kernel: 3}",
     "layers[0]", ["missing required key 'out_channels'"]),
    ("{name: c, type: relu, input: [3, 8, 8]}",
     "layers[0].type", ["'relu'", "allowed types: conv, fc, pool, add"]),
    ("{name: c, input: [3, 8, 8]}", "layers[0]", ["missing required key 'type'"]),
    ("{name: p, type: pool, mode: min, input: [3, 8, 8], kernel: 2}",
     "layers[0].mode", ["'min'", "max, avg"]),
    ("{name: p, type: pool, input: [3, 8, 8], kernel: 2}",
     "layers[0]", ["missing required key 'mode'"]),
    ("{name: p, type: pool, mode: max, input: [3, 8, 8], kernel: 2, padding: 2}",
     "layers[0].padding", ["2", "at most 1"]),
    ("{name: p, type: pool, mode: max, input: [3, 8, 8], kernel: 2, out_channels: 3}",
     "layers[0].out_channels", ["unknown key", "allowed keys: name, type, mode, input"]),
    ("{name: f, type: fc, in_features: 0, out_features: 10}",
     "layers[0].in_features", ["0", ">= 1"]),
    ("{name: f, type: fc, in_features: 10, out_features: 10, kernel: 1}",
     "layers[0].kernel", ["unknown key", "allowed keys: name, type, in_features, out_features"]),
    ("{name: 7, type: add, input: [3, 8, 8]}", "layers[0].name", ["7", "string"]),
    ("{type: add, input: [3, 8, 8]}", "layers[0]", ["missing required key 'name'"]),
    ("[conv, 3]", "layers[0]", ["['conv', 3]", "mapping"]),
    ("{name: a, type: add, input: [3, 8, 8], input: [3, 4, 4]}",
     "layers[0].input", ["appears more than once"]),
]


@pytest.mark.parametrize("layer, path, fragments", BAD_LAYERS)
def test_bad_layer(tmp_path, layer, path, fragments):
    message = errors_of(tmp_path, layer_file(layer))
    assert f"bad.yaml: {path}: " in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "(line 4)" in message  # the layer's line in the file


def test_all_problems_reported_at_once(tmp_path):
    message = errors_of(tmp_path, layer_file(
        "{name: a, type: conv, input: [3, 8, 8], out_channels: 4, kernel: 3, stride: 0}",
        "{name: b, type: conv, input: [3, 8, 8], out_channels: 4, kernel: 3, padding: -2}",
        "{name: a, type: add, input: [3, 8, 8]}",
        header="version: 2\nname: t\nbatch: 0\ncolour: red\n"))
    lines = message.splitlines()
    assert len(lines) == 6, message
    assert "version: 2: unsupported workload format version; supported versions: 1" in message
    assert "bad.yaml: batch: 0: must be an integer >= 1" in message
    assert "bad.yaml: colour: unknown key 'colour'" in message
    assert "allowed keys: version, name, description, batch, weights, dataset, layers" in message
    assert "layers[0].stride: 0: must be an integer >= 1" in message
    assert "layers[1].padding: -2: must be an integer >= 0" in message
    assert "layers[2].name: 'a': duplicate layer name, already used by layers[0]" in message


@pytest.mark.parametrize("text, fragments", [
    ("", ["the file is empty"]),
    ("- 1\n- 2\n", ["must be a mapping"]),
    ("version: 1\nname: t\nlayers: []\n", ["layers: []: must be a non-empty list"]),
    ("version: 1\nname: t\n", ["missing required key 'layers'"]),
    ("name: t\nlayers:\n  - {name: a, type: add, input: [1, 1, 1]}\n",
     ["missing required key 'version'"]),
    ("version: '1'\nlayers:\n  - {name: a, type: add, input: [1, 1, 1]}\n",
     ["version: '1': unsupported", "supported versions: 1"]),
    ("version: 1\nname: t\nlayers:\n  - {name: a, type: add, input: [1, 1, 1]\n  - {name: b}\n",
     ["invalid YAML", "line 5"]),
    ("version: 1\nname: t\nlayers:\n\tbad\n", ["invalid YAML", "line 4"]),
])
def test_bad_file(tmp_path, text, fragments):
    message = errors_of(tmp_path, text)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_parse_from_text_names_source():
    with pytest.raises(InputError) as info:
        parse_yaml_workload("version: 1\nlayers: 3\n", "inline.yaml")
    assert str(info.value) == "inline.yaml: layers: 3: must be a non-empty list of layers (line 2)"
    assert info.value.problems[0].path == "layers"


# --------------------------------------------------------------------------- property
from hypothesis import given, settings, strategies as st  # noqa: E402


@st.composite
def conv_layers(draw, index: int):
    groups = draw(st.sampled_from([1, 2, 4]))
    c = groups * draw(st.integers(1, 8))
    k = groups * draw(st.integers(1, 8))
    r, s = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    h = draw(st.integers(max(1, r - 2 * ph), 40))
    w = draw(st.integers(max(1, s - 2 * pw), 40))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    name = draw(st.text(min_size=1, max_size=12).filter(lambda t: t.strip())) + f"#{index}"
    return Layer(name, "conv", c, h, w, k, r, s, sh, sw, ph, pw, groups=groups)


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_writer_round_trip_property(data):
    n = data.draw(st.integers(1, 4))
    layers = tuple(data.draw(conv_layers(i)) for i in range(n))
    w = Workload("prop", layers, source="p.yaml", batch=data.draw(st.integers(1, 8)))
    again = parse_yaml_workload(workload_to_yaml(w), "p.yaml")
    # the writer names the network input as the producer of layers that do not chain
    assert [replace(layer, inputs=()) for layer in again.layers] == list(w.layers)
    assert again.batch == w.batch and again.name == w.name
