"""Running a sweep: batches from the search, groups of points as tasks, a pool or a Dask cluster.

Each batch's unfinished points are grouped by their structural knob values (the
points of a group share one structural configuration, see
:mod:`simulator.dse.evaluate`) and each group is one task. Tasks run on

* a local ``concurrent.futures.ProcessPoolExecutor`` (default; ``jobs`` workers),
* in this process when ``jobs == 1`` (no pool),
* a Dask cluster when ``scheduler`` is given (``tcp://HOST:PORT``, or any address
  ``dask.distributed.Client`` accepts), through ``Client.get_executor()``.

Workers write each finished point into the sweep folder themselves (so Dask
workers need the folder on a shared file system, as they have on one machine
or a cluster with a shared home); this process merges ``results.csv``.
Every task carries the coordinator's build stamp (:mod:`simulator.build`) and a worker of
another build refuses it, so one folder never receives points of two builds unnoticed;
finished points of another build stop a resume unless ``accept_other_build``
(:func:`simulator.dse.store.check_build`).
A point whose knob values equal those of a finished point takes its row
(``reused: run``) without being sent out.
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from simulator.build import build_stamp
from simulator.dse import store
from simulator.dse.evaluate import Point, run_group, write_point
from simulator.dse.inputs import check_inputs
from simulator.dse.search import make_search
from simulator.dse.spec import Sweep
from simulator.errors import AxsimError

Progress = Callable[[int, int, int], None]  # (done, total, reused)
CONNECT_TIMEOUT_S = 10  # how long to wait for a Dask scheduler


@dataclass
class SweepOutcome:
    out: Path
    rows: dict[int, dict]
    evaluated: int   # points evaluated by this call
    resumed: int     # points found finished in the folder
    wall_s: float
    builds: list[dict] = field(default_factory=list)  # the builds whose points the folder holds (build.json)


def group_key(sweep: Sweep, point: Point) -> str:
    """Points with equal structural knob values share a structural configuration."""
    return json.dumps([point.values[k.name] for k in sweep.knobs if k.klass == "structural"], default=str)


def value_key(point: Point) -> str:
    return json.dumps(point.values, sort_keys=True, default=str)


def _normal(row: dict) -> dict:
    return json.loads(json.dumps(row))


@contextlib.contextmanager
def executor(jobs: int, scheduler: str | None) -> Iterator[cf.Executor | None]:
    if scheduler:
        try:
            from dask.distributed import Client
        except ImportError:
            raise AxsimError("--scheduler needs dask.distributed: pip install 'dask[distributed]'") from None
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise AxsimError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client.get_executor()
        finally:
            client.close()
    elif jobs <= 1:
        yield None
    else:
        with cf.ProcessPoolExecutor(max_workers=jobs) as pool:
            yield pool


def run_sweep(sweep: Sweep, out: str | Path, *, jobs: int | None = None, scheduler: str | None = None,
              progress: Progress | None = None, resume: bool = False,
              accept_other_build: bool = False, accept_changed_inputs: bool = False) -> SweepOutcome:
    """Evaluate the sweep into folder ``out``; with ``resume`` keep every finished point there
    (they must come from this simulator build, unless ``accept_other_build``, and from the same
    input files, unless ``accept_changed_inputs``: :mod:`simulator.dse.inputs`)."""
    out = Path(out)
    started = time.perf_counter()
    done = store.read_points(out)
    if done and not resume:
        raise AxsimError(f"{out}: already holds {len(done)} finished points of a sweep; "
                         f"resume it with 'axsim sweep --resume {out}' or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    builds = store.check_build(out, done, accept_other_build)
    check_inputs(sweep, out, len(done), accept_changed_inputs)
    stamp = build_stamp()
    if not (out / "sweep.yaml").is_file():
        store.write_resolved_spec(sweep, out)
    resumed = len(done)
    finished_by_values = {value_key(Point(i, {k.name: r[k.name] for k in sweep.knobs})): i
                          for i, r in done.items() if r.get("status") == "ok"}
    search = make_search(sweep)
    total = search.total
    evaluated = 0
    jobs = jobs if jobs is not None else (os.cpu_count() or 1)

    def report() -> None:
        if progress:
            count = store.count_points(out)
            progress(count, total, sum(1 for r in done.values() if r.get("reused") not in ("none", None)))

    with executor(jobs, scheduler) as pool:
        report()
        while batch := search.ask():
            pending: list[Point] = []
            for point in batch:
                if point.index in done:
                    _check_same(sweep, out, point, done[point.index])
                    continue
                twin = finished_by_values.get(value_key(point))
                if twin is not None:
                    row = {**done[twin], "point": point.index, "reused": "run"}
                    write_point(out, row, 0.0)
                    done[point.index] = _normal(row)
                    continue
                pending.append(point)
            groups: dict[str, list[Point]] = {}
            for point in pending:
                groups.setdefault(group_key(sweep, point), []).append(point)
            for rows in _execute(pool, sweep, out, list(groups.values()), report, stamp):
                for row in rows:
                    row = _normal(row)
                    done[row["point"]] = row
                    evaluated += 1
                    if row.get("status") == "ok":
                        finished_by_values.setdefault(value_key(Point(row["point"], {
                            k.name: row[k.name] for k in sweep.knobs})), row["point"])
                store.write_results(sweep, out, done)
            search.tell(batch, [done[p.index] for p in batch])
        report()
    store.write_results(sweep, out, done)
    return SweepOutcome(out, done, evaluated, resumed, time.perf_counter() - started, builds)


def _execute(pool, sweep: Sweep, out: Path, groups: list[list[Point]], report,
             stamp: dict) -> Iterator[list[dict]]:
    """Rows of each group as its task finishes (in this process when ``pool`` is None)."""
    if pool is None:
        for group in groups:
            yield run_group(sweep, group, str(out), stamp)
            report()
        return
    futures = {pool.submit(run_group, sweep, group, str(out), stamp) for group in groups}
    try:
        while futures:
            finished, futures = cf.wait(futures, timeout=0.5, return_when=cf.FIRST_COMPLETED)
            report()
            for future in finished:
                yield future.result()
    finally:
        for future in futures:
            future.cancel()


def _check_same(sweep: Sweep, out: Path, point: Point, row: dict) -> None:
    stored = {k.name: row.get(k.name) for k in sweep.knobs}
    if _normal(stored) != _normal(point.values):
        raise AxsimError(f"{out}/points/{point.index:06d}.json: holds knob values {stored}, but the sweep "
                         f"asks {point.values} for point {point.index}: the folder belongs to another sweep")
