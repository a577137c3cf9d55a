"""Kill rates per package from a mutmut run (the ``mutants/`` folder), for docs/testing.md.

    python tools/mutation_report.py [--equivalent tests/mutation_equivalent.txt] [--survivors]
    python tools/mutation_report.py --names SAMPLE.txt   # only the mutants named in a file

A mutant is *detected* when a test failed (killed) or the run exceeded its time limit
(timeout: the mutant made the model loop). Mutants listed in the equivalence file
(one name per line, ``#`` starts the reason) behave exactly like the original and are
left out of the rate: rate = detected / (checked - equivalent). With ``--names`` (for
example a seeded sample from ``tools/mutation_pending.py --sample``) only the listed
mutants count, and the rate gets its Wilson 95 % interval (a binomial proportion
estimated from a random sample).
"""
from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

KILLED = {1, 3}
TIMEOUT = {36, 24, -24, 152, 255}
NO_TESTS = {5, 33}


def load(mutants: Path) -> dict[str, int | None]:
    out: dict[str, int | None] = {}
    for meta in sorted(mutants.rglob("*.py.meta")):
        out.update(json.loads(meta.read_text())["exit_code_by_key"])
    return out


def equivalents(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        name, _, reason = line.partition("#")
        if name.strip():
            out[name.strip()] = reason.strip()
    return out


def wilson(detected: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (Wilson 1927), as fractions."""
    if n == 0:
        return float("nan"), float("nan")
    p = detected / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def package_of(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 2 else parts[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mutants", type=Path, default=Path("mutants"))
    ap.add_argument("--equivalent", type=Path, default=Path("tests/mutation_equivalent.txt"))
    ap.add_argument("--survivors", action="store_true", help="list surviving non-equivalent mutants")
    ap.add_argument("--names", type=Path, help="count only the mutants named in this file (one per line)")
    args = ap.parse_args(argv)
    codes = load(args.mutants)
    if args.names is not None:
        if not args.names.is_file():
            print(f"{args.names}: cannot read the list of mutant names")
            return 1
        wanted = {line.strip() for line in args.names.read_text().splitlines() if line.strip()}
        missing = sorted(wanted - set(codes))
        if missing:
            print(f"{args.names}: {len(missing)} names are not mutants of this run, e.g. {missing[0]}")
            return 1
        codes = {name: code for name, code in codes.items() if name in wanted}
    if not codes:
        print(f"no mutmut results under {args.mutants}/ (run 'make mutation' first)")
        return 1
    equiv = equivalents(args.equivalent)
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    survivors: dict[str, list[str]] = defaultdict(list)
    for name, code in codes.items():
        s = stats[package_of(name)]
        s["mutants"] += 1
        if code is None:
            s["not checked"] += 1
        elif name in equiv and code not in KILLED | TIMEOUT:
            s["equivalent"] += 1
        elif code in KILLED:
            s["killed"] += 1
        elif code in TIMEOUT:
            s["timeout"] += 1
        elif code in NO_TESTS:
            s["no tests"] += 1
            survivors[package_of(name)].append(name)
        else:
            s["survived"] += 1
            survivors[package_of(name)].append(name)
    ci = args.names is not None
    print("| package | mutants | killed | timeout | equivalent | survived | no tests | not checked | kill rate |"
          + (" 95% interval |" if ci else ""))
    print("|---|---|---|---|---|---|---|---|---|" + ("---|" if ci else ""))
    for pkg in sorted(stats):
        s = stats[pkg]
        checked = s["mutants"] - s["not checked"] - s["equivalent"]
        rate = (s["killed"] + s["timeout"]) / checked if checked else float("nan")
        print(f"| {pkg} | {s['mutants']} | {s['killed']} | {s['timeout']} | {s['equivalent']} | {s['survived']} "
              f"| {s['no tests']} | {s['not checked']} | {100 * rate:.1f}% |", end="")
        if ci:
            lo, hi = wilson(s["killed"] + s["timeout"], checked)
            print(f" {100 * lo:.1f}-{100 * hi:.1f}% |", end="")
        print()
    if args.survivors:
        for pkg in sorted(survivors):
            print(f"\n{pkg}:")
            for name in sorted(survivors[pkg]):
                print(f"  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
