"""The sweep-file schema (pydantic) and the validated, expanded sweep (see simulator.dse.spec)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, StrictStr, field_validator, model_validator

from simulator.config.types import Frozen, PosInt

OBJECTIVES = ("energy_pj", "latency_cycles", "accuracy_loss", "edp_pj_cycles")
ALIASES = {"edp": "edp_pj_cycles"}
FAMILIES = ("compute", "communication", "memory", "compression", "other")
MAX_POINTS = 1_000_000
_CONSTRAINT = re.compile(r"^\s*([a-z_]+)\s*(<=|>=|<|>)\s*([-+0-9.eE]+)\s*$")


class Range(Frozen):
    """Values ``start, start + step, ...`` up to and including ``stop``."""

    start: float
    stop: float
    step: float = Field(gt=0)

    def values(self) -> list[float | int]:
        count = math.floor((self.stop - self.start) / self.step * (1 + 1e-12) + 1e-9) + 1
        if count < 1:
            raise ValueError(f"start {self.start} > stop {self.stop}: the range is empty")
        if count > MAX_POINTS:
            raise ValueError(f"{count} values: at most {MAX_POINTS}")
        out = [float(f"{self.start + i * self.step:.12g}") for i in range(count)]
        whole = all(float(v).is_integer() for v in (self.start, self.step))
        return [int(v) for v in out] if whole else out


class KnobSpec(Frozen):
    name: StrictStr | None = None
    path: StrictStr | None = Field(None, description="architecture key path")
    layers: StrictStr | None = Field(None, description="layer name or glob: approximation configuration knob")
    compress: StrictStr | None = Field(None, description="layer name or glob: weight-compression scheme knob")
    values: list[Any] | None = Field(None, min_length=1)
    range: Range | None = None
    family: Literal["compute", "communication", "memory", "compression", "other"] | None = None
    baseline: Any = Field(None, description="reference value (family fronts); default: the base file's value "
                                            "if it is among the values, else the first value")

    @model_validator(mode="after")
    def _one_each(self):
        if sum(x is not None for x in (self.path, self.layers, self.compress)) != 1:
            raise ValueError("needs exactly one of 'path' (an architecture key path), 'layers' "
                             "(a layer name or glob: the approximation configuration of those layers) or "
                             "'compress' (a layer name or glob: the weight-compression scheme of those layers)")
        if (self.values is None) == (self.range is None):
            raise ValueError("needs exactly one of 'values' (a list) or 'range' ({start, stop, step})")
        if self.layers is not None and self.range is not None:
            raise ValueError("an approximation knob takes 'values' (configuration names), not 'range'")
        if self.compress is not None and self.range is not None:
            raise ValueError("a compression knob takes 'values' (schemes such as zrle, prune:0.5), not 'range'")
        return self


class Objective(Frozen):
    name: StrictStr
    goal: Literal["min", "max"] = "min"

    @field_validator("name")
    @classmethod
    def _known(cls, v: str) -> str:
        v = ALIASES.get(v, v)
        if v not in OBJECTIVES:
            raise ValueError(f"must be one of {', '.join(OBJECTIVES)} (or 'edp')")
        return v


class Search(Frozen):
    kind: Literal["grid", "random", "nsga2"] = "grid"
    points: PosInt | None = Field(None, description="random, nsga2: how many points")
    seed: int = 0
    population: PosInt = Field(8, ge=2, description="nsga2: points per generation")

    @model_validator(mode="after")
    def _points(self):
        if self.kind != "grid" and self.points is None:
            raise ValueError(f"search kind {self.kind!r} needs 'points'")
        if self.kind == "grid" and self.points is not None:
            raise ValueError("a grid search runs every combination: remove 'points' or use kind: random")
        return self


class SweepModel(Frozen):
    version: Literal[1]
    name: StrictStr
    description: StrictStr = ""
    arch: StrictStr
    workload: StrictStr
    approx: StrictStr | None = None
    dataset: StrictStr | None = None
    seed: int = 0
    knobs: list[KnobSpec] = Field(min_length=1)
    objectives: list[Objective] = Field(min_length=1)
    constraints: list[StrictStr] = []
    search: Search = Search()

    @field_validator("constraints")
    @classmethod
    def _constraints(cls, v: list[str]) -> list[str]:
        for text in v:
            m = _CONSTRAINT.match(text)
            if not m:
                raise ValueError(f"{text!r}: must read 'METRIC OP NUMBER', e.g. 'accuracy_loss <= 0.01'")
            if ALIASES.get(m.group(1), m.group(1)) not in OBJECTIVES:
                raise ValueError(f"{text!r}: metric must be one of {', '.join(OBJECTIVES)}")
            float(m.group(3))
        return v


@dataclass(frozen=True)
class Knob:
    """One expanded knob: its column name, what it sets, its values and its reference value."""

    name: str
    kind: Literal["arch", "approx", "compress"]
    target: str          # architecture key path, or layer name/glob
    values: tuple
    family: str
    baseline: Any
    klass: str           # keys.knob_class, or 'structural' for approximation and compression knobs


@dataclass(frozen=True)
class Constraint:
    metric: str
    op: str
    bound: float

    def holds(self, value: float | None) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        return {"<=": value <= self.bound, "<": value < self.bound,
                ">=": value >= self.bound, ">": value > self.bound}[self.op]

    def violation(self, value: float) -> float:
        """<= 0 when the constraint holds (optimiser convention)."""
        return value - self.bound if self.op in ("<=", "<") else self.bound - value


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: resolved file paths, expanded knobs, objectives, constraints, search."""

    file: str
    name: str
    arch_file: str
    workload_file: str
    approx_file: str | None
    dataset: str | None
    seed: int
    knobs: tuple[Knob, ...]
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    search: Search
    arch_data: dict  # the parsed base architecture file, tech path made absolute

    @property
    def grid_size(self) -> int:
        return math.prod(len(k.values) for k in self.knobs)

    @property
    def compresses(self) -> bool:
        return any(k.kind == "compress" for k in self.knobs)

    def metrics(self) -> set[str]:
        return {o.name for o in self.objectives} | {c.metric for c in self.constraints}
