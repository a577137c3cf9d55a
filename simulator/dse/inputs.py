"""The input files of a sweep folder's points: recorded when the folder is created, checked on resume.

A resume keeps every finished point; the build stamp (:func:`simulator.dse.store.check_build`)
makes sure they come from the same simulator. They must also come from the same input files:
an architecture, technology table, workload, approximation file or dataset edited since would
silently mix points of two different studies. ``DIR/inputs.json`` records the SHA-256 of every
file the sweep reads (``{"files": {absolute path: hex digest}, "changed_inputs": false}``; a
folder is a list of its files' digests); a resume recomputes them and stops, naming each file
that changed, appeared or disappeared, unless ``accept_changed_inputs``, which records the new
digests and marks the folder ``changed_inputs: true``.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import StrictBool, StrictStr

from simulator.config.types import Frozen
from simulator.config.validation import validate_model
from simulator.dse.model import Sweep
from simulator.errors import AxsimError

INPUTS_FILE = "inputs.json"


class InputsFile(Frozen):
    """``inputs.json``: digest per input file of the sweep, and whether a resume accepted changes."""
    files: dict[StrictStr, StrictStr]
    changed_inputs: StrictBool


def input_files(sweep: Sweep) -> list[Path]:
    """Every file the sweep's points are computed from, absolute, sorted."""
    paths = {sweep.arch_file, sweep.workload_file, sweep.arch_data["tech"]}
    paths.update(v for k in sweep.knobs if k.kind == "arch" and k.target == "tech" for v in k.values)
    paths.update(p for p in (sweep.approx_file, sweep.dataset) if p)
    return sorted(Path(p).resolve() for p in paths)


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes; of a folder, of its files' relative paths and bytes in order.
    Read anew at every call: the points' own hashes (``evaluate._file_digest``) are cached per
    process and would miss a file edited between two sweeps run by one process."""
    h = hashlib.sha256()
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            data = f.read_bytes()
            h.update(f.relative_to(path).as_posix().encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    elif path.is_file():
        h.update(path.read_bytes())
    else:
        return "missing"
    return h.hexdigest()


def digests(sweep: Sweep) -> dict[str, str]:
    return {str(p): file_digest(p) for p in input_files(sweep)}


def _write(out: Path, files: dict[str, str], changed: bool) -> None:
    tmp = out / f".{INPUTS_FILE}.tmp"
    tmp.write_text(json.dumps({"files": files, "changed_inputs": changed}, indent=2) + "\n", encoding="utf-8")
    tmp.replace(out / INPUTS_FILE)


def check_inputs(sweep: Sweep, out: Path, finished: int, accept_changed_inputs: bool = False) -> None:
    """Record the sweep's input files in a folder without finished points; in a folder with
    ``finished`` points, stop if any input file differs from the record (see the module doc)."""
    current = digests(sweep)
    path = out / INPUTS_FILE
    if not finished:
        _write(out, current, False)
        return
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise AxsimError(f"{path}: unreadable record of the sweep's input files ({exc}); start a new "
                             "sweep folder") from None
        record = validate_model(InputsFile, data, path)
        changed = [f"{p} ({'edited' if p in record.files and p in current else 'new' if p in current else 'gone'})"
                   for p in sorted(set(record.files) | set(current)) if record.files.get(p) != current.get(p)]
        if not changed:
            return
        what = f"input files changed since its {finished} finished points were evaluated: {'; '.join(changed)}"
    else:
        what = f"its {finished} finished points carry no record of their input files ({INPUTS_FILE} is missing)"
    if not accept_changed_inputs:
        raise AxsimError(f"{out}: {what}; reusing them would mix points of different inputs. Start a new "
                         f"sweep folder (axsim sweep SPEC --out NEW_DIR), or pass --accept-changed-inputs to "
                         f"keep them anyway (the folder is then marked changed_inputs: true)")
    _write(out, current, True)
