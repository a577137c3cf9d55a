"""The on-package dataflow (simulator/mapping/residency.py): layer outputs that stay in the
global buffers and are read over the NoP by the next layers.

Expectations are derived from the layers and the DRAM dataflow's traces, not from the resident
traces themselves: the compute work and the PE loads are those of the DRAM dataflow (same MACs,
same slices), every input element a NoC load takes from a global buffer is either held there by
the producing layer or delivered to it during the layer, and a tensor spills exactly when its
bytes on a chiplet exceed the resident share of that chiplet's global buffer.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from conftest import ARCH_DIR, WORKLOAD_DIR
from simulator import api
from simulator.config import load_arch
from simulator.errors import AxsimError
from simulator.mapping.residency import Residency
from simulator.workload import Layer, Workload, load_workload


@lru_cache(maxsize=None)
def simba():
    return load_arch(ARCH_DIR / "simba.yaml")


def traces(arch, workload, dataflow, residency=None, mapping="fixed"):
    return list(api.generate_traces(arch, workload, dataflow=dataflow, mapping=mapping))


def _held(tr) -> dict:
    """Output slices (k, rows, cols) each chiplet's global buffer holds after producer trace ``tr``:
    the gathered outputs, or the partial sums of part 0 (the accumulator of a split reduction)."""
    out: dict = {}
    for t in tr.txns:
        if t.op == "noc" and t.mode == "gather":
            for s in t.data:
                if t.ds == "outputs":
                    out.setdefault(t.chiplet, []).append(s)
                elif s[0] == 0:
                    out.setdefault(t.chiplet, []).append(s[2:])
    return out


def _check_network(arch, wl: Workload, mapping: str = "fixed") -> None:
    """``mapping="search"``: the two dataflows may choose different partitions for a layer; the
    comparisons with the DRAM dataflow are then skipped for it, the input coverage is checked."""
    dram = traces(arch, wl, "dram", mapping=mapping)
    res = traces(arch, wl, "resident", mapping=mapping)
    producers = wl.producers()
    by_name = {tr.layer: tr for tr in res}
    layers = {layer.name: layer for layer in wl.layers}
    fused = 0
    for layer, a, b in zip(wl.layers, dram, res):
        where = f"{wl.name}/{layer.name}"
        if "fused_into" in b.meta:  # a residual add done in its producer's write-back
            _check_fused(layer, a, by_name[b.meta["fused_into"]], producers, by_name, layers, wl.batch)
            assert not b.txns and layer.kind == "add"
            fused += 1
            continue
        same = all(a.meta.get(k) == b.meta.get(k) for k in ("partition", "tiling", "placement"))
        # same compute work (MACs) and the same PE loads as the DRAM dataflow
        ca = [(t.chiplet, t.pes, t.k, t.c, t.rs, t.pixels, t.vector_ops, t.data) for t in a.txns if t.op == "compute"]
        cb = [(t.chiplet, t.pes, t.k, t.c, t.rs, t.pixels, t.vector_ops, t.data) for t in b.txns if t.op == "compute"]
        assert ca == cb or not same, where
        la = [(t.ds, t.chiplet, t.dsts, t.data) for t in a.txns if t.op == "noc" and t.mode != "gather"]
        lb = [(t.ds, t.chiplet, t.dsts, t.data) for t in b.txns if t.op == "noc" and t.mode != "gather"]
        assert la == lb or not same, where
        # outputs: written to DRAM exactly as in the DRAM dataflow, unless resident
        wa = sorted(s for t in a.txns if t.op == "dram_write" for s in t.data)
        wb = sorted(s for t in b.txns if t.op == "dram_write" for s in t.data)
        if "fused_add" in b.meta:  # the outputs written are the add's: those of the add's DRAM trace
            wa = sorted(s for tr, l in zip(dram, wl.layers) if l.name == b.meta["fused_add"]
                        for t in tr.txns if t.op == "dram_write" for s in t.data)
        if b.meta["outputs_resident"]:
            assert wb == [], where
        elif same:
            assert wb == wa, where
        # inputs: every element of every NoC input load is in that chiplet's global buffer
        prods = producers[layer.name]
        n_t = 2 if layer.kind == "add" else 1
        for t_i in range(n_t):
            if not b.meta["inputs_resident"][t_i]:
                continue
            prod = layers[prods[t_i]]
            held = _held(by_name[by_name[prod.name].meta.get("fused_into", prod.name)])
            cpg = layer.channels_per_group if layer.is_compute else 1
            hp, wp = layer.in_h + 2 * layer.pad_h, layer.in_w + 2 * layer.pad_w
            groups = layer.in_channels // cpg
            batch = wl.batch
            have: dict = {}

            def grid(chip):
                g = have.get(chip)
                if g is None:  # the padded input of tensor t_i, (groups, cpg, rows, cols)
                    g = have[chip] = np.zeros((groups, cpg, hp * batch, wp), bool)
                    for k0, k1, y0, y1, q0, q1 in held.get(chip, []):
                        for y in range(y0, y1):
                            smp, yy = divmod(y, prod.out_h)
                            row = smp * hp + layer.pad_h + yy
                            for k in range(k0, k1):
                                g[k // cpg, k % cpg, row, layer.pad_w + q0:layer.pad_w + q1] = True
                return g

            for t in b.txns:
                if t.ds != "inputs":
                    continue
                if t.op == "nop" and t.dst_buf == "gb":
                    for d in t.dsts:
                        for s in t.data:
                            if s[0] <= t_i < s[1]:
                                grid(d)[s[2]:s[3], s[4]:s[5], s[6]:s[7], s[8]:s[9]] = True
                elif t.op == "noc":
                    g = grid(t.chiplet)
                    for s in t.data:
                        ra, rb = s[6], s[7]
                        # padding rows/cols are made at the destination: check the image part only
                        for smp in range(batch):
                            lo, hi = smp * hp + layer.pad_h, smp * hp + layer.pad_h + layer.in_h
                            a0, b0 = max(ra, lo), min(rb, hi)
                            c0, c1 = max(s[8], layer.pad_w), min(s[9], layer.pad_w + layer.in_w)
                            if a0 < b0 and c0 < c1:
                                part = g[s[2]:s[3], s[4]:s[5], a0:b0, c0:c1]
                                assert part.all(), f"{where}: NoC load {t.id} takes inputs its buffer lacks"
    return fused


def _check_fused(add, dram_trace, host, producers, by_name, layers, batch) -> None:
    """The fused add: its element-wise work covers the add's output exactly once (as its own
    DRAM-dataflow trace did), each addition happens in a global buffer that holds the other
    operand (held there by its producer, or delivered before the addition)."""
    where = f"{add.name} fused into {host.layer}"
    out_shape = (add.out_channels, add.out_h * batch, add.out_w)
    count = np.zeros(out_shape, np.int32)
    ops = 0
    prods = producers[add.name]
    other = prods[1 - prods.index(host.layer)]
    src = by_name[other].meta.get("fused_into", other)
    held = _held(by_name[src]) if by_name[src].meta.get("outputs_resident") else {}
    have: dict = {}
    for t in host.txns:
        if t.op == "nop" and t.ds == "inputs" and t.dst_buf == "gb":
            for d in t.dsts:
                for s in t.data:
                    have.setdefault(d, []).append((s[2], s[3], s[6], s[7], s[8], s[9]))
        if t.op == "sram" and t.ds == "outputs":
            ops += t.vector_ops
            boxes = held.get(t.chiplet, []) + have.get(t.chiplet, [])
            for k0, k1, y0, y1, x0, x1 in t.data:
                count[k0:k1, y0:y1, x0:x1] += 1
                cover = np.zeros((k1 - k0, y1 - y0, x1 - x0), bool)
                for a0, a1, b0, b1, c0, c1 in boxes:
                    cover[max(a0, k0) - k0:max(min(a1, k1) - k0, 0), max(b0, y0) - y0:max(min(b1, y1) - y0, 0),
                          max(c0, x0) - x0:max(min(c1, x1) - x0, 0)] = True
                assert cover.all(), f"{where}: an addition in {t.chiplet} lacks its other operand"
    assert (count == 1).all(), f"{where}: output additions {np.unique(count)}"
    # one addition per output element; the add's own DRAM-dataflow trace (lock-step PEs) did at least as many
    assert ops == count.size <= sum(t.vector_ops * t.pes for t in dram_trace.txns if t.op == "compute"), where


@pytest.mark.parametrize("net", ["resnet50", "mobilenetv2"])
def test_resident_dataflow_keeps_work_and_covers_inputs(net):
    fused = _check_network(simba(), load_workload(WORKLOAD_DIR / f"{net}.yaml"))
    # ResNet-50: every add follows conv3 or the downsample conv; MobileNetV2: every add follows
    # the projection conv of its block (10 residual blocks)
    assert fused == {"resnet50": 16, "mobilenetv2": 10}[net]


@pytest.mark.parametrize("net", ["resnet50", "mobilenetv2"])
def test_resident_dataflow_covers_inputs_under_the_mapping_search(net):
    wl = load_workload(WORKLOAD_DIR / f"{net}.yaml")
    fused = _check_network(simba(), wl, mapping="search")
    assert fused == {"resnet50": 16, "mobilenetv2": 10}[net]
    searched = [tr for tr in traces(simba(), wl, "resident", mapping="search") if tr.txns]
    assert any(not tr.meta["mapping_is_fixed"] for tr in searched)   # the check saw searched partitions


def test_batch_and_tiny_arch(tiny_arch):
    layers = (Layer("a", "conv", 4, 9, 9, 16, 3, 3, 1, 1, 1, 1),
              Layer("b", "conv", 16, 9, 9, 8, 3, 3, 2, 2, 1, 1),
              Layer("p", "pool", 8, 5, 5, 8, 3, 3, 1, 1, 1, 1, pool_mode="max"),
              Layer("s", "add", 8, 5, 5, 8, inputs=("p", "b")))
    assert _check_network(tiny_arch, Workload("n", layers, "test", batch=2)) == 1


def _two_layers():
    a = Layer("a", "conv", 4, 4, 4, 8, 3, 3, 1, 1, 1, 1)   # output 8 x 4 x 4 = 128 bytes
    b = Layer("b", "conv", 8, 4, 4, 8, 1, 1)
    return Workload("two", (a, b), "test")


@pytest.mark.parametrize("budget,spill", [(127, True), (128, False)])
def test_spill_exactly_when_the_tensor_does_not_fit(budget, spill):
    """Layer a's 8 output channels fit one PE's vector MACs (k_parts 1); its 4 output rows go to
    4 PEs, all on chiplet (0, 0): the whole 128-byte output sits in that chiplet's buffer."""
    arch = simba()
    wl = _two_layers()
    res = Residency(arch, wl, fraction=budget / arch.chiplet.global_buffer.size_bytes)
    mapper = api.WeightStationaryMapper(arch)
    ta = mapper.map(wl.layers[0], residency=res)
    res.done(wl.layers[0])
    tb = mapper.map(wl.layers[1], residency=res)
    writes = sum(t.bytes for t in ta.txns if t.op == "dram_write")
    reads = sum(t.bytes for t in tb.txns if t.op == "dram_read" and t.ds == "inputs")
    assert ta.meta["outputs_resident"] is (not spill)
    assert res.spills == ({"a": 128} if spill else {})
    assert writes == (128 if spill else 0)
    assert (reads > 0) is spill and tb.meta["inputs_resident"] == [not spill]
    # b's outputs have no consumer: they go to DRAM either way
    assert not tb.meta["outputs_resident"] and sum(t.bytes for t in tb.txns if t.op == "dram_write") == 128


