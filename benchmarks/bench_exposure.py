"""Cost of data identity and error exposure on a full network.

    python benchmarks/bench_exposure.py [--arch arch/simba.yaml] [--workload workloads/resnet50.yaml]

Times, in CPU seconds of this process (``time.process_time``):

1. ``nominal``: ``api.simulate`` at the nominal operating point (every error rate
   zero: the exposure is skipped, only the traces carry identity);
2. ``exposed``: the same run with an error-rate stand-in that gives every NoP link
   p = 1e-5 on bits 0-3 and every PE weight-buffer read p = 1e-9 (every element
   group gets a journey, probabilities and expected flips);
3. writing ``exposure.npz`` and ``flips.csv`` of the exposed run (size in MB).

Goal: the nominal run within a small constant factor of the run without identity
(1.3 s of CPU before identity on an idle machine); the exposure an optional
extra of the same order as the run itself.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from simulator import api  # noqa: E402
from simulator.report.files import write_exposure_files  # noqa: E402


class LowSwingNoP:
    """Every NoP link: p = 1e-5 on bits 0-3; weight-buffer reads: p = 1e-9 on every bit."""

    _nop = np.array([1e-5] * 4 + [0.0] * 4)
    _read = np.full(8, 1e-9)
    _zero = np.zeros(8)

    def link(self, network, src, dst):
        return self._nop if network == "nop" else self._zero

    def sram_read(self, buffer, ds):
        return self._read if buffer == "weight_buffer" else self._zero

    def sram_stuck(self, buffer, ds):
        return self._zero


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--arch", default=str(ROOT / "arch/simba.yaml"))
    p.add_argument("--workload", default=str(ROOT / "workloads/resnet50.yaml"))
    args = p.parse_args()
    arch = api.load_arch(args.arch)
    workload = api.load_workload(args.workload)

    t0 = time.process_time()
    nominal = api.simulate(arch, workload, dataflow="dram", mapping="fixed")
    t1 = time.process_time()
    exposed = api.simulate(arch, workload, rates=LowSwingNoP(), dataflow="dram", mapping="fixed")
    t2 = time.process_time()
    with tempfile.TemporaryDirectory() as tmp:
        write_exposure_files(exposed.exposure, Path(tmp))
        t3 = time.process_time()
        size_mb = (Path(tmp) / "exposure.npz").stat().st_size / 1e6
    groups = len(exposed.exposure.data.group_layer)
    assert nominal.exposure is None and nominal.latency_cycles == exposed.latency_cycles
    print(f"{workload.name} on {arch.name}: {nominal.events:,} transactions")
    print(f"nominal (exposure skipped): {t1 - t0:6.2f} s CPU")
    print(f"exposed ({groups:,} element groups): {t2 - t1:6.2f} s CPU "
          f"(+{t2 - t1 - (t1 - t0):.2f} s for journeys and probabilities)")
    print(f"writing exposure.npz ({size_mb:.1f} MB) and flips.csv: {t3 - t2:6.2f} s CPU")
    print("expected flips:", {k: round(v, 2) for k, v in exposed.expected_flips().items()})


if __name__ == "__main__":
    main()
