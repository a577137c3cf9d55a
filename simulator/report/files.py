"""Writing a run folder.

- ``summary.json``: totals (``latency_cycles``, ``latency_ms``, ``energy_pj``,
  MACs, utilization), energy per component class, config hash, seed, version.
- ``layers.csv``: one row per layer: start and end cycle, latency in cycles
  and ms, energy by component class, MACs, utilization, bytes moved per level,
  and the error metrics of its multiplier when an approximation file is used;
  ``outputs_on_package`` (1: the outputs stayed in the global buffers, 0: written
  to DRAM, empty: DRAM dataflow or replayed trace) and ``spill_bytes`` (bytes of
  output written to DRAM because the global buffers had no room); ``mapping`` (the
  partition ``k<K parts>p<P parts>c<C parts>``), ``predicted_cycles`` and
  ``predicted_bound`` (the cost model's latency and its largest bound,
  :mod:`simulator.mapping.cost`; compare with ``latency_cycles``, the simulated one;
  empty for replayed traces written before these keys and for fused adds);
  ``first_cycle`` (the cycle the layer's first transaction started: before
  ``start_cycle`` when its weights were prefetched while the previous layer ran)
  and ``overlap_cycles`` (``start_cycle - first_cycle``). ``start_cycle`` is the
  previous layer's end, so ``latency_cycles = end_cycle - start_cycle`` are the
  cycles a layer adds to the run and they add up to the summary's latency (the
  last finish); a layer's actions, prefetched ones included, are in its own row.
  ``placement`` (where the layer's chiplets went: ``id`` row-major, a mesh symmetry,
  ``follow`` or ``aligned``, :mod:`simulator.mapping.placement`) and ``loop_order`` (the
  PE loop nest, ``ks``, ``kcs`` or ``ksc``, :attr:`simulator.mapping.tiling.Tiling.loop_order`).
- ``components.csv``: long format, one row per layer x component x action:
  count and energy. Leakage rows have ``component_class`` ``leakage`` (as in
  summary.json) and name the leaking component class in ``component``.
- ``links.csv``: per link of the NoP and of every chiplet NoC that carried data,
  and per DRAM channel (``network`` = ``dram``, from the channel to the chiplet
  it attaches to): bits carried, busy cycles, utilization, ``ber`` (flip
  probability per bit and traversal, mean over the bit positions) and
  ``expected_flips`` (of the tensor bits it carried over the run; empty when the
  exposure was not computed).
- ``flips.csv`` and ``exposure.npz`` (when the error exposure was computed):
  expected flips per layer, data structure and link or buffer; the exposure of
  every element group (format: :mod:`simulator.faults.exposure`).

Numbers. Floats are written with Python's ``repr`` (shortest text that reads
back to the same double), so nothing is lost. Totals are ``math.fsum`` sums
(correctly rounded, independent of order): summing components.csv's
``energy_pj`` per layer and class with ``math.fsum`` gives layers.csv's
``energy_pj_<class>`` exactly, and summing those over layers gives
summary.json's ``energy_pj_by_class`` exactly. Utilization is a fraction
(0..1, above 1 only for approximate MACs that complete several MACs per lane
and cycle) in every file.

Atomic folders. A run folder is first written under a temporary name beside
it and renamed when complete, so an interrupted write leaves no folder that
looks finished. An existing folder is refused unless ``overwrite`` is given,
in which case it is replaced as a whole (never mixed with the new files).
"""
from __future__ import annotations

import csv
import json
import os
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from simulator import __version__
from simulator.build import build_stamp
from simulator.errors import AxsimError
from simulator.results import RunResult, energy_class

METRIC_KEYS = ("mae", "mre", "wce", "ep")


def summary_dict(result: RunResult, extra: dict | None = None) -> dict:
    out = {
        "arch": result.arch,
        "workload": result.workload,
        "latency_cycles": result.latency_cycles,
        "latency_ms": result.latency_ms,
        "energy_pj": result.energy_pj,
        "macs": result.macs,
        "utilization": result.utilization,
        "clock_ghz": result.clock_ghz,
        "energy_pj_by_class": result.energy_by_class(),
        "layers": len(result.layers),
        "complete": result.complete,
        "events": result.events,
        "wall_seconds": round(result.wall_seconds, 3),
        "config_hash": result.config_hash,
        "hardware_hash": result.hardware_hash,
        "seed": result.seed,
        "expected_flips": result.expected_flips(),
        "exposure": ("exposure.npz" if result.exposure is not None
                     else "not needed: every error rate is zero" if result.error_free
                     else f"not computed: {result.exposure_note}" if result.exposure_note
                     else "not computed (nominal operating point or --exposure off; "
                          "expected_flips is null: use --exposure on)"),
        "version": __version__,
        "build": build_stamp(),
        "python": platform.python_version(),
    }
    if result.mac_metrics:
        out["mac_error_metrics_percent"] = result.mac_metrics
    return {**out, **(extra or {})}


