"""Instructions per flit-hop of the flit-level kernel, counted by valgrind (independent of machine load).

    python benchmarks/count_noc_instructions.py [--k 8] [--rate 0.1] [--size 1] [--cycles 60105]
    python benchmarks/count_noc_instructions.py --doc   # the four cases of docs/performance.md, table rewritten

Timings on a shared machine swing by 10-30 %; an instruction count does not. This script runs the
benchmark case of ``bench_noc.py`` once natively, to compile the kernel into a private numba cache
for a CPU that valgrind emulates (``NUMBA_CPU_NAME=x86-64-v3``, no extra features), then once
under ``valgrind --tool=cachegrind``, which loads the cached kernel and counts the instructions
executed in compiled code without symbols (the numba functions; the kernel dominates). Printed:
those instructions, the flit-hops and their ratio. Needs valgrind on the PATH.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASE = """
import sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
import numpy as np
from bench_noc import workload
from simulator.noc import kernel, kernel_uni
from simulator.noc.router import RouterConfig, run_packets
used = []
for mod, fn, label in ((kernel, "simulate", "general"), (kernel_uni, "simulate_uni", "unicast-only")):
    def wrapped(*args, _plain=getattr(mod, fn), _label=label):
        used.append(_label)
        return _plain(*args)
    setattr(mod, fn, wrapped)
src, dst, size, ctime = workload({k}, {rate}, {size}, {cycles})
run = run_packets({k}, {k}, RouterConfig(), src, dst, size, ctime, kernel_choice={kernel!r})
print("HOPS", int(run.link_flits.sum()))
print("KERNEL", "+".join(sorted(set(used))))
"""


def count(k: int, rate: float, size: int, cycles: int, kernel: str = "auto") -> tuple[int, int, str]:
    """(instructions in symbol-less compiled code, flit-hops, the kernel that ran) of one run of the case."""
    if shutil.which("valgrind") is None:
        raise SystemExit("count_noc_instructions.py: valgrind is not installed")
    with tempfile.TemporaryDirectory(prefix="axsim_count_noc_") as where:
        script = Path(where) / "case.py"
        script.write_text(CASE.format(root=str(ROOT), bench=str(ROOT / "benchmarks"), k=k, rate=rate, size=size,
                                      cycles=cycles, kernel=kernel), encoding="utf-8")
        env = {**os.environ, "NUMBA_CPU_NAME": "x86-64-v3", "NUMBA_CPU_FEATURES": "",
               "NUMBA_CACHE_DIR": str(Path(where) / "numba")}
        native = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True)
        out = Path(where) / "cachegrind.out"
        subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}",
                        sys.executable, str(script)], env=env, capture_output=True, text=True, check=True)
        table = subprocess.run(["cg_annotate", str(out)], capture_output=True, text=True, check=True).stdout
    hops = int(re.search(r"HOPS (\d+)", native.stdout).group(1))
    m = re.search(r"^\s*([\d,]+)\s+\([\s\d.]+%\)\s+\?\?\?:\?\?\?", table, re.M)
    if m is None:
        raise SystemExit("count_noc_instructions.py: no symbol-less code in the cachegrind profile")
    return int(m.group(1).replace(",", "")), hops, re.search(r"KERNEL (\S+)", native.stdout).group(1)


# (k, rate, size, cycles, label) of the table in docs/performance.md
DOC_CASES = ((8, 0.1, 1, 60105, "8 × 8, 1-flit packets at 0.1 (the goal's case)"),
             (8, 0.1, 4, 60105, "8 × 8, 4-flit packets at 0.1"),
             (8, 0.3, 1, 60105, "8 × 8, 1-flit packets at 0.3"),
             (24, 0.002, 1, 60000, "24 × 24, 1-flit packets at 0.002"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--k", type=int, default=8, help="mesh of k x k routers")
    p.add_argument("--rate", type=float, default=0.1)
    p.add_argument("--size", type=int, default=1)
    p.add_argument("--cycles", type=int, default=60105)
    p.add_argument("--doc", action="store_true", help="the four cases of docs/performance.md; rewrite its table")
    p.add_argument("--kernel", choices=("auto", "general"), default="auto",
                   help="run_packets' kernel_choice: auto (unicast-only kernel for these cases) or general")
    a = p.parse_args()
    cases = DOC_CASES if a.doc else ((a.k, a.rate, a.size, a.cycles, ""),)
    lines = ["Counted by `python benchmarks/count_noc_instructions.py --doc` (reference router, uniform random):", "",
             "| case | instructions in compiled code | flit-hops | instructions per flit-hop |", "|---|---|---|---|"]
    for k, rate, size, cycles, label in cases:
        instructions, hops, used = count(k, rate, size, cycles, a.kernel)
        print(f"{k}x{k} mesh, uniform random, {rate} flits/node/cycle, {size}-flit packets, {used} kernel: "
              f"{instructions:,} instructions in compiled code, {hops:,} flit-hops, "
              f"{instructions / hops:,.0f} instructions per flit-hop")
        lines.append(f"| {label} | {instructions:,} | {hops:,} | {instructions / hops:,.0f} |")
    if a.doc:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from doc_blocks import DOCS, replace_block
        replace_block(DOCS / "performance.md", "count-noc", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
