"""Per-operand selection policies of Ax-BxP (``policy='mixed'``): one operand keeps a
fixed block set (static), the other a window from its leading non-zero block (dynamic)."""
from __future__ import annotations

import textwrap
from dataclasses import replace

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.approx import blocked as B
from simulator.approx import generators as G
from simulator.approx.blockops import (blocked_conv2d, blocked_gemm, blocked_multiply,
                                       transform_operand)
from simulator.approx.metrics import error_metrics
from simulator.macs.approxfile import load_approx, resolve
from simulator.errors import AxsimError, InputError

from _approx_ref import blocks_of, brute_conv2d, brute_gemm


def mix(pa, pw, keep_a=None, keep_w=None, sa=None, sw=None, bits=8, kb=2, signed=False, name=""):
    return B.BlockConfig(bits, kb, signed, "mixed", None, keep_a, keep_w, name,
                         policy_a=pa, policy_w=pw, static_blocks_a=sa, static_blocks_w=sw)


def _signed(cfg):
    return B.BlockConfig(cfg.bits, cfg.block_bits, True, cfg.policy, cfg.pairs, cfg.keep_a, cfg.keep_w,
                         "", cfg.policy_a, cfg.policy_w, cfg.static_blocks_a, cfg.static_blocks_w)


# ---- independent per-pair reference ---------------------------------------------------------
def kept_blocks(mag: int, n: int, k: int, policy: str, keep, static) -> set[int]:
    """Block indices of one operand value that the configuration keeps."""
    if policy == "static":
        return set(static)
    blocks = blocks_of(mag, n, k)
    lead = max([i for i, b in enumerate(blocks) if b] or [0])
    start = max(lead - keep + 1, 0)
    return set(range(start, start + keep))


def brute_mixed(a: int, w: int, cfg) -> int:
    """Decide for each of the N^2 block pairs whether it is computed, and sum those."""
    n, k = cfg.n_blocks, cfg.block_bits
    sa = cfg.static_blocks_a if cfg.policy_a == "static" else None
    sw = cfg.static_blocks_w if cfg.policy_w == "static" else None
    ka = kept_blocks(abs(a), n, k, cfg.policy_a, cfg.keep_a, sa)
    kw = kept_blocks(abs(w), n, k, cfg.policy_w, cfg.keep_w, sw)
    xa, xw = blocks_of(abs(a), n, k), blocks_of(abs(w), n, k)
    total = sum(xa[i] * xw[j] << (k * (i + j)) for i in range(n) for j in range(n) if i in ka and j in kw)
    return (-1 if (a < 0) != (w < 0) else 1) * total


def brute_table(values: np.ndarray, cfg) -> np.ndarray:
    return np.array([[brute_mixed(int(a), int(w), cfg) for w in values] for a in values], dtype=np.int64)


MIXED = [
    B.mixed(keep_a=2, msb_w=3),                                   # a dynamic, w static
    B.mixed(msb_a=3, keep_w=2),                                   # a static, w dynamic
    B.mixed(keep_a=1, msb_w=2),
    B.mixed(msb_a=1, keep_w=3),
    B.mixed(keep_a=1, msb_w=1, block_bits=4),
    B.mixed(msb_a=1, keep_w=1, block_bits=4),
    mix("static", "dynamic", keep_w=1, sa={0, 3}),                # non-contiguous static set
    mix("dynamic", "static", keep_a=3, sw={1, 2}),
    mix("dynamic", "static", keep_a=2, sw={5, 6, 7}, kb=1),
]
ALL8 = np.arange(256, dtype=np.int64)
INT8 = np.arange(-128, 128, dtype=np.int64)


@pytest.mark.parametrize("cfg", MIXED, ids=lambda c: c.name)
def test_all_unsigned_pairs_equal_per_pair_reference(cfg):
    out = blocked_multiply(ALL8[:, None], ALL8[None, :], cfg)
    assert out.shape == (256, 256)
    assert np.array_equal(out, brute_table(ALL8, cfg))
    exact = ALL8[:, None] * ALL8[None, :]
    assert np.all(out <= exact) and np.any(out != exact)
    ta, tw = transform_operand(ALL8, cfg, "a"), transform_operand(ALL8, cfg, "w")
    assert np.array_equal(out, ta[:, None] * tw[None, :])
    assert np.array_equal(G.from_block_config(cfg).table, out)


