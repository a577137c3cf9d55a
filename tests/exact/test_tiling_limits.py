"""Tile sizes at the edges of the PE buffers and the mapper's refusals (``simulator/mapping/tiling.py``,
``weight_stationary.py``), by hand on the 2x2 package of ``tests/quad.py`` (PE buffers of
``arch/tiny.yaml``, double-buffered: weight share 2048 B, input share 1024 B, 128 accumulation
entries) and on a variant with a 4096-byte input share.
"""
from __future__ import annotations

from math import ceil

import pytest
import yaml

from conftest import ARCH_DIR
from quad import quad_arch, quad_variant
from simulator.config import load_arch
from simulator.mapping.candidates import candidates
from simulator.mapping.tiling import MappingError, Shape, tile
from simulator.mapping.weight_stationary import MAX_COMPUTE_TXNS, WeightStationaryMapper
from simulator.workload import Layer


@pytest.fixture
def quad(tmp_path):
    return quad_arch(tmp_path)


def fixed(arch, layer):
    shape = Shape.of(layer)
    return shape, candidates(shape, arch)[0]


def test_rows_step_down_one_by_one_below_nine(quad):
    """C = 2, K = 96, 8 x 5 outputs: K in 24 parts of 4, P whole (8 rows per PE); k 4 x 5 columns = 20
    entries per row: 8 rows (160) and 7 (140) exceed 128 entries, 6 rows (120) fit."""
    shape, cand = fixed(quad, Layer("r", "conv", 2, 8, 5, 96, 1, 1))
    assert (cand.part.p_pe, cand.tiling.k_tile, cand.tiling.cols, cand.tiling.rows) == (8, 4, 5, 6)
    assert cand.tiling.row_tiles == 2


def test_input_channels_halve_down_to_one(quad):
    """C = 2 with a 23 x 23 kernel (one output): 2 channels x 529 = 1058 B of inputs exceed the
    1024-byte share, one channel (529 B) fits."""
    shape, cand = fixed(quad, Layer("k", "conv", 2, 23, 23, 4, 23, 23))
    assert (cand.part.c_pe, cand.tiling.c_tile, cand.tiling.c_tiles) == (2, 1, 2)


def test_the_default_word_is_one_byte(quad):
    shape, cand = fixed(quad, Layer("big", "conv", 256, 6, 6, 256, 3, 3, 1, 1, 1, 1))
    assert tile(shape, cand.part, quad) == tile(shape, cand.part, quad, 1.0) != tile(shape, cand.part, quad, 2.0)


@pytest.fixture
def wide_inputs(tmp_path):
    """The 2x2 package with an 8 KB input buffer (4096-byte share): the weight share binds first."""
    def wide(data):
        data["chiplet"]["pe"]["input_buffer"]["size_bytes"] = 8192
    return quad_variant(tmp_path, "wide", edit=wide)


def test_a_weight_tile_exactly_at_the_share_fits_and_k_halves_down_to_one(wide_inputs):
    """C = 2048, K = 96, one pixel: one output channel's weights are exactly 2048 B, which fit (C is
    not split); two would not: k 4 -> 2 -> 1."""
    shape, cand = fixed(wide_inputs, Layer("w", "conv", 2048, 1, 1, 96, 1, 1))
    assert (cand.tiling.c_tile, cand.tiling.k_tile, cand.tiling.k_tiles) == (2048, 1, 4)


def test_a_layer_no_tile_fits_is_refused_with_its_sizes(quad):
    """Depthwise 50 x 50 kernel on 4 channels: one output needs 2500 B of weights and 2500 B of inputs
    (one output channel touches one group), more than either share."""
    layer = Layer("d", "conv", 4, 50, 50, 4, 50, 50, groups=4)
    with pytest.raises(MappingError) as info:
        WeightStationaryMapper(quad).map(layer)
    assert str(info.value) == (
        "layer 'd' (conv, 4x50x50 -> 4x1x1, kernel 50x50) cannot be mapped on 'quad': no tile fits: one output "
        "needs 2500 B of weights and 2500 B of inputs; per-PE buffer shares are 2048 B (weights) and 1024 B "
        "(inputs); larger PE buffers (chiplet.pe.*_buffer.size_bytes) would fit it")


def test_a_layer_beyond_the_transaction_limit_is_refused_before_emission():
    """On arch/tiny.yaml (one chiplet): a 1x1 convolution with 10000 x 10000 outputs needs more than
    500,000 compute transactions: steps x chiplets of its tiling."""
    arch = load_arch(ARCH_DIR / "tiny.yaml")
    layer = Layer("huge", "conv", 1, 10000, 10000, 4, 1, 1)
    shape, cand = fixed(arch, layer)
    steps = cand.tiling.steps
    n = steps * ceil(cand.part.used_pes / arch.chiplet.pes)
    assert n > MAX_COMPUTE_TXNS
    with pytest.raises(MappingError) as info:
        WeightStationaryMapper(arch).map(layer)
    assert str(info.value) == (
        f"layer 'huge' ({layer.describe().partition(': ')[2]}, batch 1) would need {n:,} compute transactions "
        f"({steps:,} tile steps on each chiplet), and 6 to 9 times as many transactions in all; the limit is "
        "500,000 compute transactions per layer (minutes of simulation and gigabytes of trace); check the "
        "layer's dimensions")
    assert layer.describe().partition(': ')[2].startswith("conv 1x10000x10000 -> 4x10000x10000")
