"""Generated blocks in the Markdown docs: text between ``<!-- begin: NAME -->`` and ``<!-- end: NAME -->``.

The benchmark scripts write the tables they produce into docs/ with :func:`replace_block`, so a
documented figure is regenerated, never copied by hand; tests read the blocks back with
:func:`read_block` and compare them with a fresh run (fast scripts) or with the table they
summarise (slow ones).
"""
from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _pattern(name: str) -> re.Pattern:
    return re.compile(rf"(<!-- begin: {re.escape(name)} -->\n)(.*?)(<!-- end: {re.escape(name)} -->)", re.S)


def read_block(path: str | Path, name: str) -> str:
    text = Path(path).read_text(encoding="utf-8")
    match = _pattern(name).search(text)
    if match is None:
        raise KeyError(f"{path}: no generated block {name!r}")
    return match.group(2)


def replace_block(path: str | Path, name: str, body: str) -> None:
    """Replace the block's contents with ``body`` (which must end with a newline)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if not _pattern(name).search(text):
        raise KeyError(f"{path}: no generated block {name!r}; add the begin/end markers first")
    body = body if body.endswith("\n") else body + "\n"
    path.write_text(_pattern(name).sub(lambda m: m.group(1) + body + m.group(3), text, count=1), encoding="utf-8")
    print(f"# wrote block {name!r} of {path}")
