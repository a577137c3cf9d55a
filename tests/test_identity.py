"""Data identity of the traces: the DRAM loads cover every tensor as the loop nest implies,
every PE receives exactly the slices its compute steps use, and the outputs written
back cover the output tensor exactly once.

The expected coverage is derived from the layer and the tiling alone (not from the
slices the mapper writes): an input element is needed iff some output's window
contains it (a contiguous window also carries the rows a stride larger than the
kernel skips: those are allowed, never more often than needed ones); inputs are loaded once per k tile that needs them, weights once per
(k, c) tile, or once per spatial tile when the C loop is innermost.

Default run: every layer of every bundled network on simba, and MobileNetV2 (every
layer kind: conv, depthwise, pool, add, fc) plus grouped convolutions on tiny. The
sweep of all networks on tiny generates about 9 M transactions (100 s of CPU);
run it with ``AXSIM_FULL_COVERAGE=1``.
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import pytest

from conftest import ARCH_DIR, WORKLOAD_DIR
from simulator import api
from simulator.config import load_arch
from simulator.mapping.identity import DIMS, shape as slice_shape
from simulator.mapping.weight_stationary import map_layer
from simulator.workload import Layer, Workload, load_workload

NETWORKS = ("resnet50", "alexnet", "mobilenetv2", "vgg16")
FULL = os.environ.get("AXSIM_FULL_COVERAGE") == "1"


@lru_cache(maxsize=None)
def arch(name: str):
    return load_arch(ARCH_DIR / f"{name}.yaml")


def box_count(shape: tuple[int, ...], lo, hi, weight=None) -> tuple[list[np.ndarray], np.ndarray]:
    """How many boxes [lo, hi) (weighted) cover each cell, on the grid compressed to the box
    edges (coverage is constant between edges, so a 4096 x 25088 weight tensor needs a grid of
    a few tiles): per axis the edges, and the counts per compressed cell. Vectorised: a
    difference array with +-w at the 2^d corners of every box, then a cumulative sum per axis."""
    d = len(shape)
    lo, hi = np.asarray(lo, np.int64).reshape(-1, d), np.asarray(hi, np.int64).reshape(-1, d)
    w = np.ones(len(lo), np.int64) if weight is None else np.asarray(weight, np.int64)
    keep = (hi > lo).all(axis=1)
    lo, hi, w = lo[keep], hi[keep], w[keep]
    edges = [np.unique(np.concatenate([[0, shape[i]], lo[:, i], hi[:, i]])) for i in range(d)]
    li = [np.searchsorted(edges[i], lo[:, i]) for i in range(d)]
    hi_ = [np.searchsorted(edges[i], hi[:, i]) for i in range(d)]
    diff = np.zeros(tuple(len(e) for e in edges), np.int64)
    for corner in range(2 ** d):
        pick = [(corner >> i) & 1 for i in range(d)]
        np.add.at(diff, tuple(hi_[i] if pick[i] else li[i] for i in range(d)), w * (-1) ** sum(pick))
    for axis in range(d):
        diff = np.cumsum(diff, axis=axis)
    return edges, diff[tuple(slice(0, len(e) - 1) for e in edges)]


def per_cell(values: np.ndarray, edges: np.ndarray, how) -> np.ndarray:
    """``how`` (np.minimum / np.maximum / np.logical_or) of ``values`` over each compressed cell."""
    return how.reduceat(values, edges[:-1])


def box(ds: str, s) -> tuple[slice, ...]:
    n = len(DIMS[ds])
    return tuple(slice(s[2 * i], s[2 * i + 1]) for i in range(n))


def needed(extent: int, outputs: int, stride: int, kernel: int) -> np.ndarray:
    """Mask of the padded input rows (or cols) that some output's window contains."""
    mask = np.zeros(extent, bool)
    for o in range(outputs):
        mask[o * stride:o * stride + kernel] = True
    return mask


def k_ranges(layer: Layer, meta: dict) -> list[tuple[int, int]]:
    """The output-channel ranges of every (k part, k tile), from the partition and tiling alone
    (repeated per C tile when the C loop is inside the spatial loop)."""
    part, t = meta["partition"], meta["tiling"]
    out = []
    for kp in range(part["k_parts"]):
        base, end = kp * part["k_pe"], min(layer.out_channels, (kp + 1) * part["k_pe"])
        for off in range(0, part["k_pe"], t["k_tile"]):
            a, b = min(base + off, end), min(base + off + t["k_tile"], end)
            if b > a:
                out.append((a, b))
    return out


