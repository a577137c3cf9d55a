"""The exposure file and the injection of an exposure into tensors (``simulator/faults/exposure.py``),
on a hand-made exposure of three element groups: every expected value is written out bit by bit.

- group 0: layer "conv1", weights k 0:2, c 0:1, r 0:3, s 0:3; bit 7 of every byte flips surely;
- group 1: layer "conv1", outputs k 1:3, rows 0:2, cols 0:2; stuck cells: element 5 bit 3 at 1
  (stage 0, the int8 value); element 0 bit 0 at 0 and element 2 bit 12 at 1 (stage 1, the int32
  accumulator; bit 12 does not exist in an int8 value);
- group 2: layer "fc", outputs k 0:4, rows 0:1, cols 0:1; nothing.
"""
from __future__ import annotations

import numpy as np
import pytest

from simulator.errors import AxsimError
from simulator.faults.exposure import (corrupt_group, corrupt_outputs, group_box, groups_of, input_tensor,
                                       layer_index, load_exposure, pe_copies, stuck_bytes, write_exposure)
from simulator.faults.flips import DS, ExposureData


def pad12(*xs):
    return list(xs) + [0] * (12 - len(xs))


def hand_exposure() -> ExposureData:
    i = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731
    p_flip = np.zeros((3, 8))
    p_flip[0, 7] = 1.0
    return ExposureData(
        layers=["conv1", "fc"], group_layer=i([0, 0, 1]),
        group_ds=i([DS.index("weights"), DS.index("outputs"), DS.index("outputs")]),
        group_slice=i([pad12(0, 2, 0, 1, 0, 3, 0, 3), pad12(1, 3, 0, 2, 0, 2), pad12(0, 4, 0, 1, 0, 1)]),
        group_chiplet=i([0, -1, -1]), group_pe=i([3, -1, -1]), group_txn=i([7, 9, 2]),
        p_flip=p_flip, p_acc=np.zeros((3, 8)),
        stuck_group=i([1, 1, 1]), stuck_element=i([5, 0, 2]), stuck_bit=i([3, 0, 12]),
        stuck_value=i([1, 0, 1]), stuck_stage=i([0, 1, 1]),
        work_layer=i([0]), work_txn=i([8]), work_chiplet=i([0]), work_pe=i([3]),
        work_slice=i([[0, 2, 0, 1, 0, 2, 0, 2]]), work_weights=i([0]), work_inputs=i([-1]),
        meta={"seed": 5, "arch": "tiny"})


def test_round_trip_keeps_every_array_and_the_meta(tmp_path):
    data = hand_exposure()
    back = load_exposure(write_exposure(tmp_path / "e.npz", data))
    assert back.layers == ["conv1", "fc"] and back.meta == {"seed": 5, "arch": "tiny"}
    for name in data.__dataclass_fields__:
        if name not in ("layers", "meta"):
            np.testing.assert_array_equal(getattr(back, name), getattr(data, name), err_msg=name)


def test_unreadable_exposure_files(tmp_path):
    with pytest.raises(AxsimError) as info:
        load_exposure(tmp_path / "none.npz")
    assert str(info.value) == f"{tmp_path / 'none.npz'}: no such exposure file"
    bad = tmp_path / "bad.npz"
    np.savez(bad, header=np.array('{"format": "other", "version": 1}'))
    with pytest.raises(AxsimError) as info:
        load_exposure(bad)
    assert str(info.value) == f"{bad}: format 'other' version 1: expected 'axsim-exposure' version 1"
    np.savez(bad, header=np.array('{"format": "axsim-exposure", "version": 2}'))
    with pytest.raises(AxsimError, match="version 2: expected 'axsim-exposure' version 1"):
        load_exposure(bad)
    np.savez(bad, header=np.array('{"format": "axsim-exposure", "version": 1}'))
    with pytest.raises(AxsimError, match=r"bad\.npz: not a readable exposure file: "):
        load_exposure(bad)


def test_layers_groups_and_boxes():
    data = hand_exposure()
    assert layer_index(data, "fc") == 1 and layer_index(data, 0) == 0
    with pytest.raises(AxsimError) as info:
        layer_index(data, "pool")
    assert str(info.value) == "layer 'pool' is not in the exposure (layers: conv1, fc, ...)"
    assert groups_of(data, "conv1", "outputs").tolist() == [1]
    assert groups_of(data, "conv1", "weights").tolist() == [0]
    assert groups_of(data, 1, "outputs").tolist() == [2]
    assert groups_of(data, "fc", "weights").tolist() == []
    assert group_box(data, 0) == (slice(0, 2), slice(0, 1), slice(0, 3), slice(0, 3))
    assert group_box(data, 1) == (slice(1, 3), slice(0, 2), slice(0, 2))


