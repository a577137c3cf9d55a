import pytest

from simulator.approx import blocked as B
from simulator.errors import AxsimError, InputError


def test_exact_properties():
    cfg = B.exact(8, 4)
    assert cfg.n_blocks == 2
    assert cfg.products_per_mac == 4
    assert cfg.is_exact and cfg.keeps_whole_blocks()
    assert cfg.index_bits_a == cfg.index_bits_w == 0
    assert cfg.stored_bits_a == cfg.stored_bits_w == 8
    assert B.exact(8, 2, signed=True).stored_bits_a == 9


def test_dynamic_index_bits_and_stored_bits():
    # N = 4 blocks of 2 bits: keep 1 -> 4 start positions (2 bits), keep 2 -> 3 (2 bits),
    # keep 3 -> 2 (1 bit), keep 4 -> 1 (0 bits)
    expected = {1: 2, 2: 2, 3: 1, 4: 0}
    for keep, bits in expected.items():
        cfg = B.dynamic(keep, keep, 8, 2)
        assert cfg.index_bits_a == cfg.index_bits_w == bits
        assert cfg.stored_bits_a == keep * 2 + bits
        assert cfg.products_per_mac == keep * keep
    assert B.dynamic(1, 1, 8, 4).index_bits_a == 1
    assert B.dynamic(4, 4, 8, 2).is_exact
    assert not B.dynamic(2, 4, 8, 2).is_exact
    asym = B.dynamic(1, 3, 8, 2, signed=True)
    assert (asym.stored_bits_a, asym.stored_bits_w) == (2 + 1 + 2, 6 + 1 + 1)


def test_top_pairs_order_and_msb_pairs():
    assert B.top_pairs(2, 1) == [(1, 1)]
    assert set(B.top_pairs(2, 3)) == {(1, 1), (1, 0), (0, 1)}
    top = B.top_pairs(4, 6)
    assert top[:3] == [(3, 3), (3, 2), (2, 3)]
    assert {p for p in top[3:]} == {(2, 2), (3, 1), (1, 3)}
    assert set(B.msb_pairs(4, 2, 1)) == {(2, 3), (3, 3)}
    with pytest.raises(AxsimError, match="top: 17"):
        B.top_pairs(4, 17)


def test_keeps_whole_blocks():
    assert B.static_msb(2, 3, 8, 2).keeps_whole_blocks()
    assert not B.static_top(3, 8, 4).keeps_whole_blocks()
    odd = B.BlockConfig(8, 2, pairs=[(0, 1), (3, 1), (0, 2), (3, 2)])
    assert odd.keeps_whole_blocks()
    assert odd.blocks_a == (0, 3) and odd.blocks_w == (1, 2)
    assert odd.operand_mask("a") == 0b11000011 and odd.operand_mask("w") == 0b00111100
    assert odd.stored_bits_a == 4
    assert B.dynamic(2, 2).keeps_whole_blocks()


def test_constructor_validation():
    with pytest.raises(AxsimError, match="must divide bits"):
        B.BlockConfig(8, 3)
    with pytest.raises(AxsimError, match=r"\[2, 0\].*0..1"):
        B.BlockConfig(8, 4, pairs=[(2, 0)])
    with pytest.raises(AxsimError, match="keep_a"):
        B.BlockConfig(8, 2, policy="dynamic", keep_a=5, keep_w=1)
    with pytest.raises(AxsimError, match="'adaptive'"):
        B.BlockConfig(policy="adaptive")


def test_dict_round_trip_for_presets():
    presets = B.presets()
    assert len(presets) >= 5
    for name, cfg in presets.items():
        assert cfg.name == name
        back = B.BlockConfig.from_dict(cfg.to_dict(), "x.yaml")
        assert back == cfg


def test_from_dict_shorthands():
    cfg = B.BlockConfig.from_dict({"bits": 8, "block_bits": 2, "top": 6}, "a.yaml")
    assert cfg.pairs == frozenset(B.top_pairs(4, 6))
    cfg = B.BlockConfig.from_dict({"block_bits": 2, "msb_blocks": [2, 3], "signed": True}, "a.yaml")
    assert cfg.pairs == frozenset(B.msb_pairs(4, 2, 3)) and cfg.signed
    cfg = B.BlockConfig.from_dict({"block_bits": 2, "policy": "dynamic", "keep_a": 2, "keep_w": 3}, "a.yaml")
    assert (cfg.keep_a, cfg.keep_w, cfg.products_per_mac) == (2, 3, 6)
    assert B.BlockConfig.from_dict({}, "a.yaml").is_exact


@pytest.mark.parametrize("data, path, text", [
    ({"bits": 8, "block_bits": 3}, "layers[2].mac.block_bits", "3: must divide bits (8); allowed: [1, 2, 4, 8]"),
    ({"bits": "8"}, "layers[2].mac.bits", "'8': must be an integer in 1..32"),
    ({"colour": 1}, "layers[2].mac.colour", "unknown key"),
    ({"policy": "fast"}, "layers[2].mac.policy", "'fast': must be one of static, dynamic"),
    ({"pairs": [[0, 0], [0, 2]]}, "layers[2].mac.pairs[1]", "[0, 2]: block indices must be in 0..1"),
    ({"pairs": [[0, 0], [0, 0]]}, "layers[2].mac.pairs[1]", "duplicate pair"),
    ({"pairs": [[0]]}, "layers[2].mac.pairs[0]", "must be a pair [i, j] of integers"),
    ({"top": 5}, "layers[2].mac.top", "5: must be an integer in 1..4"),
    ({"msb_blocks": [3, 1]}, "layers[2].mac.msb_blocks", "[3, 1]: must be [Ma, Mw]"),
    ({"policy": "dynamic", "keep_a": 3, "keep_w": 1}, "layers[2].mac.keep_a", "3: must be an integer in 1..2"),
    ({"policy": "dynamic", "keep_a": 1}, "layers[2].mac.keep_w", "None: must be an integer"),
    ({"keep_a": 1}, "layers[2].mac.keep_a", "only allowed with policy 'dynamic'"),
    ({"top": 2, "pairs": [[0, 0]]}, "layers[2].mac.", "give only one of"),
    ({"signed": "yes"}, "layers[2].mac.signed", "'yes': must be true or false"),
])
def test_bad_dicts_report_key_paths(data, path, text):
    with pytest.raises(InputError) as info:
        B.BlockConfig.from_dict(data, "arch/x.yaml", "layers[2].mac")
    msg = str(info.value)
    assert msg.startswith("arch/x.yaml: ")
    assert f"arch/x.yaml: {path}" in msg
    assert text in msg


def test_bad_dict_reports_all_problems_and_non_mapping():
    with pytest.raises(InputError) as info:
        B.BlockConfig.from_dict({"colour": 1, "signed": 2, "policy": "x"}, "f.yaml")
    assert len(info.value.problems) == 3
    with pytest.raises(InputError, match=r"f.yaml: \[1, 2\]: must be a mapping"):
        B.BlockConfig.from_dict([1, 2], "f.yaml")
