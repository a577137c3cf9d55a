"""``pieces`` (simulator/mapping/residency.py) for a grouped consumer whose slice spans two groups, of
which the producing chiplets hold only the second: every group is looked up on its own."""
from __future__ import annotations

from simulator.mapping.residency import Resident, pieces
from simulator.workload import Layer


def test_a_group_held_nowhere_does_not_hide_the_next_one():
    # consumer: grouped conv, C 4 in 2 groups (2 channels each), 2 x 2 input, 1 x 1 kernel, no padding
    consumer = Layer("c", "conv", 4, 2, 2, 4, 1, 1, 1, 1, 0, 0, groups=2)
    # one chiplet holds channels 2-3 (group 1), rows 0-1, columns 0-1 of the producer's output
    res = Resident("p", [((0, 1), (2, 4, 0, 2, 0, 2))], {(0, 1): 8}, uses_left=1)
    # slice: tensor 0, groups 0-1, channels 0-1 of each group, rows 0-1, columns 0-1
    s = (0, 1, 0, 2, 0, 2, 0, 2, 0, 2, 0, 0)
    # group 0 (channels 0-1) is held nowhere; group 1 (channels 2-3) -> group 1, its channels 0-1
    assert pieces(res, consumer, 1, s) == [((0, 1), (0, 1, 1, 2, 0, 2, 0, 2, 0, 2, 0, 0))]
