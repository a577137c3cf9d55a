import math

import numpy as np
import pytest

from simulator.approx import blocked as B
from simulator.approx import generators as G
from simulator.approx.blockops import blocked_multiply
from simulator.approx.lut import LutMultiplier
from simulator.errors import AxsimError, InputError

V = np.arange(256, dtype=np.int64)
EXACT = V[:, None] * V[None, :]


def test_exact_and_truncated_all_pairs():
    assert np.array_equal(G.exact().table, EXACT)
    for t in (0, 1, 5, 16):
        assert np.array_equal(G.truncated(t).table, EXACT - EXACT % 2 ** t)
    for ta, tw in ((0, 0), (2, 3), (8, 1)):
        expected = (V - V % 2 ** ta)[:, None] * (V - V % 2 ** tw)[None, :]
        assert np.array_equal(G.operand_truncated(ta, tw).table, expected)


def brute_bam(a: int, b: int, hbl: int, vbl: int) -> int:
    total = 0
    for j in range(8):          # row j: partial product a * b_j
        for i in range(8):      # column i + j
            if j >= hbl and i + j >= vbl:
                total += ((a >> i) & 1) * ((b >> j) & 1) * 2 ** (i + j)
    return total


@pytest.mark.parametrize("hbl, vbl", [(0, 0), (0, 4), (2, 0), (1, 6), (3, 9)])
def test_broken_array(hbl, vbl):
    table = G.broken_array(hbl, vbl).table.astype(np.int64)
    rng = np.random.default_rng(hbl * 16 + vbl)
    for a, b in list(rng.integers(0, 256, (1500, 2))) + [(255, 255), (0, 7), (128, 1)]:
        assert table[a, b] == brute_bam(int(a), int(b), hbl, vbl)
    if vbl == 0:  # rows below hbl omitted == weight with low bits cleared, checked on all pairs
        assert np.array_equal(table, V[:, None] * (V - V % 2 ** hbl)[None, :])
    assert np.all(table <= EXACT)


def brute_drum_operand(x: int, k: int) -> int:
    if x < 2 ** k:
        return x
    t = x.bit_length() - 1              # leading one
    low = t - k + 1                     # lowest kept bit
    kept = (x >> low) << low
    return kept | (1 << low)            # unbiasing: lowest kept bit forced to 1


@pytest.mark.parametrize("k", [1, 3, 4, 6, 8])
def test_drum_all_pairs(k):
    ops = np.array([brute_drum_operand(x, k) for x in range(256)], dtype=np.int64)
    assert np.array_equal(G.drum(k).table, ops[:, None] * ops[None, :])
    if k == 8:
        assert np.array_equal(G.drum(k).table, EXACT)


def test_mitchell_all_pairs():
    table = G.mitchell().table
    for a in range(256):
        for b in range(256):
            if a == 0 or b == 0:
                expected = 0
            else:
                k1, k2 = int(math.log2(a)), int(math.log2(b))
                x1, x2 = a / 2 ** k1 - 1, b / 2 ** k2 - 1
                expected = 2 ** (k1 + k2) * (1 + x1 + x2) if x1 + x2 < 1 else 2 ** (k1 + k2 + 1) * (x1 + x2)
            assert table[a, b] == expected
    assert table[3, 3] == 8 and table[2 ** 5, 2 ** 2] == 128


@pytest.mark.parametrize("cfg", [c for c in B.presets().values()] + [B.dynamic(1, 2, 8, 1)],
                         ids=lambda c: c.name)
def test_from_block_config_matches_blocked_multiply(cfg):
    lut = G.from_block_config(cfg)
    assert lut.name == cfg.name
    assert np.array_equal(lut.table, blocked_multiply(V[:, None], V[None, :], cfg))
    assert np.array_equal(lut.multiply(V[:, None], V[None, :]), blocked_multiply(V[:, None], V[None, :], cfg))


def test_from_block_config_rejects_signed_or_wide():
    with pytest.raises(AxsimError, match="only unsigned 8-bit"):
        G.from_block_config(B.exact(8, 4, signed=True))
    with pytest.raises(AxsimError, match="bits=16"):
        G.from_block_config(B.exact(16, 4))


def test_generator_parameters_validated_and_generate():
    with pytest.raises(AxsimError, match="t: 17: must be an integer in 0..16"):
        G.truncated(17)
    with pytest.raises(AxsimError, match="k: 0"):
        G.drum(0)
    assert G.generate({"kind": "drum", "k": 5}).same_table(G.drum(5))
    assert G.generate({"kind": "mitchell"}).name == "mitchell"
    with pytest.raises(InputError, match=r"m.yaml: mult.kind: 'wallace': must be one of exact"):
        G.generate({"kind": "wallace"}, "m.yaml", "mult")
    with pytest.raises(InputError, match=r"m.yaml: mult.k: 9: must be an integer in 1..8"):
        G.generate({"kind": "drum", "k": 9}, "m.yaml", "mult")
    with pytest.raises(InputError, match=r"m.yaml: mult.q: unknown parameter for drum; allowed: k"):
        G.generate({"kind": "drum", "q": 9}, "m.yaml", "mult")
    with pytest.raises(InputError, match=r"m.yaml: mult.t: missing parameter of truncated"):
        G.generate({"kind": "truncated"}, "m.yaml", "mult")


def test_lut_multiplier_checks():
    with pytest.raises(AxsimError, match=r"shape \(3,\)"):
        LutMultiplier(np.zeros(3, dtype=np.uint16))
    with pytest.raises(AxsimError, match="value 65536"):
        LutMultiplier(np.full((256, 256), 65536))
    lut = G.exact()
    assert not lut.table.flags.writeable
    with pytest.raises(AxsimError, match="value 256 out of range"):
        lut.multiply(np.array([256]), np.array([0]))
    assert lut(np.uint8(12), np.uint8(13)) == 156
    assert np.array_equal(lut.weight_stationary()[7], lut.table[:, 7])
