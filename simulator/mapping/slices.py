"""The tensor slices of the weight-stationary mapping (data identity of its transactions).

PE ``i`` holds part ``(p, c, k) = Partition.part(i)``: output channels
``[k·k_pe, (k+1)·k_pe)``, output rows ``[p·p_pe, (p+1)·p_pe)`` and reduction
channels ``[c·c_pe, (c+1)·c_pe)``, each clipped to the layer. A step of the
lock-step loop nest names tile offsets relative to the part; a PE whose part is
shorter than the nest (the last part of an uneven split) gets clipped, possibly
empty, slices. Slice layouts: :mod:`simulator.mapping.identity`.
"""
from __future__ import annotations

from simulator.mapping.identity import Slice
from simulator.mapping.tiling import Partition, Shape


class Geometry:
    """Slices of one layer's parts for the steps of its loop nest."""

    def __init__(self, shape: Shape, part: Partition):
        self.shape = shape
        self.part = part
        self.grouped = shape.groups > 1

    def base(self, index: int) -> tuple[int, int, int, int, int, int, int]:
        """(c part, row base, row end, c base, c end, k base, k end) of PE ``index``'s part."""
        sh, pt = self.shape, self.part
        p, c, k = pt.part(index)
        return (c, p * pt.p_pe, min(sh.p, (p + 1) * pt.p_pe), c * pt.c_pe, min(sh.c_red, (c + 1) * pt.c_pe),
                k * pt.k_pe, min(sh.k, (k + 1) * pt.k_pe))

    @staticmethod
    def work(b, ko: int, kt: int, ro: int, rows: int, xo: int, cols: int, co: int, ct: int,
             compute: bool) -> Slice:
        """Work slice (k, c, rows, cols) of the PE with base ``b`` in one step."""
        _, r0, r1, c0, c1, k0, k1 = b
        ka, kb = min(k0 + ko, k1), min(k0 + ko + kt, k1)
        ya, yb = min(r0 + ro, r1), min(r0 + ro + rows, r1)
        if compute:
            ca, cb = min(c0 + co, c1), min(c0 + co + ct, c1)
        else:
            ca, cb = 0, 1
        return (ka, kb, ca, cb, ya, yb, xo, xo + cols)

    def weights(self, w: Slice) -> Slice:
        sh = self.shape
        return (w[0], w[1], w[2], w[3], 0, sh.r, 0, sh.s)

    def inputs(self, w: Slice) -> Slice:
        """The input window of work slice ``w`` (padded coordinates), with its halo."""
        sh = self.shape
        ka, kb, ca, cb, ya, yb, xa, xb = w
        if self.grouped:
            kpg = sh.k_per_group
            ga, gb = (ka // kpg, (kb - 1) // kpg + 1) if kb > ka else (0, 0)
        else:
            ga, gb = 0, 1
        if yb > ya:
            rows_a, rows_b = ya * sh.stride_h, min(sh.h, (yb - 1) * sh.stride_h + sh.r)
            halo_r = 0 if yb >= sh.p else rows_b - min(rows_b, yb * sh.stride_h)
        else:
            rows_a = rows_b = halo_r = 0
        cols_a, cols_b = xa * sh.stride_w, min(sh.w, (xb - 1) * sh.stride_w + sh.s)
        halo_c = 0 if xb >= sh.q else cols_b - min(cols_b, xb * sh.stride_w)
        return (0, sh.in_tensors, ga, gb, ca, cb, rows_a, rows_b, cols_a, cols_b, halo_r, halo_c)

    @staticmethod
    def outputs(w: Slice) -> Slice:
        return (w[0], w[1], w[4], w[5], w[6], w[7])

    @staticmethod
    def psums(part_c: int, w: Slice) -> Slice:
        return (part_c, part_c + 1, w[0], w[1], w[4], w[5], w[6], w[7])
