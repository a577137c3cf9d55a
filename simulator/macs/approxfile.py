"""Approximation files: which MAC configuration each layer uses (``axsim run/accuracy --approx FILE``).

Version 1::

    version: 1
    name: study-a
    configs:                       # named MAC configurations
      msb3:  {type: axbxp, block_bits: 2, msb_blocks: [3, 3]}     # activations x weights blocks
      dyn22: {type: axbxp, block_bits: 2, policy: dynamic, keep_a: 2, keep_w: 2}
      drum4: {type: lut, generator: {kind: drum, k: 4}, relative_power: 0.45}
      evo:   {type: lut, table: tables/mul8u_2P7.bin, relative_power: 0.987}
    default: msb3                  # a config name, or "exact"
    layers:                        # overrides, first match wins: layer name or glob pattern
      conv1: exact
      "layer4.*": dyn22

Data structures: an ``axbxp`` configuration gives activations and weights
their own block counts (``msb_blocks: [Ma, Mw]``, ``keep_a``/``keep_w``) and
so their own stored bits. Problems are reported with file and key path.
"""
from __future__ import annotations

import csv
import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from simulator.approx.blocked import BlockConfig
from simulator.config.arch import Arch
from simulator.config.yamlio import read_mapping
from simulator.errors import AxsimError, InputError, Problem, show
from simulator.hw.mac import MacPlan
from simulator.hw.pe import MacModel
from simulator.macs.config import EXACT, TYPES, MacConfig

TOP_KEYS = ("version", "name", "description", "configs", "default", "layers")


@dataclass(frozen=True)
class ApproxSpec:
    file: str
    name: str
    configs: dict[str, MacConfig]
    default: str
    layers: tuple[tuple[str, str], ...]

    def config(self, name: str) -> MacConfig:
        return EXACT if name == "exact" else self.configs[name]

    def config_for(self, layer_name: str) -> MacConfig:
        """The configuration of one layer: the first matching override, else the default."""
        for pattern, cfg_name in self.layers:
            if layer_name == pattern or fnmatch.fnmatchcase(layer_name, pattern):
                return self.config(cfg_name)
        return self.config(self.default)


def _config(name: str, data: Any, file: Path, problems: list[Problem]) -> MacConfig | None:
    path = f"configs.{name}"
    if not isinstance(data, dict):
        problems.append(Problem(path, f"{show(data)}: must be a mapping with a 'type' key"))
        return None
    kind = data.get("type")
    if kind not in TYPES:
        problems.append(Problem(f"{path}.type", f"{show(kind)}: must be one of {', '.join(TYPES)}"))
        return None
    rest = {k: v for k, v in data.items() if k != "type"}
    try:
        if kind == "exact":
            if rest:
                problems.append(Problem(path, f"keys {sorted(rest)}: an exact configuration takes none"))
                return None
            return MacConfig(name, kind)
        if kind == "axbxp":
            block = BlockConfig.from_dict({"name": name, **rest}, str(file), path)
            return MacConfig(name, kind, block=block)
        return _lut_config(name, rest, file, path, problems)
    except InputError as exc:
        problems.extend(exc.problems)
    except AxsimError as exc:
        problems.append(Problem(path, str(exc)))
    return None


def _lut_config(name: str, rest: dict, file: Path, path: str, problems: list[Problem]) -> MacConfig | None:
    from simulator.approx import generators, lut  # noqa: PLC0415 (tables only when asked for)
    allowed = ("table", "generator", "relative_power", "power_from")
    bad = [k for k in rest if k not in allowed]
    for key in bad:
        problems.append(Problem(f"{path}.{key}", f"unknown key; allowed: {', '.join(allowed)}"))
    if ("relative_power" in rest) == ("power_from" in rest):
        where = path if "power_from" in rest else f"{path}.relative_power"
        problems.append(Problem(where, ("missing: " if "power_from" not in rest else "") +
                                "needs exactly one of 'relative_power' (a number) or 'power_from' "
                                "({csv: FILE, name: MULTIPLIER}, an EvoApprox-style power table)"))
        power = None
    elif "power_from" in rest:
        power = _power_from(rest["power_from"], file, f"{path}.power_from", problems)
    else:
        power = rest["relative_power"]
        if isinstance(power, bool) or not isinstance(power, (int, float)) or not 0 < power <= 4:
            problems.append(Problem(f"{path}.relative_power", f"{show(power)}: must be a number in (0, 4]: the "
                                    "multiplier's power relative to the exact one (EvoApprox publishes it)"))
    if ("table" in rest) == ("generator" in rest):
        problems.append(Problem(path, "needs exactly one of 'table' (a file) or 'generator' (a built-in)"))
    if bad or problems and any(p.path.startswith(path) for p in problems):
        return None
    if "table" in rest:
        table = Path(rest["table"])
        table = table if table.is_absolute() else file.parent / table
        try:
            multiplier = lut.load_table(table, name=name, relative_power=float(power))
        except AxsimError as exc:
            problems.append(Problem(f"{path}.table", f"{show(rest['table'])}: cannot be used: {exc}"))
            return None
    else:
        multiplier = generators.generate(rest["generator"], str(file), f"{path}.generator")
    return MacConfig(name, "lut", relative_power=float(power), lut=multiplier)


EXACT_MULTIPLIER = "mul8u_1JFF"  # EvoApprox's exact 8x8 unsigned multiplier, the power reference