def test_a_tensor_is_freed_after_its_last_consumer():
    arch = simba()
    a = Layer("a", "conv", 4, 4, 4, 8, 3, 3, 1, 1, 1, 1)
    b = Layer("b", "conv", 8, 4, 4, 8, 1, 1)
    c = Layer("c", "add", 8, 4, 4, 8, inputs=("b", "a"))
    d = Layer("d", "conv", 8, 4, 4, 8, 1, 1)
    wl = Workload("blk", (a, b, c, d), "test")
    size = arch.chiplet.global_buffer.size_bytes
    res = Residency(arch, wl, fraction=256 / size)      # room for two 128-byte tensors on (0, 0)
    node = (0, 0)
    assert res.admit(a, [(node, (0, 8, 0, 4, 0, 4))], {node: 128})
    res.done(a)
    assert res.admit(b, [(node, (0, 8, 0, 4, 0, 4))], {node: 128})
    res.done(b)
    assert res.used[node] == 256 and set(res.live) == {"a", "b"}
    assert not res.admit(c, [(node, (0, 8, 0, 4, 0, 4))], {node: 128})   # a and b still live: spill
    res.done(c)                                              # the add was the last user of a and b
    assert res.used[node] == 0 and not res.live
    assert res.spills == {"c": 128}


def test_unknown_dataflow_is_refused():
    with pytest.raises(AxsimError, match="dataflow 'x'"):
        list(api.generate_traces(simba(), _two_layers(), dataflow="x"))


