"""Where the flit-level kernel's work goes: event counts per simulated cycle and per flit-hop.

    python benchmarks/profile_noc.py [--rate 0.1] [--size 1] [--cycles 60105]
    python benchmarks/profile_noc.py --doc     # 1-flit and 4-flit packets at 0.1; rewrites the table

numba has no timers inside compiled code, so this script counts instead of timing: it compiles
a copy of ``simulator/noc/kernel.py`` with counters added after a few anchor lines (the copy
writes them into the ``done_list`` argument, which a one-shot run does not use), runs the
benchmark case of ``bench_noc.py`` through :func:`simulator.noc.router.run_packets` with the
copy in place of the general kernel (``kernel_choice="general"``), and checks that the copy's
results are those of the kernel ``run_packets`` picks (same arrival cycle of every packet) and
that it counted one switch grant per flit-hop. An anchor that no longer matches the kernel's
source stops the script with the anchor's text.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from simulator.noc import kernel  # noqa: E402
from simulator.noc.router import RouterConfig, run_packets  # noqa: E402

# (counter name, what it counts, anchor line in kernel.py after which the counter is incremented)
COUNTERS = (
    ("cycles", "stepped cycles (cycles in which something is due)", "    while True:\n"),
    ("visits", "router visits (a router with a flit, credit or stage due)", "                wake[r] = INF\n"),
    ("empty_visits", "visits to a router holding no flit", "                if rcount[r] == 0:\n"),
    ("vc_scans", "routed input VCs scanned in visits (VC-allocation and switch requests)",
     "                        m &= m - 1  # a routed VC\n"),
    ("vc_not_arrived", "scanned routed VCs whose next flit has not arrived yet",
     "                        if ft > now:  # its next flit is still on the link\n"),
    ("idle_scans", "idle input VCs scanned in visits (a head to route)", "                        m &= m - 1  # an idle VC\n"),
    ("idle_not_arrived", "scanned idle VCs whose head flit has not arrived yet",
     "                        if ft > now:  # the head is still on the link\n"),
    ("va_one", "VC allocations with one request (written out)", "                    if nr == 1:\n"),
    ("va_several", "VC allocations with several requests (iSLIP call)", "                    else:  # several requests\n"),
    ("sa_requests", "visits with a switch request", "                if inm != 0:  # a switch request\n"),
    ("sa_several", "switch allocations with several inputs (iSLIP)", "                    else:  # several requesting inputs\n"),
    ("grants", "flits granted the switch (= flit-hops)",
     "                    v = _rr_pick(elig[_u(ip * P + o)], sa_vptr[_u(r), _u(ip)])\n"),
    ("sa_lost", "inputs that lost the switch", "                    if o < 0:  # lost the switch: try again next cycle\n"),
)


def _indent(anchor: str) -> str:
    line = anchor.rstrip("\n")
    extra = 4 if line.split("#")[0].rstrip().endswith(":") else 0
    return " " * (len(line) - len(line.lstrip()) + extra)


def counting_kernel():
    """The kernel's copy with counters (compiled at its first call)."""
    src = (ROOT / "simulator" / "noc" / "kernel.py").read_text(encoding="utf-8")
    anchor0 = "    refill = False\n"
    todo = [(anchor0, "    _prof = done_list\n")]
    todo += [(a, f"{_indent(a)}_prof[{i}] += 1\n") for i, (_, _, a) in enumerate(COUNTERS)]
    for anchor, code in todo:
        if src.count(anchor) != 1:
            raise SystemExit(f"profile_noc.py: anchor {anchor.strip()!r} occurs {src.count(anchor)} times in "
                             "simulator/noc/kernel.py (needs exactly 1); update COUNTERS")
        src = src.replace(anchor, anchor + code)
    marker = "@cached_njit(_nrt=False, "
    if src.count(marker) != 1:
        raise SystemExit(f"profile_noc.py: {marker!r} not found once in simulator/noc/kernel.py")
    src = src.replace(marker, "@numba.njit(cache=False, _nrt=False, ")  # compiled anew in each process (seconds)
    src = src.replace("from __future__ import annotations\n", "from __future__ import annotations\n\nimport numba\n", 1)
    with tempfile.TemporaryDirectory(prefix="axsim_profile_noc_") as where:
        path = Path(where) / "kernel_counting.py"
        path.write_text(src, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("kernel_counting", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    return mod.simulate


def profile(k: int, rate: float, size: int, cycles: int) -> dict:
    from bench_noc import workload
    cfg = RouterConfig()
    src, dst, size_, ctime = workload(k, rate, size, cycles)
    ref = run_packets(k, k, cfg, src, dst, size_, ctime)
    counts = np.zeros(len(COUNTERS), np.int64)
    counting = counting_kernel()

    def simulate(*args):
        return counting(*args[:-1], counts)

    plain = kernel.simulate
    kernel.simulate = simulate
    try:  # the general kernel (these unicast cases would otherwise run the unicast-only one)
        run = run_packets(k, k, cfg, src, dst, size_, ctime, kernel_choice="general")
    finally:
        kernel.simulate = plain
    hops = int(run.link_flits.sum())
    if not np.array_equal(run.atime, ref.atime) or run.end_cycle != ref.end_cycle:
        raise SystemExit("profile_noc.py: the counting copy's results differ from the kernel's")
    c = dict(zip((n for n, _, _ in COUNTERS), (int(x) for x in counts)))
    if c["grants"] != hops:
        raise SystemExit(f"profile_noc.py: {c['grants']} switch grants counted for {hops} flit-hops")
    return {"k": k, "rate": rate, "size": size, "hops": hops, "counts": c}


def table(m: dict) -> list[str]:
    c = m["counts"]
    lines = [f"| {m['size']}-flit packets at {m['rate']} flits/node/cycle | total | per stepped cycle | per flit-hop |",
             "|---|---|---|---|"]
    for name, what, _ in COUNTERS:
        lines.append(f"| {what} | {c[name]:,} | {c[name] / c['cycles']:.2f} | {c[name] / m['hops']:.3f} |")
    return lines


def main() -> None:
    from bench_noc import case_args
    p = case_args(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    p.add_argument("--doc", action="store_true", help="1- and 4-flit packets at 0.1; rewrite docs/performance.md")
    a = p.parse_args()
    cases = [(1, 0.1), (4, 0.1)] if a.doc else [(a.size, a.rate)]
    lines = [f"Counted by `python benchmarks/profile_noc.py --doc` ({a.k} × {a.k} mesh, reference router, "
             f"uniform random, {a.cycles:,} cycles; 64 routers; a flit-hop is one router traversal):", ""]
    for size, rate in cases:
        m = profile(a.k, rate, size, a.cycles)
        block = table(m)
        print("\n".join(block) + "\n")
        lines += block + [""]
    if a.doc:
        from doc_blocks import DOCS, replace_block
        replace_block(DOCS / "performance.md", "profile-noc", "\n".join(lines))


if __name__ == "__main__":
    main()
