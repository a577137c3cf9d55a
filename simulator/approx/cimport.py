"""Import an EvoApprox-style C multiplier by compiling it.

The source must define a function of two operands, e.g.
``uint16_t mul8u_1JFF(uint8_t A, uint8_t B)``; return types ``uint8_t``..
``uint64_t``, ``int``, ``unsigned``, ``long`` and parameter types of the same
family are accepted, as EvoApproxLib sources use several. The source is compiled
with the system C compiler (``$CC``, else ``cc``, ``gcc`` or ``clang``) in a
temporary directory together with a driver that calls ``f(a, b)`` for all
65,536 pairs (first argument = activation ``a``, second = weight ``b``, i.e. the
table index ``a * 256 + b``) and writes the TFApprox table. Every product must
be in 0..65535.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from simulator.approx.lut import SIDE, LutMultiplier
from simulator.errors import AxsimError

_TYPE = r"(?:const\s+)?(?:uint(?:8|16|32|64)_t|unsigned\s+(?:int|long(?:\s+long)?|short|char)|unsigned|int|long(?:\s+long)?)"
_FUNC = re.compile(
    rf"(?:^|[;}}\s])(?:static\s+)?(?:inline\s+)?{_TYPE}\s+([A-Za-z_]\w*)\s*\(\s*{_TYPE}\s+\w+\s*,\s*{_TYPE}\s+\w+\s*\)\s*\{{",
    re.MULTILINE)

_DRIVER = r"""
#include <stdio.h>
#include <stdint.h>
#include "multiplier.c"

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    FILE *f = fopen(argv[1], "wb");
    if (!f) { perror(argv[1]); return 3; }
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            long long p = (long long)(__AXSIM_FN__((uint8_t)a, (uint8_t)b));
            if (p < 0 || p > 65535) {
                fprintf(stderr, "product %lld for a=%u, b=%u is outside 0..65535\n", p, a, b);
                fclose(f);
                return 4;
            }
            unsigned char buf[2] = {(unsigned char)(p & 255), (unsigned char)(p >> 8)};
            fwrite(buf, 1, 2, f);
        }
    }
    return fclose(f) == 0 ? 0 : 5;
}
"""


def find_compiler(compiler: str | None = None) -> str:
    """Path of the C compiler to use; raises AxsimError if none is found."""
    candidates = [compiler] if compiler else [c for c in (os.environ.get("CC"), "cc", "gcc", "clang") if c]
    for cand in candidates:
        found = shutil.which(cand)
        if found:
            return found
    raise AxsimError(f"no C compiler found (tried {', '.join(candidates)}); install one or set CC "
                     "to import a C multiplier")


def find_functions(source: str) -> list[str]:
    """Names of the two-operand integer functions defined in ``source``."""
    return _FUNC.findall(source)


def compile_c_source(source: str, function: str | None = None, name: str | None = None,
                     compiler: str | None = None, origin: str = "<C source>",
                     timeout: float = 120.0) -> LutMultiplier:
    """Compile C ``source`` text and tabulate ``function`` (default: the only one defined)."""
    names = find_functions(source)
    if function is None:
        preferred = [n for n in names if n.startswith("mul")] or names
        if len(preferred) != 1:
            found = ", ".join(names) if names else "none"
            raise AxsimError(f"{origin}: cannot tell which function is the multiplier (found: {found}); "
                             "expected one function like 'uint16_t mul8u_XXX(uint8_t A, uint8_t B)'"
                             + ("; pass its name" if names else ""))
        function = preferred[0]
    elif not re.search(rf"\b{re.escape(function)}\s*\(", source):
        raise AxsimError(f"{origin}: function {function!r} is not defined; found: {', '.join(names) or 'none'}")
    cc = find_compiler(compiler)
    with tempfile.TemporaryDirectory(prefix="axsim_cmul_") as tmp:
        tmpdir = Path(tmp)
        (tmpdir / "multiplier.c").write_text(source)
        (tmpdir / "driver.c").write_text(_DRIVER.replace("__AXSIM_FN__", function))
        exe, table_file = tmpdir / "driver", tmpdir / "table.bin"
        try:
            proc = subprocess.run([cc, "-O1", "-std=gnu99", "-o", str(exe), str(tmpdir / "driver.c")],
                                  capture_output=True, text=True, timeout=timeout, cwd=tmp)
        except subprocess.TimeoutExpired:
            raise AxsimError(f"{origin}: the C compiler {cc} did not finish within {timeout:g} s") from None
        if proc.returncode != 0:
            text = (proc.stderr or proc.stdout).replace(str(tmpdir / "multiplier.c"), origin)
            msg = "\n".join(line for line in text.splitlines()
                            if not line.startswith("In file included from")).strip()
            raise AxsimError(f"{origin}: compiling with {cc} failed:\n{msg}")
        try:
            run = subprocess.run([str(exe), str(table_file)], capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AxsimError(f"{origin}: evaluating {function} on 65,536 pairs took over {timeout:g} s") from None
        if run.returncode != 0:
            raise AxsimError(f"{origin}: evaluating {function} failed: "
                             f"{run.stderr.strip() or 'exit status ' + str(run.returncode)}")
        table = np.frombuffer(table_file.read_bytes(), dtype="<u2").reshape(SIDE, SIDE)
    return LutMultiplier(table.copy(), name or function)


def compile_c_multiplier(path, function: str | None = None, name: str | None = None,
                         compiler: str | None = None) -> LutMultiplier:
    """Compile the C file at ``path`` and tabulate its multiplier function."""
    path = Path(path)
    try:
        source = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise AxsimError(f"{path}: cannot read the C source ({exc})") from None
    return compile_c_source(source, function, name, compiler, origin=str(path))
