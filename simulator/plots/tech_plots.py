"""Figures of a technology table's operating-point models (``axsim plot --tech FILE``, and
``axsim plot RUN_DIR`` for the table in the run's ``inputs/tech.yaml``).

- ``tech_links``: energy per bit relative to nominal and bit-error rate per traversal vs swing,
  for each link class (``signalling``);
- ``tech_sram``: dynamic access energy and leakage relative to nominal, and bit-cell failure
  rate, vs supply voltage (``sram``).

For a run, the swings and supplies it used (``operating_point`` in ``summary.json``) are
marked with x and their error rates written beside them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from simulator.energy.operating import swing_energy_scale
from simulator.plots.run_plots import plt
from simulator.faults.operating import link_ber, sram_failure_rate


def _links(tech, out: Path, marks: dict | None) -> Path | None:
    if not tech.signalling:
        return None
    fig, (ax_e, ax_b) = plt.subplots(1, 2, figsize=(10, 4))
    for cls, sig in sorted(tech.signalling.items()):
        lo, hi = tech.swing_range_v(cls)
        v = np.linspace(max(lo, 0.2 * sig.nominal_swing_v), hi, 200)
        ax_e.plot(v, swing_energy_scale(v[:, None], sig.nominal_swing_v, sig.energy_scaling),
                  label=f"{cls} ({sig.energy_scaling})")
        ber = link_ber(tech, cls, v)
        model = f"Q(V/2σ), σ = {sig.ber.sigma_n_v * 1e3:.1f} mV" if sig.ber.model == "gaussian" else "table"
        ax_b.semilogy(v, np.maximum(ber, 1e-30), label=f"{cls}: {model}")
        if sig.ber.points:
            ax_b.semilogy(*zip(*sig.ber.points), "o", markersize=3)
        for ax in (ax_e, ax_b):
            ax.axvline(sig.nominal_swing_v, color="gray", linewidth=0.6, linestyle=":")
        used = [u for u in (marks or {}).get("links", {}).get(cls, {}).get("swing_v", []) if u != sig.nominal_swing_v]
        if used:  # the run's operating points
            ax_e.plot(used, swing_energy_scale(np.array(used)[:, None], sig.nominal_swing_v, sig.energy_scaling),
                      "kx", markersize=7)
            ax_b.plot(used, link_ber(tech, cls, used), "kx", markersize=7)
            for u, b in zip(used, link_ber(tech, cls, used)):
                ax_b.annotate(f"{cls} {u:g} V: {b:.1e}", (u, b), fontsize=6, xytext=(4, 4), textcoords="offset points")
    ax_e.set_xlabel("swing (V)")
    ax_e.set_ylabel("energy per bit / nominal")
    ax_e.legend(fontsize=7)
    ax_b.set_xlabel("swing (V)")
    ax_b.set_ylabel("bit-error rate per link traversal")
    ax_b.set_ylim(1e-16, 1)
    ax_b.legend(fontsize=7)
    fig.suptitle(f"{tech.name}: links vs swing (dotted: nominal)")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def _sram(tech, out: Path, marks: dict | None) -> Path | None:
    s = tech.sram
    if s is None:
        return None
    lo, hi = tech.sram_range_v()
    v = np.linspace(lo, hi, 200)
    fig, (ax_e, ax_f) = plt.subplots(1, 2, figsize=(10, 4))
    ax_e.plot(v, (v / s.nominal_vdd_v) ** 2, label="dynamic access energy (V/V_nom)²")
    ax_e.plot(v, s.leakage_ratio(v) / float(s.leakage_ratio(s.nominal_vdd_v)), label="leakage (table)")
    ax_e.set_xlabel("SRAM supply (V)")
    ax_e.set_ylabel("relative to nominal")
    ax_e.legend(fontsize=7)
    rate = sram_failure_rate(tech, v)
    ax_f.semilogy(v, np.where(rate > 0, rate, np.nan), label=f"bit-cell failure rate ({s.fault_model})")
    pts = [(x, y) for x, y in s.bit_failure_rate.points if y > 0]
    if pts:
        ax_f.semilogy(*zip(*pts), "o", markersize=3, label="table points")
    used = sorted({v for parts in (marks or {}).get("sram_vdd_v", {}).values() for v in parts.values()}
                  - {s.nominal_vdd_v})
    if used:  # the run's operating points
        ax_e.plot(used, (np.array(used) / s.nominal_vdd_v) ** 2, "kx", markersize=7)
        rates = sram_failure_rate(tech, used)
        ax_f.plot(used, np.where(rates > 0, rates, np.nan), "kx", markersize=7)
        for v, r in zip(used, rates):
            ax_f.annotate(f"{v:g} V: {r:.1e}", (v, r), fontsize=6, xytext=(4, 4), textcoords="offset points")
    ax_f.set_xlabel("SRAM supply (V)")
    ax_f.set_ylabel("failure probability per bit cell")
    ax_f.legend(fontsize=7)
    for ax in (ax_e, ax_f):
        ax.axvline(s.nominal_vdd_v, color="gray", linewidth=0.6, linestyle=":")
    fig.suptitle(f"{tech.name}: SRAM vs supply (dotted: nominal)")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def plot_tech(tech, out_dir: str | Path, fmt: str = "png", marks: dict | None = None) -> list[Path]:
    """Write the table's link and SRAM figures into ``out_dir``; return their paths.

    ``marks``: an operating point (:func:`simulator.config.operating.describe`, as in a run's
    ``summary.json``) whose swings and supplies are marked with x."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    made = [_links(tech, out / f"tech_links.{fmt}", marks), _sram(tech, out / f"tech_sram.{fmt}", marks)]
    return [p for p in made if p is not None]
