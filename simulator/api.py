"""Typed entry points: load inputs, generate layer traces, simulate, price.

    from simulator import api
    arch = api.load_arch("arch/simba.yaml")
    workload = api.load_workload("workloads/resnet50.yaml")
    result = api.simulate(arch, workload)
    print(result.latency_ms, result.energy_pj)
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from typing import Callable, Iterable

from simulator import __version__
from simulator.build import build_stamp, check_run_folder, short
from simulator.config import Arch, config_hash, load_arch
from simulator.config.identity import hardware_hash
from simulator.energy.operating import OperatingScales
from simulator.energy.price import price_layer
from simulator.energy.reprice import Priced, RunCounts
from simulator.engine.replay import Replayer
from simulator.faults import flips
from simulator.faults.journeys import NO_IDENTITY, Journeys, NoIdentity
from simulator.faults.operating import error_rates
from simulator.faults.rates import ErrorRates
from simulator.errors import AxsimError
from simulator.hw.package import Package
from simulator.hw.mac import MacPlan
from simulator.macs.timing import exact_model
from simulator.mapping.onpackage import FusedAdd
from simulator.mapping.prefetch import Prefetch
from simulator.mapping.residency import Residency
from simulator.mapping.trace import LayerTrace
from simulator.mapping.search import MAPPINGS
from simulator.mapping.weight_stationary import WeightStationaryMapper
from simulator.results import LayerResult, RunResult
from simulator.stats.counters import Counters
from simulator.workload import Workload, load_workload

__all__ = ["load_arch", "load_workload", "generate_traces", "simulate", "reprice", "reprice_many",
           "with_operating_point", "MacPlan", "DATAFLOWS", "MAPPINGS"]

Progress = Callable[[int, int, str], None]


DATAFLOWS = ("resident", "dram")


def generate_traces(arch: Arch, workload: Workload, plan: MacPlan | None = None,
                    dataflow: str = "resident", weight_ratio: dict[str, float] | None = None,
                    mapping: str = "search", prefetch: bool | None = None) -> Iterable[LayerTrace]:
    """Layer traces of the workload under the weight-stationary mapping (lazily, one per layer).

    ``dataflow``: ``"dram"``, every layer reads its inputs from DRAM and writes its outputs to
    DRAM; ``"resident"``, outputs stay in the global buffers when they fit and the next layers
    read them over the NoP (:mod:`simulator.mapping.residency`), and a residual add that directly
    follows the producer of one of its operands is fused into that producer's write-back
    (:mod:`simulator.mapping.onpackage`); its own trace is then empty.
    ``weight_ratio``: compression ratio of the stored weights per layer name (default 1): the
    mapper moves and stores ``weight_bits / 8 / ratio`` bytes per weight (docs/compression.md).
    ``mapping``: ``"fixed"`` (K, then P, then C across the PEs) or ``"search"`` (the partition with
    the lowest predicted latency per layer, :mod:`simulator.mapping.search`).
    ``prefetch``: the next layer's first weight tiles load while the current layer computes, where
    the buffers have room (:mod:`simulator.mapping.prefetch`); on-package dataflow only. None (the
    default): on for ``"resident"``, off for ``"dram"``; True with ``"dram"`` is an error.
    The defaults are those of ``axsim run`` and ``make run``."""
    if dataflow not in DATAFLOWS:
        raise AxsimError(f"dataflow {dataflow!r}: must be one of {', '.join(DATAFLOWS)}")
    if mapping not in MAPPINGS:
        raise AxsimError(f"mapping {mapping!r}: must be one of {', '.join(MAPPINGS)}")
    prefetch = _prefetch(dataflow, prefetch)
    plan = plan or MacPlan(exact_model(arch.chiplet.pe))
    mapper = WeightStationaryMapper(arch)
    residency = Residency(arch, workload) if dataflow == "resident" else None
    if prefetch:
        mapper.prefetch = Prefetch(arch, residency)
    fused: dict[str, str] = {}  # add layer -> the layer it was fused into
    ratios = weight_ratio or {}
    for i, layer in enumerate(workload.layers):
        if layer.name in fused:  # its work and traffic are in the trace of the layer it was fused into
            trace = LayerTrace(layer.name, layer.kind, layer.macs * workload.batch,
                               meta={"mac": "none", "dataflow": dataflow, "fused_into": fused[layer.name],
                                     "batch": workload.batch})
            residency.done(layer)
            yield trace
            continue
        fuse = _fusable(residency, workload, i)
        if fuse is not None:
            fused[fuse.layer.name] = layer.name
        model = plan.model_for(layer.name)
        wbytes = model.weight_bits / 8 / ratios.get(layer.name, 1.0)
        trace = mapper.map(layer, model.name, wbytes, model.input_bits / 8, workload.batch,
                           residency=residency, fuse=fuse, mapping=mapping, lane_factor=model.lane_factor)
        if layer.name in ratios:
            trace.meta["weight_compression_ratio"] = ratios[layer.name]
        if residency is not None:
            residency.done(layer)
        if not layer.is_compute:  # pooling, add: no multiplier; the config only sets stored bits
            trace.meta["mac"] = "none"
        yield trace


def _prefetch(dataflow: str, prefetch: bool | None) -> bool:
    if prefetch is None:
        return dataflow == "resident"
    if prefetch and dataflow != "resident":
        raise AxsimError(f"prefetch=True: weight prefetch across layers needs the on-package dataflow "
                         f"(dataflow='resident'), not {dataflow!r}")
    return bool(prefetch)


def _fusable(residency: Residency | None, workload: Workload, i: int) -> FusedAdd | None:
    """The residual add that layer ``i`` can take over (on-package dataflow only): the next layer,
    an add of layer ``i``'s output (its only consumer) and another, earlier tensor."""
    layers = workload.layers
    if residency is None or i + 1 >= len(layers) or layers[i + 1].kind != "add" or layers[i].kind == "concat":
        return None
    layer, add = layers[i], layers[i + 1]
    prods = residency.producers[add.name]
    if len(prods) != 2 or prods.count(layer.name) != 1 or residency.consumers.get(layer.name) != [add.name]:
        return None
    other = 1 - prods.index(layer.name)
    return FusedAdd(add, other, residency.live.get(prods[other]))


