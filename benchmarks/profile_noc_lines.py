"""Instructions per flit-hop of the flit-level kernel, per source line and per part of a router visit.

    python benchmarks/profile_noc_lines.py [--rate 0.1] [--size 1] [--cycles 60105] [--lines 25]
    python benchmarks/profile_noc_lines.py --kernel unicast   # simulator/noc/kernel_uni.py instead

Counts, not samples: a copy of ``simulator/noc/kernel.py`` compiled with line tables
(``debug=True``, otherwise the kernel's options) runs the benchmark case of ``bench_noc.py`` under
``valgrind --tool=callgrind --dump-instr=yes``, which counts every executed instruction by
address; the addresses are mapped to source lines through the line table of the compiled object
(taken from the copy's numba cache, written by a native run first; ``objdump -d -l``). Prints the
kernel function's own instructions per flit-hop (callees such as the several-request VC
allocator are not included; functions LLVM inlines are counted at their call's line), the
parts of a router visit and the most expensive lines, and the share of instructions that
move values between registers and the stack. Needs valgrind and binutils (objdump, readelf).
"""
from __future__ import annotations

import argparse
import collections
import io
import os
import pickletools
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = "@cached_njit(_nrt=False, "

CASE = """
import sys
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r}); sys.path.insert(0, {where!r})
import kernel_lines
from simulator.noc import {module}
{module}.{fn} = kernel_lines.{fn}
from bench_noc import workload
from simulator.noc.router import RouterConfig, run_packets
src, dst, size, ctime = workload(8, {rate}, {size}, {cycles})
run = run_packets(8, 8, RouterConfig(), src, dst, size, ctime, kernel_choice={choice!r})
f = kernel_lines.{fn}
if not f.signatures:
    raise SystemExit("the copy of {module}.{fn} did not run")
cres = f.overloads[f.signatures[0]]
print("HOPS", int(run.link_flits.sum()))
print("ADDR", cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name))
"""

# parts of a router visit: (name, text of the line that starts it in kernel.py)
PARTS = (("per cycle: loop control, the interfaces", "    while True:\n"),
         ("start of a router visit (due mask, wheel)", "        # ---- routers due in this cycle"),
         ("VC scan", "                vreq = 0  # output ports with VC-allocation requests\n"),
         ("VC allocation", "                # VC allocation per output port\n"),
         ("switch allocation", "                # switch allocation (separable iSLIP"),
         ("switch and link traversal", "                while inm != 0:  # switch and link traversal\n"),
         ("buffer pop and credit", "                    # the buffer's head leaves once every branch has sent it\n"),
         ("end of a visit", "                while vreq0 != 0:\n"),
         ("end of a cycle", "        if (resumable == 1 and t_fin > 0) or refill:\n"))
# the same for the unicast-only kernel (simulator/noc/kernel_uni.py)
PARTS_UNI = (("per cycle: loop control, the interfaces", "    while meas_done < n_meas"),
             ("start of a router visit (due mask, wheel)", "        for w0 in range(0, N, 64):"),
             ("VC scan", "                # each non-empty input VC whose head has arrived"),
             ("VC allocation", "                # VC allocation per output port"),
             ("switch allocation", "                # switch allocation (separable iSLIP"),
             ("switch and link traversal", "                while inm != 0:  # switch and link traversal"),
             ("buffer pop and credit", "                    ivr[b + I_H] = h + 1 if h + 1 < D else 0"),
             ("end of a visit", "                wake[r] = min(wake[r], nx)\n"),
             ("end of a cycle", "        # the next cycle in which something is due: now + 1"))
# kernel_choice of run_packets -> (module, compiled function, parts of a visit)
TARGETS = {"general": ("kernel", "simulate", PARTS), "unicast": ("kernel_uni", "simulate_uni", PARTS_UNI)}


def _copy(where: Path, target: str = "general") -> list[str]:
    module = TARGETS[target][0]
    src = (ROOT / "simulator" / "noc" / f"{module}.py").read_text(encoding="utf-8")
    if src.count(MARKER) != 1:
        raise SystemExit(f"profile_noc_lines.py: {MARKER!r} not found once in simulator/noc/{module}.py")
    src = src.replace(MARKER, "@numba.njit(cache=True, debug=True, boundscheck=False, "
                              "_dbg_extend_lifetimes=False, _nrt=False, ", 1)
    src = src.replace("from __future__ import annotations\n", "from __future__ import annotations\n\nimport numba\n", 1)
    (where / "kernel_lines.py").write_text(src, encoding="utf-8")
    return src.split("\n")


def _object(cache: Path, out: Path, fn: str = "simulate") -> None:
    """The compiled object of the copy's kernel function ``fn``, from its numba cache file."""
    files = sorted(cache.rglob(f"kernel_lines.{fn}-*.nbc"))
    if not files:
        raise SystemExit("profile_noc_lines.py: the compiled copy was not cached")
    for _, arg, _ in pickletools.genops(io.BytesIO(files[0].read_bytes())):
        if isinstance(arg, bytes) and arg[:4] == b"\x7fELF":
            out.write_bytes(arg)
            return
    raise SystemExit("profile_noc_lines.py: no object code in the cache file")


