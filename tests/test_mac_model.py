"""PE-level model of MAC configurations (simulator.hw.mac) and PE-array timing (simulator.hw.pe).

Ax-BxP: a lane with P block multipliers runs a configuration of L block
products per multiplication at floor(P / L) MACs per cycle (1 / ceil(L / P)
when L > P); each MAC costs L·K² partial-product bits, L shift-adds and one
accumulation; operands are stored with the bits the configuration keeps.
"""
from __future__ import annotations

import pytest

from simulator.approx import blocked
from simulator.approx.blocked import BlockConfig
from simulator.config.arch import BlockMac
from simulator.errors import AxsimError
from simulator.hw.mac import MacPlan
from simulator.macs.timing import block_mac_model, exact_model, lut_mac_model
from simulator.hw.pe import EXACT, MacModel, PEArray
from simulator.stats.counters import Counters



@pytest.fixture(scope="module")
def simba(simba_arch):
    return simba_arch


@pytest.fixture(scope="module")
def bpe(axbxp_arch):
    """The block-wise PE of simba_axbxp.yaml: 2-bit blocks, 16 block multipliers per lane."""
    pe = axbxp_arch.chiplet.pe
    assert pe.mac is not None and pe.mac.block_bits == 2 and pe.mac.block_multipliers_per_lane == 16
    return pe


def _pe_with(pe, **mac):
    """A copy of ``pe`` whose block multipliers are changed."""
    return pe.model_copy(update={"mac": BlockMac(**{**pe.mac.model_dump(), **mac})})


def _pairs(count: int) -> BlockConfig:
    """An 8-bit, 2-bit-block static configuration with exactly ``count`` products."""
    return blocked.static_top(count, 8, 2)


# ---- lane factor --------------------------------------------------------------------------
@pytest.mark.parametrize("products, factor", [(16, 1), (10, 1), (9, 1), (8, 2), (6, 2), (5, 3),
                                              (4, 4), (3, 5), (2, 8), (1, 16)])
def test_lane_factor_is_floor_of_multipliers_over_products(bpe, products, factor):
    model = block_mac_model(_pairs(products), bpe, "c")
    assert model.lane_factor == factor
    assert isinstance(model.lane_factor, int)


def test_lane_factor_of_presets(bpe):
    assert block_mac_model(blocked.exact(8, 2), bpe).lane_factor == 1          # 16 products
    assert block_mac_model(blocked.static_msb(3, 3), bpe).lane_factor == 1     # 9
    assert block_mac_model(blocked.static_msb(2, 2), bpe).lane_factor == 4     # 4
    assert block_mac_model(blocked.static_msb(3, 2), bpe).lane_factor == 2     # 6
    assert block_mac_model(blocked.dynamic(3, 3), bpe).lane_factor == 1        # 9
    assert block_mac_model(blocked.dynamic(2, 2), bpe).lane_factor == 4        # 4
    assert block_mac_model(blocked.dynamic(2, 3), bpe).lane_factor == 2        # 6


@pytest.mark.parametrize("multipliers, products, factor", [(8, 16, 1 / 2), (4, 16, 1 / 4), (4, 9, 1 / 3),
                                                           (8, 9, 1 / 2), (8, 8, 1), (4, 5, 1 / 2)])
def test_fewer_multipliers_than_products_take_several_cycles(bpe, multipliers, products, factor):
    pe = _pe_with(bpe, block_multipliers_per_lane=multipliers)
    model = block_mac_model(_pairs(products), pe, "c")
    assert model.lane_factor == pytest.approx(factor)


# ---- energy actions and stored bits -------------------------------------------------------
@pytest.mark.parametrize("cfg", [blocked.exact(8, 2), blocked.static_msb(3, 3), blocked.static_top(6),
                                 blocked.dynamic(2, 2), blocked.static_top(1)])
