"""Threads of the functional kernels: coarse blocks on a pool, one BLAS thread inside each.

A convolution or GEMM is cut into row blocks (output rows or samples); each block
is computed by a worker thread with single-threaded BLAS (or a numba kernel that
releases the GIL), and the workers take blocks from a queue as they free up.
OpenBLAS's own threads split each GEMM statically and wait for each other by
spinning: on a machine shared with other jobs one descheduled thread stalls the
whole call (measured in docs/performance.md: a 1×1 convolution of 51 M MACs took
72 ms with two OpenBLAS threads and 0.8 ms with one). Blocks pulled from a queue
degrade gracefully instead: a worker that loses its core simply takes fewer blocks.

The number of workers is ``AXSIM_THREADS`` (an integer >= 1) if set, otherwise the
number of CPUs this process may run on; :func:`set_workers` changes it.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence, TypeVar

from simulator.errors import AxsimError

ENV = "AXSIM_THREADS"
T = TypeVar("T")

_state: dict = {"workers": None, "pool": None, "controller": None}
_lock = threading.Lock()
_local = threading.local()


def _parse(raw: str) -> int:
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if n < 1:
        raise AxsimError(f"environment variable {ENV}={raw!r}: must be an integer >= 1 "
                         "(the number of threads of the functional kernels)")
    return n


def workers() -> int:
    """Number of worker threads of the functional kernels."""
    if _state["workers"] is None:
        raw = os.environ.get(ENV)
        if raw is not None:
            _state["workers"] = _parse(raw)
        elif hasattr(os, "sched_getaffinity"):
            _state["workers"] = max(1, len(os.sched_getaffinity(0)))
        else:  # pragma: no cover - platforms without affinity masks
            _state["workers"] = max(1, os.cpu_count() or 1)
    return _state["workers"]


def set_workers(n: int) -> None:
    """Use ``n`` worker threads from now on (1: everything runs in the calling thread)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise AxsimError(f"workers {n!r}: must be an integer >= 1")
    with _lock:
        pool = _state["pool"]
        _state["workers"], _state["pool"] = n, None
    if pool is not None:
        pool.shutdown(wait=True)


def _pool(n: int) -> ThreadPoolExecutor:
    with _lock:
        if _state["pool"] is None:
            _state["pool"] = ThreadPoolExecutor(max_workers=n, thread_name_prefix="axsim-kernel",
                                                initializer=_mark_worker)
        return _state["pool"]


def _mark_worker() -> None:
    _local.worker = True


def _after_fork_in_child() -> None:
    """A forked process (e.g. a sweep's process pool) has none of the parent's pool threads:
    forget the pool so that the child starts its own."""
    global _lock
    _lock = threading.Lock()
    _state["pool"] = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def run_blocks(fn: Callable[[T], None], blocks: Sequence[T]) -> None:
    """``fn(block)`` for every block, on the worker pool (inline with one worker, one block,
    or when called from a worker). ``fn`` must release the GIL for the blocks to overlap
    (BLAS calls and ``nogil`` numba kernels do); the first exception is re-raised."""
    n = workers()
    if n == 1 or len(blocks) <= 1 or getattr(_local, "worker", False):
        for b in blocks:
            fn(b)
        return
    for _ in _pool(n).map(fn, blocks):
        pass


def _controller():
    if _state["controller"] is None:
        from threadpoolctl import ThreadpoolController  # noqa: PLC0415
        _state["controller"] = ThreadpoolController()
    return _state["controller"]


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS limited to one thread inside the block (restored after)."""
    with _controller().limit(limits=1, user_api="blas"):
        yield
