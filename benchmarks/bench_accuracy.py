"""Speed of the int8 inference engine (goals in docs/performance.md).

1. the digits test set (360 images) through the exact engine: goal < 50 ms;
2. one Monte Carlo point (the test set with bit flips injected into the weights,
   inputs, partial sums and outputs of every layer at BER 1e-3): goal < 0.5 s;
3. ResNet-50-shaped convolutions with random codes through ``MacConfig.conv2d``:
   goal >= 10 G MAC/s for Ax-BxP configurations, >= 3 G MAC/s for LUT multipliers.

Times are the best of ``--repeat`` runs after a warm-up (numba compilation, BLAS threads,
the encoded weights of exact and Ax-BxP layers, kept between calls with the same weights by
:mod:`simulator.approx.weight_cache`; the rate with the weights encoded on every call is printed
beside it); the median is printed too because the machine is shared. ``--threads`` sets the worker
threads of the kernels (default: ``AXSIM_THREADS`` or the CPUs of the process).
Run: ``python benchmarks/bench_accuracy.py [--repeat R] [--quick] [--threads T] [--write-docs]``
(``--write-docs`` rewrites the table between the ``bench-accuracy`` markers of docs/performance.md).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator.accuracy.engine import infer, quantize_input  # noqa: E402
from simulator import api  # noqa: E402
from simulator.accuracy.exposure_hook import exposure_ber, units_of_run  # noqa: E402
from simulator.accuracy.model import load_weights  # noqa: E402
from simulator.approx import blocked as B  # noqa: E402
from simulator.approx import generators as G  # noqa: E402
from simulator.approx import threads  # noqa: E402
from simulator.approx import weight_cache  # noqa: E402
from simulator.macs import EXACT, MacConfig  # noqa: E402
from simulator.workload import load_workload  # noqa: E402

# (name, C, H, W, K, kernel, stride, padding): ResNet-50 v1.5 layers
RESNET_LAYERS = [("layer1.0.conv2", 64, 56, 56, 64, 3, 1, 1),
                 ("layer2.0.conv2", 128, 56, 56, 128, 3, 2, 1),
                 ("layer3.1.conv1", 1024, 14, 14, 256, 1, 1, 0),
                 ("layer4.1.conv2", 512, 7, 7, 512, 3, 1, 1)]


CPU = {"best": float("inf")}


def timed(fn, repeat: int) -> tuple[float, float]:
    """(best wall time, median wall time); the best CPU time (all threads) goes to CPU['best']."""
    fn()
    times, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    CPU["best"] = min(cpus)
    return min(times), statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="first ResNet layer only")
    p.add_argument("--threads", type=int, default=None, help="worker threads of the kernels")
    p.add_argument("--write-docs", action="store_true",
                   help="write the table into docs/performance.md (block bench-accuracy)")
    args = p.parse_args(argv)
    if args.threads is not None:
        threads.set_workers(args.threads)
    load0 = os.getloadavg()[0]
    print(f"{os.cpu_count()} CPUs, {threads.workers()} kernel threads, load average {load0:.1f} "
          "(other processes share the cores: wall times include waiting; CPU time is the work done by "
          "all threads of this process)")
    rows: list[str] = []
    wl = load_workload(ROOT / "workloads" / "digits_cnn.yaml")
    model = load_weights(wl)
    data = np.load(ROOT / "datasets" / "digits.npz")
    x = quantize_input(model, data["x"].astype(np.float32))
    best, med = timed(lambda: infer(model, x), args.repeat)
    ok = "met" if best < 0.05 else "NOT met"
    print(f"digits test set ({len(x)} images), exact engine: best {1e3 * best:.1f} ms, median {1e3 * med:.1f} ms, "
          f"CPU {1e3 * CPU['best']:.1f} ms  [goal < 50 ms: {ok}]")
    rows.append(f"| digits test set ({len(x)} images), exact engine | {1e3 * best:.1f} ms | {1e3 * med:.1f} ms | "
                f"CPU {1e3 * CPU['best']:.1f} ms | — | < 50 ms: {ok} |")
    exposure = api.simulate(api.load_arch(ROOT / "arch" / "simba_lowpower.yaml"), wl, exposure=True,
                            dataflow="dram", mapping="fixed").exposure.data
    hook, units = exposure_ber(exposure, {ly.name: ly for ly in wl.layers}, 0), units_of_run(exposure, wl.layers)
    best, med = timed(lambda: infer(model, x, corrupt=hook(0), units=units), args.repeat)
    ok = "met" if best < 0.5 else "NOT met"
    print(f"one Monte Carlo point with injection (simba_lowpower exposure, per-PE units): best {1e3 * best:.1f} ms, "
          f"median {1e3 * med:.1f} ms, CPU {1e3 * CPU['best']:.1f} ms  [goal < 500 ms: {ok}]")
    rows.append(f"| one Monte Carlo point (simba_lowpower exposure, per-PE units) | {1e3 * best:.1f} ms | "
                f"{1e3 * med:.1f} ms | CPU {1e3 * CPU['best']:.1f} ms | — | < 500 ms: {ok} |")
    presets = B.presets()
    configs = [("exact", EXACT, None)]
    configs += [(n, MacConfig(n, "axbxp", block=presets[n]), 10.0)
                for n in ("msb3x3_k2", "dyn2x2_k2", "top10_k2", "dyn2xmsb3_k2")]
    configs += [("drum4 (LUT)", MacConfig("drum4", "lut", relative_power=0.5, lut=G.drum(4)), 3.0)]
    rng = np.random.default_rng(0)
    layers = RESNET_LAYERS[:1] if args.quick else RESNET_LAYERS
    for name, c, h, w, k, r, s, pad in layers:
        xs = rng.integers(0, 256, (1, c, h, w), dtype=np.uint8)
        ws = rng.integers(-127, 128, (k, c, r, r)).astype(np.int8)
        oh = (h + 2 * pad - r) // s + 1
        macs = k * c * r * r * oh * oh
        print(f"{name}: {c}x{h}x{w} -> {k}x{oh}x{oh}, k{r} s{s} ({macs / 1e6:.0f} M MACs)")
        for label, cfg, goal in configs:
            best, med = timed(lambda: cfg.conv2d(xs, ws, s, pad, 1, 0), max(2, args.repeat // 2))
            rate, per_cpu = macs / best / 1e9, macs / CPU["best"] / 1e9
            cold = ""
            if cfg.type != "lut":  # the weights encoded on every call (the cache emptied first)
                def fresh():
                    weight_cache.clear()
                    cfg.conv2d(xs, ws, s, pad, 1, 0)
                timed(fresh, max(2, args.repeat // 2))
                cold = f"{macs / CPU['best'] / 1e9:.1f}"
            ok = "" if goal is None else f">= {goal:g}: {'met' if rate >= goal else 'NOT met'}"
            verdict = f"  [goal {ok}]" if ok else ""
            print(f"  {label:<16} {rate:6.1f} G MAC/s (median {macs / med / 1e9:5.1f}; "
                  f"{per_cpu:5.1f} G MAC per CPU-second{'; weights encoded each call ' + cold if cold else ''})"
                  f"{verdict}")
            rows.append(f"| {name} {label} | {rate:.1f} | {macs / med / 1e9:.1f} | {per_cpu:.1f}"
                        f"{' (' + cold + ')' if cold else ''} | {per_cpu * threads.workers():.1f} | {ok or '—'} |")
    load1 = os.getloadavg()[0]
    if args.write_docs:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from doc_blocks import replace_block  # noqa: PLC0415
        head = (f"`python benchmarks/bench_accuracy.py --repeat {args.repeat}"
                f"{' --threads ' + str(args.threads) if args.threads else ''} --write-docs`, "
                f"{time.strftime('%Y-%m-%d', time.gmtime())}, {os.cpu_count()} CPUs, {threads.workers()} kernel "
                f"threads, load average {load0:.1f} at the start and {load1:.1f} at the end. G MAC/s unless a "
                "time is given; wall = best and median of the repeats; per CPU-s = G MAC per CPU-second of "
                "the process (all threads), in brackets with the weights encoded on every call (cache "
                f"emptied); x{threads.workers()} = per CPU-s times the kernel threads, the rate if every "
                "thread had a core of its own (an estimate, not a measurement).\n\n")
        table = ["| measurement | wall, best | wall, median | per CPU-s | x" + str(threads.workers())
                 + " (estimate) | goal |", "|---|---|---|---|---|---|"] + rows
        replace_block(ROOT / "docs" / "performance.md", "bench-accuracy", head + "\n".join(table) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
