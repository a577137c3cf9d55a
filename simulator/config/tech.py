"""Technology tables: energy per action and leakage power, each with a source.

Keys are ``<component_class>.<action>``; the engine counts actions under the
same keys and :mod:`simulator.energy` multiplies them after the run.
"""
from __future__ import annotations

from pydantic import Field, StrictStr

from simulator.config.types import Frozen, NonNegFloat, PosFloat, PosInt


class EnergyEntry(Frozen):
    pj: NonNegFloat = Field(description="energy per action unit, picojoules")
    per: StrictStr = Field(description="the unit counted, e.g. 'bit' or '8-bit MAC'")
    source: StrictStr = Field(min_length=1)


class LeakageEntry(Frozen):
    mw: NonNegFloat = Field(description="leakage power per instance, milliwatts")
    source: StrictStr = Field(min_length=1)


class TechTable(Frozen):
    version: int = Field(1, ge=1, le=1)
    name: StrictStr
    description: StrictStr = ""
    node_nm: PosInt
    vdd_v: PosFloat
    energy: dict[StrictStr, EnergyEntry]
    leakage: dict[StrictStr, LeakageEntry] = {}

    def energy_pj(self, key: str) -> float:
        return self.energy[key].pj

    def leakage_mw(self, component_class: str) -> float:
        entry = self.leakage.get(component_class)
        return entry.mw if entry else 0.0


#: Action keys every technology table must price (the engine counts these).
REQUIRED_ENERGY_KEYS = (
    "mac.op",
    "vector.op",
    "weight_buffer.read_bit", "weight_buffer.write_bit",
    "input_buffer.read_bit", "input_buffer.write_bit",
    "accumulation_buffer.read_bit", "accumulation_buffer.write_bit",
    "global_buffer.read_bit", "global_buffer.write_bit",
    "noc_router.bit", "noc_link.bit",
    "nop_router.bit", "nop_link.bit",
    "dram.read_bit", "dram.write_bit",
)