def test_actions_per_mac(bpe, cfg):
    model = block_mac_model(cfg, bpe)
    n = cfg.products_per_mac
    assert model.actions_per_mac == {"mac.pp_bit": n * 4, "mac.block_shift_add": n, "mac.accumulate": 1.0}


def test_actions_scale_with_block_size(bpe):
    pe = _pe_with(bpe, block_bits=4, block_multipliers_per_lane=4)
    model = block_mac_model(blocked.static_top(3, 8, 4), pe)
    assert model.actions_per_mac == {"mac.pp_bit": 3 * 16, "mac.block_shift_add": 3, "mac.accumulate": 1.0}
    assert model.lane_factor == 1
    assert block_mac_model(blocked.static_msb(1, 1, 8, 4), pe).lane_factor == 4


def test_energy_per_mac_from_the_tech_table(axbxp_arch, bpe):
    tech = axbxp_arch.tech_table

    def energy(model: MacModel) -> float:
        return sum(n * tech.energy_pj(key) for key, n in model.actions_per_mac.items())

    exact = energy(exact_model(bpe))
    # 16 block products of 2x2 bits = 64 pp bits (= one 8-bit multiply), 16 shift-adds, 1 accumulate
    assert exact == pytest.approx(64 * 0.000875 + 16 * 0.004 + 0.021)
    msb3 = energy(block_mac_model(blocked.static_msb(3, 3), bpe))
    assert msb3 == pytest.approx(9 * 4 * 0.000875 + 9 * 0.004 + 0.021)
    assert msb3 < exact


@pytest.mark.parametrize("cfg, bits_a, bits_w", [
    (blocked.exact(8, 2), 8, 8),
    (blocked.static_msb(3, 3), 6, 6),
    (blocked.static_msb(3, 2), 6, 4),
    (blocked.static_msb(2, 2), 4, 4),
    (blocked.static_top(10), 8, 8),     # top 10 still uses block 0 of both operands
    (blocked.static_top(6), 6, 6),      # blocks 1..3
    (blocked.dynamic(3, 3), 7, 7),      # 6 bits + ceil(log2(2)) = 1 index bit
    (blocked.dynamic(2, 2), 6, 6),      # 4 bits + ceil(log2(3)) = 2 index bits
    (blocked.dynamic(2, 3), 6, 7),
    (blocked.dynamic(4, 4), 8, 8),      # keeps everything: no index
    (blocked.static_msb(3, 3, signed=True), 7, 7),   # sign bit
])
def test_stored_bits_per_operand(bpe, cfg, bits_a, bits_w):
    model = block_mac_model(cfg, bpe)
    assert (model.input_bits, model.weight_bits) == (bits_a, bits_w)
    assert (model.input_bits, model.weight_bits) == (cfg.stored_bits_a, cfg.stored_bits_w)


def test_model_name_and_reconfiguration_cost(bpe):
    cfg = blocked.static_msb(3, 3)
    assert block_mac_model(cfg, bpe).name == cfg.name
    assert block_mac_model(cfg, bpe, "msb3").name == "msb3"
    assert block_mac_model(cfg, bpe).reconfig_cycles == 64          # simba_axbxp.yaml
    assert block_mac_model(cfg, _pe_with(bpe, reconfig_cycles=5)).reconfig_cycles == 5


# ---- configurations the hardware cannot run ----------------------------------------------
def test_axbxp_on_pe_without_block_multipliers(simba):
    with pytest.raises(AxsimError) as info:
        block_mac_model(blocked.static_msb(3, 3), simba.chiplet.pe, "msb3")
    msg = str(info.value)
    assert "block multipliers" in msg and "chiplet.pe.mac" in msg


def test_axbxp_with_other_block_size(bpe):
    with pytest.raises(AxsimError) as info:
        block_mac_model(blocked.presets()["top3_k4"], bpe)
    msg = str(info.value)
    assert "'top3_k4'" in msg and "4-bit blocks" in msg and "2-bit blocks" in msg


