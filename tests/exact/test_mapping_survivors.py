"""Transactions of the on-package dataflow and of a PE-by-PE placement, by hand.

- A fused add's operand read from DRAM is multicast over the NoP, and the trace file says so
  (``mode`` is one of multicast/scatter/gather, checked when a trace file is read back).
- A fused add fetches the operand only for the output boxes that hold elements: in a step where
  every output box of a chiplet is empty (the last, shorter part of an uneven row split), that
  chiplet fetches nothing.
- The NoC multicast of a tile of resident inputs carries the tile's bytes.
- A candidate placed PE by PE (``slots``, the producer-aligned placement) is emitted on the
  chiplets and PE routers of its slots.

Architectures: ``arch/tiny.yaml`` (one chiplet, 2 x 2 PEs, 4 vector MACs of 4 lanes, PE buffers
4096 / 2048 / 768 B with 24-bit accumulators, double-buffered: shares 2048 B of weights, 1024 B of
inputs, 768 x 8 / 24 / 2 = 128 accumulator entries) and the 2 x 2 package of ``tests/quad.py`` (6 PEs
per chiplet on a 2 x 3 NoC, 4 vector MACs of 2 lanes, the same PE buffers).
"""
from __future__ import annotations

from conftest import ARCH_DIR
from quad import PE_NODES, quad_arch
from simulator.config import load_arch
from simulator.mapping import weight_stationary as ws
from simulator.mapping.candidates import Candidate
from simulator.mapping.cost import Cost
from simulator.mapping.onpackage import FusedAdd
from simulator.mapping.residency import Residency
from simulator.mapping.search import Choice
from simulator.mapping.tiling import Partition, Tiling
from simulator.mapping.tracefile import read_traces, write_traces
from simulator.mapping.weight_stationary import WeightStationaryMapper
from simulator.workload import Layer, Workload


def _operand_fetches(tr):
    """(chiplet, step index, DRAM read, NoP transfer) of each fetch of the fused operand, and the
    add (``sram``) transactions in order."""
    adds = [t for t in tr.txns if t.op == "sram" and t.ds == "outputs"]
    out = []
    for a in adds:
        for d in a.after:
            nop = tr.txns[d]
            if nop.op == "nop" and nop.src_buf == "dram":
                (rd,) = [tr.txns[x] for x in nop.after]
                out.append((a, rd, nop))
    return adds, out


def test_fused_operand_from_dram_is_a_multicast_in_the_trace_file(tmp_path):
    """tiny: conv a (1x1, C = 4, 2 x 2 outputs, K = 8) with s = a + b fused, b from DRAM. K in 2 parts
    of 4, P in 2 parts of 1 row (4 PEs on the one chiplet): one step, one write-back, one fetch of b's
    four output-sized slices (4 channels x 1 row x 2 columns = 8 B each, 32 B): a DRAM read and a NoP
    transfer from the channel's attach chiplet (0, 0) into the global buffer, mode multicast."""
    arch = load_arch(ARCH_DIR / "tiny.yaml")
    conv = Layer("a", "conv", 4, 2, 2, 8, 1, 1)
    add = Layer("s", "add", 8, 2, 2, 8, inputs=("a", "b"))
    tr = WeightStationaryMapper(arch).map(conv, fuse=FusedAdd(add, 1, None))
    path = write_traces(tmp_path / "t.jsonl", [tr], {"arch": arch.name})
    _, (back,) = read_traces(path, arch)          # raises on a mode outside multicast/scatter/gather
    for trace in (tr, back):
        _, fetches = _operand_fetches(trace)
        assert len(fetches) == 1
        _, rd, nop = fetches[0]
        assert (rd.ds, rd.bytes, rd.channel) == ("inputs", 32, 0)
        assert (nop.mode, nop.ds, nop.bytes, nop.src, nop.dsts, nop.dst_buf) == (
            "multicast", "inputs", 32, (0, 0), ((0, 0),), "gb")
        assert [x[:2] for x in nop.data] == [(1, 2)] * 4