def test_resnet50_dram_bytes_within_1_5x_of_minimum():
    """Minimum: every weight once, the input image once, the logits once (8-bit values)."""
    wl = load_workload(WORKLOAD_DIR / "resnet50.yaml")
    minimum = (sum(layer.weight_count for layer in wl.layers) + 3 * 224 * 224 + 1000)
    moved = sum(t.bytes for tr in api.generate_traces(simba(), wl, dataflow="resident")
                for t in tr.txns if t.op in ("dram_read", "dram_write"))
    assert minimum <= moved <= 1.5 * minimum


def test_resident_trace_file_replays_like_the_direct_run(tmp_path):
    from simulator.mapping.tracefile import read_traces, write_traces
    arch = simba()  # several chiplets, so that inputs cross the NoP
    layers = (Layer("a", "conv", 4, 9, 9, 64, 3, 3, 1, 1, 1, 1),
              Layer("b", "conv", 64, 9, 9, 64, 3, 3, 1, 1, 1, 1),
              Layer("s", "add", 64, 9, 9, 64, inputs=("a", "b")))
    wl = Workload("r", layers, "test")
    direct = api.simulate(arch, wl, dataflow="resident")
    path = write_traces(tmp_path / "r.trace.jsonl", api.generate_traces(arch, wl, dataflow="resident"),
                        {"arch": arch.name})
    _, back = read_traces(path, arch)
    kinds = {(t.op, t.src_buf, t.dst_buf) for tr in back for t in tr.txns if t.op == "nop"}
    assert ("nop", "gb", "gb") in kinds                         # inputs read from producers' buffers
    replay = api.simulate(arch, traces=back)
    assert [x.latency_cycles for x in replay.layers] == [x.latency_cycles for x in direct.layers]
    assert replay.energy_pj == pytest.approx(direct.energy_pj, rel=1e-12)


