"""Writing a run folder.

- ``summary.json``: totals (``latency_cycles``, ``latency_ms``, ``energy_pj``,
  MACs, utilization), energy per component class, config hash, seed, version.
- ``layers.csv``: one row per layer: latency, energy by component class,
  MACs, bytes moved per level.
- ``components.csv``: long format, one row per layer x component instance x
  action: count and energy.
- ``links.csv``: per link of the NoP and of every chiplet NoC that carried data,
  and per DRAM channel (``network`` = ``dram``, from the channel to the chiplet
  it attaches to): bits carried, busy cycles, utilization, ``ber`` (flip
  probability per bit and traversal, mean over the bit positions) and
  ``expected_flips`` (of the tensor bits it carried over the run; empty when the
  exposure was not computed).
- ``flips.csv`` and ``exposure.npz`` (when the error exposure was computed):
  expected flips per layer, data structure and link or buffer; the exposure of
  every element group (format: :mod:`simulator.faults.exposure`).
"""
from __future__ import annotations

import csv
import json
import platform
from pathlib import Path

from simulator import __version__
from simulator.errors import AxsimError
from simulator.results import RunResult


def summary_dict(result: RunResult, extra: dict | None = None) -> dict:
    return {
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
        "python": platform.python_version(),
        **(extra or {}),
    }


def write_run(result: RunResult, out_dir: str | Path, extra: dict | None = None, arch=None,
              approx_file: str | None = None, plan=None, workload_file: str | None = None) -> Path:
    """Write the run folder; with ``arch``, also its resolved inputs and raw counts
    (:mod:`simulator.report.inputs`)."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AxsimError(f"{out}: cannot create the output folder: {exc}") from None
    if arch is not None:  # the swings and supplies the run was priced at
        from simulator.config.operating import describe
        extra = {**(extra or {}), "operating_point": describe(arch)}
    (out / "summary.json").write_text(json.dumps(summary_dict(result, extra), indent=2) + "\n")
    classes = sorted({k for layer in result.layers for k in layer.energy_by_class()})
    level_keys = list(result.layers[0].bytes_moved()) if result.layers else []
    with (out / "layers.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["index", "layer", "kind", "mac_config", "start_cycle", "latency_cycles", "macs",
                    "utilization", "energy_pj", *[f"energy_pj_{c}" for c in classes], *level_keys])
        for layer in result.layers:
            by_class = layer.energy_by_class()
            util = layer.macs / (layer.latency_cycles * result.peak_macs_per_cycle) if layer.latency_cycles else 0
            moved = layer.bytes_moved()
            w.writerow([layer.index, layer.name, layer.kind, layer.mac_config, layer.start_cycle,
                        layer.latency_cycles, layer.macs, f"{util:.6f}", f"{layer.energy_pj:.3f}",
                        *[f"{by_class.get(c, 0.0):.3f}" for c in classes],
                        *[f"{moved[k]:.0f}" for k in level_keys]])
    with (out / "components.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["layer", "component", "component_class", "action", "count", "energy_pj"])
        for layer in result.layers:
            for e in layer.energy:
                w.writerow([layer.name, e.component, e.component_class, e.action, f"{e.count:.6g}",
                            f"{e.energy_pj:.6g}"])
    with (out / "links.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["network", "from", "to", "bits", "busy_cycles", "utilization", "ber", "expected_flips"])
        total = result.latency_cycles or 1
        for net, links in result.link_stats.items():
            for link in links:
                w.writerow([net, link["from"], link["to"], link["bits"], link["busy_cycles"],
                            f"{link['busy_cycles'] / total:.6f}", f"{link.get('ber', 0.0):.6g}",
                            "" if link.get("expected_flips") is None else f"{link['expected_flips']:.6g}"])
    if result.exposure is not None:
        write_exposure_files(result.exposure, out)
    if arch is not None:
        from simulator.report.inputs import write_inputs
        write_inputs(out, result, arch, approx_file, plan, workload_file)
    return out


def write_exposure_files(found, out: Path) -> None:
    """``flips.csv`` (expected flips per layer, data structure, link or buffer) and ``exposure.npz``."""
    from simulator.faults.exposure import write_exposure
    with (out / "flips.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["layer", "ds", "kind", "where", "from", "to", "bits", "expected_flips"])
        for row in found.rows:
            if row[-1]:
                w.writerow([*row[:-1], f"{row[-1]:.6g}"])
    write_exposure(out / "exposure.npz", found.data)