def test_stuck_cells_force_their_bits_per_stage():
    data = hand_exposure()
    rng = np.random.default_rng(0)
    values = np.zeros((2, 2, 2), dtype=np.int8)
    got = corrupt_group(data, 1, values, rng)                  # stage 0: element 5, bit 3 -> 1
    want = np.zeros(8, dtype=np.int8)
    want[5] = 1 << 3
    np.testing.assert_array_equal(got.reshape(-1), want)
    acc = np.full((2, 2, 2), 1, dtype=np.int32)               # stage 1: element 0 bit 0 -> 0, element 2 bit 12 -> 1
    got = corrupt_group(data, 1, acc, rng, stage="acc")
    want = np.ones(8, dtype=np.int32)
    want[0], want[2] = 0, 1 + (1 << 12)
    np.testing.assert_array_equal(got.reshape(-1), want)
    # an int8 value has no bit 12: that cell is not stored
    got = corrupt_group(data, 1, np.zeros((2, 2, 2), dtype=np.int8), rng, stage="acc")
    assert not got.any()
    with pytest.raises(AxsimError) as info:
        corrupt_group(data, 1, np.zeros((2, 2), dtype=np.int8), rng)
    assert str(info.value) == "group 1: values of shape (2, 2), the slice has shape (2, 2, 2)"


def test_stuck_bytes_of_little_endian_words():
    """Element 3 of an int32 array, bit 17: byte 3 x 4 + 2 = 14, bit 1; bit 9 of an int8: not stored."""
    byte, bit, keep = stuck_bytes(np.zeros(5, dtype=np.int32), np.array([3, 1]), np.array([17, 31]))
    assert byte.tolist() == [14, 7] and bit.tolist() == [1, 7] and keep.tolist() == [True, True]
    byte, bit, keep = stuck_bytes(np.zeros(5, dtype=np.int8), np.array([3, 1]), np.array([9, 6]))
    assert byte.tolist() == [1] and bit.tolist() == [6] and keep.tolist() == [False, True]


def test_certain_flips_and_each_pe_copy():
    """Group 0's weights with bit 7 flipping surely: every byte XOR 0x80; the copy is its slice."""
    data = hand_exposure()
    weights = np.arange(4 * 2 * 3 * 3, dtype=np.int8).reshape(4, 2, 3, 3)
    copies = pe_copies(data, "conv1", "weights", weights, np.random.default_rng(1))
    assert list(copies) == [0]
    want = (weights[0:2, 0:1].view(np.uint8) ^ 0x80).view(np.int8)
    np.testing.assert_array_equal(copies[0], want)


def test_outputs_corrupted_only_inside_their_groups():
    data = hand_exposure()
    out = corrupt_outputs(data, "conv1", np.zeros((4, 2, 2), dtype=np.int8), np.random.default_rng(2))
    want = np.zeros((4, 2, 2), dtype=np.int8)
    want[1:3, 0:2, 0:2].reshape(-1)[5] = 8       # C-order element 5 of the box: k 2, row 0, col 1
    assert want[2, 0, 1] == 8
    np.testing.assert_array_equal(out, want)
    acc = corrupt_outputs(data, "conv1", np.ones((4, 2, 2), dtype=np.int32), np.random.default_rng(2), stage="acc")
    want = np.ones((4, 2, 2), dtype=np.int32)
    want[1, 0, 0], want[1, 1, 0] = 0, 1 + (1 << 12)  # elements 0 and 2 of the box
    np.testing.assert_array_equal(acc, want)


def test_input_tensor_layout():
    """x (N 2, C 4, H 3, W 2), 2 groups, pad 1 x 1, pad value 9: shape (1, 2, 2, 2 x 5, 4);
    sample 1, channel 3, row 0, col 1 -> group 1, c 1, row 5 + 1 + 0 = 6, col 1 + 1 = 2."""
    x = np.arange(2 * 4 * 3 * 2).reshape(2, 4, 3, 2)
    t = input_tensor(x, 2, 1, 1, pad_value=9)
    assert t.shape == (1, 2, 2, 10, 4)
    assert t[0, 1, 1, 6, 2] == x[1, 3, 0, 1]
    assert t[0, 0, 0, 1, 1] == x[0, 0, 0, 0]
    assert (t[0, :, :, [0, 4, 5, 9], :] == 9).all() and (t[..., [0, 3]] == 9).all()


def test_an_uncorrupted_copy_is_still_a_copy():
    from simulator.faults.exposure import corrupt
    values = np.arange(6, dtype=np.int8)
    out = corrupt(values, np.zeros(8), np.random.default_rng(0))
    assert not np.shares_memory(out, values) and (out == values).all()
    out[0] = 9
    assert values[0] == 0
