"""Independent oracles shared by tests (no code shared with the model)."""
from __future__ import annotations

import numpy as np


def xy_links(src, dst):
    """Directed links of the XY route (X first, then Y), in hop order; independent of Mesh.route."""
    out, (r, c) = [], src
    while c != dst[1]:
        n = c + (1 if dst[1] > c else -1)
        out.append(((r, c), (r, n)))
        c = n
    while r != dst[0]:
        n = r + (1 if dst[0] > r else -1)
        out.append(((r, c), (n, c)))
        r = n
    return out


class DirectionalRates:
    """Flip probabilities per bit position that differ by link direction (east-going links flip
    the four low bits with ``p``, the others bit 7 with ``p / 4``; SRAM cells never flip or stick), so a
    swapped link, bit position or lane count shows in the counts."""

    def __init__(self, p):
        self.p = p

    def link(self, network, src, dst):
        out = np.zeros(8)
        if dst[1] == src[1] + 1:
            out[:4] = self.p
        else:
            out[7] = self.p / 4
        return out

    def sram_read(self, buffer, ds):
        return np.zeros(8)

    def sram_stuck(self, buffer, ds):
        return np.zeros(8)