@pytest.mark.parametrize("cfg", [_signed(MIXED[0]), _signed(MIXED[1]), _signed(MIXED[6])],
                         ids=lambda c: c.name)
def test_all_int8_pairs_signed_equal_per_pair_reference(cfg):
    assert cfg.signed and cfg.name.startswith("mix_s8")
    out = blocked_multiply(INT8[:, None], INT8[None, :], cfg)
    assert out.size == 65536
    assert np.array_equal(out, brute_table(INT8, cfg))
    unsigned = blocked_multiply(np.abs(INT8)[:, None], np.abs(INT8)[None, :], replace(cfg, signed=False,
                                                                                         name=""))
    assert np.array_equal(out, np.sign(INT8)[:, None] * np.sign(INT8)[None, :] * unsigned)


def test_mixed_with_every_block_kept_is_exact():
    for cfg in (B.mixed(keep_a=4, msb_w=4), mix("static", "dynamic", keep_w=2, kb=4),
                B.mixed(msb_a=2, keep_w=2, block_bits=4)):
        assert cfg.is_exact and cfg.name.startswith("exact_")
        assert np.array_equal(blocked_multiply(ALL8[:, None], ALL8[None, :], cfg), ALL8[:, None] * ALL8[None, :])
        assert error_metrics(G.from_block_config(cfg)).mae == 0


def test_dynamic_side_beats_static_truncation_on_small_values():
    # a dynamic weight keeps the low blocks of a small weight, a static MSB weight loses them
    dyn_w, msb_w = B.mixed(msb_a=4, keep_w=2), B.static_msb(4, 2)
    assert blocked_multiply(np.array([255]), np.array([5]), dyn_w)[0] == 255 * 5
    assert blocked_multiply(np.array([255]), np.array([5]), msb_w)[0] == 0
    assert error_metrics(G.from_block_config(dyn_w)).mae < error_metrics(G.from_block_config(msb_w)).mae


# ---- GEMM and convolution -------------------------------------------------------------------
CFG_STRATEGY = st.sampled_from(MIXED + [_signed(c) for c in MIXED[:4]])


def _values(rng, cfg, shape):
    lo = -cfg.max_magnitude if cfg.signed else 0
    return rng.integers(lo, cfg.max_magnitude + 1, shape)


@settings(max_examples=40, deadline=None)
@given(cfg=CFG_STRATEGY, m=st.integers(1, 5), k=st.integers(1, 7), n=st.integers(1, 5),
       seed=st.integers(0, 2 ** 32 - 1))
def test_gemm_equals_reference_loop(cfg, m, k, n, seed):
    rng = np.random.default_rng(seed)
    a, w = _values(rng, cfg, (m, k)), _values(rng, cfg, (k, n))
    ref = brute_gemm(a, w, lambda x, y: brute_mixed(x, y, cfg))
    assert cfg.keeps_whole_blocks()
    for method in ("auto", "operands", "planes"):
        assert np.array_equal(blocked_gemm(a, w, cfg, method), ref), method
    if not cfg.signed:
        assert np.array_equal(blocked_gemm(a.astype(np.uint8), w.astype(np.uint8), cfg), ref)


_brute_vec = np.vectorize(brute_mixed, otypes=[np.int64], excluded={2})


@settings(max_examples=25, deadline=None)
@given(cfg=CFG_STRATEGY, n=st.integers(1, 2), groups=st.sampled_from([1, 2]),
       cpg=st.integers(1, 2), kpg=st.integers(1, 2), h=st.integers(3, 5), w=st.integers(3, 5),
       r=st.integers(1, 3), s=st.integers(1, 3), stride=st.integers(1, 2), pad=st.integers(0, 1),
       dil=st.integers(1, 2), seed=st.integers(0, 2 ** 32 - 1))
