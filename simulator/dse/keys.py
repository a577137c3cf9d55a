"""Architecture key paths in sweeps: reading and setting them, and what each kind of key changes.

A key path names one value of an architecture file: dotted mapping keys and
``[i]`` list indices, e.g. ``chiplet.global_buffer.size_bytes`` or
``package.dram.attach[0]``.

**Knob classes.** Whether a point can reuse work done for another point
depends on what its knobs change:

* *structural* keys (buffer sizes, mesh shapes, link widths, latencies, ...)
  change the mapping or the timing: a point with another structural value
  must be simulated;
* *energy-only* keys (:data:`ENERGY_ONLY_PATTERNS`) change only the price of
  the same action counts: such a point can be re-priced from the run of its
  structural configuration;
* among the energy-only keys, *error-rate* keys (:data:`ERROR_RATE_PATTERNS`)
  also change the bit-error rates, so the accuracy of a point cannot be
  reused across their values.

These two lists are the only place where the classification lives; the
configuration hashes of :func:`structural_hash` and :func:`accuracy_hash`
follow them.
"""
from __future__ import annotations

import difflib
import fnmatch
import functools
import hashlib
import json
import re
from typing import Any, Iterable

from pydantic import BaseModel

#: Key-path patterns (fnmatch syntax, ``*`` also crosses dots) of architecture keys that change
#: only the energy of a run, never its action counts or timing. Grow this list as operating
#: points are added (link swing per network / link / bit group, SRAM Vdd per buffer).
ENERGY_ONLY_PATTERNS: tuple[str, ...] = (
    "tech",            # another technology table: same counts, other prices
    "*swing_v",        # link voltage swing (network, link or bit group)
    "*bit_groups",     # the swing of each group of bit lanes, as a whole list
    "*.links",         # per-link overrides (swing, bit groups), as a whole list
    "*vdd_v",          # SRAM supply voltage (per buffer)
    "*vdd_v_per_ds*",  # SRAM supply per data structure held in a buffer
)

#: Energy-only keys that also set bit-error rates (transient link errors, SRAM cell failures):
#: the accuracy of a point depends on them.
ERROR_RATE_PATTERNS: tuple[str, ...] = (
    "*swing_v",
    "*bit_groups",
    "*.links",
    "*vdd_v",
    "*vdd_v_per_ds*",
)

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(path: str) -> list[str | int]:
    """``'package.dram.attach[0]'`` -> ``['package', 'dram', 'attach', 0]``."""
    parts: list[str | int] = []
    pos = 0
    for m in _PART.finditer(path):
        if m.start() != pos and path[pos:m.start()] != ".":
            raise ValueError(f"malformed key path {path!r}")
        parts.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if pos != len(path) or not parts:
        raise ValueError(f"malformed key path {path!r}")
    return parts


def get_path(data: Any, path: str) -> Any:
    """The value at ``path`` in nested dicts/lists; KeyError if absent."""
    node = data
    for part in split_path(path):
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                raise KeyError(path)
            node = node[part]
        else:
            if not isinstance(node, dict) or part not in node:
                raise KeyError(path)
            node = node[part]
    return node


def set_path(data: dict, path: str, value: Any) -> None:
    """Set ``path`` in nested dicts/lists (in place), creating missing mappings."""
    parts = split_path(path)
    node: Any = data
    for part, nxt in zip(parts[:-1], parts[1:]):
        if isinstance(part, int):
            node = node[part]
        else:
            if node.get(part) is None:
                node[part] = [] if isinstance(nxt, int) else {}
            node = node[part]
    last = parts[-1]
    if isinstance(last, int):
        while len(node) <= last:
            node.append(None)
    node[last] = value


def file_paths(data: Any, prefix: str = "") -> list[str]:
    """Every key path in a parsed YAML file (leaves and inner nodes)."""
    out: list[str] = []
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out.append(path)
            out.extend(file_paths(value, path))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            path = f"{prefix}[{i}]"
            out.append(path)
            out.extend(file_paths(value, path))
    return out


def model_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every key path a pydantic model accepts (fields of nested models, no list indices)."""
    out: list[str] = []
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        path = f"{prefix}.{name}" if prefix else name
        out.append(path)
        sub = _submodel(field.annotation)
        if sub is not None:
            out.extend(model_paths(sub, path))
    return out


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _submodel(arg)
        if found is not None:
            return found
    return None


def nearest(path: str, candidates: Iterable[str], n: int = 5) -> list[str]:
    """The valid key paths closest to a misspelt one (whole paths, then last components)."""
    candidates = sorted(set(candidates))
    close = difflib.get_close_matches(path, candidates, n=n, cutoff=0.5)
    if len(close) < n:
        tail = path.rsplit(".", 1)[-1]
        by_tail = [c for c in candidates
                   if difflib.get_close_matches(tail, [c.rsplit(".", 1)[-1]], n=1, cutoff=0.75)]
        close += [c for c in by_tail if c not in close][: n - len(close)]
    return close


def _matches(path: str, patterns: Iterable[str]) -> bool:
    generic = re.sub(r"\[\d+\]", "[*]", path)
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(generic, p) for p in patterns)


@functools.lru_cache(maxsize=4096)
def is_energy_only(path: str) -> bool:
    return _matches(path, ENERGY_ONLY_PATTERNS)


@functools.lru_cache(maxsize=4096)
def is_error_rate(path: str) -> bool:
    return _matches(path, ERROR_RATE_PATTERNS)


def knob_class(path: str) -> str:
    """``'structural'``, ``'energy'`` (re-priced) or ``'energy+errors'`` (re-priced, accuracy not reused)."""
    if not is_energy_only(path):
        return "structural"
    return "energy+errors" if is_error_rate(path) else "energy"


def _strip(data: Any, keep, prefix: str = "") -> Any:
    """A copy of ``data`` without the key paths for which ``keep(path)`` is false."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if keep(path):
                out[key] = _strip(value, keep, path)
        return out
    if isinstance(data, list):
        return [_strip(v, keep, f"{prefix}[{i}]") for i, v in enumerate(data)]
    return data


def digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()[:16]


def structural_hash(arch_data: dict, *other: Any) -> str:
    """Hash of everything that decides action counts and timing: the architecture without its
    energy-only keys, plus ``other`` (MAC plan, workload, seed)."""
    return digest(_strip(arch_data, lambda p: not is_energy_only(p)), *other)


def accuracy_hash(arch_data: dict, *other: Any) -> str:
    """Hash of everything that decides accuracy: the structural part plus the error-rate keys."""
    return digest(_strip(arch_data, lambda p: not is_energy_only(p) or is_error_rate(p)), *other)
