"""Bit-error study: accuracy loss and energy vs link swing and SRAM supply, alone and combined,
for each multiplier choice.

Per multiplier choice (a structural configuration: the MAC plan changes the mapping's
stored bits and the timing) the workload is simulated **once** at the base architecture; then
for every operating point:

- energy: the run's action counts re-priced at the point (:class:`simulator.energy.reprice.RunCounts`,
  all points at once);
- exposure: the element journeys (walked once from the traces,
  :func:`simulator.accuracy.runs.journeys_of`) priced with the point's error rates
  (:func:`simulator.accuracy.runs.exposure_at`): journeys do not depend on the operating
  point, only the per-journey probabilities and the stuck cells do;
- accuracy: the int8 engine with the exposure hook over ``seeds`` Monte Carlo seeds.

Knobs: ``swing_v`` sets ``package.nop.swing_v`` and ``chiplet.noc.swing_v`` (every NoP and
NoC link; bit groups without their own swing follow it); ``vdd_v`` sets the supply of every PE
buffer and of the global buffer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from simulator import api
from simulator.accuracy.evaluate import evaluate
from simulator.accuracy.exposure_hook import exposure_ber, units_of_run
from simulator.accuracy.runs import exposure_at, journeys_of
from simulator.energy.reprice import RunCounts
from simulator.faults.exposure import group_box
from simulator.faults.flips import DS

SRAM_KEYS = ("chiplet.pe.weight_buffer.vdd_v", "chiplet.pe.input_buffer.vdd_v",
             "chiplet.pe.accumulation_buffer.vdd_v", "chiplet.global_buffer.vdd_v")
COLUMNS = ("mac", "knob", "swing_v", "vdd_v", "mean_ber_weights", "mean_ber_inputs", "stuck_cells", "energy_pj",
           "energy_ratio", "exact_accuracy", "accuracy", "loss_mean", "loss_ci95", "seeds", "samples")


@dataclass(frozen=True)
class OperatingPoint:
    knob: str              # nominal, swing, vdd, swing+vdd
    swing_v: float | None
    vdd_v: float | None

    def edits(self) -> dict:
        out = {}
        if self.swing_v is not None:
            out["package.nop.swing_v"] = out["chiplet.noc.swing_v"] = self.swing_v
        if self.vdd_v is not None:
            out.update(dict.fromkeys(SRAM_KEYS, self.vdd_v))
        return out


def operating_points(swings: Sequence[float], vdds: Sequence[float]) -> list[OperatingPoint]:
    """The nominal point, each swing alone, each supply alone, and every combination."""
    pts = [OperatingPoint("nominal", None, None)]
    pts += [OperatingPoint("swing", s, None) for s in swings]
    pts += [OperatingPoint("vdd", None, v) for v in vdds]
    pts += [OperatingPoint("swing+vdd", s, v) for s in swings for v in vdds]
    return pts


def mean_ber(data, ds: str) -> float:
    """Element-weighted mean per-bit flip probability of the groups of ``ds`` (over bit positions)."""
    gids = np.flatnonzero(data.group_ds == DS.index(ds))
    if gids.size == 0:
        return 0.0
    sizes = np.array([np.prod([b.stop - b.start for b in group_box(data, int(g))]) for g in gids], float)
    return float((data.p_flip[gids].mean(axis=1) * sizes).sum() / sizes.sum())


def ber_study(arch, workload, model, x, y, macs_choices: dict, points: Sequence[OperatingPoint],
              seeds: int = 5, seed: int = 0) -> list[dict]:
    """Rows of :data:`COLUMNS`; ``macs_choices``: label -> (approximation spec or None).
    ``energy_ratio``: energy / energy of the first choice at the first point."""
    from simulator.macs.approxfile import resolve
    names = [layer.name for layer in workload.layers]
    variants = [api.with_operating_point(arch, p.edits()) for p in points]
    layers = {layer.name: layer for layer in workload.layers}
    rows = []
    base_energy = None
    for label, spec in macs_choices.items():
        plan = resolve(spec, arch, names) if spec is not None else None
        macs = {n: spec.config_for(n) for n in names} if spec is not None else None
        result = api.simulate(arch, workload, plan=plan, seed=seed, exposure=False)
        energy = RunCounts.from_result(result, arch).price(variants).energy_pj
        journeys = journeys_of(arch, workload, plan)
        if base_energy is None:  # the first choice (exact MACs from the CLI) at the first point (nominal)
            base_energy = float(energy[0])
        for i, (point, variant) in enumerate(zip(points, variants)):
            data = exposure_at(journeys, variant, seed)
            report = evaluate(model, x, y, macs, exposure_ber(data, layers, seed), seeds,
                              units_of_run(data, workload.layers))
            loss, half = report.loss
            accs = report.seed_accuracies
            rows.append({"mac": label, "knob": point.knob, "swing_v": point.swing_v, "vdd_v": point.vdd_v,
                         "mean_ber_weights": mean_ber(data, "weights"), "mean_ber_inputs": mean_ber(data, "inputs"),
                         "stuck_cells": int(len(data.stuck_element)),
                         "energy_pj": float(energy[i]), "energy_ratio": float(energy[i]) / base_energy,
                         "exact_accuracy": report.exact_accuracy, "accuracy": float(np.mean(accs)),
                         "loss_mean": loss, "loss_ci95": half, "seeds": seeds, "samples": report.samples})
    return rows


def plot_study(rows: list[dict], out_dir) -> list:
    """``accuracy_vs_ber.png`` and ``accuracy_vs_energy.png`` (one series per multiplier choice)."""
    from pathlib import Path

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    out = Path(out_dir)
    files = []
    for name, xkey, xlabel, logx in (("accuracy_vs_ber.png", "mean_ber", "mean per-bit flip probability "
                                      "(weights and inputs)", True),
                                     ("accuracy_vs_energy.png", "energy_pj", "energy (µJ)", False)):
        fig, ax = plt.subplots(figsize=(6, 4))
        for mac in dict.fromkeys(r["mac"] for r in rows):
            sel = [r for r in rows if r["mac"] == mac]
            xs = [max(r["mean_ber_weights"], r["mean_ber_inputs"], 1e-16) if xkey == "mean_ber"
                  else r["energy_pj"] / 1e6 for r in sel]
            ax.errorbar(xs, [100 * r["accuracy"] for r in sel], yerr=[100 * r["loss_ci95"] for r in sel],
                        fmt="o", capsize=3, label=mac)
        if logx:
            ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("accuracy (%), 95% CI")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / name, dpi=120)
        plt.close(fig)
        files.append(out / name)
    return files
