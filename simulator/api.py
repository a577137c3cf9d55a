"""Typed entry points: load inputs, generate layer traces, simulate, price.

    from simulator import api
    arch = api.load_arch("arch/simba.yaml")
    workload = api.load_workload("workloads/resnet50.yaml")
    result = api.simulate(arch, workload)
    print(result.latency_ms, result.energy_pj)
"""
from __future__ import annotations

import time
from typing import Callable, Iterable

from simulator import __version__
from simulator.config import Arch, config_hash, load_arch
from simulator.energy.price import price_layer
from simulator.engine.replay import Replayer
from simulator.errors import AxsimError
from simulator.hw.package import Package
from simulator.hw.mac import MacPlan
from simulator.macs.timing import exact_model
from simulator.mapping.trace import LayerTrace
from simulator.mapping.weight_stationary import WeightStationaryMapper
from simulator.results import LayerResult, RunResult
from simulator.stats.counters import Counters
from simulator.workload import Workload, load_workload

__all__ = ["load_arch", "load_workload", "generate_traces", "simulate", "MacPlan"]

Progress = Callable[[int, int, str], None]


def generate_traces(arch: Arch, workload: Workload, plan: MacPlan | None = None) -> Iterable[LayerTrace]:
    """Layer traces of the workload under the weight-stationary mapping (lazily, one per layer)."""
    plan = plan or MacPlan(exact_model(arch.chiplet.pe))
    mapper = WeightStationaryMapper(arch)
    for layer in workload.layers:
        model = plan.model_for(layer.name)
        trace = mapper.map(layer, model.name, model.weight_bits / 8, model.input_bits / 8, workload.batch)
        yield trace


def simulate(arch: Arch, workload: Workload | None = None, *, traces: Iterable[LayerTrace] | None = None,
             plan: MacPlan | None = None, seed: int = 0, progress: Progress | None = None,
             on_txn: Callable | None = None) -> RunResult:
    """Simulate ``workload`` (or replay ``traces``) on ``arch``; energy is priced per layer.

    If a layer fails (an AxsimError such as the watchdog) or the run is interrupted, the
    exception carries the layers that finished as ``exc.partial_result`` (``complete=False``).
    """
    if (workload is None) == (traces is None):
        raise AxsimError("simulate needs exactly one of: a workload, or traces to replay")
    plan = plan or MacPlan(exact_model(arch.chiplet.pe))
    tech = arch.tech_table
    if tech is None:
        raise AxsimError(f"architecture {arch.name!r} has no technology table loaded; use load_arch()")
    started = time.perf_counter()
    counters = Counters()
    package = Package(arch, counters, plan.models())
    replayer = Replayer(package, arch.max_cycles)
    replayer.on_txn = on_txn
    source = generate_traces(arch, workload, plan) if workload is not None else traces
    total = len(workload.layers) if workload is not None else None
    instances = package.instances()
    layers: list[LayerResult] = []

    def result(complete: bool) -> RunResult:
        wl_name = workload.name if workload is not None else "trace"
        digest = config_hash(arch, tech, wl_name, plan.describe(), seed, __version__)
        return RunResult(arch.name, wl_name, arch.clock_ghz, arch.peak_macs_per_cycle, seed, digest, layers,
                         replayer.events, time.perf_counter() - started,
                         link_stats=_link_stats(package), complete=complete)

    try:
        for index, trace in enumerate(source):
            if progress:
                progress(index, total or 0, trace.layer)
            timing = replayer.run_layer(trace)
            energy = price_layer(counters.take(), tech, timing.latency_cycles, arch.clock_ghz, instances)
            layers.append(LayerResult(index, trace.layer, trace.kind, trace.macs, timing.start_cycle,
                                      timing.latency_cycles, timing.events, trace.meta.get("mac", "exact"),
                                      energy, trace.meta))
    except (AxsimError, KeyboardInterrupt) as exc:
        exc.partial_result = result(complete=False)  # type: ignore[attr-defined]  # the layers that finished
        raise
    if progress:
        progress(len(layers), len(layers), "")
    return result(complete=True)


def _link_stats(package: Package) -> dict:
    """Per-link statistics of the NoP, of every chiplet NoC that carried data, and per DRAM channel."""
    def rows(mesh):
        return [{"from": "{},{}".format(*a), "to": "{},{}".format(*b), "bits": bits, "busy_cycles": busy}
                for (a, b), bits, busy in zip(mesh.links, mesh.link_bits, mesh.link_busy)]
    out = {"nop": rows(package.nop)}
    for chip in package.chiplets.values():
        if any(chip.noc.link_bits):
            out[chip.noc.name] = rows(chip.noc)
    attach = package.arch.dram_attach()
    out["dram"] = [{"from": port.name.split(".")[-1], "to": "{},{}".format(*attach[i]),
                    "bits": package.dram_bits[i], "busy_cycles": port.busy_cycles}
                   for i, port in enumerate(package.dram)]
    return out