def test_axbxp_with_other_operand_width(bpe):
    with pytest.raises(AxsimError, match="4-bit operands in 2-bit blocks.*8-bit operands"):
        block_mac_model(BlockConfig(bits=4, block_bits=2, name="n4"), bpe)


# ---- LUT multipliers and the exact model -----------------------------------------------------
@pytest.mark.parametrize("power", [0.45, 0.987, 1.0, 1.3])
def test_lut_model_energy(axbxp_arch, simba, power):
    tech = axbxp_arch.tech_table
    for pe in (simba.chiplet.pe, axbxp_arch.chiplet.pe):
        model = lut_mac_model("evo", power, pe)
        assert model.name == "evo" and model.lane_factor == 1
        assert model.actions_per_mac == {"mac.multiply_8b": power, "mac.accumulate": 1.0}
        assert (model.input_bits, model.weight_bits) == (8, 8)
        energy = sum(n * tech.energy_pj(k) for k, n in model.actions_per_mac.items())
        assert energy == pytest.approx(power * 0.056 + 0.021)
    assert lut_mac_model("evo", 0.5, simba.chiplet.pe).reconfig_cycles == 0
    assert lut_mac_model("evo", 0.5, axbxp_arch.chiplet.pe).reconfig_cycles == 64


def test_lut_model_needs_8_bit_pes(simba):
    pe16 = simba.chiplet.pe.model_copy(update={"precision_bits": 16})
    with pytest.raises(AxsimError, match="8x8-bit.*16-bit"):
        lut_mac_model("evo", 0.5, pe16)


def test_exact_model_fixed_point_pe(simba, axbxp_arch):
    model = exact_model(simba.chiplet.pe)
    assert model is EXACT
    assert model.actions_per_mac == {"mac.op": 1.0} and model.lane_factor == 1
    assert axbxp_arch.tech_table.energy_pj("mac.op") == pytest.approx(0.077)


def test_exact_model_block_wise_pe(bpe):
    model = exact_model(bpe)
    assert model.name == "exact" and model.lane_factor == 1
    assert model.actions_per_mac == {"mac.pp_bit": 64, "mac.block_shift_add": 16, "mac.accumulate": 1.0}
    assert (model.input_bits, model.weight_bits) == (8, 8)
    # with 4-bit blocks and 4 multipliers per lane the exact MAC computes 4 products of 16 pp bits
    model4 = exact_model(_pe_with(bpe, block_bits=4, block_multipliers_per_lane=4))
    assert model4.actions_per_mac == {"mac.pp_bit": 64, "mac.block_shift_add": 4, "mac.accumulate": 1.0}


def test_mac_plan_lookup(bpe):
    exact = exact_model(bpe)
    msb3 = block_mac_model(blocked.static_msb(3, 3), bpe, "msb3")
    plan = MacPlan(msb3, {"conv1": exact}, label="p")
    assert plan.model_for("conv1") is exact and plan.model_for("conv2") is msb3
    assert plan.models() == {"msb3": msb3, "exact": exact}
    assert plan.describe() == {"label": "p", "default": "msb3", "per_layer": {"conv1": "exact"}}
    assert MacPlan().model_for("anything") is EXACT


# ---- PE array timing -----------------------------------------------------------------------
def _array(pe) -> tuple[PEArray, Counters]:
    counters = Counters()
    return PEArray("chip.pes", pe, counters), counters


def _wide(pe):
    """A copy of ``pe`` whose buffers deliver 16x more bits per cycle (the MAC lanes bound the rate)."""
    return pe.model_copy(update={
        "weight_buffer": pe.weight_buffer.model_copy(update={"banks": 16 * pe.weight_buffer.banks}),
        "input_buffer": pe.input_buffer.model_copy(update={"banks": 16 * pe.input_buffer.banks}),
        "accumulation_buffer": pe.accumulation_buffer.model_copy(
            update={"banks": 16 * pe.accumulation_buffer.banks})})