def test_an_add_without_named_operands_is_refused():
    a = Layer("a", "conv", 4, 4, 4, 8, 3, 3, 1, 1, 1, 1)
    b = Layer("b", "conv", 8, 4, 4, 8, 1, 1)
    c = Layer("c", "add", 8, 4, 4, 8)                       # producer: only the previous layer
    wl = Workload("x", (a, b, c), "test")
    with pytest.raises(AxsimError, match=r"layer 'c' \(add\) names 1 producer.*inputs: \[a, b\].*--dataflow dram"):
        list(api.generate_traces(simba(), wl, dataflow="resident"))
    assert len(list(api.generate_traces(simba(), wl, dataflow="dram"))) == 3


def test_fused_add_fetches_an_operand_placed_elsewhere():
    """The add's operands come from layers partitioned differently (a splits its 256 input channels
    over PEs, c does not), so their output tiles sit on different chiplets and the fused add must
    bring c's tiles over the NoP."""
    x = Layer("x", "conv", 4, 8, 8, 8, 1, 1)
    y = Layer("y", "conv", 8, 8, 8, 256, 1, 1)
    c = Layer("c", "conv", 8, 8, 8, 64, 1, 1, inputs=("x",))
    a = Layer("a", "conv", 256, 8, 8, 64, 1, 1, inputs=("y",))
    s = Layer("s", "add", 64, 8, 8, 64, inputs=("a", "c"))
    wl = Workload("f", (x, y, c, a, s), "test")
    assert _check_network(simba(), wl) == 1
    host = [tr for tr in api.generate_traces(simba(), wl, dataflow="resident")][3]
    assert host.meta["fused_add"] == "s" and host.meta["partition"]["c_parts"] > 1
    sram = [t for t in host.txns if t.op == "sram" and t.ds == "outputs"]
    fetched = {t.id for t in host.txns if t.op == "nop" and t.ds == "inputs" and t.src_buf == "gb"}
    assert sram and any(set(t.after) & fetched for t in sram)