def check_layer(layer: Layer, a) -> None:
    tr = map_layer(layer, a)
    where = f"{layer.name} ({layer.kind}) on {a.name}"
    compute = layer.is_compute
    groups = layer.groups if compute else layer.out_channels
    cpg = layer.channels_per_group if compute else 1
    kpg = layer.out_channels // groups
    hp, wp = layer.in_h + 2 * layer.pad_h, layer.in_w + 2 * layer.pad_w
    tensors = 2 if layer.kind == "add" else 1
    w_dims = (layer.out_channels, cpg, layer.kernel_h, layer.kernel_w)
    i_dims = (tensors, groups, cpg, hp, wp)
    o_dims = (layer.out_channels, layer.out_h, layer.out_w)
    t = tr.meta["tiling"]

    # -- DRAM loads and writes: coverage counts ------------------------------------------
    loads: dict[str, list] = {"weights": [], "inputs": [], "outputs": []}
    for txn in tr.txns:
        if txn.op not in ("dram_read", "dram_write"):
            continue
        assert txn.data, f"{where}: txn {txn.id} has no identity"
        assert (txn.ds == "outputs") == (txn.op == "dram_write"), (where, txn.id)
        loads[txn.ds].extend(txn.data)
    counts = {}
    for ds, dims in (("weights", w_dims), ("inputs", i_dims), ("outputs", o_dims)):
        n = len(DIMS[ds])
        sl = np.asarray(loads[ds], np.int64).reshape(-1, 2 * n + (2 if ds == "inputs" else 0))
        lo, hi = sl[:, 0:2 * n:2], sl[:, 1:2 * n:2].copy()
        assert (lo >= 0).all() and (lo <= hi).all() and (hi <= np.asarray(dims)).all(), f"{where}: {ds} out of bounds"
        if ds == "inputs":  # count the own part: without the trailing halo rows and cols
            hi[:, 3] -= sl[:, 2 * n]
            hi[:, 4] -= sl[:, 2 * n + 1]
        counts[ds] = box_count(dims, lo, hi)
    # weights: once per (k, c) tile, or once per spatial tile when the C loop is innermost
    if compute:
        reload = 1 if t["c_tiles"] == 1 or t["c_outer"] else t["row_tiles"] * t["col_tiles"]
        assert (counts["weights"][1] == reload).all(), f"{where}: weight loads {np.unique(counts['weights'][1])}"
    else:
        assert not counts["weights"][1].any()
    # inputs: every needed element once per k tile whose channels need it; others at most as often
    rows = needed(hp, layer.out_h, layer.stride_h, layer.kernel_h)
    cols = needed(wp, layer.out_w, layer.stride_w, layer.kernel_w)
    per_group = np.zeros(groups, np.int64)
    if groups == 1:  # one load per step, multicast to every k part
        per_group[0] = t["k_tiles"]
    else:  # each PE loads the groups its k tile touches
        for a0, b0 in k_ranges(layer, tr.meta):
            per_group[a0 // kpg:(b0 - 1) // kpg + 1] += 1
    (et, eg, ec, ey, ex), i_cnt = counts["inputs"]
    lo_g, hi_g = per_cell(per_group, eg, np.minimum), per_cell(per_group, eg, np.maximum)
    assert (lo_g == hi_g).all()
    expected = lo_g[None, :, None, None, None]
    need = (per_cell(rows, ey, np.logical_or)[:, None] & per_cell(cols, ex, np.logical_or)[None, :])
    need = np.broadcast_to(need[None, None, None], i_cnt.shape)
    expected = np.broadcast_to(expected, i_cnt.shape)
    bad = need & (i_cnt != expected)
    assert not bad.any(), f"{where}: input coverage differs in cells {np.argwhere(bad)[:3]}"
    # rows/cols inside a window that no output needs (stride > kernel) ride along, at most as often
    assert (i_cnt <= expected).all(), f"{where}: unneeded inputs loaded too often"
    assert (counts["outputs"][1] == 1).all(), f"{where}: output writes {np.unique(counts['outputs'][1])}"

    # -- every PE computes with exactly the slices it needs -------------------------------
    noc_cols = a.chiplet.noc.mesh.cols
    latest: dict[tuple, tuple] = {}  # (chiplet, PE node, ds) -> slice of the last copy delivered
    works, got_w, got_i = [], [], []
    for txn in tr.txns:
        if txn.op == "noc" and txn.dst_buf == "pe" and txn.mode != "gather":
            for j, node in enumerate(txn.dsts):
                latest[(txn.chiplet, node, txn.ds)] = txn.data[j if txn.mode == "scatter" else 0]
        elif txn.op == "compute":
            for i, w in enumerate(txn.data):
                if w[1] <= w[0] or w[5] <= w[4]:
                    continue
                node = divmod(i, noc_cols)
                works.append(w)
                got_w.append(latest[(txn.chiplet, node, "weights")] if compute else (0,) * 8)
                got_i.append(latest[(txn.chiplet, node, "inputs")][:10])
    wk = np.asarray(works, np.int64).reshape(-1, 8)
    k0, k1, c0, c1, y0, y1, x0, x1 = wk.T
    # the latest weights a PE received are exactly the (k, c) ranges of its work, all of R x S
    if compute:
        gw = np.asarray(got_w, np.int64)
        assert (gw[:, :4] == wk[:, :4]).all(), f"{where}: a PE computes with other weights than it received"
        assert (gw[:, 4:] == [0, layer.kernel_h, 0, layer.kernel_w]).all()
    # the latest inputs are exactly its work's window (computed here from the layer)
    g0, g1 = (np.zeros_like(k0), np.ones_like(k0)) if groups == 1 else (k0 // kpg, (k1 - 1) // kpg + 1)
    want = np.stack([np.zeros_like(k0), np.full_like(k0, tensors), g0, g1,
                     c0 if compute else np.zeros_like(k0), c1 if compute else np.ones_like(k0),
                     y0 * layer.stride_h, (y1 - 1) * layer.stride_h + layer.kernel_h,
                     x0 * layer.stride_w, (x1 - 1) * layer.stride_w + layer.kernel_w], axis=1)
    bad = np.flatnonzero((np.asarray(got_i, np.int64) != want).any(axis=1))
    assert not len(bad), f"{where}: work {wk[bad[0]]} received inputs {got_i[bad[0]]}, needs {want[bad[0]]}"
    # the work of all PEs adds up to every reduction channel of every output, once
    _, work_cnt = box_count(o_dims, wk[:, [0, 4, 6]], wk[:, [1, 5, 7]], c1 - c0)
    assert (work_cnt == cpg).all(), f"{where}: work per output {np.unique(work_cnt)} != {cpg}"
    # slices never exceed the bytes the mapper moves
    for txn in tr.txns:
        if txn.op in ("noc", "nop") and txn.ds in ("weights", "inputs") and txn.mode == "scatter":
            assert max(np.prod(slice_shape(txn.ds, s)) for s in txn.data) <= txn.bytes


@lru_cache(maxsize=None)
def network(name: str) -> Workload:
    return load_workload(WORKLOAD_DIR / f"{name}.yaml")


def cases():
    for net in NETWORKS:
        yield "simba", net
    for net in NETWORKS:
        if net == "mobilenetv2" or FULL:
            yield "tiny", net


@pytest.mark.parametrize("arch_name,net", list(cases()))
def test_coverage_of_every_layer(arch_name, net):
    a = arch(arch_name)
    for layer in network(net).layers:
        check_layer(layer, a)


def test_full_sweep_is_available():
    if not FULL:
        pytest.skip("all networks on tiny take about 100 s of CPU: set AXSIM_FULL_COVERAGE=1")


@pytest.mark.parametrize("layer", [
    Layer("grouped", "conv", 16, 10, 9, 24, 3, 3, 1, 1, 1, 1, groups=4),
    Layer("grouped_s2", "conv", 8, 11, 11, 12, 3, 3, 2, 2, 1, 1, groups=2),
    Layer("pool_s2", "pool", 8, 9, 9, 8, 3, 3, 2, 2, pool_mode="max"),
    Layer("pointwise_s2", "conv", 32, 14, 14, 40, 1, 1, 2, 2),
    Layer("fc", "fc", 300, 1, 1, 50),
])
@pytest.mark.parametrize("arch_name", ["tiny", "simba"])
def test_coverage_of_shapes_the_networks_lack(layer, arch_name):
    """Grouped convolutions with several output channels per group, stride > kernel, odd sizes."""
    check_layer(layer, arch(arch_name))


def test_batch_stacks_samples_along_rows(tiny_arch):
    """With a batch the output rows of all samples are written once each (rows P x batch)."""
    layer = Layer("c", "conv", 4, 6, 6, 8, 3, 3, 1, 1, 1, 1)
    w = Workload("b", (layer,), "test", batch=3)
    (tr,) = api.generate_traces(tiny_arch, w)
    cnt = np.zeros((8, layer.out_h * 3, layer.out_w), np.int32)
    for txn in tr.txns:
        if txn.op == "dram_write":
            for s in txn.data:
                cnt[box("outputs", s)] += 1
    assert (cnt == 1).all()


@pytest.mark.parametrize("arch_name", ["tiny", "simba"])
def test_concat_is_a_view_of_its_operands_outputs(arch_name):
    """DRAM dataflow: every layer of the fire-block network covers its tensors (check_layer); the
    concat moves nothing, and its operands' DRAM writes, each at its channel offset, cover the
    concatenated tensor its consumer reads exactly once."""
    a = arch(arch_name)
    wl = load_workload(WORKLOAD_DIR / "digits_fire.yaml")
    for layer in wl.layers:
        if layer.kind != "concat":
            check_layer(layer, a)
    traces = {tr.layer: tr for tr in api.generate_traces(a, wl, dataflow="dram")}
    cat = wl.layer("cat")
    assert traces["cat"].txns == [] and traces["cat"].meta["view"] == "dram"
    cnt = np.zeros((cat.out_channels, cat.out_h, cat.out_w), np.int32)
    offset = 0
    for name in cat.inputs:
        for txn in traces[name].txns:
            if txn.op == "dram_write":
                for s in txn.data:
                    cnt[s[0] + offset:s[1] + offset, s[2]:s[3], s[4]:s[5]] += 1
        offset += wl.layer(name).out_channels
    assert offset == cat.in_channels and (cnt == 1).all()
