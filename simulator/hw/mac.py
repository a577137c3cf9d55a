"""Which MAC configuration (as the PE array sees it) each layer uses.

The models themselves are built from a :class:`simulator.macs.MacConfig`
(see :mod:`simulator.macs.timing`); the hardware layer only consumes them.
"""
from __future__ import annotations

from typing import Mapping

from simulator.hw.pe import EXACT, MacModel


class MacPlan:
    """Which MAC configuration each layer uses: a default plus per-layer overrides."""

    def __init__(self, default: MacModel = EXACT, per_layer: Mapping[str, MacModel] | None = None,
                 label: str = "exact"):
        self.default = default
        self.per_layer = dict(per_layer or {})
        self.label = label
        self.warnings: list[str] = []                   # e.g. approximation-file patterns matching no layer
        self.metrics: dict[str, dict[str, float]] = {}  # config name -> multiplier error metrics (percent)
        self.configs: dict[str, object] = {}             # config name -> its MacConfig (functional view)

    def model_for(self, layer_name: str) -> MacModel:
        return self.per_layer.get(layer_name, self.default)

    def models(self) -> dict[str, MacModel]:
        out = {self.default.name: self.default}
        out.update({m.name: m for m in self.per_layer.values()})
        return out

    def describe(self) -> dict:
        return {"label": self.label, "default": self.default.name,
                "per_layer": {k: v.name for k, v in self.per_layer.items()}}