def simulate(arch: Arch, workload: Workload | None = None, *, traces: Iterable[LayerTrace] | None = None,
             plan: MacPlan | None = None, seed: int = 0, progress: Progress | None = None,
             on_txn: Callable | None = None, workload_name: str | None = None,
             rates: ErrorRates | None = None, exposure: bool | None = None,
             dataflow: str = "resident", network_model: dict[str, str] | None = None,
             mapping: str = "search", prefetch: bool | None = None) -> RunResult:
    """Simulate ``workload`` (or replay ``traces``) on ``arch``; energy is priced per layer.

    ``workload_name`` names a replayed workload (default: the trace header's, else "trace").
    ``seed`` is recorded in the result and its config hash; the timing and energy models draw
    no random numbers; the error exposure draws the stuck-at maps of the buffers from it.
    ``rates``: the per-bit error rates of links and SRAM (default: those of the architecture's
    operating points). ``exposure``: compute the error exposure of every element group (True),
    skip it (False), or (None, the default) compute it unless every rate is zero or the rates are
    the architecture's own at its nominal operating point (where the shipped tables give a BER
    of about 1e-12: a run that does not study errors need not pay for them).
    ``dataflow``, ``mapping``, ``prefetch``: see :func:`generate_traces` (the defaults are those of
    ``axsim run``: on-package dataflow, searched mappings, weight prefetch).
    ``network_model``: ``{"nop": m, "noc": m}`` with m = "transaction" (default, link calendars),
    "transaction-ports" (plus the interfaces' injection and ejection ports), "flit"
    (virtual-channel routers, closed loop, multicast replicated in the routers) or "flit-unicast"
    (multicast as repeated unicast; see :mod:`simulator.hw.network`); a choice other than the
    default enters the config hash. Flit-level networks draw bit flips per flit traversal when the
    exposure is computed (``link_stats``: ``sampled_flips``).

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
    models = {"nop": "transaction", "noc": "transaction", **(network_model or {})}
    package = Package(arch, counters, plan.models(), models)
    hashed_models = [models] if set(models.values()) != {"transaction"} else []  # transaction runs keep their hash
    replayer = Replayer(package, arch.max_cycles)
    replayer.on_txn = on_txn
    prefetch = _prefetch(dataflow, prefetch)
    source = (generate_traces(arch, workload, plan, dataflow, mapping=mapping, prefetch=prefetch)
              if workload is not None else traces)
    total = len(workload.layers) if workload is not None else None
    instances = package.instances()
    scales = OperatingScales.from_arch(arch)
    layers: list[LayerResult] = []
    own_rates = rates is None
    rates = error_rates(arch) if own_rates else rates
    error_free = flips.is_zero(rates, arch)
    forced = exposure is True
    if exposure is None:
        exposure = not error_free and not (own_rates and flips.at_nominal(arch))
    journeys = Journeys(arch) if exposure else None
    if exposure:
        package.enable_flit_flips(rates, seed)  # flit-level networks draw flips per traversal
    skipped = ""  # why an exposure that was due was not computed

    def result(complete: bool) -> RunResult:
        wl_name = workload.name if workload is not None else (workload_name or "trace")
        # the DRAM dataflow keeps the hash it had before the dataflow was a choice
        flow = [dataflow] if workload is not None and dataflow != "dram" else []
        flow += [f"mapping={mapping}"] if workload is not None and mapping != "fixed" else []
        flow += ["prefetch"] if workload is not None and prefetch else []
        digest = config_hash(arch, tech, wl_name, plan.describe(), seed, __version__, *flow, *hashed_models)
        used = {layer.mac_config for layer in layers}
        metrics = {k: v for k, v in plan.metrics.items() if k in used}
        found = flips.compute(journeys, rates, seed) if journeys is not None and complete else None
        return RunResult(arch.name, wl_name, arch.clock_ghz, arch.peak_macs_per_cycle, seed, digest, layers,
                         replayer.events, time.perf_counter() - started,
                         link_stats=_link_stats(package, rates, found), complete=complete, exposure=found,
                         error_free=error_free, exposure_note=skipped,
                         instances=instances, hardware_hash=hardware_hash(arch), mac_metrics=metrics)

    def announced(traces: Iterable[LayerTrace]) -> Iterable[LayerTrace]:
        for index, trace in enumerate(traces):  # read one layer ahead of the replay (prefetch)
            if progress:
                progress(index, total or 0, trace.layer)
            yield trace

    try:
        for index, (trace, timing) in enumerate(replayer.replay(announced(source))):
            if journeys is not None:
                try:
                    journeys.add_layer(trace)
                except NoIdentity:
                    if forced:
                        raise
                    journeys, skipped = None, NO_IDENTITY  # replays without exposure
            # the layer's own actions (a prefetch counts under its layer, whenever it ran); leakage
            # over the cycles the layer adds to the run, so that the rows add up to the total
            scope = timing.scope
            link_bits, sram_bits = package.take_link_bits(scope), counters.take_sram(scope)
            energy = price_layer(counters.take(scope), tech, timing.latency_cycles, arch.clock_ghz, instances,
                                 op=scales, link_bits=link_bits, sram_bits=sram_bits)
            layers.append(LayerResult(index, trace.layer, trace.kind, trace.macs, timing.start_cycle,
                                      timing.latency_cycles, timing.events, trace.meta.get("mac", "exact"),
                                      energy, trace.meta, link_bits=link_bits, sram_bits=sram_bits,
                                      first_cycle=timing.start_cycle - timing.overlap_cycles))
    except (AxsimError, KeyboardInterrupt) as exc:
        exc.partial_result = result(complete=False)  # type: ignore[attr-defined]  # the layers that finished
        raise
    if progress:
        progress(len(layers), len(layers), "")
    return result(complete=True)


def with_operating_point(arch: Arch, edits: dict) -> Arch:
    """A copy of ``arch`` with architecture-file keys changed (dotted paths, e.g.
    ``{"package.nop.swing_v": 0.5, "chiplet.pe.weight_buffer.vdd_v": 0.6}``), validated
    like a loaded file against the same technology table."""
    from simulator.config.loader import cross_check
    from simulator.config.operating import check_values
    from simulator.config.validation import validate_model
    from simulator.errors import InputError
    data = arch.model_dump(mode="json", by_alias=True, exclude={"tech_table", "source"})
    for path, value in edits.items():
        node = data
        keys = path.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    where = arch.source or arch.name
    new = validate_model(Arch, data, where)
    problems = cross_check(new) + check_values(new, arch.tech_table, arch.tech)
    if problems:
        raise InputError(where, problems)
    return new.model_copy(update={"tech_table": arch.tech_table, "source": arch.source})


def reprice(run_dir: str, arch: Arch, accept_other_build: bool = False) -> dict:
    """Energy of the run in ``run_dir`` at ``arch``'s operating points (same hardware, no re-simulation):
    ``{"energy_pj", "energy_pj_by_class", "layers": [{"layer", "energy_pj"}], "run_build",
    "pricing_build", "mixed_builds"}``. The run must come from this simulator build
    (:func:`simulator.build.check_run_folder`) unless ``accept_other_build``."""
    builds: dict = {}
    priced = reprice_many(run_dir, [arch], accept_other_build, builds)
    return {"energy_pj": float(priced.energy_pj[0]),
            "energy_pj_by_class": {c: float(v[0]) for c, v in priced.energy_pj_by_class.items()},
            "layers": [{"layer": n, "energy_pj": float(e)}
                       for n, e in zip(priced.layer_names, priced.layer_energy_pj[0])],
            "run_build": builds["run_build"], "pricing_build": short(build_stamp()),
            "mixed_builds": builds["mixed_builds"]}


def reprice_many(run_dir: str, archs: list[Arch], accept_other_build: bool = False,
                 builds: dict | None = None) -> Priced:
    """Energy of a finished run at many operating points at once (arrays over the points). The run
    folder's build is checked as in :func:`reprice` (and its result stored in ``builds`` if given)."""
    counts = RunCounts.load(run_dir)
    folder = Path(run_dir)
    found = check_run_folder(folder if folder.is_dir() else folder.parent, accept_other_build)
    if builds is not None:
        builds.update(found)
    return counts.price(archs)


