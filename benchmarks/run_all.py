"""Run every benchmark script in this folder (``make bench``)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in sorted(HERE.glob("bench_*.py")):
    print(f"== {script.name}", flush=True)
    code = subprocess.call([sys.executable, str(script)])
    if code:
        sys.exit(code)