def test_fused_add_fetches_nothing_for_a_chiplet_whose_boxes_are_empty(tmp_path):
    """quad (24 PEs, 6 per chiplet): conv a (1x1, C = 2, 37 x 32 outputs, K = 4), s = a + b fused,
    b from DRAM.

    Partition: K: min(ceil(4 / 4), 24) = 1 part of 4; P: min(37, 24) = 24 -> parts of ceil(37/24) = 2
    rows, ceil(37 / 2) = 19 parts (the last one rows 36:37); C = 2 < 2 x 2 lanes: whole. PE i holds
    rows 2i:2i+2; PEs 0-5, 6-11, 12-17 on chiplets (0,0), (0,1), (1,0); PE 18 alone on (1,1).
    Tiles: 4 channels x 32 columns = 128 accumulator entries fill the share, so 1 row per tile:
    2 row steps (offsets 0 and 1). Per step and chiplet, a write-back of 128 B per final PE
    (4 x 1 x 32 one-byte outputs), and the add reads that many bytes of b.
    Step 0: every chiplet's boxes hold elements: fetches of 768, 768, 768 and 128 B.
    Step 1: chiplets 0-2 again 768 B each; PE 18's box is rows 37:37 (empty), so (1,1) fetches
    nothing: its add waits for its gather only.
    In all 7 fetches, 3 x 768 x 2 + 128 = 4736 B read from DRAM."""
    arch = quad_arch(tmp_path)
    conv = Layer("a", "conv", 2, 37, 32, 4, 1, 1)
    add = Layer("s", "add", 4, 37, 32, 4, inputs=("a", "b"))
    tr = WeightStationaryMapper(arch).map(conv, fuse=FusedAdd(add, 1, None))
    p = tr.meta["partition"]
    assert (p["k_parts"], p["p_parts"], p["c_parts"], p["p_pe"]) == (1, 19, 1, 2)
    assert tr.meta["tiling"]["rows"] == 1 and tr.meta["tiling"]["row_tiles"] == 2
    adds, fetches = _operand_fetches(tr)
    assert [a.chiplet for a in adds] == [(0, 0), (0, 1), (1, 0), (1, 1)] * 2
    assert [(a.chiplet, rd.bytes) for a, rd, _ in fetches] == (
        [((0, 0), 768), ((0, 1), 768), ((1, 0), 768), ((1, 1), 128), ((0, 0), 768), ((0, 1), 768), ((1, 0), 768)])
    assert sum(rd.bytes for _, rd, _ in fetches) == 4736
    last = adds[-1]
    assert [tr.txns[d].op for d in last.after] == ["noc"] and tr.txns[last.after[0]].mode == "gather"
    assert last.data == ((0, 4, 37, 37, 0, 32),)         # the lock-step add of the empty box stays
    # each fetch names exactly the boxes with elements: rows 2i + step for the PEs i of the chiplet
    for n, (a, rd, nop) in enumerate(fetches):
        step = 0 if n < 4 else 1
        first = {(0, 0): 0, (0, 1): 6, (1, 0): 12, (1, 1): 18}[a.chiplet]
        pes = range(first, min(first + 6, 19))
        want = [(1, 2, 0, 4, 0, 1, 2 * i + step, 2 * i + step + 1, 0, 32, 0, 0) for i in pes]
        assert list(rd.data) == want and list(nop.data) == want and nop.bytes == rd.bytes