def test_lane_factor_two_halves_the_cycles(bpe):
    bpe = _wide(bpe)
    array, _ = _array(bpe)                      # 8 vector MACs x 8 lanes
    two = block_mac_model(_pairs(8), bpe, "two")
    exact = exact_model(bpe)
    assert two.lane_factor == 2
    for c in (16, 32, 48, 256):                 # multiples of 2 x lanes
        for k, rs, pixels in ((8, 1, 1), (64, 9, 7), (5, 3, 28)):
            full = array.cycles(k, c, rs, pixels, 0, exact)
            assert array.cycles(k, c, rs, pixels, 0, two) * 2 == full
    # c = lanes: one lane chunk either way, no gain; c = 24: ceil(24/16) = 2 of 3
    assert array.cycles(8, 8, 1, 1, 0, two) == array.cycles(8, 8, 1, 1, 0, exact) == 1
    assert array.cycles(8, 24, 1, 1, 0, two) == 2 and array.cycles(8, 24, 1, 1, 0, exact) == 3


def test_fractional_lane_factor_doubles_the_cycles(bpe):
    pe = _pe_with(bpe, block_multipliers_per_lane=8)
    array, _ = _array(pe)
    slow = exact_model(pe)                      # 16 products on 8 multipliers
    assert slow.lane_factor == pytest.approx(0.5)
    assert array.cycles(8, 64, 3, 10, 0, slow) == 2 * array.cycles(8, 64, 3, 10, 0, EXACT)


def test_vector_ops_ignore_the_mac_configuration(bpe):
    array, _ = _array(bpe)
    two = block_mac_model(_pairs(8), bpe, "two")
    assert array.cycles(0, 0, 0, 0, 640, two) == array.cycles(0, 0, 0, 0, 640, EXACT) == 10


def test_reconfiguration_charged_only_on_switch(bpe):
    pe = _pe_with(_wide(bpe), reconfig_cycles=8)
    array, _ = _array(pe)
    a = block_mac_model(_pairs(8), pe, "a")
    b = block_mac_model(_pairs(4), pe, "b")
    step = dict(pes=1, k=8, c=64, rs=1, pixels=10, vector_ops=0)
    ca, cb = (array.cycles(8, 64, 1, 10, 0, m) for m in (a, b))
    assert (ca, cb) == (40, 20)
    t1 = array.compute(0, model=a, **step)          # first step: nothing to switch from
    assert t1 == ca
    t2 = array.compute(0, model=a, **step)          # same configuration: back to back
    assert t2 == t1 + ca
    t3 = array.compute(0, model=b, **step)          # switch: + reconfig_cycles
    assert t3 == t2 + cb + 8
    t4 = array.compute(0, model=b, **step)
    assert t4 == t3 + cb
    t5 = array.compute(0, model=a, **step)          # switch back
    assert t5 == t4 + ca + 8
    assert array.port.busy_cycles == 3 * ca + 2 * cb + 2 * 8


def test_compute_counts_actions_and_stored_bits(bpe):
    array, counters = _array(bpe)
    msb3 = block_mac_model(blocked.static_msb(3, 3), bpe, "msb3")
    array.compute(0, pes=2, k=8, c=16, rs=9, pixels=4, vector_ops=0, model=msb3)
    counts = {key: n for (_, key), n in counters.peek().items()}
    macs = 2 * 8 * 16 * 9 * 4
    assert array.macs == macs
    assert counts["mac.pp_bit"] == macs * 36
    assert counts["mac.block_shift_add"] == macs * 9
    assert counts["mac.accumulate"] == macs
    assert "mac.op" not in counts
    assert counts["weight_buffer.read_bit"] == 2 * 8 * 16 * 9 * 6
    assert counts["input_buffer.read_bit"] == 2 * 1 * 16 * 9 * 4 * 6
