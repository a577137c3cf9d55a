"""The axsim YAML workload format (version 1); see ``docs/workloads.md``.

Every problem in a file is collected and reported at once as an
:class:`~simulator.errors.InputError`, one line per problem with the key path,
the bad value, what is allowed and the line in the file::

    workloads/resnet50.yaml: layers[3].stride: 0: must be an integer >= 1 (line 9)
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..config.yamlio import read_text
from ..errors import InputError, Problem, join_path, show
from .checks import MAX_BATCH, bound_problems, chain_problems, producers_from_names
from .layer import ACTIVATIONS, LAYER_KINDS, NETWORK_INPUT, POOL_MODES, Layer, Workload

SUPPORTED_VERSIONS = (1,)
TOP_KEYS = ("version", "name", "description", "batch", "weights", "dataset", "layers")
GRAPH_KEYS = ("inputs", "activation")  # optional on every layer type
TOP_REQUIRED = ("version", "layers")

LAYER_KEYS: dict[str, tuple[str, ...]] = {
    "conv": ("name", "type", "input", "out_channels", "kernel", "stride", "padding", "groups"),
    "fc": ("name", "type", "in_features", "out_features"),
    "pool": ("name", "type", "mode", "input", "kernel", "stride", "padding"),
    "add": ("name", "type", "input"),
    "concat": ("name", "type", "input"),
}
LAYER_KEYS = {kind: keys + GRAPH_KEYS for kind, keys in LAYER_KEYS.items()}
LAYER_REQUIRED: dict[str, tuple[str, ...]] = {
    "conv": ("name", "type", "input", "out_channels", "kernel"),
    "fc": ("name", "type", "in_features", "out_features"),
    "pool": ("name", "type", "mode", "input", "kernel"),
    "add": ("name", "type", "input"),
    "concat": ("name", "type", "input", "inputs"),
}


# --------------------------------------------------------------------------- YAML
class _Map(dict):
    """A mapping that remembers the line of each key and any duplicated keys."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.key_lines: dict[Any, int] = {}
        self.duplicates: list[tuple[Any, int]] = []


class _Loader(yaml.SafeLoader):
    """Safe loader producing :class:`_Map` mappings (line numbers, duplicate keys)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    data = _Map()
    data.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found an unhashable key", key_node.start_mark) from None
        if key in data:
            data.duplicates.append((key, line))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines.setdefault(key, line)
    return data


class _Seq(list):
    """A list that remembers the line of each item."""

    def __init__(self, items: list[Any], lines: list[int]) -> None:
        super().__init__(items)
        self.item_lines = lines


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _Seq:
    return _Seq([loader.construct_object(child, deep=True) for child in node.value],
                [child.start_mark.line + 1 for child in node.value])


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _yaml_error(exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    what = " ".join(
        str(part) for part in (getattr(exc, "context", None), getattr(exc, "problem", None)) if part
    ) or str(exc)
    return Problem("", f"{where}invalid YAML: {what}")


# --------------------------------------------------------------------------- checks
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Checker:
    """Collects problems while reading one mapping after another."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: str, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(path, f"{message} (line {line})" if line else message))

    @staticmethod
    def line(m: _Map, key: str) -> int | None:
        return m.key_lines.get(key) if isinstance(m, _Map) else None

    def keys(self, m: _Map, path: str, allowed: tuple[str, ...], required: tuple[str, ...],
             what: str) -> bool:
        """Unknown, duplicated and missing keys; True if nothing is wrong."""
        ok = True
        for key, line in getattr(m, "duplicates", []):
            ok = False
            self.add(join_path(path, str(key)), f"key {show(key)} appears more than once", line)
        for key in m:
            if key not in allowed:
                ok = False
                self.add(join_path(path, str(key)),
                         f"unknown key {show(key)} for {what}; allowed keys: {', '.join(allowed)}",
                         self.line(m, key))
        for key in required:
            if key not in m:
                ok = False
                self.add(path, f"missing required key {key!r} for {what}; required keys: "
                         f"{', '.join(required)}", getattr(m, "line", None))
        return ok

    def integer(self, m: _Map, key: str, path: str, minimum: int, default: int | None = None
                ) -> int | None:
        if key not in m:
            return default
        value = m[key]
        if not _is_int(value) or value < minimum:
            self.add(join_path(path, key), f"{show(value)}: must be an integer >= {minimum}",
                     self.line(m, key))
            return None
        return value

    def pair(self, m: _Map, key: str, path: str, minimum: int, default: int | None = None
             ) -> tuple[int, int] | None:
        """An integer or a list [h, w] of integers, each >= minimum."""
        if key not in m:
            return None if default is None else (default, default)
        value = m[key]
        if _is_int(value) and value >= minimum:
            return value, value
        if (isinstance(value, list) and len(value) == 2
                and all(_is_int(v) and v >= minimum for v in value)):
            return value[0], value[1]
        self.add(join_path(path, key), f"{show(value)}: must be an integer >= {minimum} "
                 f"or a list [height, width] of two such integers", self.line(m, key))
        return None

    def shape(self, m: _Map, key: str, path: str) -> tuple[int, int, int] | None:
        if key not in m:
            return None
        value = m[key]
        if (isinstance(value, list) and len(value) == 3
                and all(_is_int(v) and v >= 1 for v in value)):
            return value[0], value[1], value[2]
        self.add(join_path(path, key), f"{show(value)}: must be a list [channels, height, width] "
                 f"of three integers >= 1", self.line(m, key))
        return None

    def string(self, m: _Map, key: str, path: str, default: str | None = None) -> str | None:
        if key not in m:
            return default
        value = m[key]
        if not isinstance(value, str) or not value.strip():
            self.add(join_path(path, key), f"{show(value)}: must be a non-empty string "
                     f"(quote it if it looks like a number)", self.line(m, key))
            return None
        return value