def check_out_dir(out_dir: str | Path, overwrite: bool) -> Path:
    """Refuse an existing run folder unless ``overwrite`` (call before simulating)."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise AxsimError(f"{out}: exists and is not a folder; choose another --out")
    if out.exists() and not overwrite:
        raise AxsimError(f"{out}: the output folder exists; pass --overwrite to replace it as a whole, "
                         "or choose another --out")
    return out


def _num(value: float) -> str:
    return repr(float(value))


def write_run(result: RunResult, out_dir: str | Path, extra: dict | None = None, overwrite: bool = False,
              more: Callable[[Path], None] | None = None, arch=None, approx_file: str | None = None,
              plan=None, workload_file: str | None = None) -> Path:
    """Write the run folder atomically; ``more(tmp_dir)`` may add files (e.g. events.json); with
    ``arch``, also the run's resolved inputs and raw counts (:mod:`simulator.report.inputs`)."""
    out = check_out_dir(out_dir, overwrite)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a run folder is an ordinary folder
    except OSError as exc:
        raise AxsimError(f"{out}: cannot create the output folder: {exc}") from None
    if arch is not None:  # the swings and supplies the run was priced at
        from simulator.config.operating import describe
        extra = {**(extra or {}), "operating_point": describe(arch)}
    try:
        _write_files(result, tmp, extra)
        if arch is not None:  # the resolved inputs and raw counts (simulator.report.inputs)
            from simulator.report.inputs import write_inputs
            write_inputs(tmp, result, arch, approx_file, plan, workload_file)
        if more is not None:
            more(tmp)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _flag(value) -> str:
    """1/0 for a boolean, empty when unknown (the DRAM dataflow, replayed traces)."""
    return "" if value is None else str(int(bool(value)))


def _write_files(result: RunResult, out: Path, extra: dict | None) -> None:
    (out / "summary.json").write_text(json.dumps(summary_dict(result, extra), indent=2) + "\n")
    classes = sorted({k for layer in result.layers for k in layer.energy_by_class()})
    level_keys = list(result.layers[0].bytes_moved()) if result.layers else []
    metrics = result.mac_metrics
    ns_per_cycle = 1.0 / result.clock_ghz
    with (out / "layers.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["index", "layer", "kind", "mac_config", "start_cycle", "end_cycle", "latency_cycles",
                    "latency_ms", "macs", "utilization", "energy_pj", *[f"energy_pj_{c}" for c in classes],
                    *level_keys, "outputs_on_package", "spill_bytes",
                    "mapping", "predicted_cycles", "predicted_bound", "first_cycle", "overlap_cycles",
                    "placement", "loop_order",
                    *([f"mul_{k}_percent" for k in METRIC_KEYS] if metrics else [])])
        for layer in result.layers:
            by_class = layer.energy_by_class()
            util = layer.macs / (layer.latency_cycles * result.peak_macs_per_cycle) if layer.latency_cycles else 0
            moved = layer.bytes_moved()
            m = metrics.get(layer.mac_config) if metrics else None
            w.writerow([layer.index, layer.name, layer.kind, layer.mac_config, layer.start_cycle,
                        layer.end_cycle, layer.latency_cycles, _num(layer.latency_cycles * ns_per_cycle / 1e6),
                        layer.macs, _num(util), _num(layer.energy_pj),
                        *[_num(by_class.get(c, 0.0)) for c in classes],
                        *[_num(moved[k]) for k in level_keys],
                        _flag(layer.meta.get("outputs_resident")), layer.meta.get("spill_bytes", ""),
                        layer.meta.get("mapping", ""), layer.meta.get("predicted_cycles", ""),
                        layer.meta.get("predicted_bound", ""),
                        layer.start_cycle - layer.overlap_cycles, layer.overlap_cycles,
                        layer.meta.get("placement", ""), layer.meta.get("loop_order", ""),
                        *([(_num(m[k]) if m else "") for k in METRIC_KEYS] if metrics else [])])
    with (out / "components.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["layer", "component", "component_class", "action", "count", "energy_pj"])
        for layer in result.layers:
            for e in layer.energy:
                cls = energy_class(e)
                component = e.component_class if cls == "leakage" else e.component
                w.writerow([layer.name, component, cls, e.action, _num(e.count), _num(e.energy_pj)])
    with (out / "links.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["network", "from", "to", "bits", "busy_cycles", "utilization", "ber", "expected_flips",
                    "sampled_flips"])
        total = result.latency_cycles or 1
        for net, links in result.link_stats.items():
            for link in links:
                w.writerow([net, link["from"], link["to"], link["bits"], link["busy_cycles"],
                            _num(link["busy_cycles"] / total), _num(link.get("ber", 0.0)),
                            "" if link.get("expected_flips") is None else _num(link["expected_flips"]),
                            "" if link.get("sampled_flips") is None else link["sampled_flips"]])
    if result.exposure is not None:
        write_exposure_files(result.exposure, out)


def write_exposure_files(found, out: Path) -> None:
    """``flips.csv`` (expected flips per layer, data structure, link or buffer) and ``exposure.npz``."""
    from simulator.faults.exposure import write_exposure
    with (out / "flips.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["layer", "ds", "kind", "where", "from", "to", "bits", "expected_flips"])
        for row in found.rows:
            if row[-1]:
                w.writerow([*row[:-1], _num(row[-1])])
    write_exposure(out / "exposure.npz", found.data)
