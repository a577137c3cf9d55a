"""Bit errors for the int8 engine from simulated runs: a finished run folder, a fresh
simulation, or the journeys of one structural configuration priced at many operating points.

- :func:`load_run`: a run folder's exposure (``exposure.npz``), its approximation file
  (``inputs/approx.yaml``) and the workload with trained weights, checked against the
  workload the run simulated (``inputs/workload.yaml``).
- :func:`journeys_of` / :func:`exposure_at`: element journeys do not depend on the operating
  point (:mod:`simulator.faults.journeys`); only the per-journey probabilities and the stuck
  cells do (:mod:`simulator.faults.flips`). One walk of the traces serves every link swing and
  SRAM supply of the same hardware and mapping.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from simulator import api
from simulator.build import check_run_folder
from simulator.errors import AxsimError
from simulator.faults import flips
from simulator.faults.exposure import load_exposure
from simulator.faults.flips import ExposureData
from simulator.faults.journeys import Journeys
from simulator.faults.operating import error_rates


def journeys_of(arch, workload, plan=None) -> Journeys:
    """The element journeys of ``workload`` mapped on ``arch`` (no timing, no probabilities)."""
    j = Journeys(arch)
    for trace in api.generate_traces(arch, workload, plan):
        j.add_layer(trace)
    return j


def exposure_at(journeys: Journeys, arch, seed: int = 0) -> ExposureData:
    """The exposure of ``journeys`` at the operating points of ``arch`` (same hardware and mapping)."""
    return flips.compute(journeys, error_rates(arch), seed).data


def _signature(workload) -> list[tuple]:
    return [(ly.name, ly.kind, ly.in_channels, ly.in_h, ly.in_w, ly.out_channels, ly.out_h, ly.out_w,
             ly.kernel_h, ly.kernel_w, ly.stride_h, ly.stride_w, ly.groups) for ly in workload.layers]


@dataclass
class RunErrors:
    folder: Path
    workload: object          # with trained weights
    workload_file: str
    approx_file: str | None   # the run's own copy (inputs/approx.yaml)
    exposure: ExposureData
    seed: int
    run_build: str = ""        # the simulator build that wrote the run (simulator.build.short)
    mixed_builds: bool = False  # True when that is not this build (reused with accept_other_build)


def load_run(run_dir: str | Path, workload_file: str | None = None, accept_other_build: bool = False) -> RunErrors:
    """The bit errors of a finished run (clear errors for a folder that is not a run, a run
    without exposure, a run of another simulator build unless ``accept_other_build``, or a
    workload that is not the one the run simulated)."""
    folder = Path(run_dir)
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        raise AxsimError(f"{folder}: not a run folder (no summary.json); make one with axsim run --out DIR")
    try:
        summary = json.loads(summary_path.read_text())
    except (OSError, ValueError) as exc:
        raise AxsimError(f"{summary_path}: not readable: {exc}") from None
    builds = check_run_folder(folder, accept_other_build)
    if summary.get("complete") is False:
        raise AxsimError(f"{folder}: the run did not complete; its exposure covers only some layers")
    if not (folder / "exposure.npz").is_file():
        raise AxsimError(f"{folder}: the run has no error exposure (exposure.npz): it ran at the nominal "
                         "operating point, where the error rates are negligible, or replayed a trace without "
                         "data identity; simulate a low-power operating point (e.g. arch/simba_lowpower.yaml) "
                         "or run axsim accuracy --ber P (without --run) for a synthetic uniform bit-error rate")
    run_wl = folder / "inputs" / "workload.yaml"
    if not run_wl.is_file():
        raise AxsimError(f"{folder}: no inputs/workload.yaml (a run of a trace or of an older axsim): "
                         "the accuracy needs the network the run simulated")
    wl_file = workload_file or summary.get("workload_file")
    if not wl_file or not Path(wl_file).is_file():
        raise AxsimError(f"{folder}: the run's workload file {wl_file!r} is not found from here: give "
                         "--workload W (the same network, with its trained weights)")
    workload = api.load_workload(wl_file)
    simulated = api.load_workload(run_wl)
    if _signature(workload) != _signature(simulated):
        names = [ly.name for ly in simulated.layers]
        raise AxsimError(f"{wl_file}: not the workload of run {folder} (that run simulated "
                         f"{simulated.name!r}, layers {', '.join(names[:6])}{', ...' if len(names) > 6 else ''})")
    data = load_exposure(folder / "exposure.npz")
    missing = [ly.name for ly in workload.layers if ly.name not in data.layers]
    if missing:
        raise AxsimError(f"{folder}/exposure.npz: no exposure for layers {', '.join(missing)}")
    approx = folder / "inputs" / "approx.yaml"
    return RunErrors(folder, workload, str(wl_file), str(approx) if approx.is_file() else None, data,
                     int(summary.get("seed", 0)), builds["run_build"], builds["mixed_builds"])
