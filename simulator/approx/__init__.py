"""Functional (pure numpy) models of approximate arithmetic.

These are the oracles the timed hardware models are tested against:

* :mod:`.blocked` / :mod:`.blockops`: Ax-BxP block-wise approximate
  multiplication (configurations; elementwise, GEMM and convolution);
* :mod:`.lut`, :mod:`.generators`, :mod:`.cimport`: 8x8-bit table multipliers
  (EvoApprox8b / TFApprox files, built-in families, C import);
* :mod:`.metrics`: EvoApprox error metrics;
* :mod:`.kernels`: compiled LUT GEMM / convolution;
* :mod:`.intgemm`: exact integer GEMM on float BLAS.

See ``docs/approx.md`` for the equations and sources.
"""
from simulator.approx.blocked import (BlockConfig, dynamic, exact, msb_pairs, presets,
                                      static_msb, static_top, top_pairs)
from simulator.approx.blockops import (blocked_conv2d, blocked_gemm, blocked_multiply,
                                       transform_operand)
from simulator.approx.intgemm import exact_int_gemm
from simulator.approx.lut import (LutMultiplier, load_binary, load_npy, load_table,
                                  lut_gemm_reference, save_binary, save_npy)
from simulator.approx.metrics import ErrorMetrics, error_metrics

__all__ = [
    "BlockConfig", "dynamic", "exact", "msb_pairs", "presets", "static_msb", "static_top",
    "top_pairs", "blocked_conv2d", "blocked_gemm", "blocked_multiply", "transform_operand",
    "exact_int_gemm", "LutMultiplier", "load_binary", "load_npy", "load_table",
    "lut_gemm_reference", "save_binary", "save_npy", "ErrorMetrics", "error_metrics",
]
