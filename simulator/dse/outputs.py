"""What a finished sweep writes besides its results table: Pareto table, figures, point run folders."""
from __future__ import annotations

import csv
import json
from pathlib import Path

from simulator.dse import pareto, store
from simulator.dse.evaluate import Point, materialise, workload_of
from simulator.dse.spec import Sweep
from simulator.errors import AxsimError


def axes(sweep: Sweep, rows: list[dict]) -> tuple[str, str, str | None]:
    """(x, y, colour) of the figures: accuracy loss vs energy coloured by latency when accuracy was
    measured, else latency vs energy (coloured by nothing)."""
    measured = any(r.get("accuracy_loss") not in ("", None) for r in rows)
    if measured:
        return "energy_pj", "accuracy_loss", "latency_cycles"
    return "energy_pj", "latency_cycles", None


def write_pareto(sweep: Sweep, out: Path, rows: list[dict]) -> Path:
    table = pareto.pair_table(sweep, rows)
    knob_cols = [k.name for k in sweep.knobs]
    metric_cols = [o.name for o in sweep.objectives]
    cols = ["objectives", "point", *metric_cols, *knob_cols]
    path = out / "pareto.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        for r in table:
            w.writerow([_cell(r.get(c, "")) for c in cols])
    return path


def _cell(value) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return repr(value) if isinstance(value, float) else str(value)


def write_figures(sweep: Sweep, out: Path, rows: list[dict], fmt: str = "png") -> list[Path]:
    from simulator.plots.sweep_plots import plot_family_fronts, plot_pareto
    x, y, colour = axes(sweep, rows)
    metrics = [x, y] + ([colour] if colour else [])
    usable = pareto.usable(sweep, rows, metrics)
    if not usable:
        return []
    folder = out / "plots"
    folder.mkdir(exist_ok=True)
    paths = [plot_pareto(usable, pareto.front(sweep, usable, [x, y]), x, y, colour, folder,
                         f"{sweep.name}: {len(usable)} points", fmt)]
    fronts = pareto.family_fronts(sweep, usable, [x, y])
    if len(fronts) > 1:
        paths.append(plot_family_fronts(fronts, x, y, folder, f"{sweep.name}: fronts by knob family", fmt))
    return paths


def write_point_run(sweep: Sweep, out: Path, index: int) -> Path:
    """Simulate point ``index`` of a finished or partial sweep again and write its run folder."""
    from simulator import api
    from simulator.report.files import write_run
    rows = store.read_points(out)
    if index not in rows:
        have = sorted(rows)
        raise AxsimError(f"{out}: point {index} has not been evaluated "
                         f"(finished points: {have[0] if have else '-'}..{have[-1] if have else '-'}, "
                         f"{len(have)} in all)")
    row = rows[index]
    point = Point(index, {k.name: row[k.name] for k in sweep.knobs})
    if row.get("status") != "ok":
        raise AxsimError(f"point {index} did not run: {row.get('message')}")
    m = materialise(sweep, point)
    extra = {}
    if m.compression is not None:  # compressed weights: the traces carry the compressed bytes
        from simulator.compress.layers import decompression_cost
        traces = list(api.generate_traces(m.arch, workload_of(sweep), m.plan,
                                          weight_ratio=m.compression.ratios()))
        result = api.simulate(m.arch, traces=traces, plan=m.plan, seed=sweep.seed,
                              workload_name=workload_of(sweep).name)
        cost = decompression_cost(m.compression, traces, m.arch.tech_table,
                                  {t.layer: int(t.meta.get("used_pes", 1)) for t in traces})
        extra["weight_compression"] = {
            "schemes": m.compression.describe(), "stored_bytes": m.compression.stored_bytes(),
            "decompressed_bytes": cost.bytes_decompressed, "decompression_energy_pj": cost.energy_pj,
            "decompression_cycles": cost.latency_cycles,
            "note": "energy and latency in this folder exclude the decompression; the sweep's row includes it"}
    else:
        result = api.simulate(m.arch, workload_of(sweep), plan=m.plan, seed=sweep.seed)
    target = out / "runs" / f"point-{index:06d}"
    write_run(result, target, {"arch_file": sweep.arch_file, "workload_file": sweep.workload_file,
                               "approx_file": sweep.approx_file, "sweep": str(out / "sweep.yaml"),
                               "point": index, "knobs": point.values, **extra})
    return target
