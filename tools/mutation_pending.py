"""Names of mutants not yet checked (or not killed), for resuming a mutmut run package by package.

    python tools/mutation_pending.py [--survivors] PREFIX...   # e.g. simulator.hw. simulator.engine.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

DETECTED = {1, 3, 36, 24, -24, 152, 255}


def main(argv: list[str]) -> int:
    survivors = "--survivors" in argv
    prefixes = [a for a in argv if not a.startswith("--")] or ["simulator."]
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if not name.startswith(tuple(prefixes)):
                continue
            if code is None or (survivors and code not in DETECTED):
                print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
