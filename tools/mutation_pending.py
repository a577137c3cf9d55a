"""Names of mutants, for resuming or sampling a mutmut run package by package.

    python tools/mutation_pending.py [--survivors] PREFIX...   # not checked (or not killed)
    python tools/mutation_pending.py --sample 0.5 [--rest] [--seed 20261130] PREFIX...

Without ``--sample``: the mutants a run has not checked yet (``--survivors``: or not
detected). With ``--sample F``: a random fraction ``F`` of all mutants under the prefixes
(the sorted names shuffled by ``random.Random(seed)``), or with ``--rest`` the others, so a
package too large for one sitting is checked as an unbiased sample first.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

DETECTED = {1, 3, 36, 24, -24, 152, 255}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prefixes", nargs="*", default=["simulator."])
    ap.add_argument("--survivors", action="store_true", help="also list checked mutants that were not detected")
    ap.add_argument("--sample", type=float, help="a random fraction of all mutants under the prefixes")
    ap.add_argument("--rest", action="store_true", help="with --sample: the mutants not in the sample")
    ap.add_argument("--seed", type=int, default=20261130)
    args = ap.parse_args(argv)
    prefixes = tuple(args.prefixes or ["simulator."])
    codes: dict[str, int | None] = {}
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
            if name.startswith(prefixes):
                codes[name] = code
    if args.sample is not None:
        names = sorted(codes)
        random.Random(args.seed).shuffle(names)
        n = round(len(names) * args.sample)
        print("\n".join(names[n:] if args.rest else names[:n]))
        return 0
    for name, code in codes.items():
        if code is None or (args.survivors and code not in DETECTED):
            print(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
