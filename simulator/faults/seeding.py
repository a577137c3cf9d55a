"""Random generators that depend only on the run seed and a component path.

Every random draw of a run (stuck-cell maps, bit flips) comes from
``rng_for(seed, path)``: a :class:`numpy.random.Generator` seeded with the run
seed and a stable hash (BLAKE2b, not Python's salted ``hash()``) of the path, e.g.
``"chiplet[0,1].pe[3].weight_buffer"``. The same seed and path give the same
stream in every process and on every machine; different seeds or paths give
independent streams.
"""
from __future__ import annotations

import hashlib

import numpy as np


def path_key(path: str) -> list[int]:
    digest = hashlib.blake2b(path.encode("utf-8"), digest_size=16).digest()
    return [int.from_bytes(digest[i:i + 4], "little") for i in range(0, 16, 4)]


def rng_for(seed: int, path: str) -> np.random.Generator:
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed {seed!r}: must be a non-negative integer")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *path_key(path)])))
