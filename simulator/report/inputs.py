"""The inputs of a run, resolved, in its run folder: enough to reproduce and re-price it.

- ``inputs/arch.yaml``: the architecture as loaded (defaults filled in, operating
  points included), pointing at ``tech.yaml`` beside it; ``axsim run --arch
  RUN/inputs/arch.yaml`` reproduces the run.
- ``inputs/tech.yaml``: the technology table as loaded.
- ``inputs/workload.yaml`` (``.csv``), or ``inputs/trace.jsonl`` for a trace replay: a copy.
- ``inputs/approx.yaml`` (if the run used an approximation file): that file, with the files it
  names made absolute, and
  ``inputs/mac_plan.json``: the MAC model each layer resolved to.
- ``counts.npz``: the raw action counts (format: :mod:`simulator.energy.reprice`).
"""
from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import yaml

from simulator.energy.reprice import RunCounts


def _drop_none(value):
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def arch_data(arch) -> dict:
    data = _drop_none(arch.model_dump(mode="json", by_alias=True))
    data["tech"] = "tech.yaml"
    return data


def approx_text(path: Path) -> str:
    """The approximation file with the files it names (LUT ``table``, ``power_from.csv``)
    made absolute, so that the copy in the run folder loads from there."""
    data = yaml.safe_load(path.read_text())
    base = path.resolve().parent
    for spec in ((data or {}).get("configs") or {}).values():
        if not isinstance(spec, dict):
            continue
        if isinstance(spec.get("table"), str) and not Path(spec["table"]).is_absolute():
            spec["table"] = str(base / spec["table"])
        power = spec.get("power_from")
        if isinstance(power, dict) and isinstance(power.get("csv"), str) and not Path(power["csv"]).is_absolute():
            power["csv"] = str(base / power["csv"])
    return (f"# approximation file of the run ({path}); the files it names are made absolute\n"
            + yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=110))


def write_inputs(out: Path, result, arch, approx_file: str | None = None, plan=None,
                 workload_file: str | None = None) -> None:
    folder = out / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    dump = lambda d: yaml.safe_dump(d, sort_keys=False, default_flow_style=None, width=110)  # noqa: E731
    (folder / "arch.yaml").write_text(
        f"# resolved from {arch.source or arch.name}: defaults filled in, operating points included\n"
        + dump(arch_data(arch)))
    tech = arch.tech_table
    (folder / "tech.yaml").write_text("# technology table of the run, as loaded\n"
                                      + dump(_drop_none(tech.model_dump(mode="json"))))
    if approx_file:
        (folder / "approx.yaml").write_text(approx_text(Path(approx_file)))
    if workload_file:  # the workload (or the trace replayed), copied as is
        src = Path(workload_file)
        name = "trace.jsonl" if src.name.endswith(".jsonl") else f"workload{src.suffix}"
        shutil.copyfile(src, folder / name)
    if plan is not None:
        models = {"default": dataclasses.asdict(plan.default),
                  "per_layer": {k: dataclasses.asdict(v) for k, v in plan.per_layer.items()}}
        (folder / "mac_plan.json").write_text(json.dumps({**plan.describe(), "models": models}, indent=2) + "\n")
    RunCounts.from_result(result, arch).save(out / "counts.npz")
