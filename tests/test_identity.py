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


def box(ds: str, s) -> tuple[slice, ...]:
    n = len(DIMS[ds])
    return tuple(slice(s[2 * i], s[2 * i + 1]) for i in range(n))


def own_box(s) -> tuple[slice, ...]:
    """An inputs slice without its trailing halo rows/cols."""
    t0, t1, g0, g1, c0, c1, y0, y1, x0, x1, hr, hc = s
    return (slice(t0, t1), slice(g0, g1), slice(c0, c1), slice(y0, y1 - hr), slice(x0, x1 - hc))


def in_bounds(ds: str, s, dims: tuple[int, ...]) -> bool:
    return all(0 <= s[2 * i] <= s[2 * i + 1] <= d for i, d in enumerate(dims))


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
    w_cnt = np.zeros(w_dims, np.int32)
    i_cnt = np.zeros(i_dims, np.int32)
    o_cnt = np.zeros(o_dims, np.int32)
    for txn in tr.txns:
        if txn.op not in ("dram_read", "dram_write"):
            continue
        assert txn.data, f"{where}: txn {txn.id} has no identity"
        for s in txn.data:
            if txn.ds == "weights":
                assert in_bounds("weights", s, w_dims), (where, s)
                w_cnt[box("weights", s)] += 1
            elif txn.ds == "inputs":
                assert in_bounds("inputs", s, i_dims), (where, s)
                i_cnt[own_box(s)] += 1
            else:
                assert txn.ds == "outputs" and txn.op == "dram_write"
                assert in_bounds("outputs", s, o_dims), (where, s)
                o_cnt[box("outputs", s)] += 1
    # weights: once per (k, c) tile, or once per spatial tile with the C loop innermost
    if compute:
        reload = 1 if t["c_tiles"] == 1 or t["c_outer"] else t["row_tiles"] * t["col_tiles"]
        assert (w_cnt == reload).all(), f"{where}: weight loads {np.unique(w_cnt)} != {reload}"
    else:
        assert not w_cnt.any()
    # inputs: every needed element once per k tile whose channels need it; others never
    rows = needed(hp, layer.out_h, layer.stride_h, layer.kernel_h)
    cols = needed(wp, layer.out_w, layer.stride_w, layer.kernel_w)
    per_group = np.zeros(groups, np.int32)
    if groups == 1:  # one load per step, multicast to every k part
        per_group[0] = t["k_tiles"]
    else:  # each PE loads the groups its k tile touches
        for a0, b0 in k_ranges(layer, tr.meta):
            per_group[a0 // kpg:(b0 - 1) // kpg + 1] += 1
    need = np.broadcast_to((rows[:, None] & cols[None, :])[None, None, None], i_dims)
    expected = np.broadcast_to(per_group[None, :, None, None, None], i_dims)
    bad = need & (i_cnt != expected)
    assert not bad.any(), f"{where}: input coverage differs at {np.argwhere(bad)[:3]}"
    # rows/cols inside a window that no output needs (stride > kernel) ride along, at most as often
    assert (i_cnt[~need] <= expected[~need]).all(), f"{where}: unneeded inputs loaded too often"
    assert (o_cnt == 1).all(), f"{where}: output writes {np.unique(o_cnt)}"

    # -- every PE computes with exactly the slices it needs -------------------------------
    noc_cols = a.chiplet.noc.mesh.cols
    latest: dict[tuple, tuple] = {}  # (chiplet, PE node, ds) -> slice of the last copy delivered
    work_cnt = np.zeros(o_dims, np.int64)  # reduction channels computed per output
    for txn in tr.txns:
        if txn.op == "noc" and txn.dst_buf == "pe" and txn.mode != "gather":
            for j, node in enumerate(txn.dsts):
                latest[(txn.chiplet, node, txn.ds)] = txn.data[j if txn.mode == "scatter" else 0]
        elif txn.op == "compute":
            for i, w in enumerate(txn.data):
                k0, k1, c0, c1, y0, y1, x0, x1 = w
                if k1 <= k0 or y1 <= y0:
                    continue
                node = divmod(i, noc_cols)
                work_cnt[k0:k1, y0:y1, x0:x1] += c1 - c0
                if compute:
                    assert latest[(txn.chiplet, node, "weights")][:4] == (k0, k1, c0, c1), (where, txn.id, i)
                    assert latest[(txn.chiplet, node, "weights")][4:] == (0, layer.kernel_h, 0, layer.kernel_w)
                inp = latest[(txn.chiplet, node, "inputs")]
                g0, g1 = (0, 1) if groups == 1 else (k0 // kpg, (k1 - 1) // kpg + 1)
                want = (0, tensors, g0, g1, c0 if compute else 0, c1 if compute else 1,
                        y0 * layer.stride_h, (y1 - 1) * layer.stride_h + layer.kernel_h,
                        x0 * layer.stride_w, (x1 - 1) * layer.stride_w + layer.kernel_w)
                assert inp[:10] == want, f"{where}: txn {txn.id} PE {node} inputs {inp} != {want}"
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
