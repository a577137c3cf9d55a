"""Pricing action counts.

    E_dynamic = sum over (component, action) of count x energy_pj[action]
    E_leakage = sum over component classes of instances x leakage_mw x t

with t = latency_cycles / clock_ghz nanoseconds (mW x ns = pJ). The action
keys and their per-unit energies come from the technology table
(``arch/tech/*.yaml``), each with its source.
"""
from __future__ import annotations

from dataclasses import dataclass

from simulator.config.tech import TechTable
from simulator.errors import AxsimError


@dataclass(frozen=True, slots=True)
class ComponentEnergy:
    component: str        # instance path, e.g. "chiplet[0,1].noc" (or "leakage")
    component_class: str  # class of the action key, e.g. "noc_link"
    action: str           # e.g. "bit"
    count: float
    energy_pj: float


def component_class_of(key: str) -> tuple[str, str]:
    cls, _, action = key.partition(".")
    return cls, action


def price_layer(counts: dict[tuple[str, str], float], tech: TechTable, latency_cycles: int,
                clock_ghz: float, instances: dict[str, int]) -> list[ComponentEnergy]:
    """Energy rows for one layer: one per counted (component, action), plus leakage per class."""
    rows = []
    for (component, key), count in sorted(counts.items()):
        entry = tech.energy.get(key)
        if entry is None:
            raise AxsimError(f"technology table {tech.name!r} has no energy for action {key!r} "
                             f"(counted by {component}); add it under 'energy:'")
        cls, action = component_class_of(key)
        rows.append(ComponentEnergy(component, cls, action, count, count * entry.pj))
    time_ns = latency_cycles / clock_ghz
    for cls, n in sorted(instances.items()):
        mw = tech.leakage_mw(cls)
        if mw:
            rows.append(ComponentEnergy("leakage", cls, "leakage_ns", n * time_ns, n * mw * time_ns))
    return rows