# --------------------------------------------------------------------------- layers
def _read_layer(c: _Checker, m: Any, path: str, name: str | None, line: int | None
                ) -> Layer | None:
    """Validate one layer mapping; return the Layer, or None after adding problems."""
    kinds = ", ".join(LAYER_KINDS)
    if not isinstance(m, dict):
        c.add(path, f"{show(m)}: must be a mapping with at least the keys name and type "
              f"(type: one of {kinds})", line)
        return None
    kind = m.get("type")
    if "type" not in m:
        c.add(path, f"missing required key 'type'; allowed types: {kinds}", getattr(m, "line", None))
        return None
    if kind not in LAYER_KINDS:
        c.add(join_path(path, "type"), f"{show(kind)}: unknown layer type; allowed types: {kinds}",
              c.line(m, "type"))
        return None
    n_before = len(c.problems)
    c.keys(m, path, LAYER_KEYS[kind], LAYER_REQUIRED[kind], f"a {kind} layer")
    graph = _graph_keys(c, m, path, kind)
    if kind == "fc":
        fin = c.integer(m, "in_features", path, 1)
        fout = c.integer(m, "out_features", path, 1)
        if len(c.problems) > n_before or name is None:
            return None
        return Layer(name, "fc", fin, 1, 1, fout, **graph)

    shape = c.shape(m, "input", path)
    out_channels = c.integer(m, "out_channels", path, 1) if kind == "conv" else None
    kernel = c.pair(m, "kernel", path, 1, default=1)
    stride = c.pair(m, "stride", path, 1, default=1)
    padding = c.pair(m, "padding", path, 0, default=0)
    groups = c.integer(m, "groups", path, 1, default=1)
    mode = None
    if kind == "pool" and "mode" in m:
        mode = m["mode"]
        if mode not in POOL_MODES:
            c.add(join_path(path, "mode"), f"{show(mode)}: unknown pool mode; allowed: "
                  f"{', '.join(POOL_MODES)}", c.line(m, "mode"))
    if len(c.problems) > n_before:
        return None

    assert shape is not None and kernel is not None and stride is not None
    assert padding is not None and groups is not None
    channels, in_h, in_w = shape
    if kind != "conv":
        out_channels = channels
    assert out_channels is not None
    axes = [("height", in_h, kernel[0], padding[0]), ("width", in_w, kernel[1], padding[1])]
    if axes[0][1:] == axes[1][1:]:
        axes = [("height and width", in_h, kernel[0], padding[0])]
    for axis, size, k, p in axes:
        if k > size + 2 * p:
            c.add(join_path(path, "kernel"),
                  f"{show(m['kernel'])}: kernel {axis} {k} is larger than the padded input "
                  f"{axis} {size + 2 * p} (input {size} + 2 x padding {p}); it must be at most "
                  f"{size + 2 * p} so that the output is at least 1", c.line(m, "kernel"))
        if kind == "pool" and p > k // 2:
            c.add(join_path(path, "padding"),
                  f"{show(m['padding'])}: pool padding {p} is more than half the kernel {axis} "
                  f"{k}; it must be at most {k // 2}", c.line(m, "padding"))
    if channels % groups or out_channels % groups:
        c.add(join_path(path, "groups"),
              f"{groups}: groups must divide both the input channels ({channels}) and "
              f"out_channels ({out_channels})", c.line(m, "groups"))
    if len(c.problems) > n_before or name is None:
        return None
    return Layer(name=name, kind=kind, in_channels=channels, in_h=in_h, in_w=in_w,
                 out_channels=out_channels, kernel_h=kernel[0], kernel_w=kernel[1],
                 stride_h=stride[0], stride_w=stride[1], pad_h=padding[0], pad_w=padding[1],
                 groups=groups, pool_mode=mode, **graph)


