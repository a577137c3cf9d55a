"""Search strategies: which points a sweep evaluates, in batches (ask), learning from results (tell).

* ``grid``: every combination of knob values, the last knob varying fastest; one batch.
* ``random``: ``points`` draws, each knob value uniform among its values, from a
  ``numpy.random.Generator`` seeded with ``search.seed``; draws may repeat (a repeat
  reuses the earlier run). One batch.
* ``nsga2``: NSGA-II (Deb et al., IEEE TEVC 2002) as implemented by optuna's
  ``NSGAIISampler`` (seeded), one generation of ``population`` points per batch;
  constraints are passed as optuna constraint values (``<= 0`` is feasible). Each knob is a
  categorical variable over its value indices.

Batches are deterministic given the results told, so a resumed sweep asks the
same points again and finds them finished.
"""
from __future__ import annotations

import itertools
import math
import warnings

import numpy as np

from simulator.dse.evaluate import Point
from simulator.dse.spec import Sweep


class GridSearch:
    def __init__(self, sweep: Sweep):
        self.sweep, self._asked = sweep, False

    @property
    def total(self) -> int:
        return self.sweep.grid_size

    def ask(self) -> list[Point]:
        if self._asked:
            return []
        self._asked = True
        names = [k.name for k in self.sweep.knobs]
        return [Point(i, dict(zip(names, combo)))
                for i, combo in enumerate(itertools.product(*(k.values for k in self.sweep.knobs)))]

    def tell(self, points: list[Point], rows: list[dict]) -> None:
        pass


class RandomSearch(GridSearch):
    @property
    def total(self) -> int:
        return self.sweep.search.points

    def ask(self) -> list[Point]:
        if self._asked:
            return []
        self._asked = True
        rng = np.random.default_rng(self.sweep.search.seed)
        picks = [rng.integers(0, len(k.values), size=self.total) for k in self.sweep.knobs]
        return [Point(i, {k.name: k.values[int(p[i])] for k, p in zip(self.sweep.knobs, picks)})
                for i in range(self.total)]


class Nsga2Search:
    def __init__(self, sweep: Sweep):
        import optuna  # noqa: PLC0415 (only for this search kind; import takes about a second)
        from optuna.trial import TrialState
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.sweep, self._state = sweep, TrialState
        self.objectives = [o.name for o in sweep.objectives]
        constraints = (lambda trial: trial.user_attrs["constraints"]) if sweep.constraints else None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optuna flags constraints_func as experimental
            sampler = optuna.samplers.NSGAIISampler(population_size=sweep.search.population,
                                                    seed=sweep.search.seed, constraints_func=constraints)
        self.study = optuna.create_study(
            directions=["maximize" if o.goal == "max" else "minimize" for o in sweep.objectives],
            sampler=sampler)
        self._asked = 0
        self._trials: dict[int, object] = {}

    @property
    def total(self) -> int:
        return self.sweep.search.points

    def ask(self) -> list[Point]:
        count = min(self.sweep.search.population, self.total - self._asked)
        batch = []
        for _ in range(count):
            trial = self.study.ask()
            values = {}
            for k in self.sweep.knobs:
                values[k.name] = k.values[trial.suggest_categorical(k.name, list(range(len(k.values))))]
            point = Point(self._asked, values)
            self._trials[point.index] = trial
            self._asked += 1
            batch.append(point)
        return batch

    def tell(self, points: list[Point], rows: list[dict]) -> None:
        for point, row in zip(points, rows):
            trial = self._trials.pop(point.index)
            if row["status"] != "ok" or any(row[o] in ("", None) for o in self.objectives):
                self.study.tell(trial, state=self._state.FAIL)
                continue
            if self.sweep.constraints:
                trial.set_user_attr("constraints", [c.violation(float(row[c.metric]))
                                                    for c in self.sweep.constraints])
            values = [float(row[o]) for o in self.objectives]
            if any(math.isnan(v) for v in values):
                self.study.tell(trial, state=self._state.FAIL)
            else:
                self.study.tell(trial, values if len(values) > 1 else values[0])


def make_search(sweep: Sweep):
    return {"grid": GridSearch, "random": RandomSearch, "nsga2": Nsga2Search}[sweep.search.kind](sweep)
