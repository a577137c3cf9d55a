"""Inputs of the on-package dataflow (``simulator/mapping/onpackage.py``) on the 2x2 package of
``tests/quad.py`` (global buffer at NoC node (0, 1), 6 PEs per chiplet, 2 DRAM channels).

The workload: ``a`` (conv, its output read by ``b``, by the add and by a fully connected layer,
so it cannot stay resident: a fully connected layer does not read a spatial tensor from the
package), ``b`` (conv of ``a``, resident; K in 2 parts, P in 4, C in 3: output row p on chiplet p),
``s = a + b`` (operand 0 from DRAM, operand 1 resident; K in 2 parts, P in 4 on 8 PEs: rows 0-2
on chiplet (0,0), row 3 on (0,1), so parts of ``b`` move between chiplets), ``f`` (fc of ``a``). Checked: every NoC load of inputs leaves the global
buffer node to the PEs (multicast for a shared tile, scatter for per-PE tiles), waits for the
fetches into its chiplet when there are any; every fetch names its tensor ``t`` and carries
exactly the bytes of its slices.
"""
from __future__ import annotations

from math import ceil

import pytest

from quad import GB, quad_arch
from simulator.mapping.identity import size
from simulator.mapping.residency import Residency
from simulator.mapping.weight_stationary import WeightStationaryMapper
from simulator.workload import Layer, Workload


@pytest.fixture
def mapped(tmp_path):
    arch = quad_arch(tmp_path)
    a = Layer("a", "conv", 4, 4, 4, 8, 1, 1)
    b = Layer("b", "conv", 8, 4, 4, 8, 1, 1, inputs=("a",))
    s = Layer("s", "add", 8, 4, 4, 8, inputs=("a", "b"))
    f = Layer("f", "fc", 8 * 16, 1, 1, 10, inputs=("a",))
    wl = Workload("w", (a, b, s, f), "test")
    res = Residency(arch, wl)
    mapper = WeightStationaryMapper(arch)
    out = {}
    for layer in wl.layers:
        out[layer.name] = mapper.map(layer, residency=res)
        res.done(layer)
    return out


def fetches_into(tr, chip):
    return [t for t in tr.txns if t.op == "nop" and t.ds == "inputs" and chip in t.dsts]


def check_noc_loads(tr, mode):
    nocs = [t for t in tr.txns if t.op == "noc" and t.ds == "inputs"]
    assert nocs
    for t in nocs:
        assert (t.src, t.src_buf, t.dst_buf, t.mode) == (GB, "gb", "pe", mode)
        if mode == "scatter":
            assert len(t.data) == len(t.dsts)
        fetched = {x.id for x in fetches_into(tr, t.chiplet)}
        deps = set(t.after)
        if deps & fetched:
            assert deps <= fetched          # the load waits for the fetches into its chiplet only
            assert all(tr.txns[d].dsts and t.chiplet in tr.txns[d].dsts for d in deps)
    return nocs


def test_residency_of_the_fixture(mapped):
    assert mapped["a"].meta["outputs_resident"] is False      # read by a fully connected layer
    assert mapped["b"].meta["outputs_resident"] is True and mapped["b"].meta["inputs_resident"] == [False]
    assert mapped["s"].meta["inputs_resident"] == [False, True]


def test_a_conv_reads_a_shared_tile_by_multicast(mapped):
    nocs = check_noc_loads(mapped["b"], "multicast")
    # a shared tile: one slice, carried once. C = 8 in 3 parts (3, 3, 2 channels) and one output
    # row (1 x 4 input positions, R = S = 1) per part; the PEs run in lock step, each step sized by
    # the largest part (docs/models.md, "Mapping"): 3 x 1 x 4 = 12 one-byte words per load, the
    # last C part's 8 bytes of data padded to 12.
    assert sorted({ceil(size("inputs", t.data[0])) for t in nocs}) == [8, 12]
    for t in nocs:
        assert len(t.data) == 1 and t.bytes == 12
    # its input (a, in DRAM) is read and multicast from the DRAM attach point into the buffers
    fetches = [t for t in mapped["b"].txns if t.op == "nop" and t.ds == "inputs"]
    assert fetches
    for t in fetches:
        assert (t.mode, t.src_buf, t.dst_buf) == ("multicast", "dram", "gb")
        assert len(t.data) == 1 and t.bytes == 12          # the same padded tile


def test_an_add_reads_both_operands_per_pe(mapped):
    tr = mapped["s"]
    check_noc_loads(tr, "scatter")
    # operand 1 (resident b) moves between global buffers, slices of tensor t = 1 only
    moved = [t for t in tr.txns if t.op == "nop" and t.ds == "inputs" and t.src_buf == "gb"]
    assert moved
    for t in moved:
        assert all(len(x) == 12 and x[0:2] == (1, 2) for x in t.data) and t.src not in t.dsts
        assert t.bytes == ceil(sum(size("inputs", x) for x in t.data))
    # operand 0 (a, in DRAM) is read with slices of tensor t = 0, exactly their bytes
    reads = [t for t in tr.txns if t.op == "dram_read" and t.ds == "inputs"]
    assert reads
    for t in reads:
        assert all(len(x) == 12 and x[0:2] == (0, 1) for x in t.data)
        assert t.bytes == ceil(sum(size("inputs", x) for x in t.data))
