"""Throughput of bit-flip injection (goal: >= 0.3 G elements/s at BER 1e-3 on int8 tensors).

Times :func:`simulator.faults.inject.flip_bits` (skip sampling) on int8 and int32 arrays at
several BERs, with per-position and per-element probabilities, and :func:`stuck_cells` for
a persistent map; the rate counts elements of the input (the copy is included).
Run: ``python benchmarks/bench_inject.py [--elements N] [--repeat R]``.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.faults.inject import flip_bits, stuck_cells  # noqa: E402

GOAL = 0.3e9


def median_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--elements", type=int, default=50_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = args.elements
    int8 = rng.integers(-128, 128, size=n, dtype=np.int8)
    int32 = rng.integers(-2**20, 2**20, size=n // 4, dtype=np.int32)
    goal_rate = None
    print(f"{'case':44s} {'elements':>12s} {'time (s)':>9s} {'G elem/s':>9s}")
    for ber in (1e-6, 1e-3, 1e-2):
        p = np.full(8, ber)
        for name, arr in (("int8", int8), ("int32", int32)):
            t = median_time(lambda: flip_bits(arr, p, rng), args.repeat)
            rate = arr.size / t
            print(f"{f'flip_bits {name}, BER {ber:g} every bit':44s} {arr.size:12,d} {t:9.4f} {rate / 1e9:9.3f}")
            if name == "int8" and ber == 1e-3:
                goal_rate = rate
    low = np.zeros(8)
    low[:4] = 1e-3
    t = median_time(lambda: flip_bits(int8, low, rng), args.repeat)
    print(f"{'flip_bits int8, BER 1e-3 on bits 0-3 only':44s} {n:12,d} {t:9.4f} {n / t / 1e9:9.3f}")
    m = n // 10
    per = np.full((m, 8), 1e-3)
    per[::2] = 1e-4
    t = median_time(lambda: flip_bits(int8[:m], per, rng), args.repeat)
    print(f"{'flip_bits int8, per-element p (1e-3 / 1e-4)':44s} {m:12,d} {t:9.4f} {m / t / 1e9:9.3f}")
    t = median_time(lambda: stuck_cells(rng, n, np.full(8, 1e-3)), args.repeat)
    print(f"{'stuck_cells, p 1e-3 per cell (bytes)':44s} {n:12,d} {t:9.4f} {n / t / 1e9:9.3f}")
    ok = goal_rate is not None and goal_rate >= GOAL
    print(f"goal (>= {GOAL / 1e9:.1f} G int8 elements/s at BER 1e-3): {'met' if ok else 'NOT met'} "
          f"({goal_rate / 1e9:.2f} G/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
