"""Which simulator build produced a result: the package version and a digest of its source.

Results kept on disk and reused later (the finished points of a sweep folder) are only
comparable with results of the same simulator. A *build stamp* names that simulator:

    {"version": "0.1.0", "source_sha256": "<64 hex digits>"}

``source_sha256`` is SHA-256 over every ``*.py`` file under the ``simulator`` package, in
the order of their POSIX paths relative to the package folder; for each file the hash is fed
its relative path, a NUL byte, its length in bytes as decimal ASCII, a NUL byte and its bytes.
Nothing is excluded: a change to any module, including the CLI, report and plot modules that
cannot alter a result, gives another stamp. That errs on the side of refusing a resume; the
alternative (listing which modules can change results) would be wrong the first time someone
forgets to update the list. ``__pycache__`` folders hold no ``.py`` files and are not read.
Versions of the libraries (numpy, simpy, ...) are not part of the stamp.

Where stamps are kept and checked: a sweep folder's ``build.json`` and the ``build`` column of
its rows (:mod:`simulator.dse.store`), and a run folder's ``summary.json`` (key ``build``),
checked by :func:`check_run_folder` before its counts are re-priced or its exposure reused.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

from simulator import __version__

PACKAGE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=None)
def _digest_of(root: str) -> str:
    base = Path(root)
    files = sorted((p for p in base.rglob("*.py") if "__pycache__" not in p.parts),
                   key=lambda p: p.relative_to(base).as_posix())
    h = hashlib.sha256()
    for path in files:
        data = path.read_bytes()
        h.update(path.relative_to(base).as_posix().encode("utf-8") + b"\0")
        h.update(str(len(data)).encode("ascii") + b"\0")
        h.update(data)
    return h.hexdigest()


def source_digest() -> str:
    """SHA-256 of the simulator's source files (computed once per process)."""
    return _digest_of(str(PACKAGE))


def build_stamp() -> dict[str, str]:
    """The stamp of the running simulator: package version and source digest."""
    return {"version": __version__, "source_sha256": source_digest()}


def short(stamp: dict) -> str:
    """``version+first 12 hex digits of the digest``: how a stamp is shown in tables and messages."""
    return f"{stamp.get('version', '?')}+{str(stamp.get('source_sha256', '?'))[:12]}"


def describe(stamp: dict) -> str:
    """The short form followed by the full stamp, for error messages."""
    return f"{short(stamp)} (version {stamp.get('version', '?')}, source sha256 {stamp.get('source_sha256', '?')})"


def check_run_folder(folder: str | Path, accept_other_build: bool = False) -> dict:
    """Check that the results kept in run folder ``folder`` (``summary.json`` key ``build``) come from
    this build before they are reused (re-priced, or their exposure injected). Returns
    ``{"run_build": short stamp or "unknown", "mixed_builds": bool}``; raises an
    :class:`~simulator.errors.AxsimError` naming both builds for a missing or different stamp,
    unless ``accept_other_build`` (then ``mixed_builds`` is True, for the caller to record)."""
    from simulator.errors import AxsimError
    folder = Path(folder)
    path = folder / "summary.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8")).get("build")
    except (OSError, ValueError, AttributeError) as exc:
        raise AxsimError(f"{path}: not readable ({exc}); the run folder's results cannot be attributed to "
                         "a simulator build") from None
    current = build_stamp()
    if stored == current:
        return {"run_build": short(current), "mixed_builds": False}
    if not isinstance(stored, dict):
        problem = (f"{folder}: its summary.json carries no build stamp (written before build stamps), so its "
                   f"results may come from another simulator build than this one ({short(current)})")
        shown = "unknown"
    else:
        shown = short(stored)
        problem = (f"{folder}: its results were produced by simulator build {describe(stored)}, this is build "
                   f"{describe(current)}; the simulator's source changed, and results of the two builds may differ")
    if not accept_other_build:
        raise AxsimError(f"{problem}. Reusing them would mix results of different builds. Simulate the "
                         "run again with this build (axsim run ... --out NEW_DIR), or pass --accept-other-build "
                         "to reuse them anyway (the output then records run_build and mixed_builds: true)")
    return {"run_build": shown, "mixed_builds": True}
