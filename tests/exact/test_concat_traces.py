"""Concatenation layers in the on-package dataflow (simulator/mapping/concat.py): a view of
resident operands (no transactions; consumers read the slices where they live), or a move of
the resident operands to DRAM when a consumer cannot read from the package.

Expectations come from the operands' own traces (the output slices each chiplet holds) and the
layer shapes, not from the concat's trace."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from conftest import ARCH_DIR, WORKLOAD_DIR
from simulator import api
from simulator.config import load_arch
from simulator.mapping.residency import Residency
from simulator.mapping.weight_stationary import WeightStationaryMapper
from simulator.workload import Layer, Workload, load_workload


@lru_cache(maxsize=None)
def simba():
    return load_arch(ARCH_DIR / "simba.yaml")


def fire():
    return load_workload(WORKLOAD_DIR / "digits_fire.yaml")


def held(tr) -> dict:
    """Output slices (k, rows, cols) per chiplet gathered into its global buffer by ``tr``."""
    out: dict = {}
    for t in tr.txns:
        if t.op == "noc" and t.mode == "gather" and t.ds == "outputs":
            for s in t.data:
                out.setdefault(t.chiplet, []).append(s)
    return out


@pytest.mark.parametrize("batch", [1, 3])
def test_view_of_resident_operands_costs_nothing_and_consumers_read_where_they_live(batch):
    base = fire()
    wl = Workload(base.name, base.layers, base.source, batch=batch)
    cat, pool = wl.layer("cat"), wl.layer("pool")
    rows = cat.out_h * batch  # samples stacked along the rows (the pool has no padding)
    trs = {tr.layer: tr for tr in api.generate_traces(simba(), wl, dataflow="resident")}
    assert trs["cat"].txns == [] and trs["cat"].meta["view"] == "package"
    assert all(trs[n].meta["outputs_resident"] for n in cat.inputs)
    p = trs["pool"]
    assert p.meta["inputs_resident"] == [True]
    assert not any(t.op == "dram_read" and t.ds == "inputs" for t in p.txns)  # nothing from DRAM
    # what each chiplet's buffer holds of the concatenated tensor: the operands' slices at their offsets
    have: dict = {}
    offset = 0
    for name in cat.inputs:
        for chip, boxes in held(trs[name]).items():
            g = have.setdefault(chip, np.zeros((cat.out_channels, rows, cat.out_w), bool))
            for k0, k1, y0, y1, x0, x1 in boxes:
                g[k0 + offset:k1 + offset, y0:y1, x0:x1] = True
        offset += wl.layer(name).out_channels
    for t in p.txns:  # NoP deliveries into the pool's chiplets, from chiplets that hold the slices
        if t.op == "nop" and t.ds == "inputs":
            for s in t.data:
                src = have[t.src][s[2]:s[3], s[6]:s[7], s[8]:s[9]]
                assert src.all(), f"NoP {t.id} sends slices its source chiplet {t.src} does not hold"
                for d in t.dsts:
                    have.setdefault(d, np.zeros_like(src, shape=have[t.src].shape))[s[2]:s[3], s[6]:s[7],
                                                                                    s[8]:s[9]] = True
    loads = [t for t in p.txns if t.op == "noc" and t.ds == "inputs"]
    assert loads
    for t in loads:  # every PE load takes only what its chiplet's buffer holds (pool: no padding)
        for s in t.data:
            assert have[t.chiplet][s[2]:s[3], s[6]:s[7], s[8]:s[9]].all(), f"NoC load {t.id}"


def test_operands_stay_resident_until_the_views_last_consumer_and_are_then_freed():
    wl = fire()
    res = Residency(simba(), wl)
    mapper = WeightStationaryMapper(simba())
    for layer in wl.layers:
        mapper.map(layer, residency=res)
        res.done(layer)
        if layer.name == "cat":
            assert {"expand1", "expand3", "cat"} <= set(res.live)
            assert "cat" not in res.kept  # the view holds no bytes of its own
        if layer.name == "pool":
            assert not {"expand1", "expand3", "cat"} & set(res.live)
    assert res.live == {} and all(v == 0 for v in res.used.values())


def test_concat_before_a_fully_connected_layer_is_moved_to_dram():
    """fc after a spatial tensor cannot read from the package: the resident operands are written to
    DRAM at their channel offsets, every element of the concatenated tensor once."""
    base = fire()
    wl = Workload("fire_fc", base.layers[:5] + (Layer.fc("fc", 2048, 10),), "test")
    assert [layer.kind for layer in wl.layers][-2:] == ["concat", "fc"]
    trs = {tr.layer: tr for tr in api.generate_traces(simba(), wl, dataflow="resident")}
    cat = wl.layer("cat")
    t = trs["cat"]
    assert t.meta["view"] == "dram" and t.meta["moved_bytes"] == cat.out_channels * cat.out_h * cat.out_w
    cnt = np.zeros((cat.out_channels, cat.out_h, cat.out_w), np.int32)
    for txn in t.txns:
        if txn.op == "dram_write":
            for s in txn.data:
                cnt[s[0]:s[1], s[2]:s[3], s[4]:s[5]] += 1
    assert (cnt == 1).all()
    # each NoP move leaves a chiplet that holds what it sends (expand3's channels start at 16)
    offsets = {"expand1": 0, "expand3": 16}
    holds = {}
    for name, off in offsets.items():
        for chip, boxes in held(trs[name]).items():
            holds.setdefault(chip, set()).update((b[0] + off, b[1] + off) + tuple(b[2:]) for b in boxes)
    for txn in t.txns:
        if txn.op == "nop":
            assert set(txn.data) <= holds[txn.src]
    assert trs["fc"].meta["inputs_resident"] == [False]
    result = api.simulate(simba(), wl, dataflow="resident")
    assert {r.name: r for r in result.layers}["cat"].latency_cycles > 0  # moving costs time


def test_exposure_of_a_concat_is_that_of_its_moves():
    """A view moves nothing: the concat has no exposure groups and its output codes are left as
    they are; a concat moved to DRAM has output groups covering the moved tensor: with p = 1 on
    them every code arrives inverted."""
    from simulator.accuracy.exposure_hook import exposure_ber, uniform_exposure
    from simulator.faults.exposure import groups_of
    from simulator.faults.rates import zero_rates
    base = fire()
    codes = np.random.default_rng(0).integers(0, 256, (2, 32, 8, 8)).astype(np.uint8)
    view = api.simulate(simba(), base, dataflow="resident", rates=zero_rates(), exposure=True).exposure.data
    assert len(groups_of(view, "cat", "outputs")) == 0 and len(groups_of(view, "cat", "inputs")) == 0
    hook = exposure_ber(uniform_exposure(view, 1.0, ["outputs", "inputs"]), {l.name: l for l in base.layers})(0)
    np.testing.assert_array_equal(hook("cat", "outputs", codes), codes)
    wl = Workload("fire_fc", base.layers[:5] + (Layer.fc("fc", 2048, 10),), "test")
    moved = api.simulate(simba(), wl, dataflow="resident", rates=zero_rates(), exposure=True).exposure.data
    assert len(groups_of(moved, "cat", "outputs")) > 0
    hook = exposure_ber(uniform_exposure(moved, 1.0, ["outputs"]), {l.name: l for l in wl.layers})(0)
    np.testing.assert_array_equal(hook("cat", "outputs", codes), ~codes)


def test_a_spilled_operand_stays_in_dram_and_only_the_resident_one_moves():
    """expand3 (48 channels) does not fit the resident share, expand1 (16) does: the concat is made
    in DRAM, moving expand1's 16 x 8 x 8 bytes (channels 0..16) and nothing of expand3, which its
    own trace already wrote to DRAM; with no room at all nothing is resident and nothing moves."""
    layers = (Layer("squeeze", "conv", 16, 8, 8, 8), Layer("expand1", "conv", 8, 8, 8, 16, inputs=("squeeze",)),
              Layer("expand3", "conv", 8, 8, 8, 48, 3, 3, 1, 1, 1, 1, inputs=("squeeze",)),
              Layer("cat", "concat", 64, 8, 8, 64, inputs=("expand1", "expand3")),
              Layer("pool", "pool", 64, 8, 8, 64, 2, 2, 2, 2, pool_mode="max"))
    wl = Workload("mix", layers, "test")

    def run(fraction):
        res = Residency(simba(), wl, fraction=fraction)
        mapper = WeightStationaryMapper(simba())
        trs = {}
        for layer in wl.layers:
            trs[layer.name] = mapper.map(layer, residency=res)
            res.done(layer)
        return res, trs

    # the smallest resident share (of a grid) that keeps expand1 but not expand3
    share = next(f for f in np.linspace(0.002, 0.2, 100)
                 if "expand1" in run(f)[0].kept and "expand3" not in run(f)[0].kept)
    for fraction, moved in ((share, 16 * 8 * 8), (0.0, 0)):
        res, trs = run(fraction)
        assert "expand3" not in res.kept and ("expand1" in res.kept) == (moved > 0)
        cat = trs["cat"]
        assert cat.meta["view"] == "dram" and cat.meta["moved_bytes"] == moved
        ks = {(s[0], s[1]) for t in cat.txns if t.op == "dram_write" for s in t.data}
        assert all(0 <= k0 < k1 <= 16 for k0, k1 in ks)  # only expand1's channels
        written = sum((s[1] - s[0]) * (s[3] - s[2]) * (s[5] - s[4]) for t in trs["expand3"].txns
                      if t.op == "dram_write" for s in t.data)
        assert written == 48 * 8 * 8
        assert trs["pool"].meta["inputs_resident"] == [False]
        assert res.live == {} and all(v == 0 for v in res.used.values())