def _graph_keys(c: _Checker, m: _Map, path: str, kind: str) -> dict[str, Any]:
    """``inputs`` (a layer name or a list of names) and ``activation`` of one layer."""
    out: dict[str, Any] = {}
    if "inputs" in m:
        value = m["inputs"]
        names = [value] if isinstance(value, str) else value
        want = 2 if kind == "add" else 1
        if kind == "concat":
            if (not isinstance(names, list) or len(names) < 2
                    or not all(isinstance(n, str) and n.strip() for n in names)):
                c.add(join_path(path, "inputs"), f"{show(value)}: concat layers take a list of at least two "
                      "layer names (joined along the channels in that order)", c.line(m, "inputs"))
            else:
                out["inputs"] = tuple(names)
        elif (not isinstance(names, list) or len(names) != want
                or not all(isinstance(n, str) and n.strip() for n in names)):
            c.add(join_path(path, "inputs"), f"{show(value)}: {kind} layers take {want} input"
                  f"{'s' if want > 1 else ''}: " + ("a list of two layer names" if want > 1 else
                  f"a layer name (or {NETWORK_INPUT!r} for the network input)"), c.line(m, "inputs"))
        else:
            out["inputs"] = tuple(names)
    if "activation" in m:
        act = m["activation"]
        if act not in ACTIVATIONS:
            c.add(join_path(path, "activation"), f"{show(act)}: unknown activation; allowed: "
                  f"{', '.join(ACTIVATIONS)} (omit the key for none)", c.line(m, "activation"))
        else:
            out["activation"] = act
    return out


# --------------------------------------------------------------------------- file
def parse_yaml_workload(text: str, source: str | Path) -> Workload:
    """Parse the text of a YAML workload file; ``source`` names it in messages."""
    source = str(source)
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as exc:
        raise InputError(source, [_yaml_error(exc)]) from None
    if data is None:
        raise InputError(source, [Problem("", "the file is empty; expected a mapping with the "
                                          f"keys {', '.join(TOP_KEYS)}")])
    if not isinstance(data, dict):
        raise InputError(source, [Problem("", f"{show(data)}: the file must be a mapping with "
                                          f"the keys {', '.join(TOP_KEYS)}")])
    c = _Checker()
    c.keys(data, "", TOP_KEYS, TOP_REQUIRED, "a workload file")
    if "version" in data:
        version = data["version"]
        if not _is_int(version) or version not in SUPPORTED_VERSIONS:
            c.add("version", f"{show(version)}: unsupported workload format version; supported "
                  f"versions: {', '.join(map(str, SUPPORTED_VERSIONS))}", c.line(data, "version"))
    name = c.string(data, "name", "", default=Path(source).stem)
    description = c.string(data, "description", "", default="")
    batch = c.integer(data, "batch", "", 1, default=1)
    weights = c.string(data, "weights", "", default=None)
    dataset = c.string(data, "dataset", "", default=None)

    layers: list[Layer] = []
    named: list[Any] = []  # per layer: its 'inputs' (producer names) or None (the previous layer)
    paths: list[str] = []
    raw_layers = data.get("layers")
    if "layers" in data:
        if not isinstance(raw_layers, list) or not raw_layers:
            c.add("layers", f"{show(raw_layers)}: must be a non-empty list of layers",
                  c.line(data, "layers"))
        else:
            seen: dict[str, int] = {}
            for i, m in enumerate(raw_layers):
                path = join_path("layers", i)
                lname = None
                if isinstance(m, dict) and "name" in m:
                    lname = c.string(m, "name", path)
                    if lname is not None and lname in seen:
                        c.add(join_path(path, "name"), f"{show(lname)}: duplicate layer name, "
                              f"already used by layers[{seen[lname]}]; names must be unique",
                              c.line(m, "name"))
                        lname = None
                    elif lname is not None:
                        seen[lname] = i
                line = raw_layers.item_lines[i] if isinstance(raw_layers, _Seq) else None
                layer = _read_layer(c, m, path, lname, line)
                if layer is not None:
                    layers.append(layer)
                    named.append(list(layer.inputs) if layer.inputs else None)
                    paths.append(path)
    if batch is not None and batch > MAX_BATCH:
        c.add("batch", f"{batch}: must be at most {MAX_BATCH:,}", c.line(data, "batch"))
    if not c.problems:  # whole-network checks (simulator/workload/checks.py)
        bounds = bound_problems(layers, paths)
        c.problems += bounds
        if not bounds:
            producers, named_problems = producers_from_names(layers, named, paths)
            c.problems += named_problems or chain_problems(
                layers, producers, paths, "; if the layer takes another layer's output, name it with "
                "inputs: [LAYER]")
    if c.problems:
        raise InputError(source, c.problems)
    assert name is not None and batch is not None and description is not None
    return Workload(name=name, layers=tuple(layers), source=source, batch=batch,
                    description=description, weights=weights, dataset=dataset)


