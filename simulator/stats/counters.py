"""Action counts keyed by (component path, action key).

Components never compute energy: they add counts here under the technology
table's keys (``<component_class>.<action>``, e.g. ``noc_link.bit``), and the
energy model multiplies them after the run.
"""
from __future__ import annotations

from collections import defaultdict


_CURRENT = object()


class Counters:
    """Counts under the current *scope* (a key, e.g. the layer whose transaction is running; see
    :meth:`use`): layers that overlap in time still get their own counts."""

    def __init__(self) -> None:
        self._data: defaultdict[tuple[str, str], float] = defaultdict(float)
        self._by_ds: defaultdict[tuple[str, str, str], float] = defaultdict(float)
        self._key: object = None
        self._scopes: dict[object, tuple[defaultdict, defaultdict]] = {None: (self._data, self._by_ds)}

    def use(self, key: object) -> None:
        """Count what follows under ``key`` (created empty on first use)."""
        if key == self._key:
            return
        pair = self._scopes.get(key)
        if pair is None:
            pair = self._scopes[key] = (defaultdict(float), defaultdict(float))
        self._data, self._by_ds = pair
        self._key = key

    def _scope(self, key: object, drop: bool) -> tuple[defaultdict, defaultdict]:
        if key is _CURRENT or key == self._key:
            return self._data, self._by_ds
        pair = self._scopes.pop(key, None) if drop else self._scopes.get(key)  # a taken scope is done
        return pair if pair is not None else (defaultdict(float), defaultdict(float))

    def add(self, component: str, key: str, amount: float) -> None:
        self._data[(component, key)] += amount

    def add_sram(self, component: str, key: str, ds: str, amount: float) -> None:
        """Count an SRAM access under (component, key) and also under the data structure it
        touched, so that a buffer whose parts hold different data structures at different
        supplies can be priced per part."""
        self._data[(component, key)] += amount
        self._by_ds[(component, key, ds)] += amount

    def take_sram(self, key: object = _CURRENT) -> dict[tuple[str, str, str], float]:
        """SRAM counts per (component, key, data structure) so far in scope ``key`` (default: the
        current one); they start again from zero."""
        by_ds = self._scope(key, False)[1]
        out = dict(by_ds)
        by_ds.clear()
        return out

    def take(self, key: object = _CURRENT) -> dict[tuple[str, str], float]:
        """The counts so far in scope ``key`` (default: the current one); they start again from zero.
        Take the SRAM counts of a finished scope (:meth:`take_sram`) first."""
        data = self._scope(key, True)[0]
        out = dict(data)
        data.clear()
        return out

    def peek(self) -> dict[tuple[str, str], float]:
        return dict(self._data)
