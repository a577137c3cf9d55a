"""The sweep folder: the resolved sweep file, one file per finished point, the merged results table.

    DIR/sweep.yaml        the sweep file with absolute paths (what --resume reads)
    DIR/build.json        the simulator builds whose points the folder holds (see check_build)
    DIR/points/NNNNNN.json one finished point: its row and its wall time (written atomically)
    DIR/results.csv       every finished point, by point number (rewritten via temp file + rename)
    DIR/pareto.csv        non-dominated points per objective pair (after the sweep)
    DIR/plots/            figures (after the sweep)

A point file is created with a temporary name and renamed when complete, so a
sweep killed at any moment leaves only whole point files; ``--resume`` reads
them and evaluates only the points that have none.
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path

import yaml
from pydantic import Field, StrictBool, StrictStr

from simulator import build
from simulator.config.types import Frozen
from simulator.config.validation import validate_model
from simulator.config.yamlio import read_mapping
from simulator.dse.evaluate import COMPRESSION_COLUMNS, METRICS
from simulator.dse.spec import Sweep
from simulator.errors import AxsimError

TAIL = ("feasible", "status", "reused", "structural_hash", "build", "message")
BUILD_FILE = "build.json"
UNKNOWN_BUILD = {"version": "unknown", "source_sha256": "unknown"}  # points written before build stamps


def columns(sweep: Sweep) -> list[str]:
    extra = COMPRESSION_COLUMNS if sweep.compresses else ()
    return ["point", *[k.name for k in sweep.knobs], *METRICS, *extra, *TAIL]


def write_resolved_spec(sweep: Sweep, out: Path) -> Path:
    """Copy the sweep file into ``out`` with its file paths made absolute."""
    data = read_mapping(sweep.file)
    for key, value in (("arch", sweep.arch_file), ("workload", sweep.workload_file),
                       ("approx", sweep.approx_file), ("dataset", sweep.dataset)):
        if value is not None:
            data[key] = str(Path(value).resolve())
    for knob in data.get("knobs", []):
        if knob.get("path") == "tech" and "values" in knob:
            knob["values"] = [str((Path(sweep.arch_file).parent / v).resolve()) for v in knob["values"]]
    target = out / "sweep.yaml"
    _atomic_text(target, yaml.safe_dump(data, sort_keys=False))
    return target


def _atomic_text(target: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.replace(tmp, target)


def read_points(out: Path) -> dict[int, dict]:
    """Finished points of a sweep folder: point number -> row."""
    rows = {}
    folder = out / "points"
    if not folder.is_dir():
        return rows
    for file in sorted(folder.glob("[0-9]*.json")):
        try:
            rows[int(file.stem)] = json.loads(file.read_text(encoding="utf-8"))["row"]
        except (ValueError, KeyError, OSError) as exc:
            raise AxsimError(f"{file}: unreadable point file ({exc}); delete it to recompute the point") from None
    return rows


def count_points(out: Path) -> int:
    try:
        return sum(1 for name in os.listdir(out / "points") if name[0].isdigit())
    except FileNotFoundError:
        return 0


def _cell(value) -> str:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_results(sweep: Sweep, out: Path, rows: dict[int, dict]) -> Path:
    """Rewrite ``results.csv`` (every finished point, by point number) atomically."""
    cols = columns(sweep)
    target = out / "results.csv"
    fd, tmp = tempfile.mkstemp(dir=out, prefix=".tmp-results-")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for index in sorted(rows):
            w.writerow([_cell(rows[index].get(c, "")) for c in cols])
    os.replace(tmp, target)
    return target


def read_results(path: str | Path) -> list[dict]:
    with Path(path).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def read_builds(out: Path) -> list[dict] | None:
    """The builds recorded in ``out/build.json`` (the first created the folder), or None if absent."""
    path = out / BUILD_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise AxsimError(f"{path}: unreadable build stamp ({exc}); the folder's points cannot be "
                         "attributed to a simulator build: start a new sweep folder") from None
    return [stamp.model_dump() for stamp in validate_model(BuildFile, data, path).builds]


class BuildStamp(Frozen):
    version: StrictStr
    source_sha256: StrictStr


class BuildFile(Frozen):
    """``build.json``: the builds whose points the folder holds, the creating one first."""
    builds: list[BuildStamp] = Field(min_length=1)
    mixed_builds: StrictBool


def write_builds(out: Path, builds: list[dict]) -> None:
    mixed = len({build.short(b) for b in builds}) > 1
    _atomic_text(out / BUILD_FILE, json.dumps({"builds": builds, "mixed_builds": mixed}, indent=2) + "\n")


def check_build(out: Path, finished: dict[int, dict], accept_other_build: bool = False) -> list[dict]:
    """Make sure the finished points of ``out`` come from the running simulator build.

    A folder without finished points is (re)stamped with the current build. A folder with
    finished points must list the current build in ``build.json``, and every point's ``build``
    column must be one of the listed builds; otherwise the sweep stops, unless
    ``accept_other_build``, which appends the current build to the list and marks the folder
    ``mixed_builds`` (each row keeps the build that produced it). Returns the folder's builds.
    """
    current = build.build_stamp()
    if not finished:
        write_builds(out, [current])
        return [current]
    builds = read_builds(out)
    if builds is None:
        problem = (f"{out}: its {len(finished)} finished points carry no build stamp ({BUILD_FILE} is "
                   f"missing: the folder was written before build stamps), so they may come from another "
                   f"simulator build than this one ({build.short(current)})")
        recorded = [UNKNOWN_BUILD]
    else:
        listed = {build.short(b) for b in builds}
        strays = sorted(i for i, r in finished.items() if r.get("build") and r["build"] not in listed)
        if strays:
            raise AxsimError(f"{out}: points {strays[:5]}{' ...' if len(strays) > 5 else ''} were written by "
                             f"builds not recorded in {out / BUILD_FILE} ({sorted(listed)}); the folder mixes "
                             "builds without record: start a new sweep folder")
        if current in builds:
            return builds
        problem = (f"{out}: its finished points were produced by simulator build "
                   f"{', '.join(build.describe(b) for b in builds)}, this is build {build.describe(current)}; "
                   "the simulator's source changed, and results of the two builds may differ")
        recorded = builds
    if not accept_other_build:
        raise AxsimError(f"{problem}. Resuming would mix results of different builds in one table. Start a "
                         "new sweep folder (axsim sweep SPEC --out NEW_DIR), or resume with "
                         "--accept-other-build to keep the old points and record the folder as mixing builds "
                         f"({BUILD_FILE} and the 'build' column of results.csv)")
    builds = [*recorded, current]
    write_builds(out, builds)
    return builds
