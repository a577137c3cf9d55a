"""Independent oracles shared by tests (no code shared with the model)."""
from __future__ import annotations


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
