"""``candidates`` (simulator/mapping/candidates.py) with stand-ins for the partitioner, the tiler and
the loop orders, so that which candidates come out is known by hand: a partition that does not tile
is skipped and the later ones are still offered; the fixed partition's other loop order obeys the
transaction limit counted as tile steps x chiplets used."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

import simulator.mapping.candidates as cand
from simulator.mapping.candidates import MappingError
from quad import quad_arch
from simulator.mapping.tiling import Partition, Shape
from simulator.workload import Layer

SHAPE = Shape.of(Layer("d", "conv", 8, 4, 4, 8, 1, 1))


@pytest.fixture
def arch(tmp_path):
    return quad_arch(tmp_path)


def _stand_ins(monkeypatch, fixed, greedy, untileable, steps, alt_of_fixed=()):
    feed = iter(greedy)
    monkeypatch.setattr(cand, "partition", lambda *a, **k: fixed)
    monkeypatch.setattr(cand, "_greedy", lambda *a, **k: next(feed, None))

    def tile(shape, part, arch, word_bytes):
        if part in untileable:
            raise MappingError("does not fit")
        return SimpleNamespace(steps=steps[part], name=f"t{part.k_parts}{part.p_parts}{part.c_parts}")
    monkeypatch.setattr(cand, "tile", tile)
    monkeypatch.setattr(cand, "loop_orders", lambda shape, part, t, arch: alt_of_fixed if part == fixed else ())


def test_a_partition_that_does_not_tile_is_skipped_not_the_end(monkeypatch, arch):
    p0, p1, p2, p3 = (Partition(1, 1, 1, 8, 4, 8), Partition(2, 1, 1, 4, 4, 8),
                      Partition(1, 2, 1, 8, 2, 8), Partition(1, 1, 2, 8, 4, 4))
    _stand_ins(monkeypatch, p0, [p1, p2, p3], {p1}, {p0: 1, p1: 1, p2: 1, p3: 1})
    out = cand.candidates(SHAPE, arch)
    # the fixed one first, then p2 and p3 (p1 raised MappingError in the tiler)
    assert [c.label for c in out] == ["k1p1c1*", "k1p2c1", "k1p1c2"]


def test_the_fixed_alternative_obeys_the_limit_over_chiplets(monkeypatch, arch):
    per_chip = arch.chiplet.pes
    # the fixed partition uses the PEs of 2 chiplets: 2 x per_chip K parts of 1 PE each
    fixed = Partition(2 * per_chip, 1, 1, 1, 4, 8)
    assert fixed.used_pes == 2 * per_chip
    alt = SimpleNamespace(steps=6, name="alt")
    _stand_ins(monkeypatch, fixed, [], set(), {fixed: 1}, alt_of_fixed=(alt,))
    # 6 steps x 2 chiplets = 12 compute transactions: offered under a limit of 12, not under 11
    base = f"t{2 * per_chip}11"
    assert [c.tiling.name for c in cand.candidates(SHAPE, arch, max_compute_txns=12)] == [base, "alt"]
    assert [c.tiling.name for c in cand.candidates(SHAPE, arch, max_compute_txns=11)] == [base]
    assert [c.tiling.name for c in cand.candidates(SHAPE, arch, max_compute_txns=6)] == [base]
