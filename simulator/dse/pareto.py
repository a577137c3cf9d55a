"""Pareto fronts of a sweep: the non-dominated filter, fronts per objective pair, knob families.

Point ``a`` dominates ``b`` (all objectives minimised) when ``a <= b`` in every
objective and ``a < b`` in at least one; the front is the set of points no other
point dominates. Points with equal objective values do not dominate each other,
so both stay on the front. Objectives to maximise are negated first.

**Families.** A knob tagged ``family: compute | communication | memory | compression`` belongs to
that family. The *F-only* points are those whose knobs outside family F all sit at
their baseline value; the *combined* points are all points. The front of each
subset shows what approximating F alone buys, and the combined front what all of
them together buy.
"""
from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

from simulator.dse.spec import Sweep

CHUNK = 512
FAMILIES = ("compute", "communication", "memory", "compression")


def non_dominated(values: np.ndarray, maximize: Sequence[bool] | None = None) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``values`` (n points x k objectives)."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 2:
        raise ValueError("values must be a 2-D array (points x objectives)")
    if maximize is not None:
        v = np.where(np.asarray(maximize, dtype=bool)[None, :], -v, v)
    n = v.shape[0]
    keep = np.ones(n, dtype=bool)
    for start in range(0, n, CHUNK):
        block = v[start:start + CHUNK]                      # (b, k): candidates
        le = (v[None, :, :] <= block[:, None, :]).all(-1)   # (b, n): other <= candidate everywhere
        lt = (v[None, :, :] < block[:, None, :]).any(-1)    # (b, n): other < candidate somewhere
        keep[start:start + CHUNK] = ~(le & lt).any(1)
    return keep


def usable(sweep: Sweep, rows: list[dict], metrics: Sequence[str]) -> list[dict]:
    """Rows that ran, meet the constraints and have every metric."""
    out = []
    for r in rows:
        if r.get("status") != "ok" or str(r.get("feasible")) not in ("True", "true"):
            continue
        if any(r.get(m) in ("", None) for m in metrics):
            continue
        out.append(r)
    return out


def front(sweep: Sweep, rows: list[dict], metrics: Sequence[str]) -> list[dict]:
    """Non-dominated usable rows for ``metrics`` (goals from the sweep's objectives; default min)."""
    rows = usable(sweep, rows, metrics)
    if not rows:
        return []
    goals = {o.name: o.goal for o in sweep.objectives}
    v = np.array([[float(r[m]) for m in metrics] for r in rows])
    mask = non_dominated(v, [goals.get(m) == "max" for m in metrics])
    return sorted((r for r, k in zip(rows, mask) if k), key=lambda r: [float(r[m]) for m in metrics])


def pair_table(sweep: Sweep, rows: list[dict]) -> list[dict]:
    """One row per (objective pair, non-dominated point): the pair, the point and its knobs."""
    names = [o.name for o in sweep.objectives]
    pairs = list(itertools.combinations(names, 2)) or [(names[0],)]
    out = []
    for pair in pairs:
        for r in front(sweep, rows, pair):
            out.append({"objectives": " vs ".join(pair), "point": r["point"],
                        **{m: r[m] for m in pair}, **{k.name: r[k.name] for k in sweep.knobs}})
    return out


def family_of(sweep: Sweep, row: dict) -> set[str]:
    """Families of the knobs whose value in ``row`` differs from their baseline."""
    out = set()
    for knob in sweep.knobs:
        if _same(row.get(knob.name), knob.baseline):
            continue
        out.add(knob.family)
    return out


def _same(a, b) -> bool:
    if a == b:
        return True
    try:
        return float(a) == float(b)
    except (TypeError, ValueError):
        import json
        try:
            return json.loads(a) == b if isinstance(a, str) else False
        except ValueError:
            return str(a) == str(b)


def family_fronts(sweep: Sweep, rows: list[dict], metrics: Sequence[str]) -> dict[str, list[dict]]:
    """Fronts of the F-only subsets of the tagged families, and of all points (``combined``).
    Only families that some knob is tagged with appear."""
    tagged = [f for f in FAMILIES if any(k.family == f for k in sweep.knobs)]
    out = {}
    for fam in tagged:
        subset = [r for r in rows if family_of(sweep, r) <= {fam}]
        out[f"{fam} only"] = front(sweep, subset, metrics)
    out["combined"] = front(sweep, rows, metrics)
    return out
