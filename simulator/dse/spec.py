"""Sweep files (``axsim sweep SPEC.yaml``): the format, its validation, and the expanded knobs.

Version 1 (full reference: docs/sweeps.md)::

    version: 1
    name: tiny-buffers
    arch: ../../arch/tiny.yaml          # paths relative to this file
    workload: ../small.yaml
    approx: ../approx/axbxp_msb3.yaml   # optional: the named MAC configurations
    dataset: null                       # optional (accuracy objectives)
    seed: 0                             # run seed of every point
    knobs:
      - {path: chiplet.global_buffer.size_bytes, values: [8192, 16384], family: memory}
      - {path: chiplet.noc.link_width_bits, range: {start: 32, stop: 128, step: 32}, family: communication}
      - {name: mac, layers: "*", values: [exact, msb3], family: compute}
    objectives: [{name: energy_pj, goal: min}, {name: latency_cycles, goal: min}]
    constraints: ["latency_cycles <= 2e6"]
    search: {kind: grid}                # or {kind: random, points: 50, seed: 1}
                                        # or {kind: nsga2, points: 64, population: 16, seed: 1}

Everything is checked before a point runs: the schema (pydantic), that each
architecture key path exists in the base file or the architecture format
(otherwise the nearest valid paths are listed), that every single knob value
gives a valid architecture, and that approximation knobs name configurations
of the approximation file and patterns that match layers of the workload.
"""
from __future__ import annotations

import copy
import fnmatch
import math
import re
from pathlib import Path

from simulator.config import Arch, cross_check, load_tech
from simulator.config.validation import validate_model
from simulator.config.yamlio import read_mapping
from simulator.dse import keys
from simulator.dse.model import (_CONSTRAINT, ALIASES, MAX_POINTS, OBJECTIVES, Constraint, Knob, KnobSpec,
                                 Objective, Range, Search, Sweep, SweepModel)
from simulator.errors import AxsimError, InputError, Problem, show

__all__ = ["Constraint", "Knob", "KnobSpec", "Objective", "Range", "Search", "Sweep", "SweepModel",
           "load_sweep", "OBJECTIVES"]


