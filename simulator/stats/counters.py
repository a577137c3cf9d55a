"""Action counts keyed by (component path, action key).

Components never compute energy: they add counts here under the technology
table's keys (``<component_class>.<action>``, e.g. ``noc_link.bit``), and the
energy model multiplies them after the run.
"""
from __future__ import annotations

from collections import defaultdict


class Counters:
    def __init__(self) -> None:
        self._data: defaultdict[tuple[str, str], float] = defaultdict(float)
        self._by_ds: defaultdict[tuple[str, str, str], float] = defaultdict(float)

    def add(self, component: str, key: str, amount: float) -> None:
        self._data[(component, key)] += amount

    def add_sram(self, component: str, key: str, ds: str, amount: float) -> None:
        """Count an SRAM access under (component, key) and also under the data structure it
        touched, so that a buffer whose parts hold different data structures at different
        supplies can be priced per part."""
        self._data[(component, key)] += amount
        self._by_ds[(component, key, ds)] += amount

    def take_sram(self) -> dict[tuple[str, str, str], float]:
        """SRAM counts per (component, key, data structure) so far; they start again from zero."""
        out = dict(self._by_ds)
        self._by_ds.clear()
        return out

    def take(self) -> dict[tuple[str, str], float]:
        """The counts so far; the counters start again from zero."""
        out = dict(self._data)
        self._data.clear()
        return out

    def peek(self) -> dict[tuple[str, str], float]:
        return dict(self._data)