def test_conv2d_equals_reference_loop(cfg, n, groups, cpg, kpg, h, w, r, s, stride, pad, dil, seed):
    if (h + 2 * pad) < dil * (r - 1) + 1 or (w + 2 * pad) < dil * (s - 1) + 1:
        return
    rng = np.random.default_rng(seed)
    x = _values(rng, cfg, (n, cpg * groups, h, w))
    wt = _values(rng, cfg, (kpg * groups, cpg, r, s))
    pv = 3
    ref = brute_conv2d(x, wt, lambda p, q: _brute_vec(p, q, cfg), (stride, stride), (pad, pad),
                       (dil, dil), groups, pv)
    for method in ("auto", "planes"):
        out = blocked_conv2d(x, wt, cfg, stride=stride, padding=pad, dilation=dil, groups=groups,
                             pad_value=pv, method=method)
        assert out.shape == ref.shape and np.array_equal(out, ref)


def test_larger_gemm_fast_path_equals_planes():
    rng = np.random.default_rng(8)
    a, w = rng.integers(0, 256, (120, 600)), rng.integers(0, 256, (600, 24))
    for cfg in B.presets(include_mixed=True).values():
        if cfg.policy == "mixed":
            assert np.array_equal(blocked_gemm(a, w, cfg, "operands"), blocked_gemm(a, w, cfg, "planes"))


# ---- properties -----------------------------------------------------------------------------
@pytest.mark.parametrize("cfg, products, stored, index, blocks", [
    (B.mixed(keep_a=2, msb_w=3), 6, (4 + 2, 6), (2, 0), ((0, 1), (1, 2, 3))),
    (B.mixed(msb_a=3, keep_w=2), 6, (6, 4 + 2), (0, 2), ((1, 2, 3), (0, 1))),
    (B.mixed(msb_a=1, keep_w=3, signed=True), 3, (2 + 1, 6 + 1 + 1), (0, 1), ((3,), (0, 1, 2))),
    (B.mixed(keep_a=1, msb_w=2, block_bits=4), 2, (4 + 1, 8), (1, 0), ((0,), (0, 1))),
    (mix("static", "dynamic", keep_w=1, sa={0, 3}), 2, (4, 2 + 2), (0, 2), ((0, 3), (0,))),
    (mix("dynamic", "static", keep_a=4), 16, (8, 8), (0, 0), ((0, 1, 2, 3), (0, 1, 2, 3))),
    (mix("dynamic", "static", keep_a=2, sw={5, 6, 7}, kb=1), 6, (2 + 3, 3), (3, 0), ((0, 1), (5, 6, 7))),
])
def test_products_stored_and_index_bits(cfg, products, stored, index, blocks):
    assert cfg.products_per_mac == products
    assert (cfg.stored_bits_a, cfg.stored_bits_w) == stored
    assert (cfg.index_bits_a, cfg.index_bits_w) == index
    assert (cfg.blocks_a, cfg.blocks_w) == blocks
    assert cfg.keeps_whole_blocks() and cfg.policy == "mixed" and cfg.pairs is None
    assert cfg.is_exact == (products == cfg.n_blocks ** 2)


def test_operand_accessors_names_and_masks():
    cfg = B.mixed(keep_a=2, msb_w=3)
    assert (cfg.policy_a, cfg.policy_w) == ("dynamic", "static")
    assert (cfg.operand_policy("a"), cfg.operand_keep("a"), cfg.operand_keep("w")) == ("dynamic", 2, None)
    assert cfg.static_blocks_w == frozenset({1, 2, 3}) and cfg.static_blocks_a is None
    assert cfg.operand_mask("w") == 0b11111100
    with pytest.raises(AxsimError, match="static operands only.*activations are dynamic"):
        cfg.operand_mask("a")
    assert cfg.name == "mix_u8k2_adyn2_wmsb3"
    assert B.mixed(msb_a=3, keep_w=2, signed=True).name == "mix_s8k2_amsb3_wdyn2"
    assert mix("static", "dynamic", keep_w=1, sa={0, 3}).name == "mix_u8k2_ab03_wdyn1"
    assert mix("dynamic", "static", keep_a=2, sw={0, 7}, kb=1).name == "mix_u8k1_adyn2_wb07"
    # plain policies: operand policies are the shared one
    assert (B.dynamic(2, 2).policy_a, B.static_msb(3, 3).policy_w) == ("dynamic", "static")
    assert B.mixed(keep_a=2, keep_w=3) == B.dynamic(2, 3)
    assert B.mixed(msb_a=2, msb_w=3) == B.static_msb(2, 3)
    assert replace(cfg, name="x").name == "x" and replace(cfg, name="x") != cfg


