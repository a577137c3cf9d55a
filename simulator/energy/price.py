"""Pricing action counts.

    E_dynamic = sum over (component, action) of count x energy_pj[action]
    E_leakage = sum over component classes of instances x leakage_mw x t

with t = latency_cycles / clock_ghz nanoseconds (mW x ns = pJ). The action
keys and their per-unit energies come from the technology table
(``arch/tech/*.yaml``), each with its source.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.config.operating import BUFFER_DS
from simulator.config.tech import TechTable
from simulator.energy.operating import OperatingScales
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
                clock_ghz: float, instances: dict[str, int], op: OperatingScales | None = None,
                link_bits: dict[str, np.ndarray] | None = None,
                sram_bits: dict[tuple[str, str, str], float] | None = None) -> list[ComponentEnergy]:
    """Energy rows for one layer: one per counted (component, action), plus leakage per class.

    With an operating point ``op`` (:mod:`simulator.energy.operating`), link bits are priced per
    link (``link_bits``: network -> bits per link in this layer) and SRAM accesses per data
    structure (``sram_bits``: (component, key, ds) -> bits) at their scaled energies. A row
    whose scales are all 1 is priced exactly as without ``op``."""
    rows = []
    if op is not None and op.nominal:
        op = None  # the same numbers, without the per-row checks
    by_row: dict[tuple[str, str], list[tuple[str, float]]] = {}
    for (component, key, ds), bits in (sram_bits or {}).items() if op is not None else ():
        by_row.setdefault((component, key), []).append((ds, bits))
    for (component, key), count in sorted(counts.items()):
        entry = tech.energy.get(key)
        if entry is None:
            raise AxsimError(f"technology table {tech.name!r} has no energy for action {key!r} "
                             f"(counted by {component}); add it under 'energy:'")
        cls, action = component_class_of(key)
        energy = count * entry.pj
        if op is not None:
            energy = _scaled(component, cls, count, entry.pj, op, link_bits, by_row.get((component, key)), energy)
        rows.append(ComponentEnergy(component, cls, action, count, energy))
    time_ns = latency_cycles / clock_ghz
    for cls, n in sorted(instances.items()):
        mw = tech.leakage_mw(cls)
        if mw:
            scale = op.leakage.get(cls, 1.0) if op is not None else 1.0
            energy = n * mw * time_ns if scale == 1.0 else n * mw * scale * time_ns
            rows.append(ComponentEnergy("leakage", cls, "leakage_ns", n * time_ns, energy))
    return rows


def _scaled(component: str, cls: str, count: float, pj: float, op: OperatingScales,
            link_bits: dict[str, np.ndarray] | None, parts: list[tuple[str, float]] | None,
            nominal: float) -> float:
    """Energy of one row at the operating point (``nominal`` when every scale is 1)."""
    if cls in ("nop_link", "noc_link"):
        scale = op.link.get(component)
        bits = (link_bits or {}).get(component)
        if scale is None or bits is None or np.all(scale == 1.0):
            return nominal
        return pj * float(np.dot(bits, scale))
    if cls in BUFFER_DS:
        parts = parts or []
        scales = [op.sram_scale(cls, ds) for ds, _ in parts]
        rest = count - sum(b for _, b in parts)  # accesses without a data structure: the buffer's vdd_v
        if all(x == 1.0 for x in scales) and (abs(rest) <= 1e-9 * max(count, 1) or op.sram_base[cls] == 1.0):
            return nominal
        return pj * (sum(b * x for (_, b), x in zip(parts, scales)) + rest * op.sram_base[cls])
    scale = op.core_scale(cls)
    return nominal if scale == 1.0 else nominal * scale
