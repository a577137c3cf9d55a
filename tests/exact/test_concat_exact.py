"""``concat_trace`` (simulator/mapping/concat.py) transaction by transaction, on hand-made resident
operands: the view of resident operands, the move to DRAM of the resident ones, the DRAM dataflow.

The concat ``cat`` joins ``a`` (3 channels) and ``b`` (5 channels) of 4 x 4 pixels: ``a`` starts at
channel 0, ``b`` at channel 3 (the operands' channels side by side, in the order the concat names
them). Resident pieces are (chiplet, (k0, k1, y0, y1, x0, x1)) output boxes; a view shifts each
operand's channel range by its offset. A move writes, per operand and chiplet holding part of it, the
chiplet's boxes (shifted) with one NoP transfer from its global buffer to the DRAM attach point of
its channel and one DRAM write: ``ceil(elements x word)`` bytes.
"""
from __future__ import annotations

from math import ceil

import pytest

from quad import quad_arch
from simulator.mapping.concat import channel_offsets, concat_trace
from simulator.mapping.residency import Resident, Residency
from simulator.mapping.trace import Txn
from simulator.workload import Layer, Workload

A = Layer("a", "conv", 2, 4, 4, 3)
B = Layer("b", "conv", 2, 4, 4, 5, inputs=("a",))
CAT = Layer("cat", "concat", 8, 4, 4, 8, inputs=("a", "b"))
U = Layer("u", "conv", 8, 4, 4, 4, inputs=("cat",))
V = Layer("v", "pool", 8, 4, 4, 8, 2, 2, 2, 2, pool_mode="max", inputs=("cat",))
FC = Layer("fc", "fc", 128, 1, 1, 10, inputs=("cat",))
ATTACH = ((0, 0), (1, 0))          # the 2x2 package's DRAM channels: west edge
CHANNEL = {(0, 1): 0, (1, 1): 1, (1, 0): 1, (0, 0): 0}   # nearest attach point of each chiplet

# a: rows 0..1 on chiplet (0, 1) in two boxes (3x1x3 = 9 and 3x1x4 = 12 elements), rows 2..3 on (1, 1) (24)
A_PIECES = [((0, 1), (0, 3, 0, 1, 0, 3)), ((1, 1), (0, 3, 2, 4, 0, 4)), ((0, 1), (0, 3, 1, 2, 0, 4))]
# b: all of it on chiplet (1, 0) (5x4x4 = 80 elements)
B_PIECES = [((1, 0), (0, 5, 0, 4, 0, 4))]


class Mapper:
    attach = ATTACH

    def __init__(self):
        self.asked = []

    def _channel_for(self, chip):
        self.asked.append(chip)
        return CHANNEL[chip]


def residency(tmp_path, layers, live=("a", "b")):
    res = Residency(quad_arch(tmp_path), Workload("w", tuple(layers), "test"))
    pieces = {"a": A_PIECES, "b": B_PIECES}
    for name in live:
        res.live[name] = Resident(name, list(pieces[name]), {}, 1)
    return res


def test_channel_offsets_follow_the_operands_order(tmp_path):
    res = residency(tmp_path, (A, B, CAT, U))
    assert channel_offsets(res, CAT) == [("a", 0), ("b", 3)]
    assert channel_offsets({"a": A, "b": B}, CAT) == [("a", 0), ("b", 3)]
    swapped = Layer("cat", "concat", 8, 4, 4, 8, inputs=("b", "a"))
    assert channel_offsets({"a": A, "b": B}, swapped) == [("b", 0), ("a", 5)]
    three = Layer("cat3", "concat", 10, 4, 4, 10, inputs=("a", "b", "c"))     # 3 + 5 + 2 channels
    assert channel_offsets({"a": A, "b": B, "c": Layer("c", "conv", 2, 4, 4, 2)}, three) == \
        [("a", 0), ("b", 3), ("c", 8)]


def test_the_dram_dataflow_moves_nothing():
    tr = concat_trace(Mapper(), CAT, 3, 1.0, None)
    assert (tr.layer, tr.kind, tr.macs, tr.txns) == ("cat", "concat", 0, [])
    assert tr.meta == {"mac": "none", "batch": 3, "dataflow": "dram", "operands": ["a", "b"], "view": "dram"}


def test_resident_operands_read_by_two_consumers_make_a_view(tmp_path):
    """u (a convolution) and v (a pooling) read cat: both can read from the package, so cat is a
    view: its pieces are a's as they are (offset 0) and b's with channels 3..8; it has two uses; it
    holds one more use of each operand."""
    res = residency(tmp_path, (A, B, CAT, U, V))
    mapper = Mapper()
    tr = concat_trace(mapper, CAT, 2, 1.0, res)
    assert tr.txns == [] and mapper.asked == []
    assert tr.meta == {"mac": "none", "batch": 2, "dataflow": "resident", "operands": ["a", "b"],
                       "view": "package", "outputs_resident": True}
    view = res.live["cat"]
    assert view.layer == "cat" and view.uses_left == 2 and view.views == ("a", "b")
    assert view.bytes_per_chiplet == {}
    assert view.pieces == A_PIECES + [((1, 0), (3, 8, 0, 4, 0, 4))]
    assert res.live["a"].uses_left == 2 and res.live["b"].uses_left == 2


