"""Accuracy of each Ax-BxP configuration on the digits network beside its energy gain.

For the configurations of the Ax-BxP study (docs/axbxp-study.md; 2-bit blocks, 8-bit
operands) applied to every layer of ``workloads/digits_cnn.yaml`` (or to every layer but
the first and last): int8 test accuracy on ``datasets/digits.npz`` through the functional
kernels, and the energy and latency of the same network simulated on
``arch/simba_axbxp.yaml`` relative to the exact BxP MAC, and where the exact run's energy
goes. Deterministic (no bit errors).

    .venv/bin/python benchmarks/accuracy_axbxp.py            # print the tables
    .venv/bin/python benchmarks/accuracy_axbxp.py --write    # also into docs/axbxp-study.md
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import api  # noqa: E402
from simulator.accuracy.evaluate import accuracy  # noqa: E402
from simulator.accuracy.engine import infer, quantize_input  # noqa: E402
from simulator.accuracy.model import load_weights  # noqa: E402
from simulator.approx import blocked as B  # noqa: E402
from simulator.hw.mac import MacPlan  # noqa: E402
from simulator.macs import EXACT, MacConfig  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from doc_blocks import replace_block  # noqa: E402
from study_axbxp import SHARE_HEADER, fmt_row, share_row  # noqa: E402

PAGE = ROOT / "docs" / "axbxp-study.md"
BLOCK = "axbxp-accuracy"

CONFIGS = [
    ("static msb [3,3]", B.static_msb(3, 3), False),
    ("static msb [2,2]", B.static_msb(2, 2), False),
    ("static top 10", B.static_top(10), False),
    ("static top 6", B.static_top(6), False),
    ("dynamic keep 3/3", B.dynamic(3, 3), False),
    ("dynamic keep 2/2", B.dynamic(2, 2), False),
    ("dynamic keep 2/2 + exact ends", B.dynamic(2, 2), True),
    ("mixed: activations dynamic 2, weights msb 3", B.mixed(keep_a=2, msb_w=3), False),
]


def table() -> str:
    """The block: a line on the exact run, the accuracy/energy table, the exact run's energy shares."""
    arch = api.load_arch(ROOT / "arch" / "simba_axbxp.yaml")
    wl = api.load_workload(ROOT / "workloads" / "digits_cnn.yaml")
    model = load_weights(wl)
    data = np.load(ROOT / "datasets" / "digits.npz")
    x = quantize_input(model, data["x"].astype(np.float32))
    y = data["y"]
    pe = arch.chiplet.pe
    names = [layer.name for layer in wl.layers]
    base = api.simulate(arch, wl, dataflow="dram", mapping="fixed")
    exact_acc = accuracy(infer(model, x), y)
    out = [f"digits_cnn on {arch.name}: {len(y)} test images, {base.macs:,} MACs; exact BxP: "
           f"{base.energy_pj / 1e3:.1f} nJ, {base.latency_ms * 1e3:.3f} us, int8 accuracy {100 * exact_acc:.2f}%",
           "",
           "| configuration | accuracy % | loss (points) | energy (nJ) | E ratio | perf ratio |",
           "| --- | --- | --- | --- | --- | --- |"]
    for label, block, ends in CONFIGS:
        cfg = MacConfig(block.name, "axbxp", block=block)
        macs = {n: (EXACT if ends and n in (names[0], names[-1]) else cfg) for n in names}
        acc = accuracy(infer(model, x, macs), y)
        exact_model = EXACT.timing(pe)
        plan = MacPlan(cfg.timing(pe), {n: exact_model for n in (names[0], names[-1])} if ends else {}, label)
        run = api.simulate(arch, wl, plan=plan, dataflow="dram", mapping="fixed")
        out.append(f"| {label} | {100 * acc:.2f} | {100 * (exact_acc - acc):+.2f} | {run.energy_pj / 1e3:.1f} | "
                   f"{base.energy_pj / run.energy_pj:.3f} | {base.latency_ms / run.latency_ms:.3f} |")
    out += ["", "Energy of the exact BxP run by component class, and MAC utilization:", "",
            fmt_row(SHARE_HEADER), fmt_row(["---"] * len(SHARE_HEADER)), share_row("digits_cnn", base)]
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write the tables into {PAGE.relative_to(ROOT)}")
    args = ap.parse_args()
    text = table()
    print(text, end="")
    if args.write:
        replace_block(PAGE, BLOCK, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