def test_mixed_presets():
    plain, every = B.presets(include_mixed=False), B.presets()
    assert all(every[name] == cfg for name, cfg in plain.items())
    extra = {name: cfg for name, cfg in every.items() if name not in plain}
    assert set(extra) == {"dyn2xmsb3_k2", "msb3xdyn2_k2"}
    for name, cfg in extra.items():
        assert cfg.name == name and cfg.policy == "mixed" and cfg.products_per_mac == 6
        assert cfg.stored_bits_a == cfg.stored_bits_w == 6
        assert B.BlockConfig.from_dict(cfg.to_dict(), "x.yaml") == cfg
    assert extra["dyn2xmsb3_k2"].policy_a == extra["msb3xdyn2_k2"].policy_w == "dynamic"


def test_builder_and_constructor_errors():
    with pytest.raises(AxsimError, match="exactly one of keep_a .* or msb_a"):
        B.mixed(keep_a=2, msb_a=2, msb_w=3)
    with pytest.raises(AxsimError, match="exactly one of keep_w"):
        B.mixed(keep_a=2)
    with pytest.raises(AxsimError, match="msb_w=5: must be an integer in 1..4"):
        B.mixed(keep_a=2, msb_w=5)
    with pytest.raises(AxsimError, match="must divide bits"):
        B.mixed(keep_a=2, msb_w=1, block_bits=3)
    with pytest.raises(AxsimError, match="policy_a: None: must be static or dynamic"):
        B.BlockConfig(8, 2, policy="mixed", policy_w="static", keep_a=1)
    with pytest.raises(AxsimError, match="needs different operand policies.*use policy 'dynamic'"):
        mix("dynamic", "dynamic", keep_a=1, keep_w=1)
    with pytest.raises(AxsimError, match="policy_a: 'dynamic': .*need policy 'mixed'"):
        B.BlockConfig(8, 2, policy="static", policy_a="dynamic")
    with pytest.raises(AxsimError, match="static_blocks_w: only for the static operand"):
        B.BlockConfig(8, 2, policy="dynamic", keep_a=1, keep_w=1, static_blocks_w={1})
    with pytest.raises(AxsimError, match="static_blocks_a: only for a static operand"):
        mix("dynamic", "static", keep_a=1, sa={1})
    with pytest.raises(AxsimError, match="keep_w: 2: only for a dynamic operand"):
        mix("dynamic", "static", keep_a=1, keep_w=2)
    with pytest.raises(AxsimError, match=r"static_blocks_w\[0\]: 4: must be a block index in 0..3"):
        mix("dynamic", "static", keep_a=1, sw=[4])
    with pytest.raises(AxsimError, match="pairs: pairs are only allowed with policy 'static'"):
        B.BlockConfig(8, 2, policy="mixed", pairs=[(0, 0)], policy_a="dynamic", policy_w="static", keep_a=1)