def _power_from(spec: Any, file: Path, path: str, problems: list[Problem]) -> float | None:
    """Relative power of a named multiplier from a CSV with columns ``name`` and ``power_*``
    (EvoApproxLib's published data): power(name) / power(mul8u_1JFF)."""
    if not isinstance(spec, dict) or set(spec) != {"csv", "name"}:
        problems.append(Problem(path, f"{show(spec)}: must be {{csv: FILE, name: MULTIPLIER}}"))
        return None
    csv_path = Path(str(spec["csv"]))
    csv_path = csv_path if csv_path.is_absolute() else file.parent / csv_path
    try:
        with csv_path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        problems.append(Problem(f"{path}.csv", f"{show(spec['csv'])}: cannot be read: {exc}"))
        return None
    columns = [c for c in (rows[0] if rows else {}) if c.startswith("power")]
    if not rows or "name" not in rows[0] or not columns:
        problems.append(Problem(f"{path}.csv", f"{csv_path}: needs a 'name' column and a 'power...' column"))
        return None
    power = {r["name"]: r[columns[0]] for r in rows}
    for wanted, key in ((spec["name"], "name"), (EXACT_MULTIPLIER, "csv")):
        if wanted not in power:
            problems.append(Problem(f"{path}.{key}", f"{show(wanted)}: not in {csv_path} "
                                                     f"({len(power)} multipliers, e.g. {', '.join(list(power)[:3])})"))
            return None
    try:
        value = float(power[spec["name"]]) / float(power[EXACT_MULTIPLIER])
    except (ValueError, ZeroDivisionError):
        problems.append(Problem(f"{path}.name", f"{csv_path}: power of {spec['name']!r} or of "
                                                f"{EXACT_MULTIPLIER} is not a positive number"))
        return None
    if not 0 < value <= 4:
        problems.append(Problem(f"{path}.name", f"relative power {value:.3g} of {spec['name']!r}: must be in (0, 4]"))
        return None
    return value


def load_approx(path: str | Path) -> ApproxSpec:
    path = Path(path)
    data = read_mapping(path)
    problems: list[Problem] = []
    for key in data:
        if key not in TOP_KEYS:
            problems.append(Problem(str(key), f"unknown key; allowed keys: {', '.join(TOP_KEYS)}"))
    if data.get("version") != 1:
        problems.append(Problem("version", f"{show(data.get('version'))}: supported versions: 1"))
    raw = data.get("configs") or {}
    if not isinstance(raw, dict):
        problems.append(Problem("configs", f"{show(raw)}: must be a mapping of name: configuration"))
        raw = {}
    configs = {}
    for name, spec in raw.items():
        if name == "exact":
            problems.append(Problem("configs.exact", "'exact' is built in; choose another name"))
            continue
        cfg = _config(str(name), spec, path, problems)
        if cfg is not None:
            configs[str(name)] = cfg
    known = ["exact", *raw]
    default = data.get("default", "exact")
    if default not in known:
        problems.append(Problem("default", f"{show(default)}: must be one of the configs: {', '.join(known)}"))
    layers = data.get("layers") or {}
    if not isinstance(layers, dict):
        problems.append(Problem("layers", f"{show(layers)}: must be a mapping of layer name or pattern: config"))
        layers = {}
    for pattern, name in layers.items():
        if name not in known:
            problems.append(Problem(f"layers.{pattern}", f"{show(name)}: must be one of the configs: "
                                                         f"{', '.join(known)}"))
    if problems:
        raise InputError(path, problems)
    return ApproxSpec(str(path), str(data.get("name", path.stem)), configs, default,
                      tuple((str(k), str(v)) for k, v in layers.items()))


def resolve(spec: ApproxSpec, arch: Arch, layer_names: Iterable[str]) -> MacPlan:
    """The MAC plan of ``spec`` on ``arch`` for these layers (hardware and names checked)."""
    pe = arch.chiplet.pe
    models: dict[str, MacModel] = {"exact": EXACT.timing(pe)}
    problems: list[Problem] = []
    for name, cfg in spec.configs.items():
        try:
            models[name] = models["exact"] if cfg.type == "exact" else cfg.timing(pe)
        except AxsimError as exc:
            problems.append(Problem(f"configs.{name}", f"{exc} ({arch.source or arch.name})"))
    names = list(layer_names)
    per_layer: dict[str, MacModel] = {}
    warnings = []
    for pattern, cfg_name in spec.layers:
        hits = [n for n in names if n == pattern or fnmatch.fnmatchcase(n, pattern)]
        if not hits:  # files travel between networks: a pattern for another network is not an error
            warnings.append(f"{spec.file}: layers.{pattern}: matches no layer of the workload "
                            f"(first layers: {', '.join(names[:4])}, ...); ignored")
        for n in hits:
            per_layer.setdefault(n, models.get(cfg_name, models["exact"]))
    if problems:
        raise InputError(spec.file, problems)
    plan = MacPlan(models[spec.default], per_layer, label=spec.name)
    plan.warnings = warnings
    plan.metrics = config_metrics(spec)
    plan.configs = dict(spec.configs)
    return plan


def config_metrics(spec: ApproxSpec) -> dict[str, dict[str, float]]:
    """EvoApprox error metrics (percent, :mod:`simulator.approx.metrics`) of every configuration of
    ``spec`` and of ``exact``, from its 256 x 256 product table (Ax-BxP: the unsigned 8-bit table
    of the configuration's functional model)."""
    from simulator.approx import generators  # noqa: PLC0415
    from simulator.approx.metrics import error_metrics  # noqa: PLC0415
    out = {"exact": error_metrics(generators.exact()).as_dict()}
    for name, cfg in spec.configs.items():
        if cfg.type == "lut":
            out[name] = error_metrics(cfg.lut).as_dict()
        elif cfg.type == "axbxp" and cfg.block.bits == 8 and not cfg.block.signed:  # EvoApprox metrics are unsigned 8x8
            out[name] = error_metrics(generators.from_block_config(cfg.block)).as_dict()
        elif cfg.type == "exact":
            out[name] = out["exact"]
    return out
