"""MAC configurations as the PE array sees them: throughput, energy actions, stored bits.

Block-wise reconfigurable MACs (Ax-BxP; Elangovan, Jain, Raghunathan, ACM
TODAES 2022). A lane has P block multipliers of K x K bits. A configuration
that computes L block products per multiplication completes

    f = floor(P / L) MACs per lane per cycle   (L <= P)
    f = 1 / ceil(L / P)                        (L > P: several cycles per MAC)

and costs per MAC

    E = L·K²·e_pp_bit + L·e_shift_add + e_accumulate

(partial-product bits of the block multipliers, the shift-and-add of each
block product into the product, the accumulation). Operands are stored and
moved with the bits the configuration keeps (used blocks, sign, block index
of dynamic selection), so traffic and buffer energy shrink too.

Dynamic selection of activation blocks needs the leading non-zero block of
each activation: one ``mac.lead_detect`` action per input-buffer read and a
pipeline stage of ``lead_detect_cycles`` per compute step (an assumption, see
docs/models.md, "Timed PE buffers"). Dynamically selected weights are known
before the run; their block indices are computed offline, at no run-time cost.
The PE buffers' bandwidth caps the speed-up ``f`` (:mod:`simulator.hw.pe`).

LUT-defined approximate multipliers (EvoApprox-style) keep one multiplier per
lane: E = relative_power · e_multiply_8b + e_accumulate, same throughput.

These builders sit above both ``approx`` (the functional arithmetic) and ``hw``
(the PE model, which only knows :class:`~simulator.hw.pe.MacModel`).
"""
from __future__ import annotations

from math import ceil

from simulator.approx.blocked import BlockConfig
from simulator.config.arch import PE
from simulator.errors import AxsimError
from simulator.hw.pe import EXACT, MacModel


def block_mac_model(cfg: BlockConfig, pe: PE, name: str | None = None) -> MacModel:
    """The PE-level model of an Ax-BxP configuration on a PE with block multipliers."""
    hw = pe.mac
    if hw is None:
        raise AxsimError("block-wise MAC configurations need PEs with block multipliers "
                         "(chiplet.pe.mac in the architecture file, e.g. arch/simba_axbxp.yaml)")
    if cfg.block_bits != hw.block_bits or cfg.bits != pe.precision_bits:
        raise AxsimError(f"configuration {name or cfg.name!r} uses {cfg.bits}-bit operands in "
                         f"{cfg.block_bits}-bit blocks; the PEs multiply {pe.precision_bits}-bit operands "
                         f"in {hw.block_bits}-bit blocks")
    products = cfg.products_per_mac
    lanes_per = hw.block_multipliers_per_lane
    factor = lanes_per // products if products <= lanes_per else 1 / ceil(products / lanes_per)
    k2 = cfg.block_bits ** 2
    return MacModel(
        name=name or cfg.name,
        lane_factor=factor,
        actions_per_mac={"mac.pp_bit": products * k2, "mac.block_shift_add": products, "mac.accumulate": 1.0},
        weight_bits=cfg.stored_bits_w,
        input_bits=cfg.stored_bits_a,
        reconfig_cycles=hw.reconfig_cycles,
        detect_cycles=hw.lead_detect_cycles if cfg.policy_a == "dynamic" else 0,
        detect_per_input=cfg.policy_a == "dynamic",
    )


def lut_mac_model(name: str, relative_power: float, pe: PE) -> MacModel:
    """A LUT-defined 8x8 multiplier with the given power relative to the exact one."""
    if pe.precision_bits != 8:
        raise AxsimError(f"LUT multiplier {name!r} is 8x8-bit; the PEs are {pe.precision_bits}-bit")
    return MacModel(name=name, actions_per_mac={"mac.multiply_8b": relative_power, "mac.accumulate": 1.0},
                    reconfig_cycles=pe.mac.reconfig_cycles if pe.mac else 0)


def exact_model(pe: PE) -> MacModel:
    """The exact MAC of the architecture: all block products on block-wise PEs, else a plain MAC."""
    if pe.mac is None:
        return EXACT
    n = pe.precision_bits // pe.mac.block_bits
    cfg = BlockConfig(bits=pe.precision_bits, block_bits=pe.mac.block_bits, name="exact")
    assert cfg.products_per_mac == n * n
    return block_mac_model(cfg, pe, "exact")