# ---- YAML form ------------------------------------------------------------------------------
def test_yaml_forms():
    text = """
        bits: 8
        block_bits: 2
        policy: {activations: dynamic, weights: static}
        keep_a: 2
        msb_blocks_w: 3
    """
    cfg = B.BlockConfig.from_dict(yaml.safe_load(textwrap.dedent(text)), "a.yaml")
    assert cfg == B.mixed(keep_a=2, msb_w=3)
    explicit = {"block_bits": 2, "policy": {"activations": "dynamic", "weights": "static"},
                "keep_a": 2, "static_blocks_w": [3, 1, 2]}
    assert B.BlockConfig.from_dict(explicit, "a.yaml") == cfg
    every = B.BlockConfig.from_dict({"block_bits": 2, "keep_w": 1,
                                     "policy": {"activations": "static", "weights": "dynamic"}}, "a.yaml")
    assert every.blocks_a == (0, 1, 2, 3) and every.products_per_mac == 4 and not every.is_exact
    same = B.BlockConfig.from_dict({"block_bits": 2, "policy": {"activations": "dynamic", "weights": "dynamic"},
                                    "keep_a": 2, "keep_w": 3}, "a.yaml")
    assert same == B.dynamic(2, 3)
    both_static = B.BlockConfig.from_dict({"block_bits": 2, "msb_blocks": [2, 3],
                                           "policy": {"activations": "static", "weights": "static"}}, "a.yaml")
    assert both_static == B.static_msb(2, 3)
    assert B.BlockConfig.from_dict({**explicit, "name": "mine"}, "a.yaml").name == "mine"


@pytest.mark.parametrize("cfg", MIXED + [_signed(c) for c in MIXED] + [B.mixed(keep_a=4, msb_w=4)],
                         ids=lambda c: c.name)
def test_dict_round_trip(cfg):
    data = cfg.to_dict()
    assert data["policy"] == {"activations": cfg.policy_a, "weights": cfg.policy_w}
    assert set(data) & {"pairs", "top", "msb_blocks"} == set()
    back = B.BlockConfig.from_dict(yaml.safe_load(yaml.safe_dump(data)), "x.yaml")
    assert back == cfg and back.to_dict() == data


MIXED_DW = {"block_bits": 2, "policy": {"activations": "dynamic", "weights": "static"}, "keep_a": 2}
MIXED_SD = {"block_bits": 2, "policy": {"activations": "static", "weights": "dynamic"}, "keep_w": 2}


@pytest.mark.parametrize("data, path, text", [
    ({"policy": {"activations": "dynamic"}}, "mac.policy", "missing 'weights'"),
    ({"policy": {"activations": "dynamic", "weights": "fast"}}, "mac.policy.weights",
     "'fast': must be static or dynamic"),
    ({"policy": {"activations": "dynamic", "weights": "static", "bias": "static"}}, "mac.policy.bias",
     "unknown key; allowed: activations, weights"),
    ({"policy": "mixed"}, "mac.policy", "'mixed': give the policy of each operand"),
    ({"policy": 3}, "mac.policy", "3: must be one of static, dynamic, or a mapping"),
    ({**MIXED_DW, "keep_a": None}, "mac.keep_a", "None: must be an integer in 1..4"),
    ({**MIXED_DW, "keep_a": 5}, "mac.keep_a", "5: must be an integer in 1..4"),
    ({**MIXED_DW, "keep_w": 2}, "mac.keep_w", "2: only for a dynamic operand; the weights are static"),
    ({**MIXED_SD, "keep_a": 1}, "mac.keep_a", "only for a dynamic operand; the activations are static"),
    ({**MIXED_DW, "static_blocks_a": [1]}, "mac.static_blocks_a", "only for a static operand"),
    ({**MIXED_DW, "msb_blocks_a": 1}, "mac.msb_blocks_a", "the activations are dynamic here (give keep_a)"),
    ({**MIXED_DW, "msb_blocks_w": 5}, "mac.msb_blocks_w", "5: must be an integer in 1..4"),
    ({**MIXED_DW, "msb_blocks_w": True}, "mac.msb_blocks_w", "True: must be an integer in 1..4"),
    ({**MIXED_DW, "msb_blocks_w": 2, "static_blocks_w": [3]}, "mac.msb_blocks_w",
     "give only one of static_blocks_w, msb_blocks_w"),
    ({**MIXED_DW, "static_blocks_w": [0, 4]}, "mac.static_blocks_w[1]", "4: must be a block index in 0..3"),
    ({**MIXED_DW, "static_blocks_w": [1, 1]}, "mac.static_blocks_w[1]", "1: duplicate block"),
    ({**MIXED_DW, "static_blocks_w": []}, "mac.static_blocks_w", "[]: must contain at least one block"),
    ({**MIXED_DW, "static_blocks_w": "123"}, "mac.static_blocks_w", "'123': must be a list of block indices"),
    ({**MIXED_DW, "pairs": [[0, 0]]}, "mac.pairs", "only allowed with policy 'static'"),
    ({**MIXED_DW, "top": 3}, "mac.top", "top is only for policy 'static'"),
    ({**MIXED_DW, "msb_blocks": [3, 3]}, "mac.msb_blocks", "msb_blocks_a/_w: M"),
    ({"static_blocks_w": [1]}, "mac.static_blocks_w", "only for the static operand of a per-operand policy"),
    ({"msb_blocks_w": 1}, "mac.msb_blocks_w", "a static policy takes msb_blocks: [Ma, Mw]"),
    ({"policy": "dynamic", "keep_a": 1, "keep_w": 1, "msb_blocks_a": 1}, "mac.msb_blocks_a", "only for the static"),
    ({**MIXED_DW, "block_bits": 3}, "mac.block_bits", "3: must divide bits (8)"),
])
def test_bad_dicts_report_key_paths(data, path, text):
    with pytest.raises(InputError) as info:
        B.BlockConfig.from_dict(data, "approx.yaml", "mac")
    msg = str(info.value)
    assert f"approx.yaml: {path}: " in msg
    assert text in msg


