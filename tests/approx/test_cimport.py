import shutil

import numpy as np
import pytest

from simulator.approx import generators as G
from simulator.approx.cimport import compile_c_multiplier, compile_c_source, find_functions
from simulator.approx.lut import load_table
from simulator.errors import AxsimError

needs_cc = pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler 'cc' on this machine")

# Broken-array multiplier in the style of EvoApproxLib sources (bit-level, uint64_t operands).
BAM_SOURCE = """
#include <stdint.h>
#include <stdlib.h>

uint64_t mul8u_BAM13(const uint64_t A, const uint64_t B)
{
    uint64_t P = 0;
    for (int j = 0; j < 8; j++) {          /* row j: a * b_j */
        if (j < 1) continue;               /* horizontal break level 1 */
        for (int i = 0; i < 8; i++) {
            if (i + j < 3) continue;       /* vertical break level 3 */
            P += (((A >> i) & 1) & ((B >> j) & 1)) << (i + j);
        }
    }
    return P;
}
"""

TRUNC_SOURCE = """
#include <stdint.h>
static int helper(int x) { return x; }
uint16_t mul8u_TR4(uint8_t A, uint8_t B)
{
    uint16_t P = (uint16_t)A * (uint16_t)B;
    return (uint16_t)(helper(P) & 0xFFF0);
}
"""


def test_find_functions():
    assert find_functions(BAM_SOURCE) == ["mul8u_BAM13"]
    assert find_functions("int mul(int a, int b) {return a*b;}") == ["mul"]
    assert find_functions("uint16_t mul8u_X(uint8_t A, uint8_t B);") == []


@needs_cc
def test_c_bam_equals_generator(tmp_path):
    path = tmp_path / "mul8u_BAM13.c"
    path.write_text(BAM_SOURCE)
    lut = compile_c_multiplier(path)
    assert lut.name == "mul8u_BAM13"
    assert lut.same_table(G.broken_array(1, 3))
    via_loader = load_table(path, relative_power=0.7)
    assert via_loader.same_table(lut) and via_loader.relative_power == 0.7


@needs_cc
def test_c_truncated_with_helper_function():
    lut = compile_c_source(TRUNC_SOURCE, name="tr4")
    assert lut.name == "tr4"
    assert lut.same_table(G.truncated(4))
    assert np.array_equal(compile_c_source(TRUNC_SOURCE, function="mul8u_TR4").table, G.truncated(4).table)


@needs_cc
def test_c_compile_error_is_reported(tmp_path):
    path = tmp_path / "broken.c"
    path.write_text("#include <stdint.h>\nuint16_t mul8u_X(uint8_t A, uint8_t B) { return A * B + undefined_thing; }\n")
    with pytest.raises(AxsimError) as info:
        compile_c_multiplier(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}: compiling with") and "undefined_thing" in msg


@needs_cc
def test_c_out_of_range_product_is_reported():
    src = "#include <stdint.h>\nint mul8u_NEG(uint8_t A, uint8_t B) { return (int)A * B - 1; }\n"
    with pytest.raises(AxsimError, match="product -1 for a=0, b=0 is outside 0..65535"):
        compile_c_source(src)


def test_c_function_selection_errors():
    with pytest.raises(AxsimError, match="cannot tell which function.*found: none"):
        compile_c_source("int x;")
    two = "int mul_a(int a, int b) { return a; }\nint mul_b(int a, int b) { return b; }\n"
    with pytest.raises(AxsimError, match="found: mul_a, mul_b"):
        compile_c_source(two)
    with pytest.raises(AxsimError, match="function 'mul_c' is not defined"):
        compile_c_source(two, function="mul_c")


def test_missing_compiler_is_reported():
    with pytest.raises(AxsimError, match="no C compiler found.*no-such-cc-xyz"):
        compile_c_source(TRUNC_SOURCE, compiler="no-such-cc-xyz")


def test_unreadable_c_file(tmp_path):
    with pytest.raises(AxsimError, match="nothere.c: cannot read the C source"):
        compile_c_multiplier(tmp_path / "nothere.c")