def expected_moves(word, operands):
    """The transactions of a move, written out from the rule: per operand (in order) and chiplet
    (in the order of its first piece), a NoP transfer gb -> dram to the attach point of the chiplet's
    channel, then the DRAM write on that channel, after it."""
    out, tid, moved = [], 0, 0
    for chip, boxes in operands:
        nbytes = ceil(sum((b[1] - b[0]) * (b[3] - b[2]) * (b[5] - b[4]) for b in boxes) * word)
        ch = CHANNEL[chip]
        out.append(Txn(tid, "nop", (), ds="outputs", bytes=nbytes, src=chip, dsts=(ATTACH[ch],), mode="multicast",
                       src_buf="gb", dst_buf="dram", data=tuple(boxes)))
        out.append(Txn(tid + 1, "dram_write", (tid,), ds="outputs", channel=ch, bytes=nbytes, data=tuple(boxes)))
        tid += 2
        moved += nbytes
    return out, moved


def test_a_consumer_that_cannot_read_the_package_makes_the_operands_move(tmp_path):
    """fc after the 4 x 4 concat cannot read from the package: every resident operand moves.
    a on (0, 1): 9 + 12 = 21 elements x 1.25 B = 26.25 -> 27 bytes, channel 0, to (0, 0);
    a on (1, 1): 24 x 1.25 = 30 bytes, channel 1, to (1, 0);
    b on (1, 0): 80 x 1.25 = 100 bytes at channels 3..8, channel 1, to (1, 0) itself. 157 bytes moved."""
    res = residency(tmp_path, (A, B, CAT, FC))
    mapper = Mapper()
    tr = concat_trace(mapper, CAT, 1, 1.25, res)
    want, moved = expected_moves(1.25, [((0, 1), [(0, 3, 0, 1, 0, 3), (0, 3, 1, 2, 0, 4)]),
                                        ((1, 1), [(0, 3, 2, 4, 0, 4)]),
                                        ((1, 0), [(3, 8, 0, 4, 0, 4)])])
    assert moved == 27 + 30 + 100
    assert tr.txns == want
    assert mapper.asked == [(0, 1), (1, 1), (1, 0)]
    assert tr.meta == {"mac": "none", "batch": 1, "dataflow": "resident", "operands": ["a", "b"],
                       "view": "dram", "outputs_resident": False, "moved_bytes": 157}
    assert "cat" not in res.live and res.live["a"].uses_left == 1 and res.live["b"].uses_left == 1


def test_an_operand_already_in_dram_stays_there(tmp_path):
    """a spilled (not resident), b resident, a consumer that could read the package: the concat is
    made in DRAM; only b moves (80 bytes at 1 byte per element)."""
    res = residency(tmp_path, (A, B, CAT, U), live=("b",))
    tr = concat_trace(Mapper(), CAT, 1, 1.0, res)
    want, moved = expected_moves(1.0, [((1, 0), [(3, 8, 0, 4, 0, 4)])])
    assert tr.txns == want and tr.meta["moved_bytes"] == moved == 80
    assert tr.meta["view"] == "dram" and tr.meta["outputs_resident"] is False
    assert "cat" not in res.live and res.live["b"].uses_left == 1


def test_a_concat_without_consumers_is_written_to_dram(tmp_path):
    """cat is the network's output: nobody reads it from the package, so both operands move."""
    res = residency(tmp_path, (A, B, CAT))
    tr = concat_trace(Mapper(), CAT, 1, 2.0, res)
    want, moved = expected_moves(2.0, [((0, 1), [(0, 3, 0, 1, 0, 3), (0, 3, 1, 2, 0, 4)]),
                                       ((1, 1), [(0, 3, 2, 4, 0, 4)]),
                                       ((1, 0), [(3, 8, 0, 4, 0, 4)])])
    assert tr.txns == want and moved == 2 * (21 + 24 + 80) == tr.meta["moved_bytes"]
    assert "cat" not in res.live


@pytest.mark.parametrize("consumers", [(U, FC), (FC, U)])
def test_one_consumer_that_cannot_read_the_package_is_enough_to_move(tmp_path, consumers):
    res = residency(tmp_path, (A, B, CAT) + consumers)
    tr = concat_trace(Mapper(), CAT, 1, 1.0, res)
    assert tr.meta["view"] == "dram" and tr.meta["moved_bytes"] == 21 + 24 + 80
