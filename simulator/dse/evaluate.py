"""Evaluating sweep points: concrete architecture and MAC plan per point, simulation, reuse.

A point's knob values are applied to the parsed base architecture file and the
result is validated with every rule of :func:`simulator.config.load_arch`
(:func:`build_arch`, in memory: no temporary YAML file). Approximation knobs
prepend ``(layers, configuration)`` overrides to the approximation file's layer table (first match wins, knobs
before the file's own overrides) and the plan is resolved as ``axsim run
--approx`` would.

**Reuse.** Points are evaluated in *groups* that share a structural hash
(:func:`simulator.dse.keys.structural_hash`), one group per task, so reuse
does not depend on which worker a point lands on:

* ``run``: a point whose whole configuration equals an earlier one's takes its
  results (duplicates of random and NSGA-II searches);
* ``reprice``: a point that differs from an earlier one only in energy-only
  keys (operating points, the technology table) re-prices that run's action
  counts (:class:`simulator.energy.reprice.RunCounts`): no re-simulation, the
  latency is the run's;
* ``accuracy``: accuracy reused from a point with the same accuracy hash;
* ``none``: simulated from scratch.

Each row records what its point reused, and only what really happened.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

from simulator import api, build
from simulator.config import Arch
from simulator.dse import keys
from simulator.dse.spec import Sweep
from simulator.energy.reprice import RunCounts
from simulator.errors import AxsimError

#: Columns of the metrics every point reports (``accuracy_loss`` empty when not measured).
METRICS = ("energy_pj", "latency_cycles", "edp_pj_cycles", "accuracy_loss")
#: Columns a sweep with weight-compression knobs adds (docs/compression.md).
COMPRESSION_COLUMNS = ("weight_bytes_stored", "decompressed_bytes", "decompress_cycles")

AccuracyFn = Callable[..., float]
_ACCURACY: list[AccuracyFn] = []


def register_accuracy(fn: AccuracyFn) -> None:
    """Register the accuracy evaluator: ``fn(arch, workload, plan, dataset, seed) -> accuracy_loss``."""
    _ACCURACY[:] = [fn]


def _default_accuracy() -> AccuracyFn | None:
    from simulator.accuracy.sweep_eval import accuracy_loss
    return accuracy_loss


def accuracy_evaluator() -> AccuracyFn | None:
    """The registered evaluator; registers the int8 engine's exposure-path evaluator
    (:func:`simulator.accuracy.sweep_eval.accuracy_loss`) the first time a sweep needs one."""
    if not _ACCURACY:
        fn = _default_accuracy()
        if fn is not None:
            register_accuracy(fn)
    return _ACCURACY[0] if _ACCURACY else None


@dataclasses.dataclass(frozen=True)
class Point:
    index: int
    values: dict  # knob name -> value, in knob order


@dataclasses.dataclass
class Materialised:
    arch: Any
    arch_data: dict
    plan: Any
    plan_desc: Any
    structural: str
    accuracy: str
    full: str
    compression: Any = None  # simulator.compress.layers.CompressionPlan when the sweep compresses weights


_FILES: dict[tuple, Any] = {}


def _cached(kind: str, path: str, loader: Callable[[str], Any]) -> Any:
    key = (kind, path)
    if key not in _FILES:
        _FILES[key] = loader(path)
    return _FILES[key]


def workload_of(sweep: Sweep):
    return _cached("workload", sweep.workload_file, api.load_workload)


def _approx_of(sweep: Sweep):
    from simulator.macs.approxfile import load_approx
    return _cached("approx", sweep.approx_file, load_approx) if sweep.approx_file else None


def materialise(sweep: Sweep, point: Point) -> Materialised:
    """The concrete architecture (validated as ``load_arch`` would), MAC plan and weight
    compression of one point."""
    data = copy.deepcopy(sweep.arch_data)
    overrides, compress_rules = [], []
    for knob in sweep.knobs:
        value = point.values[knob.name]
        if knob.kind == "arch":
            keys.set_path(data, knob.target, value)
        elif knob.kind == "compress":
            compress_rules.append((knob.target, value))
        else:
            overrides.append((knob.target, value))
    arch = build_arch(sweep, data, point)
    plan, plan_desc = None, "exact"
    spec = _approx_of(sweep)
    if spec is not None:
        from simulator.macs.approxfile import resolve
        spec = dataclasses.replace(spec, layers=tuple(overrides) + spec.layers)
        names = [layer.name for layer in workload_of(sweep).layers]
        # the plan depends on the MAC hardware and the table, not on operating points: resolve once
        key = keys.digest(keys.structural_hash(data), data["tech"], overrides)
        plan = _cached("plan", key, lambda _k: resolve(spec, arch, names))
        plan_desc = plan.describe()
    # hashes see file contents, not paths: the same inputs give the same hashes on any machine
    view = {**data, "tech": _file_digest(data["tech"])}
    dataset = _file_digest(sweep.dataset) if sweep.dataset else None
    other = (plan_desc, _file_digest(sweep.workload_file), sweep.seed)
    compression = None
    if sweep.compresses:
        compression = compression_of(sweep, tuple(compress_rules))
        other += (compression.describe(),)
    return Materialised(arch, data, plan, plan_desc, keys.structural_hash(view, *other),
                        keys.accuracy_hash(view, *other, dataset), keys.digest(view, *other), compression)


def compression_of(sweep: Sweep, rules: tuple):
    """The compression plan of the workload under ``rules`` (computed once per process)."""
    from simulator.compress.layers import plan_for

    def load(_key: str):
        return plan_for(workload_of(sweep), rules)
    return _cached("compression", keys.digest(sweep.workload_file, rules), load)


def build_arch(sweep: Sweep, data: dict, point: Point | None = None):
    """The validated architecture of parsed architecture data ``data``: the checks of
    :func:`simulator.config.load_arch` (schema, cross-checks, operating points against the
    technology table's ranges) without writing and re-reading a YAML file; the technology table
    is loaded once per file and process."""
    from simulator.config import cross_check, load_tech
    from simulator.config.operating import check_values
    from simulator.config.validation import validate_model
    from simulator.errors import InputError
    where = Path(sweep.arch_file)
    try:
        arch = validate_model(Arch, data, where)
        problems = cross_check(arch)
        if problems:
            raise InputError(where, problems)
        tech = _cached("tech", str(data["tech"]), load_tech)
        problems = check_values(arch, tech, arch.tech)
        if problems:
            raise InputError(where, problems)
    except AxsimError as exc:
        if point is None:
            raise
        raise AxsimError(f"{where} with {_show_values(point)}: {exc}") from None
    return arch.model_copy(update={"tech_table": tech, "source": str(where)})


def _file_digest(path: str) -> str:
    def read(p: str) -> str:
        file = Path(p)
        if file.is_dir():
            return keys.digest(sorted((str(f.relative_to(file)), f.read_bytes().hex())
                                      for f in file.rglob("*") if f.is_file()))
        return hashlib.sha256(file.read_bytes()).hexdigest()[:16]
    return _cached("digest", path, read)


def _show_values(point: Point) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.values.items())


class GroupContext:
    """Caches shared by the points of one group (one task): runs, traces, accuracies."""

    def __init__(self) -> None:
        self.runs: dict[str, dict] = {}         # full hash -> metrics
        self.results: dict[str, Any] = {}       # structural hash -> (RunCounts, latency) for re-pricing
        self.accuracy: dict[str, float] = {}    # accuracy hash -> accuracy loss
        self.ahead: dict[int, Any] = {}         # point index -> Materialised, or the AxsimError it raised
        self.priced: dict[str, float] = {}      # full hash -> energy re-priced in a batch

    def materialise(self, sweep: Sweep, point: Point) -> "Materialised":
        found = self.ahead.pop(point.index, None)
        if found is None:
            return materialise(sweep, point)
        if isinstance(found, AxsimError):
            raise found
        return found

    def price_batch(self, structural: str, counts: RunCounts) -> None:
        """Re-price, in one vectorised call, every point of the group still to come that shares
        ``structural`` (the points are materialised ahead by :func:`run_group`)."""
        todo = [m for m in self.ahead.values() if isinstance(m, Materialised) and m.structural == structural
                and m.full not in self.priced]
        unique = list({m.full: m for m in todo}.values())
        if unique:
            priced = counts.price([m.arch for m in unique])
            self.priced.update({m.full: float(e) for m, e in zip(unique, priced.energy_pj)})


class _Repriced(NamedTuple):
    """The figures of a run re-priced at another operating point (latency is unchanged)."""

    energy_pj: float
    latency_cycles: int


class _Decompression(NamedTuple):
    """What decompressing the weights adds to a structural configuration's run."""

    bytes: int             # decompressed bytes (priced at each point's technology table)
    latency_cycles: int
    stored_bytes: int      # compressed weight bytes of the workload (DRAM, global buffer)


def _simulate(sweep: Sweep, m: Materialised, ctx: GroupContext) -> tuple[Any, list[str]]:
    cached = ctx.results.get(m.structural)
    if cached is not None:  # same hardware and mapping: only operating points or the table differ
        counts, latency_cycles, dec = cached
        if m.full not in ctx.priced:
            ctx.price_batch(m.structural, counts)
        energy = ctx.priced[m.full] if m.full in ctx.priced else float(counts.price([m.arch]).energy_pj[0])
        return _Repriced(energy, latency_cycles), ["run", "reprice"], dec
    ratios = m.compression.ratios() if m.compression is not None else None
    traces = list(api.generate_traces(m.arch, workload_of(sweep), m.plan, weight_ratio=ratios))
    result = api.simulate(m.arch, traces=traces, plan=m.plan, seed=sweep.seed)
    dec = None
    if m.compression is not None:
        from simulator.compress.layers import decompression_cost
        pes = {t.layer: int(t.meta.get("used_pes", 1)) for t in traces}
        cost = decompression_cost(m.compression, traces, m.arch.tech_table, pes)
        stored = sum(m.compression.stored_bytes().values()) + sum(
            layer.weight_count for layer in workload_of(sweep).layers if layer.name not in m.compression.layers)
        dec = _Decompression(cost.bytes_decompressed, cost.latency_cycles, stored)
    ctx.results[m.structural] = (RunCounts.from_result(result, m.arch), result.latency_cycles, dec)
    return result, [], dec


def evaluate(sweep: Sweep, point: Point, ctx: GroupContext) -> dict:
    """One row of the results table for ``point`` (``status`` ``invalid`` with the reason if its
    combination of knob values is not a valid architecture or plan)."""
    row: dict[str, Any] = {"point": point.index, **point.values}
    structural = ""
    workload_of(sweep)  # input files the worker cannot read stop the sweep: they are not the point's fault
    _approx_of(sweep)
    if "accuracy_loss" in sweep.metrics() and accuracy_evaluator() is None:  # nor is a missing evaluator
        raise AxsimError("accuracy_loss requested but no accuracy evaluator is registered in this process "
                         "(simulator.dse.evaluate.register_accuracy)")
    try:
        m = ctx.materialise(sweep, point)
        structural = m.structural
        reused: list[str] = []
        if m.full in ctx.runs:
            metrics, reused = dict(ctx.runs[m.full]), ["run"]
        else:
            metrics, reused = _measure(sweep, m, ctx)
    except AxsimError as exc:  # an invalid combination of knob values, an unmappable layer, the watchdog
        return {**row, **{k: "" for k in METRICS}, "feasible": False, "status": "invalid",
                "reused": "none", "structural_hash": structural, "message": str(exc).replace("\n", "; ")}
    feasible = all(c.holds(_number(metrics.get(c.metric))) for c in sweep.constraints)
    return {**row, **metrics, "feasible": feasible, "status": "ok", "reused": "+".join(reused) or "none",
            "structural_hash": m.structural, "message": ""}


def _measure(sweep: Sweep, m: Materialised, ctx: GroupContext) -> tuple[dict, list[str]]:
    result, reused, dec = _simulate(sweep, m, ctx)
    energy, latency = result.energy_pj, result.latency_cycles
    if dec is not None:  # decompression: priced at this point's technology table, latency an upper bound
        if dec.bytes:
            energy += dec.bytes * m.arch.tech_table.decompression.energy_pj_per_byte
        latency += dec.latency_cycles
    metrics = {"energy_pj": energy, "latency_cycles": latency, "edp_pj_cycles": energy * latency,
               "accuracy_loss": ""}
    if dec is not None:
        metrics.update({"weight_bytes_stored": dec.stored_bytes, "decompressed_bytes": dec.bytes,
                        "decompress_cycles": dec.latency_cycles})
    if "accuracy_loss" in sweep.metrics():
        if m.accuracy in ctx.accuracy:
            reused.append("accuracy")
        else:
            ctx.accuracy[m.accuracy] = _accuracy(sweep, m)
        metrics["accuracy_loss"] = ctx.accuracy[m.accuracy]
    ctx.runs[m.full] = metrics
    return metrics, reused


def _accuracy(sweep: Sweep, m: Materialised) -> float:
    """The registered evaluator's accuracy loss; with lossy weight compression, the quantized
    model whose weights are the decompressed ones is passed as ``weights=``."""
    fn = accuracy_evaluator()
    args = (m.arch, workload_of(sweep), m.plan, sweep.dataset, sweep.seed)
    if m.compression is None or not m.compression.lossy:
        return float(fn(*args))
    from simulator.accuracy.model import load_weights
    model = _cached("weights", sweep.workload_file, lambda _p: load_weights(workload_of(sweep)))
    try:
        return float(fn(*args, weights=m.compression.apply(model)))
    except TypeError as exc:
        if "weights" not in str(exc):
            raise
        raise AxsimError("the registered accuracy evaluator takes no 'weights=' argument, which lossy weight "
                         "compression needs (fn(arch, workload, plan, dataset, seed, weights=QuantModel))") from None


def _number(value: Any) -> float | None:
    return None if value in ("", None) else float(value)


def write_point(out_dir: str | Path, row: dict, wall_s: float) -> None:
    """Write one finished point atomically: ``points/NNNNNN.json`` via a temp file and rename."""
    folder = Path(out_dir) / "points"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / f"{row['point']:06d}.json"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"row": row, "wall_s": wall_s}, fh)
    os.replace(tmp, final)


def run_group(sweep: Sweep, points: list[Point], out_dir: str | None,
              expected_build: dict | None = None) -> list[dict]:
    """Worker entry point: evaluate the points of one structural group in order, writing each
    finished point as soon as it is done. Returns the rows; each names the build that made it
    (``build``). A worker whose build differs from ``expected_build`` (the coordinator's) refuses
    the task before writing anything."""
    stamp = build.build_stamp()
    if expected_build is not None and stamp != expected_build:
        raise AxsimError(f"a sweep worker runs simulator build {build.short(stamp)} but the sweep was started "
                         f"with build {build.short(expected_build)} ({out_dir}): install the same axsim "
                         "source on every worker")
    ctx = GroupContext()
    for point in points:  # ahead of time, so that energy-only points are re-priced in batches
        try:
            ctx.ahead[point.index] = materialise(sweep, point)
        except AxsimError as exc:
            ctx.ahead[point.index] = exc
    rows = []
    for point in points:
        started = time.perf_counter()
        row = {**evaluate(sweep, point, ctx), "build": build.short(stamp)}
        if out_dir is not None:
            write_point(out_dir, row, time.perf_counter() - started)
        rows.append(row)
    return rows
