import numpy as np
import pytest

from simulator.approx import generators as G
from simulator.approx.lut import (LutMultiplier, load_binary, load_npy, load_table, save_binary,
                                  save_npy)
from simulator.errors import InputError


def test_binary_round_trip_and_layout(tmp_path):
    lut = G.drum(4)
    path = save_binary(lut, tmp_path / "drum4.bin")
    raw = path.read_bytes()
    assert len(raw) == 131072
    a, b = 200, 3
    idx = 2 * (a * 256 + b)             # index a*256 + b, little endian
    assert raw[idx] + 256 * raw[idx + 1] == int(lut.table[a, b])
    back = load_binary(path, relative_power=0.5)
    assert back.same_table(lut) and back.name == "drum4" and back.relative_power == 0.5
    assert load_table(path, name="x").same_table(lut)


def test_npy_round_trip_both_shapes(tmp_path):
    lut = G.mitchell()
    path = save_npy(lut, tmp_path / "mitchell.npy")
    back = load_npy(path)
    assert back.same_table(lut) and back.name == "mitchell"
    flat = tmp_path / "flat.npy"
    np.save(flat, lut.table.astype(np.int32).ravel())
    assert load_table(flat).same_table(lut)
    # binary written from an npy-loaded table is byte-identical
    assert save_binary(back, tmp_path / "a.bin").read_bytes() == save_binary(lut, tmp_path / "b.bin").read_bytes()


def test_binary_wrong_size_rejected(tmp_path):
    path = tmp_path / "short.bin"
    path.write_bytes(b"\x00" * 1000)
    with pytest.raises(InputError) as info:
        load_binary(path)
    msg = str(info.value)
    assert msg.startswith(str(path)) and "size 1000 bytes" in msg and "131072 bytes" in msg


def test_unreadable_files_rejected(tmp_path):
    with pytest.raises(InputError, match="missing.bin: cannot read the file"):
        load_binary(tmp_path / "missing.bin")
    with pytest.raises(InputError, match="missing.npy: cannot read the file"):
        load_npy(tmp_path / "missing.npy")
    garbage = tmp_path / "garbage.npy"
    garbage.write_bytes(b"not a numpy file at all")
    with pytest.raises(InputError, match="garbage.npy: not a valid .npy"):
        load_npy(garbage)


@pytest.mark.parametrize("array, text", [
    (np.zeros((255, 256), dtype=np.uint16), "shape (255, 256): must be (256, 256) or (65536,)"),
    (np.zeros((256, 256), dtype=np.float32), "dtype float32: must be an integer dtype"),
    (np.full((256, 256), 70000, dtype=np.int32), "value 70000 at a=0, b=0: products must be in 0..65535"),
    (np.zeros((256, 256), dtype=np.int16) - np.eye(256, dtype=np.int16), "value -1 at a=0, b=0"),
    (np.array([object()] * 65536, dtype=object), "not a valid .npy array without pickled objects"),
])
def test_bad_npy_tables_rejected(tmp_path, array, text):
    path = tmp_path / "bad.npy"
    np.save(path, array, allow_pickle=True)
    with pytest.raises(InputError) as info:
        load_npy(path)
    assert str(info.value).startswith(f"{path}: ")
    assert text in str(info.value)


def test_lut_from_list_and_name(tmp_path):
    lut = LutMultiplier(G.exact().table.tolist(), "from_list", relative_power=1.0)
    assert lut.table.dtype == np.uint16 and lut.same_table(G.exact())