def _line_table(obj: Path, fn: str = "simulate") -> tuple[dict[int, int], int]:
    """Address offset -> kernel_lines.py line, and the size of the kernel function's code."""
    symbols = subprocess.run(["readelf", "-sW", str(obj)], capture_output=True, text=True, check=True).stdout
    size = max(int(m.group(1)) for m in re.finditer(r"^\s*\d+:\s+0+\s+(\d+)\s+FUNC\s+\S+\s+\S+\s+\S+\s+\S*"
                                                    + fn, symbols, re.M))
    dump = subprocess.run(["objdump", "-d", "-l", "--no-show-raw-insn", "-j", ".ltext", str(obj)],
                          capture_output=True, text=True, check=True).stdout
    table, line = {}, -1
    for text in dump.split("\n"):
        m = re.match(r"^/.*/(\w+)\.py:(\d+)", text)
        if m:
            line = int(m.group(2)) if m.group(1) == "kernel_lines" else -1
            continue
        m = re.match(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", text)
        if m:
            table[int(m.group(1), 16)] = line
    return table, size


def _costs(profile: Path, addr: int, size: int) -> collections.Counter:
    """Instructions executed at each offset of ``simulate`` (calls' inclusive costs left out)."""
    cost: collections.Counter = collections.Counter()
    last, calls = 0, False
    for text in profile.read_text().split("\n"):
        if text.startswith("calls="):
            calls = True
            continue
        if not text or text[0] not in "0123456789+-*":
            continue
        parts = text.split()
        a = parts[0]
        last = int(a, 16) if a.startswith("0x") else last + int(a[1:]) if a[0] == "+" else \
            last - int(a[1:]) if a[0] == "-" else last
        if calls:
            calls = False
            continue
        if addr <= last < addr + size:
            cost[last - addr] += int(parts[-1])
    return cost


def profile(rate: float, size: int, cycles: int, target: str = "general") -> dict:
    module, fn, anchors = TARGETS[target]
    with tempfile.TemporaryDirectory(prefix="axsim_noc_lines_") as tmp:
        where = Path(tmp)
        source = _copy(where, target)
        script = where / "case.py"
        script.write_text(CASE.format(root=str(ROOT), bench=str(ROOT / "benchmarks"), where=str(where), rate=rate,
                                      size=size, cycles=cycles, module=module, fn=fn, choice=target),
                          encoding="utf-8")
        env = {**os.environ, "NUMBA_CPU_NAME": "x86-64-v3", "NUMBA_CPU_FEATURES": "",
               "NUMBA_CACHE_DIR": str(where / "numba")}
        subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, check=True)
        out = where / "callgrind.out"
        run = subprocess.run(["valgrind", "--tool=callgrind", "--dump-instr=yes", f"--callgrind-out-file={out}",
                              sys.executable, str(script)], env=env, capture_output=True, text=True, check=True)
        hops = int(re.search(r"HOPS (\d+)", run.stdout).group(1))
        addr = int(re.search(r"ADDR (\d+)", run.stdout).group(1))
        _object(where / "numba", where / "simulate.o", fn)
        table, fsize = _line_table(where / "simulate.o", fn)
        cost = _costs(out, addr, fsize)
        dump = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-j", ".ltext", str(where / "simulate.o")],
                              capture_output=True, text=True, check=True).stdout
    kinds: collections.Counter = collections.Counter()
    for m in re.finditer(r"^\s+([0-9a-f]+):\s+(\S+)\s*(.*)$", dump, re.M):
        n = cost.get(int(m.group(1), 16), 0)
        op, args = m.group(2), m.group(3)
        kinds["reload from the stack" if op.startswith("mov") and re.match(r"-?0x[0-9a-f]*\(%rsp\),%", args) else
              "spill to the stack" if op.startswith("mov") and re.search(r",-?0x[0-9a-f]*\(%rsp\)$", args) else
              "other, with a stack operand" if "(%rsp)" in args else "jump" if op.startswith("j") else "other"] += n
    by_line: collections.Counter = collections.Counter()
    for off, n in cost.items():
        by_line[table.get(off, -1)] += n
    starts = []
    for name, anchor in anchors:
        hits = [i + 1 for i, text in enumerate(source) if (text + "\n").startswith(anchor) or text.startswith(anchor)]
        if len(hits) != 1:
            raise SystemExit(f"profile_noc_lines.py: anchor {anchor.strip()!r} found {len(hits)} times")
        starts.append((hits[0], name))
    parts: collections.Counter = collections.Counter()
    for line, n in by_line.items():
        owner = "(no line)" if line < 0 else "before the loop"
        for first, name in starts:
            if 0 <= first <= line:
                owner = name
        parts[owner] += n
    return {"hops": hops, "total": sum(cost.values()), "lines": by_line, "parts": parts, "kinds": kinds,
            "source": source}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rate", type=float, default=0.1)
    p.add_argument("--size", type=int, default=1)
    p.add_argument("--cycles", type=int, default=60105)
    p.add_argument("--lines", type=int, default=25, help="how many of the most expensive lines to list")
    p.add_argument("--kernel", choices=tuple(TARGETS), default="general",
                   help="the general kernel (kernel.py) or the unicast-only one (kernel_uni.py)")
    a = p.parse_args()
    r = profile(a.rate, a.size, a.cycles, a.kernel)
    hops, total = r["hops"], r["total"]
    print(f"8x8 mesh, uniform random, {a.rate} flits/node/cycle, {a.size}-flit packets: {total / hops:,.0f} "
          f"instructions per flit-hop in the kernel function ({hops:,} flit-hops)\n")
    print("per part of the cycle and of a router visit:")
    for name, n in sorted(r["parts"].items(), key=lambda x: -x[1]):
        print(f"  {n / hops:7.1f}  {name}")
    print("\nby kind:")
    for name, n in r["kinds"].most_common():
        print(f"  {100 * n / total:5.1f} %  {name}")
    print(f"\nthe {a.lines} most expensive lines of simulator/noc/{TARGETS[a.kernel][0]}.py:")
    for line, n in r["lines"].most_common(a.lines):
        text = r["source"][line - 1].strip()[:90] if line > 0 else "(no line)"
        print(f"  {n / hops:7.1f}  {line:4d}  {text}")


if __name__ == "__main__":
    main()
