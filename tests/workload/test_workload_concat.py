"""Concatenation layers in the workload format: shapes, errors naming file and key, round trip."""
from __future__ import annotations

import pytest

from simulator.errors import InputError
from simulator.workload import Layer, parse_yaml_workload, workload_to_yaml

BASE = """
version: 1
name: c
layers:
  - {name: a, type: conv, input: [4, 8, 8], out_channels: 6, kernel: 3, padding: 1}
  - {name: b, type: conv, input: [6, 8, 8], out_channels: 10, kernel: 1}
  - {name: c, type: conv, inputs: [a], input: [6, 8, 8], out_channels: 3, kernel: 3, padding: 1}
  - CAT
  - {name: f, type: fc, in_features: 1216, out_features: 2}
"""
GOOD = "{name: cat, type: concat, inputs: [a, b, c], input: [19, 8, 8]}"


def wl(cat: str):
    return parse_yaml_workload(BASE.replace("CAT", cat), "net.yaml")


def test_concat_joins_channels_in_input_order_and_round_trips():
    w = wl(GOOD)
    cat = w.layer("cat")
    assert (cat.kind, cat.in_channels, cat.out_channels, cat.out_h, cat.out_w) == ("concat", 19, 19, 8, 8)
    assert cat.inputs == ("a", "b", "c") and w.producers()["f"] == ("cat",)
    assert cat.macs == 0 and cat.weight_count == 0 and cat.vector_ops == 0 and not cat.is_compute
    assert cat.input_count == 19 * 8 * 8 == cat.output_count
    again = parse_yaml_workload(workload_to_yaml(w), "again.yaml")
    assert again.layers == w.layers


@pytest.mark.parametrize("cat, key, words", [
    ("{name: cat, type: concat, inputs: [a, b, c], input: [20, 8, 8]}", "layers[3].input",
     ["6 (a) + 10 (b) + 3 (c) = 19", "expected input: [19, 8, 8]"]),
    ("{name: cat, type: concat, inputs: [a, input], input: [6, 8, 8]}", "layers[3].inputs",
     ["not 'input'"]),
    ("{name: cat, type: concat, inputs: [a], input: [6, 8, 8]}", "layers[3].inputs", ["at least two"]),
    ("{name: cat, type: concat, inputs: a, input: [6, 8, 8]}", "layers[3].inputs", ["at least two"]),
    ("{name: cat, type: concat, input: [19, 8, 8]}", "layers[3]", ["missing required key 'inputs'"]),
    ("{name: cat, type: concat, inputs: [a, zz], input: [19, 8, 8]}", "layers[3].inputs", ["'zz'", "earlier layer"]),
    ("{name: cat, type: concat, inputs: [a, b], input: [16, 8, 8], kernel: 3}", "layers[3].kernel", ["kernel"]),
])
def test_bad_concat_is_a_clear_error(cat, key, words):
    with pytest.raises(InputError) as exc:
        wl(cat)
    text = str(exc.value)
    assert "net.yaml" in text and key in text, text
    for w in words:
        assert w in text, text


def test_operands_of_another_size_are_named():
    text = BASE.replace("CAT", "{name: cat, type: concat, inputs: [a, p], input: [10, 8, 8]}").replace(
        "  - {name: f, type: fc, in_features: 1216", "  - {name: f, type: fc, inputs: [cat], in_features: 640")
    text = text.replace("  - {name: cat", "  - {name: p, type: pool, mode: max, inputs: [a], input: [6, 8, 8], "
                                          "kernel: 2, stride: 2}\n  - {name: cat")
    with pytest.raises(InputError) as exc:
        parse_yaml_workload(text, "net.yaml")
    assert "layers[4].input" in str(exc.value) and "'p' outputs [6, 4, 4]" in str(exc.value)


def test_layer_refuses_a_concat_without_two_inputs():
    with pytest.raises(ValueError, match="at least two inputs"):
        Layer("c", "concat", 4, 2, 2, 4, inputs=("a",))