def test_bad_mixed_dict_reports_all_problems():
    data = {**MIXED_DW, "keep_a": 0, "keep_w": 1, "static_blocks_w": [9], "colour": 1}
    with pytest.raises(InputError) as info:
        B.BlockConfig.from_dict(data, "f.yaml")
    assert sorted(p.path for p in info.value.problems) == ["colour", "keep_a", "keep_w", "static_blocks_w[0]"]


# ---- approximation files --------------------------------------------------------------------
APPROX = """
    version: 1
    name: per-operand
    configs:
      mix: {type: axbxp, bits: 8, block_bits: 2, policy: {activations: dynamic, weights: static},
            keep_a: 2, msb_blocks_w: 3}
      rev: {type: axbxp, bits: 8, block_bits: 2, signed: true,
            policy: {activations: static, weights: dynamic}, static_blocks_a: [3], keep_w: 3}
    default: mix
    layers:
      conv1: rev
"""


def test_approximation_file_with_mixed_configs_resolves(tmp_path, axbxp_arch):
    path = tmp_path / "approx.yaml"
    path.write_text(textwrap.dedent(APPROX), encoding="utf-8")
    spec = load_approx(path)
    assert spec.configs["mix"].block == replace(B.mixed(keep_a=2, msb_w=3), name="mix")
    rev = spec.configs["rev"].block
    assert (rev.policy_a, rev.policy_w, rev.static_blocks_a, rev.keep_w) == ("static", "dynamic", {3}, 3)
    plan = resolve(spec, axbxp_arch, ["conv1", "fc"])
    mix_model, rev_model = plan.model_for("fc"), plan.model_for("conv1")
    assert mix_model.name == "mix" and rev_model.name == "rev"
    assert mix_model.lane_factor == 16 // 6 == 2
    assert (mix_model.input_bits, mix_model.weight_bits) == (2 * 2 + 2, 3 * 2)
    assert rev_model.lane_factor == 16 // 3 == 5
    assert (rev_model.input_bits, rev_model.weight_bits) == (2 + 1, 3 * 2 + 1 + 1)
    assert mix_model.actions_per_mac["mac.block_shift_add"] == 6


def test_approximation_file_reports_mixed_problems(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("""
        version: 1
        configs:
          mix: {type: axbxp, block_bits: 2, policy: {activations: dynamic, weights: sometimes},
                keep_a: 2}
          mix2: {type: axbxp, block_bits: 2, policy: {activations: dynamic, weights: static},
                 keep_a: 2, keep_w: 2}
    """), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_approx(path)
    problems = {p.path: p.message for p in info.value.problems}
    assert problems["configs.mix.policy.weights"] == "'sometimes': must be static or dynamic"
    assert problems["configs.mix2.keep_w"].startswith("2: only for a dynamic operand")
    assert str(info.value).startswith(f"{path}: configs.")
