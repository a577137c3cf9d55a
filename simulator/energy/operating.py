"""Energy at an operating point: how link swings and SRAM supplies scale the table's energies.

The technology table prices actions at the nominal swing and supply. At another
operating point (:mod:`simulator.config.operating`):

- link bit at swing V_sw (per bit position b of every byte, traffic is whole bytes):
  ``e = e_nom x (1/8) sum_b s(V_sw,b)`` with ``s = (V_sw / V_nom)^2`` (``swing_squared``,
  separate low-swing supply) or ``s = V_sw / V_nom`` (``swing_times_vdd``, E ~ C V_sw V_dd
  at a fixed V_dd); Bertozzi et al., TCAD 2005;
- SRAM access at supply V: ``e = e_nom x (V / V_nom)^2`` (dynamic CV^2 energy;
  Yang & Murmann, ISQED 2017);
- SRAM leakage of a buffer class listed in the table's ``leakage``: ``P = P_nom x
  r(V) / r(V_nom)`` with ``r`` the table's ``sram.leakage_ratio`` curve.

- chip supply V_dd (the architecture's ``vdd_v``; the table prices at its nominal ``vdd_v``):
  dynamic energy of on-chip logic (classes :data:`~simulator.config.tech.CORE_CLASSES`: MACs,
  vector units, NoC and NoP routers) ``e = e_nom x (V_dd / V_nom)^2``; links of class
  ``swing_times_vdd`` ``s = (V_sw / V_nom) x (V_dd / V_nom)``; buffers without their own
  ``vdd_v`` run at V_dd (the SRAM rule above); leakage of the logic classes
  (:data:`~simulator.config.tech.CORE_LEAKAGE_CLASSES`) ``P = P_nom x r(V_dd) / r(V_nom)``
  with the same ``sram.leakage_ratio`` curve (an assumption: logic and SRAM leakage share
  one slope in V).

DRAM energies, ``swing_squared`` links (separately regulated) and the DRAM leakage stay at
their table values.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config.operating import BUFFER_DS, buffer_vdd, chip_vdd, link_class_of, link_swings, sram_vdds
from simulator.config.tech import CORE_CLASSES, CORE_LEAKAGE_CLASSES


def swing_energy_scale(swing_v: np.ndarray, nominal_v: float, mode: str, vdd_ratio: float = 1.0) -> np.ndarray:
    """Energy per bit relative to nominal, averaged over the last axis (the bit positions);
    ``vdd_ratio`` = V_dd / V_nom multiplies the ``swing_times_vdd`` mode."""
    ratio = np.asarray(swing_v, dtype=float) / nominal_v
    return (ratio * ratio if mode == "swing_squared" else ratio * vdd_ratio).mean(axis=-1)


@dataclass(frozen=True)
class OperatingScales:
    """Energy scale factors of one operating point (1.0 everywhere at the nominal point)."""

    link: dict[str, np.ndarray]            # network -> per-link scale of the <class>.bit energy
    sram: dict[tuple[str, str], float]     # (buffer kind, data structure) -> scale of access energy
    sram_base: dict[str, float]            # buffer kind -> scale at the buffer's own vdd_v
    leakage: dict[str, float]              # leakage class -> scale of its leakage power
    core: float = 1.0                      # scale of the dynamic energy of CORE_CLASSES at the chip supply

    @classmethod
    def from_arch(cls, arch) -> "OperatingScales":
        tech = arch.tech_table
        vdd = chip_vdd(arch)
        core = (vdd / tech.vdd_v) ** 2
        link = {}
        swings = link_swings(arch)
        for link_cls in ("nop_link", "noc_link"):
            names = [n for n in swings if link_class_of(n) == link_cls]
            sig = tech.signalling.get(link_cls)
            sizes = [len(swings[n]) for n in names]
            if sig is None:
                flat = np.ones(sum(sizes))
            else:
                flat = swing_energy_scale(np.concatenate([swings[n] for n in names]), sig.nominal_swing_v,
                                          sig.energy_scaling, vdd / tech.vdd_v)
            for n, part in zip(names, np.split(flat, np.cumsum(sizes)[:-1])):
                link[n] = part
        vnom = tech.nominal_vdd_sram_v()
        sram = {k: (v / vnom) ** 2 for k, v in sram_vdds(arch).items()}
        base = {kind: (buffer_vdd(arch, kind) / vnom) ** 2 for kind in BUFFER_DS}
        leakage = {}
        if tech.sram is not None:
            r = tech.sram.leakage_ratio
            ref = float(r(vnom))
            leakage = {kind: float(r(buffer_vdd(arch, kind))) / ref for kind in BUFFER_DS}
            core_leak = 1.0 if vdd == tech.vdd_v else float(r(vdd)) / float(r(tech.vdd_v))
            leakage.update({c: core_leak for c in CORE_LEAKAGE_CLASSES})
        return cls(link, sram, base, leakage, core)

    def core_scale(self, cls: str) -> float:
        """Scale of the dynamic energy of an action class at the chip supply (1 off-chip)."""
        return self.core if cls in CORE_CLASSES else 1.0

    @property
    def nominal(self) -> bool:
        """Every scale is 1: pricing equals the table's energies."""
        return (all(np.all(v == 1.0) for v in self.link.values()) and all(v == 1.0 for v in self.sram.values())
                and all(v == 1.0 for v in self.sram_base.values()) and all(v == 1.0 for v in self.leakage.values()) and self.core == 1.0)

    def sram_scale(self, kind: str, ds: str) -> float:
        return self.sram.get((kind, ds), self.sram_base.get(kind, 1.0))
