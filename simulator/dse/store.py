"""The sweep folder: the resolved sweep file, one file per finished point, the merged results table.

    DIR/sweep.yaml        the sweep file with absolute paths (what --resume reads)
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

from simulator.config.yamlio import read_mapping
from simulator.dse.evaluate import COMPRESSION_COLUMNS, METRICS
from simulator.dse.spec import Sweep
from simulator.errors import AxsimError

TAIL = ("feasible", "status", "reused", "structural_hash", "message")


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