def test_exposure_walks_resident_traces():
    """Journeys from resident traces: every output element of every mapped layer without a split
    reduction ends in exactly one group (in DRAM, or in the global buffer where it stays), and
    resident input parts that cross the NoP form groups that end in a global buffer."""
    from simulator.faults.journeys import DS, Journeys
    x = Layer("x", "conv", 4, 8, 8, 8, 1, 1)
    y = Layer("y", "conv", 8, 8, 8, 256, 1, 1)
    c = Layer("c", "conv", 8, 8, 8, 64, 1, 1, inputs=("x",))
    a = Layer("a", "conv", 256, 8, 8, 64, 1, 1, inputs=("y",))
    s = Layer("s", "add", 64, 8, 8, 64, inputs=("a", "c"))
    d = Layer("d", "conv", 64, 8, 8, 16, 3, 3, 1, 1, 1, 1)
    wl = Workload("e", (x, y, c, a, s, d), "test")
    arch = simba()
    j = Journeys(arch)
    traces_ = list(api.generate_traces(arch, wl, dataflow="resident"))
    for tr in traces_:
        j.add_layer(tr)
    for li, layer in enumerate(wl.layers):
        if layer.kind == "add":
            continue
        cnt = np.zeros((layer.out_channels, layer.out_h, layer.out_w), np.int32)
        for g in range(len(j.g_layer)):
            if j.g_layer[g] != li:
                continue
            ds, sl = DS[j.g_ds[g]], j.g_slice[g]
            if ds == "outputs":
                cnt[sl[0]:sl[1], sl[2]:sl[3], sl[4]:sl[5]] += 1
            elif ds == "psums" and sl[0] == 0 and traces_[li].meta["partition"]["c_parts"] > 1:
                cnt[sl[2]:sl[3], sl[4]:sl[5], sl[6]:sl[7]] += 1
        if traces_[li].meta["partition"]["c_parts"] == 1:
            assert (cnt == 1).all(), layer.name
        else:  # a part-0 accumulator group, plus the output group when it leaves for DRAM
            assert (cnt >= 1).all() and (cnt <= 2).all(), layer.name
    gb_inputs = [g for g in range(len(j.g_layer)) if DS[j.g_ds[g]] == "inputs" and j.g_pe[g] is None]
    assert gb_inputs, "resident input parts end in a global buffer"


def test_axsim_run_uses_the_resident_dataflow_by_default(tmp_path, capsys):
    import csv
    import json

    from simulator.cli import main
    wl = tmp_path / "w.yaml"
    wl.write_text("version: 1\nname: w\nlayers:\n"
                  "  - {name: a, type: conv, input: [4, 8, 8], out_channels: 16, kernel: 3, padding: 1}\n"
                  "  - {name: b, type: conv, input: [16, 8, 8], out_channels: 16, kernel: 1}\n"
                  "  - {name: s, type: add, inputs: [b, a], input: [16, 8, 8]}\n")
    out = {}
    for flow in (None, "dram"):
        folder = tmp_path / f"run_{flow}"
        args = ["run", "--arch", str(ARCH_DIR / "simba.yaml"), "--workload", str(wl), "--out", str(folder),
                "--quiet"] + (["--dataflow", flow] if flow else [])
        assert main(args) == 0
        with (folder / "layers.csv").open() as fh:
            out[flow] = (json.loads((folder / "summary.json").read_text()), list(csv.DictReader(fh)))
    summary, rows = out[None]
    assert summary["dataflow"] == "resident"
    assert [r["outputs_on_package"] for r in rows] == ["1", "0", ""]   # a kept for s; b carries s's output
    assert rows[2]["latency_cycles"] == "0"                             # s is fused into b
    summary, rows = out["dram"]
    assert summary["dataflow"] == "dram" and {r["outputs_on_package"] for r in rows} == {""}