def load_yaml_workload(path: str | Path) -> Workload:
    """Read and validate a YAML workload file."""
    path = Path(path)
    return parse_yaml_workload(read_text(path, "workload file", "utf-8"), path)


# --------------------------------------------------------------------------- writer
def _pair(h: int, w: int) -> int | list[int]:
    return h if h == w else [h, w]


def layer_to_dict(layer: Layer) -> dict[str, Any]:
    """The YAML mapping of one layer (only non-default keys)."""
    if layer.kind == "fc":
        return {"name": layer.name, "type": "fc", "in_features": layer.in_channels,
                "out_features": layer.out_channels, **_graph_dict(layer)}
    out: dict[str, Any] = {"name": layer.name, "type": layer.kind}
    if layer.kind == "pool":
        out["mode"] = layer.pool_mode
    out["input"] = [layer.in_channels, layer.in_h, layer.in_w]
    if layer.kind in ("add", "concat"):
        return {**out, **_graph_dict(layer)}
    if layer.kind == "conv":
        out["out_channels"] = layer.out_channels
    out["kernel"] = _pair(layer.kernel_h, layer.kernel_w)
    if (layer.stride_h, layer.stride_w) != (1, 1):
        out["stride"] = _pair(layer.stride_h, layer.stride_w)
    if (layer.pad_h, layer.pad_w) != (0, 0):
        out["padding"] = _pair(layer.pad_h, layer.pad_w)
    if layer.groups != 1:
        out["groups"] = layer.groups
    return {**out, **_graph_dict(layer)}


def _graph_dict(layer: Layer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if layer.inputs:
        out["inputs"] = list(layer.inputs) if len(layer.inputs) > 1 else layer.inputs[0]
    if layer.activation:
        out["activation"] = layer.activation
    return out


def _with_inputs(layers: tuple[Layer, ...], i: int) -> dict[str, Any]:
    """Layer i's mapping; ``inputs:`` names its producer when it does not take the previous layer's
    output: the latest earlier layer with the right output, else the network input."""
    out = layer_to_dict(layers[i])
    if layers[i].inputs or i == 0 or not chain_problems([layers[i - 1], layers[i]], [[], [0]], ["", ""]):
        return out
    source = next((layers[j].name for j in range(i - 2, -1, -1)
                   if not chain_problems([layers[j], layers[i]], [[], [0]], ["", ""])), NETWORK_INPUT)
    return {**{k: v for k, v in out.items() if k in ("name", "type")}, "inputs": [source],
            **{k: v for k, v in out.items() if k not in ("name", "type")}}


def _flow(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=10_000).strip()


def workload_to_yaml(workload: Workload) -> str:
    """Text of a version-1 YAML file that loads back into an equal workload (except source)."""
    header: dict[str, Any] = {"version": 1, "name": workload.name}
    if workload.description:
        header["description"] = workload.description
    header["batch"] = workload.batch
    for key in ("weights", "dataset"):
        if getattr(workload, key):
            header[key] = getattr(workload, key)
    text = yaml.safe_dump(header, sort_keys=False, width=10_000, allow_unicode=True)
    rows = [f"  - {_flow(_with_inputs(workload.layers, i))}" for i in range(len(workload.layers))]
    return text + "layers:\n" + "\n".join(rows) + "\n"
