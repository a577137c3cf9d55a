"""A residual add fused into the write-back of its producer (``simulator/mapping/onpackage.py``),
by hand on ``arch/tiny.yaml`` (one chiplet, 2 x 2 PEs, 4 vector MACs, 4 lanes, one DRAM channel).

The producer: 1x1 convolution, C = 4, 2 x 2 outputs, K = 8. Partition: K in min(ceil(8/4), 4) = 2
parts of 4, P in min(2, 4 // 2) = 2 parts of 1 row, C whole (4 < 2 x 4 lanes). PE i holds
k part i % 2 and row i // 2: output slices (k, rows, cols) (0:4, 0:1, 0:2), (4:8, 0:1, 0:2),
(0:4, 1:2, 0:2), (4:8, 1:2, 0:2), 8 bytes each: 32 bytes written back by the chiplet.
The add ``s = a + b`` takes operand 1 (``b``) from DRAM: per output slice an inputs slice
(t 1:2, g = the slice's channels, since an add is channel by channel, c 0:1, rows, cols, no halo),
read and added in the global buffer: reads 2 x 32 B, writes 32 B, 32 additions.
"""
from __future__ import annotations

from conftest import ARCH_DIR
from simulator.config import load_arch
from simulator.mapping.onpackage import FusedAdd
from simulator.mapping.weight_stationary import WeightStationaryMapper
from simulator.workload import Layer

OUT = [(0, 4, 0, 1, 0, 2), (4, 8, 0, 1, 0, 2), (0, 4, 1, 2, 0, 2), (4, 8, 1, 2, 0, 2)]


def test_fused_add_from_dram_by_hand():
    arch = load_arch(ARCH_DIR / "tiny.yaml")
    conv = Layer("a", "conv", 4, 2, 2, 8, 1, 1)
    add = Layer("s", "add", 8, 2, 2, 8, inputs=("a", "b"))
    tr = WeightStationaryMapper(arch).map(conv, fuse=FusedAdd(add, 1, None))
    assert tr.meta["fused_add"] == "s"
    p = tr.meta["partition"]
    assert (p["k_parts"], p["p_parts"], p["c_parts"]) == (2, 2, 1)
    (sram,) = [t for t in tr.txns if t.op == "sram"]
    assert (sram.ds, sram.chiplet, sram.read_bytes, sram.write_bytes, sram.vector_ops) == ("outputs", (0, 0), 64, 32, 32)
    assert list(sram.data) == OUT
    subs = [(1, 2, k0, k1, 0, 1, r0, r1, x0, x1, 0, 0) for k0, k1, r0, r1, x0, x1 in OUT]
    fetch = [tr.txns[d] for d in sram.after if tr.txns[d].op == "nop"]
    assert len(fetch) == 1
    nop = fetch[0]
    assert (nop.ds, nop.bytes, nop.src, nop.dsts, nop.src_buf, nop.dst_buf) == ("inputs", 32, (0, 0), ((0, 0),), "dram", "gb")
    assert list(nop.data) == subs
    (rd,) = [tr.txns[d] for d in nop.after]
    assert (rd.op, rd.ds, rd.channel, rd.bytes, list(rd.data)) == ("dram_read", "inputs", 0, 32, subs)
    # the sum goes to DRAM after the add
    (out,) = [t for t in tr.txns if t.op == "nop" and t.ds == "outputs"]
    assert out.after == (sram.id,) and out.bytes == 32 and list(out.data) == OUT
    (wr,) = [t for t in tr.txns if t.op == "dram_write"]
    assert wr.after == (out.id,) and wr.bytes == 32


def test_each_chiplet_fetches_the_operand_from_its_nearest_channel(tmp_path):
    """On the 2x2 package of tests/quad.py (channels attached at (0,0) and (1,0)): the operand for
    the outputs a chiplet holds comes from the nearest channel: (0,0), (0,1) -> 0; (1,0), (1,1) -> 1.
    The read waits for exactly what the add waits for besides the fetch (the outputs' gathers)."""
    from quad import ATTACH, quad_arch
    arch = quad_arch(tmp_path)
    conv = Layer("a", "conv", 8, 4, 4, 96, 1, 1)         # K in 24 parts of 4: all 4 chiplets
    add = Layer("s", "add", 96, 4, 4, 96, inputs=("a", "b"))
    tr = WeightStationaryMapper(arch).map(conv, fuse=FusedAdd(add, 1, None))
    nearest = {(0, 0): 0, (0, 1): 0, (1, 0): 1, (1, 1): 1}
    srams = [t for t in tr.txns if t.op == "sram" and t.ds == "outputs"]
    assert {t.chiplet for t in srams} == set(nearest)
    for s in srams:
        (nop,) = [tr.txns[d] for d in s.after if tr.txns[d].op == "nop" and tr.txns[d].src_buf == "dram"]
        (rd,) = [tr.txns[d] for d in nop.after]
        assert rd.channel == nearest[s.chiplet] and nop.src == ATTACH[rd.channel] and nop.dsts == (s.chiplet,)
        assert rd.ds == "inputs" and set(rd.after) == set(s.after) - {nop.id}
        assert rd.bytes == nop.bytes == s.write_bytes and s.read_bytes == 2 * s.write_bytes
