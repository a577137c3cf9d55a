"""Throughput of the approximate-multiplication functional models.

Prints G table-MAC/s (LUT multipliers) and G MAC/s (Ax-BxP blocked GEMM) on one
ResNet-50 layer as im2col: M = 3136 output pixels, K = 576 (64 channels x 3x3),
N = 64 filters. Run: ``python benchmarks/bench_lut.py [--repeat R]``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.approx import blocked as B  # noqa: E402
from simulator.approx import generators as G  # noqa: E402
from simulator.approx.blockops import blocked_gemm  # noqa: E402
from simulator.approx.kernels import lut_gemm  # noqa: E402
from simulator.approx.lut import lut_gemm_reference  # noqa: E402


def best_time(fn, repeat: int) -> float:
    fn()  # warm-up (numba compilation / cache load, BLAS threads)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m", type=int, default=3136)
    parser.add_argument("--k", type=int, default=576)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    m, k, n = args.m, args.k, args.n
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (m, k), dtype=np.uint8)
    w = rng.integers(0, 256, (k, n), dtype=np.uint8)
    macs = m * k * n
    lut = G.drum(4)
    presets = B.presets()
    print(f"GEMM M={m} K={k} N={n} ({macs / 1e6:.1f} M MACs), {os.cpu_count()} CPUs")
    rows = [
        ("LUT, numpy fancy indexing (reference)", "G table-MAC/s",
         lambda: lut_gemm_reference(a, w, lut), 1),
        ("LUT, numba kernel", "G table-MAC/s", lambda: lut_gemm(a, w, lut), args.repeat),
        ("Ax-BxP top3_k4 (3 of 4 pairs), block planes", "G MAC/s",
         lambda: blocked_gemm(a, w, presets["top3_k4"], "planes"), args.repeat),
        ("Ax-BxP top10_k2 (10 of 16 pairs), block planes", "G MAC/s",
         lambda: blocked_gemm(a, w, presets["top10_k2"], "planes"), args.repeat),
        ("Ax-BxP msb3x3_k2, truncated operands (BLAS fast path)", "G MAC/s",
         lambda: blocked_gemm(a, w, presets["msb3x3_k2"], "operands"), args.repeat),
        ("Ax-BxP msb1x1_k4, truncated operands (BLAS fast path)", "G MAC/s",
         lambda: blocked_gemm(a, w, presets["msb1x1_k4"], "operands"), args.repeat),
        ("Ax-BxP dyn2x2_k2, transformed operands (BLAS)", "G MAC/s",
         lambda: blocked_gemm(a, w, presets["dyn2x2_k2"], "operands"), args.repeat),
        ("exact 8-bit via float32 BLAS (exact_k4 operands)", "G MAC/s",
         lambda: blocked_gemm(a, w, presets["exact_k4"], "operands"), args.repeat),
    ]
    for label, unit, fn, rep in rows:
        t = best_time(fn, rep)
        print(f"{label:58s} {macs / t / 1e9:8.2f} {unit}  ({t * 1e3:.1f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
