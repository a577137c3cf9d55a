"""Releasing resident tensors and the peak the weight prefetch reads (``Residency.done``,
``_release``, ``take_peak``), with a concat view that holds a use of each operand, step by step on
the 2x2 package. Every expectation follows the rules in simulator/mapping/residency.py and
concat.py: a tensor is freed when its last use is gone; a freed view releases one use of each
operand; ``done`` first records, per chiplet, the most bytes held so far (``take_peak`` returns
that and starts again from zero)."""
from __future__ import annotations

from quad import quad_arch
from simulator.mapping.concat import concat_trace
from simulator.mapping.residency import Residency
from simulator.workload import Layer, Workload

X, Y = (0, 1), (1, 1)
A = Layer("a", "conv", 2, 4, 4, 3)
B = Layer("b", "conv", 3, 4, 4, 5, inputs=("a",))
CAT = Layer("cat", "concat", 8, 4, 4, 8, inputs=("a", "b"))
U = Layer("u", "conv", 8, 4, 4, 4, inputs=("cat",))


class Mapper:
    attach = ((0, 0), (1, 0))

    def _channel_for(self, chip):
        raise AssertionError("a view moves nothing")


def test_a_view_keeps_its_operands_until_its_consumer_is_done(tmp_path):
    res = Residency(quad_arch(tmp_path), Workload("w", (A, B, CAT, U), "test"))
    # a: read by b and cat (2 uses), 100 B on X
    assert res.admit(A, [(X, (0, 3, 0, 4, 0, 4))], {X: 100})
    assert res.live["a"].uses_left == 2 and res.used == {X: 100}
    res.done(A)                                  # a's own producer is the network input: nothing freed
    # b: read by cat (1 use), 50 B on X and 70 on Y
    assert res.admit(B, [(X, (0, 5, 0, 2, 0, 4)), (Y, (0, 5, 2, 4, 0, 4))], {X: 50, Y: 70})
    res.done(B)                                  # one use of a gone: 1 left
    assert res.live["a"].uses_left == 1 and res.used == {X: 150, Y: 70}
    assert res.take_peak() == {X: 150, Y: 70} and res.take_peak() == {}
    tr = concat_trace(Mapper(), CAT, 1, 1.0, res)
    assert tr.meta["view"] == "package"
    assert (res.live["a"].uses_left, res.live["b"].uses_left, res.live["cat"].uses_left) == (2, 2, 1)
    res.done(CAT)                                # cat reads a and b: one use each
    assert (res.live["a"].uses_left, res.live["b"].uses_left) == (1, 1) and set(res.live) == {"a", "b", "cat"}
    res.done(U)                                  # cat's last use: the view goes, and with it a and b
    assert res.live == {} and res.used == {X: 0, Y: 0}
    # the peak of the layers done since the last call: 150 on X, 70 on Y (held while cat and u ran)
    assert res.take_peak() == {X: 150, Y: 70}


def test_the_peak_is_the_most_held_since_the_last_call(tmp_path):
    """a (100 B on X) is freed by cat's consumer; then a second tensor of 30 B: the peak stays 100."""
    res = Residency(quad_arch(tmp_path), Workload("w", (A, B, CAT, U), "test"))
    res.admit(A, [(X, (0, 3, 0, 4, 0, 4))], {X: 100})
    res.done(A)
    res.live["a"].uses_left = 1                  # b is its last reader
    res.done(B)
    assert "a" not in res.live and res.used == {X: 0}
    res.used[X] = 30
    res.done(CAT)
    assert res.take_peak() == {X: 100}
    res.done(U)
    assert res.take_peak() == {X: 30}
    res.used = {Y: 1}                            # a single byte counts too
    res.done(U)
    assert res.take_peak() == {Y: 1}
