"""Import of SCALE-Sim topology CSV files (SCALE-Sim v2/v3 convolution format).

The file has one header line::

    Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,

then one convolution per row. SCALE-Sim convolutions are unpadded and use the
same stride in both directions; fully connected layers appear as 1x1
convolutions on a 1x1 input. Every row becomes a ``conv`` layer with padding
0 and groups 1. The trailing comma of each line is optional; spaces around
fields and blank lines are ignored. All problems are reported at once::

    topo.csv: row 2 (line 3): column 'Channels': 0: must be an integer >= 1
"""
from __future__ import annotations

import csv
from pathlib import Path

from ..config.yamlio import read_text
from ..errors import InputError, Problem, show
from .layer import Layer, Workload

COLUMNS = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
           "Channels", "Num Filter", "Strides")
HEADER = ", ".join(COLUMNS) + ","


def _cells(line: str) -> list[str]:
    cells = [cell.strip() for cell in next(csv.reader([line]))]
    if cells and cells[-1] == "":
        cells.pop()  # the trailing comma SCALE-Sim writes after the last column
    return cells


def _int(text: str) -> int | None:
    try:
        return int(text, 10)
    except ValueError:
        return None


def parse_scalesim_csv(text: str, source: str | Path) -> Workload:
    """Parse the text of a SCALE-Sim topology CSV; ``source`` names it in messages."""
    source = str(source)
    problems: list[Problem] = []
    lines = [(i + 1, line) for i, line in enumerate(text.splitlines()) if line.strip()]
    if not lines:
        raise InputError(source, [Problem("", f"the file is empty; expected the header line "
                                          f"{HEADER!r} and one layer per line")])
    header_line, header = lines[0]
    names = _cells(header)
    if [n.lower() for n in names] != [c.lower() for c in COLUMNS]:
        problems.append(Problem(f"header (line {header_line})",
                                f"{show(header.strip(), 120)}: not a SCALE-Sim topology header; "
                                f"expected the columns {', '.join(COLUMNS)}"))
        raise InputError(source, problems)
    if len(lines) == 1:
        raise InputError(source, [Problem("", "no layers: the file has a header but no rows")])

    layers: list[Layer] = []
    seen: dict[str, int] = {}
    for row, (line_no, line) in enumerate(lines[1:], start=1):
        where = f"row {row} (line {line_no})"
        cells = _cells(line)
        if len(cells) != len(COLUMNS):
            problems.append(Problem(where, f"{show(line.strip(), 120)}: has {len(cells)} "
                                    f"columns, expected {len(COLUMNS)} ({', '.join(COLUMNS)})"))
            continue
        name = cells[0]
        n_before = len(problems)
        if not name:
            problems.append(Problem(f"{where}: column 'Layer name'", "'': must not be empty"))
        elif name in seen:
            problems.append(Problem(f"{where}: column 'Layer name'",
                                    f"{show(name)}: duplicate layer name, already used by row "
                                    f"{seen[name]}; names must be unique"))
        else:
            seen[name] = row
        values: dict[str, int] = {}
        for column, cell in zip(COLUMNS[1:], cells[1:]):
            value = _int(cell)
            if value is None or value < 1:
                problems.append(Problem(f"{where}: column {column!r}",
                                        f"{show(cell)}: must be an integer >= 1"))
            else:
                values[column] = value
        if len(problems) > n_before:
            continue
        for axis, size_col, filt_col in (("height", "IFMAP Height", "Filter Height"),
                                         ("width", "IFMAP Width", "Filter Width")):
            if values[filt_col] > values[size_col]:
                problems.append(Problem(
                    f"{where}: column {filt_col!r}",
                    f"{values[filt_col]}: filter {axis} is larger than the input {axis} "
                    f"{values[size_col]} (SCALE-Sim convolutions are unpadded); it must be at "
                    f"most {values[size_col]}"))
        if len(problems) > n_before:
            continue
        stride = values["Strides"]
        layers.append(Layer(
            name=name, kind="conv", in_channels=values["Channels"],
            in_h=values["IFMAP Height"], in_w=values["IFMAP Width"],
            out_channels=values["Num Filter"], kernel_h=values["Filter Height"],
            kernel_w=values["Filter Width"], stride_h=stride, stride_w=stride))
    if problems:
        raise InputError(source, problems)
    return Workload(name=Path(source).stem, layers=tuple(layers), source=source, batch=1,
                    description="imported from a SCALE-Sim topology file")


def load_scalesim_csv(path: str | Path) -> Workload:
    """Read and validate a SCALE-Sim topology CSV file."""
    path = Path(path)
    return parse_scalesim_csv(read_text(path, "workload file", "utf-8-sig"), path)
