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
"""
from __future__ import annotations

import functools
import hashlib
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
