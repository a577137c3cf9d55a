"""Data identity: which tensor elements a transaction carries (trace format version 2).

A *slice* is a flat tuple of index ranges, two integers ``start, stop`` per
dimension of its data structure, in the order of :data:`DIMS`:

- ``weights``: ``k`` (output channel), ``c`` (input channel within its group), ``r``, ``s``;
- ``inputs``: ``t`` (input tensor: 0, or 0/1 for the two operands of an
  element-wise add), ``g`` (group), ``c`` (channel within the group), ``rows``,
  ``cols`` in the coordinates of the zero-padded input with the samples of a
  batch stacked along the rows (the mapper's view), followed by two halo counts:
  ``halo_rows`` / ``halo_cols`` = how many trailing rows / columns of the window
  are also carried for the next tile (the overlap of convolution windows);
  channel ``g * (C / groups) + c`` of the layer input;
- ``outputs``: ``k``, ``rows``, ``cols`` (batch stacked along the rows);
- ``psums``: ``part`` (index of the input-channel part that produced it), ``k``, ``rows``, ``cols``;
- compute work (:data:`WORK_DIMS`): ``k``, ``c`` (reduction channels), ``rows``, ``cols``
  of the outputs a PE computes in one step (pool/add: ``c`` is ``0:1``).

Slices are plain tuples so that generating the traces of a whole network stays
cheap; :func:`to_dict` / :func:`from_dict` convert them for trace files.
"""
from __future__ import annotations

from math import prod

DIMS: dict[str, tuple[str, ...]] = {
    "weights": ("k", "c", "r", "s"),
    "inputs": ("t", "g", "c", "rows", "cols"),
    "outputs": ("k", "rows", "cols"),
    "psums": ("part", "k", "rows", "cols"),
    "work": ("k", "c", "rows", "cols"),
}
WORK_DIMS = DIMS["work"]
HALO = ("halo_rows", "halo_cols")  # trailing extras of an inputs slice

Slice = tuple[int, ...]


def ranges(ds: str, s: Slice) -> list[tuple[int, int]]:
    n = len(DIMS[ds])
    return [(s[2 * i], s[2 * i + 1]) for i in range(n)]


def shape(ds: str, s: Slice) -> tuple[int, ...]:
    """Extent per dimension (0 where the range is empty)."""
    return tuple(max(0, b - a) for a, b in ranges(ds, s))


def size(ds: str, s: Slice) -> int:
    """Number of elements of the slice."""
    return prod(shape(ds, s))


def to_dict(ds: str, s: Slice) -> dict:
    out: dict = {d: [s[2 * i], s[2 * i + 1]] for i, d in enumerate(DIMS[ds])}
    if ds == "inputs":
        n = 2 * len(DIMS[ds])
        for name, value in zip(HALO, s[n:n + 2]):
            if value:
                out[name] = value
    return out


def from_dict(ds: str, obj: object) -> tuple[Slice | None, str]:
    """The slice of a file record, or (None, what is wrong)."""
    dims = DIMS[ds]
    allowed = set(dims) | (set(HALO) if ds == "inputs" else set())
    if not isinstance(obj, dict):
        return None, f"must be an object with the ranges {', '.join(dims)}"
    extra = set(obj) - allowed
    if extra:
        return None, f"unknown dimension(s) {', '.join(sorted(extra))} for {ds}; allowed: {', '.join(dims)}"
    flat: list[int] = []
    for d in dims:
        v = obj.get(d)
        if (not isinstance(v, list) or len(v) != 2 or not all(type(x) is int for x in v)
                or not 0 <= v[0] <= v[1]):
            return None, f"{d}: {v!r}: must be [start, stop] with 0 <= start <= stop"
        flat += v
    if ds == "inputs":
        for name in HALO:
            v = obj.get(name, 0)
            if type(v) is not int or v < 0:
                return None, f"{name}: {v!r}: must be an integer >= 0"
            flat.append(v)
        if flat[-2] > flat[7] - flat[6] or flat[-1] > flat[9] - flat[8]:
            return None, "halo_rows/halo_cols larger than the rows/cols range"
    return tuple(flat), ""
