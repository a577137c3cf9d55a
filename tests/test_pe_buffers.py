"""Timed PE buffers: weight, input and accumulation buffer bandwidth bound the MAC rate of a compute
step, and dynamic block selection pays for leading-block detection (docs/models.md, "Timed PE buffers").
Expected cycles are written out by hand from the buffer widths of the PE."""
from __future__ import annotations

from math import ceil

import pytest

from simulator.approx import blocked
from simulator.config.loader import load_tech
from simulator.hw.pe import EXACT, PEArray
from simulator.macs.timing import block_mac_model, exact_model
from simulator.stats.counters import Counters

from conftest import ARCH_DIR


@pytest.fixture
def bpe(axbxp_arch):
    """simba_axbxp's PE: 8 vector MACs x 8 lanes; weight buffer 8 x 64 = 512 bits/cycle, input buffer
    1 x 64 = 64 bits/cycle, accumulation buffer 1 x 192 = 192 bits/cycle; 16 2x2-bit multipliers per lane."""
    pe = axbxp_arch.chiplet.pe
    assert (pe.vector_macs, pe.lanes) == (8, 8)
    assert pe.weight_buffer.bytes_per_cycle * 8 == 512 and pe.input_buffer.bytes_per_cycle * 8 == 64
    assert pe.accumulation_buffer.bytes_per_cycle * 8 == 192
    return pe


def _buf(pe, name: str, **update):
    return pe.model_copy(update={name: getattr(pe, name).model_copy(update=update)})


def _wide(pe, but: str | None = None):
    """All buffers 64x wider except ``but``: only that buffer (or none) can bound the step."""
    for name in ("weight_buffer", "input_buffer", "accumulation_buffer"):
        if name != but:
            pe = _buf(pe, name, banks=64 * getattr(pe, name).banks)
    return pe


def _array(pe):
    counters = Counters()
    return PEArray("chip.pes", pe, counters), counters


@pytest.mark.parametrize("k, c, rs, pixels", [(8, 8, 1, 1), (64, 64, 9, 7), (5, 3, 3, 28), (16, 512, 1, 1),
                                              (128, 256, 1, 49)])
def test_exact_macs_are_never_buffer_bound_on_simba(simba_arch, k, c, rs, pixels):
    """Simba's buffers are sized for the exact rate: 64 input bits, 512 weight bits, 192 psum bits per cycle."""
    array, _ = _array(simba_arch.chiplet.pe)
    assert array.cycles(k, c, rs, pixels, 0, EXACT) == ceil(k / 8) * ceil(c / 8) * rs * pixels


def test_input_bandwidth_caps_the_speed_up_of_four_macs_per_lane(bpe):
    """static MSB 2x2 blocks: 4 products of 16 multipliers -> 4 MACs per lane per cycle. Each cycle the 8
    lanes need 4 activations each (broadcast to the 8 vector units): 32 x b_a bits > 64."""
    cfg = blocked.static_msb(2, 2)
    model = block_mac_model(cfg, bpe, "msb2")
    assert model.lane_factor == 4
    b_a = cfg.stored_bits_a
    assert b_a >= 4
    array, _ = _array(_wide(bpe, but="input_buffer"))
    k, c, rs, pixels = 8, 256, 1, 10
    lanes_only = 1 * (256 // 32) * 1 * 10                       # 80 cycles
    input_bound = ceil(1 * 256 * 1 * 10 * b_a / 64)            # one input word per (c, pixel), 64 bits/cycle
    assert array.cycles(k, c, rs, pixels, 0, model) == max(lanes_only, input_bound) == input_bound
    exact = array.cycles(k, c, rs, pixels, 0, exact_model(bpe))
    assert exact == 256 // 8 * 10                               # 320
    # the speed-up is what the input bandwidth allows, W_in / (lanes x b_a), not the lane factor 4
    assert exact / array.cycles(k, c, rs, pixels, 0, model) == pytest.approx(64 / (8 * b_a), rel=0.02)
    # the same step on the real PE (weight and psum buffers as shipped) is input-bound too
    assert _array(bpe)[0].cycles(k, c, rs, pixels, 0, model) == input_bound


def test_weight_bandwidth_bounds_a_step_without_pixel_reuse(bpe):
    """A fully connected step (pixels = 1): every weight is used once; 64 x 4 weights per cycle at f = 4."""
    model = block_mac_model(blocked.static_msb(2, 2), bpe, "msb2")
    b_w = blocked.static_msb(2, 2).stored_bits_w
    array, _ = _array(_wide(bpe, but="weight_buffer"))
    k, c = 64, 512
    lanes_only = 8 * (512 // 32)                                # 128 cycles
    weight_bound = ceil(64 * 512 * b_w / 512)                   # all weights once, 512 bits/cycle
    assert weight_bound > lanes_only
    assert array.cycles(k, c, 1, 1, 0, model) == weight_bound
    # with pixel reuse the weights no longer bind: 10 pixels -> lanes 1280 cycles > weights
    assert array.cycles(k, c, 1, 10, 0, model) == lanes_only * 10


def test_accumulation_bandwidth_bounds_the_rate(bpe):
    """Half-width accumulation buffer (96 bits/cycle): 8 vector units write 8 x 24 bits per cycle -> 2x slower."""
    pe = _buf(_wide(bpe, but="accumulation_buffer"), "accumulation_buffer", bank_width_bits=96)
    array, _ = _array(pe)
    k, c, rs, pixels = 8, 8, 1, 10
    assert array.cycles(k, c, rs, pixels, 0, EXACT) == ceil(8 * 10 * 1 * 1 * 24 / 96) == 20
    # each buffer's bound uses its own width: swapping the narrow buffer changes the result
    other = _buf(_wide(bpe, but="input_buffer"), "input_buffer", bank_width_bits=32)
    assert _array(other)[0].cycles(k, c, rs, pixels, 0, EXACT) == ceil(1 * 8 * 10 * 8 / 32) == 20
    assert _array(_wide(bpe))[0].cycles(k, c, rs, pixels, 0, EXACT) == 10


def test_dynamic_selection_pays_detection_energy_and_a_pipeline_stage(bpe):
    dyn = block_mac_model(blocked.dynamic(2, 2), bpe, "dyn")
    static = block_mac_model(blocked.static_msb(2, 2), bpe, "msb")
    assert dyn.lane_factor == static.lane_factor == 4
    assert dyn.detect_per_input and dyn.detect_cycles == bpe.mac.lead_detect_cycles == 1
    assert not static.detect_per_input and static.detect_cycles == 0
    array, counters = _array(_wide(bpe))
    k, c, rs, pixels = 16, 64, 3, 5
    lanes_only = 2 * 2 * 3 * 5
    assert array.cycles(k, c, rs, pixels, 0, dyn) == lanes_only + 1
    assert array.cycles(k, c, rs, pixels, 0, static) == lanes_only
    array.compute(0, pes=3, k=k, c=c, rs=rs, pixels=pixels, vector_ops=0, model=dyn)
    counts = {key: n for (_, key), n in counters.peek().items()}
    assert counts["mac.lead_detect"] == 3 * 2 * 64 * 3 * 5      # pes x ceil(k/8) x c x rs x pixels input reads
    array.compute(0, pes=3, k=k, c=c, rs=rs, pixels=pixels, vector_ops=0, model=static)
    assert {key: n for (_, key), n in counters.peek().items()}["mac.lead_detect"] == 3 * 2 * 64 * 3 * 5
    assert load_tech(ARCH_DIR / "tech" / "simba_16nm.yaml").energy["mac.lead_detect"].pj > 0