def _resolve(base: Path, name: str) -> Path:
    p = Path(name)
    return p if p.is_absolute() else (base / p)


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a sweep file; every problem is reported at once, before anything runs."""
    path = Path(path)
    data = read_mapping(path)
    model = validate_model(SweepModel, data, path)
    here = path.parent
    problems: list[Problem] = []
    files = {}
    for key in ("arch", "workload", "approx", "dataset"):
        value = getattr(model, key)
        if value is None:
            continue
        full = _resolve(here, value).resolve()  # absolute: workers may run elsewhere
        if not full.exists():
            problems.append(Problem(key, f"{value!r}: no such file (looked for {full})"))
        files[key] = str(full)
    if problems:
        raise InputError(path, problems)
    from simulator import api  # the base files are checked by their own loaders
    api.load_arch(files["arch"])
    workload = api.load_workload(files["workload"])
    approx = None
    if "approx" in files:
        from simulator.macs.approxfile import load_approx
        approx = load_approx(files["approx"])
    arch_data = copy.deepcopy(read_mapping(files["arch"]))
    arch_data["tech"] = str(_resolve(Path(files["arch"]).parent, arch_data["tech"]).resolve())
    layer_names = [layer.name for layer in workload.layers]
    knobs = []
    names: set[str] = set()
    for i, spec in enumerate(model.knobs):
        knob = _knob(i, spec, arch_data, Path(files["arch"]), approx, layer_names, problems, workload)
        if knob is None:
            continue
        if knob.name in names or knob.name in OBJECTIVES:
            problems.append(Problem(f"knobs[{i}].name", f"{knob.name!r}: used twice or an objective's name; "
                                                        "give the knob another 'name'"))
        names.add(knob.name)
        knobs.append(knob)
    constraints = []
    for text in model.constraints:
        m = _CONSTRAINT.match(text)
        constraints.append(Constraint(ALIASES.get(m.group(1), m.group(1)), m.group(2), float(m.group(3))))
    if "accuracy_loss" in {o.name for o in model.objectives} | {c.metric for c in constraints}:
        from simulator.dse.evaluate import accuracy_evaluator
        if accuracy_evaluator() is None:
            problems.append(Problem("objectives", "accuracy_loss: no accuracy evaluator is available in this "
                                                  "build (it needs the functional inference engine); use "
                                                  "energy_pj, latency_cycles or edp_pj_cycles"))
        elif "dataset" not in files:
            problems.append(Problem("dataset", "missing: accuracy_loss needs a dataset"))
    if approx is not None and not problems:
        problems.extend(_check_plans(approx, knobs, arch_data, Path(files["arch"]), layer_names))
    size = math.prod(len(k.values) for k in knobs) if knobs else 0
    if model.search.kind == "grid" and size > MAX_POINTS:
        problems.append(Problem("search.kind", f"grid of {size} points: at most {MAX_POINTS}; "
                                               "use kind: random or nsga2"))
    if problems:
        raise InputError(path, problems)
    return Sweep(str(path), model.name, files["arch"], files["workload"], files.get("approx"),
                 files.get("dataset"), model.seed, tuple(knobs), tuple(model.objectives), tuple(constraints),
                 model.search, arch_data)


def _knob(i: int, spec: KnobSpec, arch_data: dict, arch_file: Path, approx, layer_names: list[str],
          problems: list[Problem], workload=None) -> Knob | None:
    where = f"knobs[{i}]"
    if spec.values is not None:
        values = list(spec.values)
    else:
        try:
            values = spec.range.values()
        except ValueError as exc:
            problems.append(Problem(f"{where}.range", str(exc)))
            return None
    if len({show(v) for v in values}) != len(values):
        problems.append(Problem(f"{where}.values", f"{show(values)}: values must be distinct"))
    if spec.layers is not None:
        return _approx_knob(i, spec, values, approx, layer_names, problems)
    if spec.compress is not None:
        return _compress_knob(i, spec, values, workload, arch_data, problems)
    path = spec.path
    try:
        keys.split_path(path)
    except ValueError:
        problems.append(Problem(f"{where}.path", f"{path!r}: not a key path (dotted keys, [i] for list items)"))
        return None
    in_file = True
    try:
        current = keys.get_path(arch_data, path)
    except KeyError:
        in_file, current = False, None
    valid = set(keys.file_paths(arch_data)) | set(keys.model_paths(Arch))
    generic = re.sub(r"\[\d+\]", "", path)
    if not in_file and generic not in valid:
        near = keys.nearest(path, valid)
        problems.append(Problem(f"{where}.path", f"{path!r}: not a key of {arch_file.name} nor of the "
                                                 f"architecture format; nearest valid keys: "
                                                 f"{', '.join(near) or '(none)'}"))
        return None
    bad = 0
    for j, value in enumerate(values):
        if path == "tech":
            if not isinstance(value, str):
                problems.append(Problem(f"{where}.values[{j}]", f"{show(value)}: must be a technology file path"))
                bad += 1
                continue
            value = str(_resolve(arch_file.parent, value).resolve())
            values[j] = value
            if not Path(value).is_file():
                problems.append(Problem(f"{where}.values[{j}]", f"{show(spec.values[j])}: no such technology file"))
                bad += 1
                continue
            try:
                load_tech(value)
            except AxsimError as exc:
                problems.append(Problem(f"{where}.values[{j}]", f"{show(spec.values[j])}: {exc}"))
                bad += 1
                continue
        trial = copy.deepcopy(arch_data)
        try:
            keys.set_path(trial, path, value)
        except (IndexError, TypeError, AttributeError):
            problems.append(Problem(f"{where}.values[{j}]", f"{show(value)}: cannot be set at {path}"))
            bad += 1
            continue
        try:
            arch = validate_model(Arch, trial, arch_file)
            found = cross_check(arch)
        except InputError as exc:
            found = exc.problems
        for p in found:
            problems.append(Problem(f"{where}.values[{j}]", f"{show(value)}: gives an invalid architecture: "
                                                            f"{arch_file.name}: {p.path}: {p.message}"))
            bad += 1
    if bad:
        return None
    baseline = spec.baseline if spec.baseline is not None else (current if current in values else values[0])
    if baseline not in values:
        problems.append(Problem(f"{where}.baseline", f"{show(baseline)}: must be one of the values"))
    return Knob(spec.name or path, "arch", path, tuple(values), spec.family or "other", baseline,
                keys.knob_class(path))


def _approx_knob(i: int, spec: KnobSpec, values: list, approx, layer_names: list[str],
                 problems: list[Problem]) -> Knob | None:
    where = f"knobs[{i}]"
    if approx is None:
        problems.append(Problem(f"{where}.layers", "an approximation knob needs an approximation file: "
                                                   "add 'approx: FILE' naming its configurations"))
        return None
    known = ["exact", *approx.configs]
    ok = True
    for j, value in enumerate(values):
        if value not in known:
            problems.append(Problem(f"{where}.values[{j}]", f"{show(value)}: not a configuration of "
                                                            f"{Path(approx.file).name}: {', '.join(known)}"))
            ok = False
    pattern = spec.layers
    if not any(n == pattern or fnmatch.fnmatchcase(n, pattern) for n in layer_names):
        problems.append(Problem(f"{where}.layers", f"{pattern!r}: matches no layer of the workload "
                                                   f"(first layers: {', '.join(layer_names[:4])}, ...)"))
        ok = False
    if not ok:
        return None
    baseline = _baseline(spec, values, "exact", where, problems)
    return Knob(spec.name or f"approx[{pattern}]", "approx", pattern, tuple(values), spec.family or "compute",
                baseline, "structural")


def _baseline(spec: KnobSpec, values: list, default: str, where: str, problems: list[Problem]):
    """The knob's baseline: the one the spec names (it must be one of the values), else ``default``
    when it is a value, else the first value."""
    baseline = spec.baseline if spec.baseline is not None else (default if default in values else values[0])
    if baseline not in values:
        problems.append(Problem(f"{where}.baseline", f"{show(baseline)}: must be one of the values"))
    return baseline


def _compress_knob(i: int, spec: KnobSpec, values: list, workload, arch_data: dict,
                   problems: list[Problem]) -> Knob | None:
    from simulator.compress.layers import parse_scheme
    where = f"knobs[{i}]"
    ok = True
    schemes = []
    for j, value in enumerate(values):
        try:
            schemes.append(parse_scheme(value))
        except ValueError as exc:
            problems.append(Problem(f"{where}.values[{j}]", str(exc)))
            ok = False
    pattern = spec.compress
    weighted = [layer.name for layer in workload.layers if layer.is_compute and layer.weight_count]
    if not any(n == pattern or fnmatch.fnmatchcase(n, pattern) for n in weighted):
        problems.append(Problem(f"{where}.compress", f"{pattern!r}: matches no layer with weights "
                                                     f"(first: {', '.join(weighted[:4])}, ...)"))
        ok = False
    needs = [s.text for s in schemes if s.needs_weights]
    if needs and not workload.weights:
        problems.append(Problem(f"{where}.values", f"{', '.join(needs)}: computed from the trained weights, and "
                                                   f"{Path(workload.source).name} has none (no 'weights:'); "
                                                   "declare a ratio per layer instead, e.g. ratio:2"))
        ok = False
    if any(s.kind != "none" for s in schemes):
        tech = load_tech(arch_data["tech"])
        if tech.decompression is None:
            problems.append(Problem(f"{where}.values", f"compressed weights need the decompression cost, and the "
                                                       f"technology table {Path(arch_data['tech']).name} has no "
                                                       "'decompression' section (energy_pj_per_byte, "
                                                       "bytes_per_cycle, source)"))
            ok = False
    if not ok:
        return None
    texts = [s.text for s in schemes]
    if len(set(texts)) != len(texts):
        problems.append(Problem(f"{where}.values", f"{show(values)}: the same scheme twice"))
        return None
    baseline = _baseline(spec, texts, "none", where, problems)
    return Knob(spec.name or f"compress[{pattern}]", "compress", pattern, tuple(texts), spec.family or "compression",
                baseline, "structural")


def _check_plans(approx, knobs: list[Knob], arch_data: dict, arch_file: Path, layer_names: list[str]) -> list[Problem]:
    """Resolve the approximation file, and each approximation-knob value, on the base architecture
    with the baseline values of the architecture knobs (MAC hardware, layer patterns)."""
    import dataclasses
    import tempfile

    import yaml

    from simulator import api
    from simulator.macs.approxfile import resolve
    data = copy.deepcopy(arch_data)
    for knob in knobs:
        if knob.kind == "arch":
            keys.set_path(data, knob.target, knob.baseline)
    with tempfile.TemporaryDirectory(prefix="axsim-sweep-") as tmp:
        file = Path(tmp) / arch_file.name
        file.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        try:
            arch = api.load_arch(file)
        except AxsimError as exc:
            return [Problem("knobs", f"the baseline values of the knobs give an invalid architecture: {exc}")]
    trials = [("approx", approx)]
    for i, knob in enumerate(knobs):
        if knob.kind == "approx":
            trials += [(f"knobs[{i}].values[{j}]", dataclasses.replace(approx, layers=((knob.target, v),)
                                                                         + approx.layers))
                       for j, v in enumerate(knob.values)]
    out = []
    for where, spec in trials:
        try:
            resolve(spec, arch, layer_names)
        except AxsimError as exc:
            out.append(Problem(where, f"cannot be used with {arch_file.name} and this workload "
                                      f"(baseline knob values): {str(exc).replace(chr(10), '; ')}"))
            break
    return out
