"""Load a workload from any supported file format, chosen by the file suffix."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import AxsimError
from .layer import Workload
from .scalesim import load_scalesim_csv
from .yaml_loader import load_yaml_workload

LOADERS: dict[str, Callable[[Path], Workload]] = {
    ".yaml": load_yaml_workload,
    ".yml": load_yaml_workload,
    ".csv": load_scalesim_csv,
}
SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(LOADERS)


def load_workload(path: str | Path) -> Workload:
    """Load a workload file: ``.yaml``/``.yml`` (axsim format) or ``.csv`` (SCALE-Sim topology).

    Raises :class:`~simulator.errors.AxsimError` for a missing file or an
    unsupported suffix and :class:`~simulator.errors.InputError` for invalid
    content.
    """
    path = Path(path)
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise AxsimError(
            f"{path}: unsupported workload file type {path.suffix or '(no suffix)'!r}; "
            f"supported suffixes: {', '.join(SUPPORTED_SUFFIXES)}")
    if not path.exists():
        raise AxsimError(f"{path}: workload file not found")
    if not path.is_file():
        raise AxsimError(f"{path}: not a file")
    return loader(path)


def list_workloads(folder: str | Path) -> list[Path]:
    """Workload files directly inside ``folder`` (supported suffixes only), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AxsimError(f"{folder}: workload folder not found")
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