def test_resident_inputs_reach_the_pes_with_their_bytes():
    """tiny: a (1x1 conv, C = 4, 2 x 2, K = 8) stays in the global buffer for b (1x1 conv, C = 8,
    K = 8). b: K in 2 parts of 4, P in 2 parts of 1 row, C = 8 whole (c_parts = min(4 // 4,
    8 // 4) = 1); one step of a 4 x 8 weight tile and 1 x 2 outputs. The PEs of one output row
    (k parts 0, 1) share their input tile: 8 channels x 1 row x 2 columns = 16 B, moved from the
    global buffer by one NoC multicast per row; nothing crosses the NoP (a is on this chiplet)."""
    arch = load_arch(ARCH_DIR / "tiny.yaml")
    a = Layer("a", "conv", 4, 2, 2, 8, 1, 1)
    b = Layer("b", "conv", 8, 2, 2, 8, 1, 1, inputs=("a",))
    wl = Workload("w", (a, b), "test")
    res = Residency(arch, wl)
    mapper = WeightStationaryMapper(arch)
    mapper.map(a, residency=res)
    res.done(a)
    tr = mapper.map(b, residency=res)
    assert tr.meta["inputs_resident"] == [True]
    assert not [t for t in tr.txns if t.op in ("nop", "dram_read") and t.ds == "inputs"]
    loads = [t for t in tr.txns if t.op == "noc" and t.ds == "inputs"]
    assert [(t.mode, t.bytes, t.dsts) for t in loads] == [
        ("multicast", 16, ((0, 0), (0, 1))), ("multicast", 16, ((1, 0), (1, 1)))]
    # the tile: tensor 0, group 0:1, channels 0:8, input row p, columns 0:2, no halo
    assert [t.data for t in loads] == [((0, 1, 0, 1, 0, 8, 0, 1, 0, 2, 0, 0),),
                                       ((0, 1, 0, 1, 0, 8, 1, 2, 0, 2, 0, 0),)]


def test_a_candidate_placed_pe_by_pe_runs_on_its_slots(tmp_path, monkeypatch):
    """quad: a 2 x 2 max pool with stride 2 (8 channels, 4 x 4 -> 2 x 2), mapped with a hand-made
    choice: K in 2 parts of 4, P in 2 parts of 1 row (4 PEs), one step of 4 channels x 1 x 2 outputs,
    placed PE by PE on package PEs (23, 6, 17, 0). Package PE x is PE x % 6 of chiplet x // 6
    (chiplet j at (j // 2, j % 2), PE n at NoC node (n // 3, n % 3)): PE 0 -> chiplet (1,1) node (1,2),
    PE 1 -> (0,1) node (0,0), PE 2 -> (1,0) node (1,2), PE 3 -> (0,0) node (0,0). Each chiplet
    runs one PE; PE i holds part (p, k) = (i // 2, i % 2): channels 4k:4k+4, output row p."""
    arch = quad_arch(tmp_path)
    pool = Layer("p", "pool", 8, 4, 4, 8, 2, 2, 2, 2, pool_mode="max")
    part = Partition(2, 2, 1, 4, 1, 1)
    tiling = Tiling(4, 1, 1, 2, 1, 1, 1, 1)
    slots = (23, 6, 17, 0)
    zero = Cost(compute=1.0, dram=0.0, nop=0.0, gb=0.0, noc=0.0, fill=0.0)
    calls = []

    def choose(shape, arch_, mode, *args, **kw):
        calls.append(mode)
        return Choice(Candidate(part, tiling, "k2p2c1", slots), zero, zero, 2, "aligned", None)

    monkeypatch.setattr(ws, "choose", choose)
    tr = WeightStationaryMapper(arch).map(pool, mapping="search")
    assert calls == ["search"]
    computes = [t for t in tr.txns if t.op == "compute"]
    assert [(t.chiplet, t.pes) for t in computes] == [((1, 1), 1), ((0, 1), 1), ((1, 0), 1), ((0, 0), 1)]
    # work slices (k, c, rows, cols); a pool has no reduction channels: c 0:1
    assert [t.data for t in computes] == [((0, 4, 0, 1, 0, 1, 0, 2),), ((4, 8, 0, 1, 0, 1, 0, 2),),
                                          ((0, 4, 0, 1, 1, 2, 0, 2),), ((4, 8, 0, 1, 1, 2, 0, 2),)]
    loads = [t for t in tr.txns if t.op == "noc" and t.ds == "inputs"]
    assert [(t.chiplet, t.dsts) for t in loads] == [((1, 1), (PE_NODES[5],)), ((0, 1), (PE_NODES[0],)),
                                                    ((1, 0), (PE_NODES[5],)), ((0, 0), (PE_NODES[0],))]
    gathers = [t for t in tr.txns if t.op == "noc" and t.mode == "gather"]
    assert [(t.chiplet, t.dsts) for t in gathers] == [((1, 1), ((1, 2),)), ((0, 1), ((0, 0),)),
                                                      ((1, 0), ((1, 2),)), ((0, 0), ((0, 0),))]
