"""Shared fixtures: repository paths, the bundled architectures, a small workload,
and a helper that writes edited copies of an architecture file."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from simulator.config import load_arch
from simulator.workload import Layer, Workload

ROOT = Path(__file__).resolve().parents[1]
ARCH_DIR = ROOT / "arch"
TECH_DIR = ARCH_DIR / "tech"
WORKLOAD_DIR = ROOT / "workloads"

#: Marker for :func:`write_arch` edits: remove the key instead of setting it.
DELETE = object()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def tiny_arch():
    return load_arch(ARCH_DIR / "tiny.yaml")


@pytest.fixture(scope="session")
def simba_arch():
    return load_arch(ARCH_DIR / "simba.yaml")


@pytest.fixture(scope="session")
def axbxp_arch():
    """Simba with block-wise (Ax-BxP) PEs."""
    return load_arch(ARCH_DIR / "simba_axbxp.yaml")


def small_layers() -> tuple[Layer, ...]:
    """Three quick layers: a padded 3x3 conv, a 2x2/2 max pool and an fc."""
    return (
        Layer("conv", "conv", 8, 8, 8, 16, 3, 3, pad_h=1, pad_w=1),
        Layer("pool", "pool", 16, 8, 8, 16, 2, 2, 2, 2, pool_mode="max"),
        Layer.fc("fc", 256, 10),
    )


@pytest.fixture(scope="session")
def small_workload() -> Workload:
    return Workload("small", small_layers(), "<tests>")


def _set(data: dict, dotted: str, value: Any) -> None:
    keys = dotted.split(".")
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    if value is DELETE:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value


def arch_data(base: str = "simba") -> dict:
    """The parsed YAML of ``arch/<base>.yaml`` with ``tech`` made absolute."""
    path = ARCH_DIR / f"{base}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["tech"] = str((path.parent / data["tech"]).resolve())
    return data


@pytest.fixture
def write_arch(tmp_path: Path) -> Callable[..., Path]:
    """``write_arch(edits, base="simba", name="arch.yaml")`` -> path of an edited copy.

    ``edits`` maps dotted key paths to new values (``DELETE`` removes the key),
    or is a callable that edits the parsed dict in place. The copy's ``tech``
    path is absolute, since the copy lives in ``tmp_path``.
    """

    def write(edits: dict[str, Any] | Callable[[dict], None] | None = None, base: str = "simba",
              name: str = "arch.yaml") -> Path:
        data = copy.deepcopy(arch_data(base))
        if callable(edits):
            edits(data)
        else:
            for key, value in (edits or {}).items():
                _set(data, key, value)
        out = tmp_path / name
        out.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return out

    return write