def _link_stats(package: Package, rates: ErrorRates, found: flips.Flips | None) -> dict:
    """Per-link statistics of the NoP, of every chiplet NoC that carried data, and per DRAM channel:
    bits, busy cycles, BER (mean flip probability per bit and traversal over the bit positions),
    expected flips of the tensor bits it carried (when the exposure was computed) and, on a
    flit-level network with the exposure computed, the flips drawn per flit traversal."""
    expected = found.links if found is not None else {}
    sampled = package.sampled_flips()

    def rows(mesh):
        return [{"from": "{},{}".format(*a), "to": "{},{}".format(*b), "bits": bits, "busy_cycles": busy,
                 "ber": float(np.mean(rates.link(mesh.name, a, b))),
                 "expected_flips": expected.get((mesh.name, a, b), (0.0, 0.0))[1] if found else None,
                 "sampled_flips": (int(sampled.get((mesh.name, a, b), np.zeros(1)).sum())
                                   if sampled is not None and package.flit_level(mesh.name) else None)}
                for (a, b), bits, busy in zip(mesh.links, package.link_totals(mesh).tolist(), mesh.link_busy)]
    out = {"nop": rows(package.nop)}
    for chip in package.chiplets.values():
        if package.link_totals(chip.noc).any():
            out[chip.noc.name] = rows(chip.noc)
    attach = package.arch.dram_attach()
    out["dram"] = [{"from": port.name.split(".")[-1], "to": "{},{}".format(*attach[i]),
                    "bits": package.dram_bits[i], "busy_cycles": port.busy_cycles, "ber": 0.0,
                    "expected_flips": 0.0 if found else None}
                   for i, port in enumerate(package.dram)]
    return out
