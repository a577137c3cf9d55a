"""User-facing errors.

Every problem the user can fix (a bad architecture file, workload, trace or
approximation file) is raised as an :class:`AxsimError`. The CLI prints its
message and exits with status 2, never a traceback. Input files report *all*
problems at once as :class:`InputError`, one line per problem, each naming the
file, the key path, the bad value and what is allowed::

    arch/simba.yaml: chiplet.pe.weight_buffer.size_bytes: -1: must be > 0
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable


class AxsimError(Exception):
    """An error caused by user input; its message is meant to be read as is."""


@dataclass(frozen=True)
class Problem:
    """One problem in an input file: where (key path) and what (message).

    ``message`` should contain the offending value and what is allowed.
    ``path`` uses dots for mapping keys and ``[i]`` for list indices, e.g.
    ``layers[3].stride``. An empty path means the whole file.
    """

    path: str
    message: str

    def render(self, file: str) -> str:
        where = f"{file}: {self.path}" if self.path else file
        return f"{where}: {self.message}"


MAX_SHOWN = 50  # problems listed in a message; the rest are counted


class InputError(AxsimError):
    """One or more problems in one input file (the message lists the first :data:`MAX_SHOWN`
    and says how many more there are; ``problems`` keeps them all)."""

    def __init__(self, file: str | Path, problems: Iterable[Problem]):
        self.file = str(file)
        self.problems = list(problems)
        if not self.problems:
            raise ValueError("InputError needs at least one problem")
        lines = [p.render(self.file) for p in self.problems[:MAX_SHOWN]]
        more = len(self.problems) - MAX_SHOWN
        if more > 0:
            lines.append(f"{self.file}: ... and {more} more problem{'s' if more > 1 else ''} "
                         f"(the first {MAX_SHOWN} are listed)")
        super().__init__("\n".join(lines))


def show(value: object, limit: int = 60) -> str:
    """Short printable form of a bad value for error messages."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def join_path(*parts: str | int) -> str:
    """Join key-path parts: ``join_path('layers', 3, 'stride') -> 'layers[3].stride'``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "":
            out = f"{out}.{part}" if out else str(part)
    return out
