"""Input copies of pool and add layers under a run's exposure: stuck cells are applied where the
copy holds them (padding excluded), and where copies overlap the copy delivered last supplies the
element (never the sum of two copies' errors)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from simulator import api
from simulator.accuracy.exposure_hook import exposure_ber, uniform_exposure
from simulator.faults.exposure import group_box, groups_of
from simulator.faults.rates import zero_rates
from simulator.workload import parse_yaml_workload

NET = """
version: 1
name: pa
layers:
  - {name: c1, type: conv, input: [4, 8, 8], out_channels: 8, kernel: 3, padding: 1}
  - {name: c2, type: conv, input: [8, 8, 8], out_channels: 8, kernel: 3, padding: 1}
  - {name: a, type: add, inputs: [c1, c2], input: [8, 8, 8]}
  - {name: p, type: pool, mode: max, input: [8, 8, 8], kernel: 3, stride: 1, padding: 1}
"""


@pytest.fixture(scope="module")
def run(simba_arch):
    wl = parse_yaml_workload(NET, "pa.yaml")
    # the DRAM dataflow: the add is a layer of its own with its input copies (not fused)
    data = api.simulate(simba_arch, wl, rates=zero_rates(), exposure=True, dataflow="dram",
                        mapping="fixed").exposure.data
    return wl, {layer.name: layer for layer in wl.layers}, data


def with_stuck(data, cells):
    """``data`` without transient errors and with stuck cells (group, element, bit, value) at stage 0."""
    base = uniform_exposure(data, 0.0, ["inputs"])
    g, e, b, v = (np.asarray(c) for c in zip(*cells))
    return dataclasses.replace(base, stuck_group=g.astype(np.int32), stuck_element=e.astype(np.int64),
                               stuck_bit=b.astype(np.int8), stuck_value=v.astype(np.int8),
                               stuck_stage=np.zeros(len(g), np.int8))


def where(data, layer, gid, element):
    """(operand, channel, row, col) of the unpadded input that element ``element`` of group ``gid``
    (C order over t, g, c, rows, cols in padded coordinates) is, or None on padding."""
    box = group_box(data, gid)
    t, g, c, y, x = np.unravel_index(element, tuple(b.stop - b.start for b in box))
    y, x = y + box[3].start - layer.pad_h, x + box[4].start - layer.pad_w
    if not (0 <= y < layer.in_h and 0 <= x < layer.in_w):
        return None
    return int(t + box[0].start), int(g + box[1].start), int(y), int(x)


def test_stuck_cells_of_add_input_copies_are_forced_where_the_copy_holds_them(run):
    _, layers, data = run
    gids = [int(g) for g in groups_of(data, "a", "inputs")]
    rng = np.random.default_rng(1)
    cells = []
    for gid in gids[:6]:
        size = int(np.prod([b.stop - b.start for b in group_box(data, gid)]))
        for e in rng.choice(size, 3, replace=False):
            cells.append((gid, int(e), int(rng.integers(0, 8)), int(rng.integers(0, 2))))
    hook = exposure_ber(with_stuck(data, cells), layers)(0)
    t = np.random.default_rng(2).integers(0, 256, (2, 3, 8, 8, 8)).astype(np.uint8)
    got = hook("a", "inputs", t)
    want = t.copy()
    forced = 0
    for gid, e, bit, value in cells:  # the add's copies do not overlap: each cell is in one copy
        at = where(data, layers["a"], gid, e)
        if at is None:
            continue
        op, ch, y, x = at
        want[op, :, ch, y, x] = (want[op, :, ch, y, x] & ~np.uint8(1 << bit)) | np.uint8(value << bit)
        forced += 1
    assert forced >= 10
    np.testing.assert_array_equal(got, want)
    assert not np.array_equal(got, t)


def test_overlapping_pool_copies_the_last_copy_supplies_the_element(run):
    _, layers, data = run
    pool = layers["p"]
    gids = [int(g) for g in groups_of(data, "p", "inputs")]
    # the 3x3 windows overlap: some input elements are in two or more copies
    count = np.zeros((pool.in_channels, pool.in_h, pool.in_w), np.int32)
    for gid in gids:
        box = group_box(data, gid)
        count[box[1], max(box[3].start - 1, 0):box[3].stop - 1, max(box[4].start - 1, 0):box[4].stop - 1] += 1
    assert (count >= 2).any() and (count >= 1).all()
    t = np.random.default_rng(3).integers(0, 256, (2, 8, 8, 8)).astype(np.uint8)
    # p = 1 on every copy: each element arrives inverted once, also where copies overlap (a sum of
    # two copies' flips would give the element back)
    np.testing.assert_array_equal(exposure_ber(uniform_exposure(data, 1.0, ["inputs"]), layers)(0)("p", "inputs", t), ~t)
    # a stuck cell in an overlap: it shows only if its copy is the last delivered over that element
    last: dict[tuple, int] = {}
    for gid in gids:
        box = group_box(data, gid)
        size = int(np.prod([b.stop - b.start for b in box]))
        for e in range(size):
            at = where(data, pool, gid, e)
            if at is not None:
                last[at[1:]] = gid
    overlap = [(gid, e, where(data, pool, gid, e)) for gid in gids
               for e in range(int(np.prod([b.stop - b.start for b in group_box(data, gid)])))]
    overlap = [(gid, e, at) for gid, e, at in overlap if at is not None and count[at[1:]] >= 2]
    early = next((gid, e, at) for gid, e, at in overlap if last[at[1:]] != gid)
    late = next((gid, e, at) for gid, e, at in overlap if last[at[1:]] == gid)
    for (gid, e, at), shows in ((early, False), (late, True)):
        _, ch, y, x = at
        bit = 7
        value = 1 - (int(t[0, ch, y, x]) >> bit & 1)  # the opposite of the stored bit in sample 0
        got = exposure_ber(with_stuck(data, [(gid, e, bit, value)]), layers)(0)("p", "inputs", t)
        assert (int(got[0, ch, y, x]) >> bit & 1 == value) is shows
        other = np.ones(t.shape, bool)
        other[:, ch, y, x] = False
        np.testing.assert_array_equal(got[other], t[other])
