"""``tile`` (simulator/mapping/tiling.py) on a grouped convolution whose input buffer binds: the C tile
is sized for one output channel, whose inputs lie in one group; wider K tiles are sized for the
worst case, a K range that straddles groups (``Shape.in_channels_for``)."""
from __future__ import annotations

from types import SimpleNamespace

from simulator.mapping.tiling import Partition, Shape, Tiling, tile
from simulator.workload import Layer


def _arch(input_bytes: int):
    big = 10 ** 6
    pe = SimpleNamespace(double_buffering=False, weight_buffer=SimpleNamespace(size_bytes=big),
                         input_buffer=SimpleNamespace(size_bytes=input_bytes),
                         accumulation_buffer=SimpleNamespace(entries=big))
    return SimpleNamespace(chiplet=SimpleNamespace(pe=pe))


def test_a_grouped_layer_keeps_its_c_tile_when_one_output_fits():
    # C 8, K 2, groups 2: 4 reduction channels per group, 1 output channel per group; 4 x 4 input,
    # 1 x 1 kernel, stride 1: P = Q = 4. One PE holds the whole layer (K 2, P 4, C 4).
    shape = Shape.of(Layer("g", "conv", 8, 4, 4, 2, 1, 1, 1, 1, 0, 0, groups=2))
    part = Partition(1, 1, 1, 2, 4, 4)
    # input buffer 6 B, 1-byte words:
    # C tile: one output channel needs 4 channels x 1 x 1 = 4 B <= 6 -> c_tile 4 (no shrink);
    # K tile: 2 channels may straddle the 2 groups -> 2 x 4 = 8 B > 6 -> k_tile 1;
    # columns: 4 x cols <= 6 -> 4 -> 2 -> 1; rows likewise 4 -> 3 -> 2 -> 1.
    assert tile(shape, part, _arch(6)) == Tiling(1, 4, 1, 1, k_tiles=2, c_tiles=1, row_tiles=4,
                                                 col_tiles=4, c_outer=False)
    # with 8 B both output channels' inputs fit at once: k_tile 2, then columns 8 x cols <= 8 -> 1
    assert tile(shape, part, _arch(8)) == Tiling(2, 4, 1, 1, k_tiles=1, c_tiles=1, row_tiles=4,
                                                 col_tiles=4, c_outer=False)
