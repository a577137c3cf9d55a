"""Compilation of the flit-level kernel's functions, cached on disk per version of the kernel.

numba's ``cache=True`` keeps compiled code next to the source and throws it away when the
source file of *that function* changes, not when a function it calls from another module does.
The kernel (``simulate`` in :mod:`simulator.noc.kernel`) inlines and calls functions of
:mod:`simulator.noc.kernel_parts`, :mod:`simulator.noc.kernel_alloc` and
:mod:`simulator.noc.kernel_ni`, the unicast-only kernel (:mod:`simulator.noc.kernel_uni`) those
of :mod:`simulator.noc.kernel_uni_parts` and some of the others: after an update that changed only
one of those, numba would load the old compiled kernel and silently run the old model.
:func:`cached_njit` therefore caches every function of these modules (:data:`MODULES`) in a
folder named by a digest of all their files
(``flit-kernel-<16 hex digits of SHA-256>``, under ``NUMBA_CACHE_DIR`` when it is set, else
under this package's ``__pycache__``): a change to any of them compiles everything anew, and the
folders of other digests are removed.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from numba import njit
from numba.core import config

HERE = Path(__file__).resolve().parent
MODULES = ("kernel.py", "kernel_alloc.py", "kernel_ni.py", "kernel_parts.py", "kernel_uni.py", "kernel_uni_parts.py")
PREFIX = "flit-kernel-"


def kernel_digest(folder: Path = HERE) -> str:
    """SHA-256 (16 hex digits) of the kernel modules' bytes, each preceded by its name and length."""
    h = hashlib.sha256()
    for name in MODULES:
        data = (folder / name).read_bytes()
        h.update(name.encode("ascii") + b"\0" + str(len(data)).encode("ascii") + b"\0" + data)
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    """Where the kernel's compiled code of this version is kept (created on first save)."""
    base = Path(config.CACHE_DIR) if config.CACHE_DIR else HERE / "__pycache__"
    return base / f"{PREFIX}{kernel_digest()}"


def _remove_other_versions(current: Path) -> None:
    if not current.parent.is_dir():
        return
    for old in current.parent.glob(f"{PREFIX}*"):
        if old != current and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)  # another process may remove it at the same time


_DIR = cache_dir()
_remove_other_versions(_DIR)


def cached_njit(**options):
    """``numba.njit(cache=True, **options)`` with the cache in :func:`cache_dir` (numba resolves
    a function's cache folder when it is decorated; the global setting is restored afterwards)."""
    def decorate(fn):
        saved = config.CACHE_DIR
        config.CACHE_DIR = str(_DIR)
        try:
            return njit(cache=True, **options)(fn)
        finally:
            config.CACHE_DIR = saved
    return decorate
