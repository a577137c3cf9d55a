"""Format dispatch, missing files and folder listing."""
import pytest

from simulator.errors import AxsimError, InputError
from simulator.workload import SUPPORTED_SUFFIXES, list_workloads, load_workload


def test_dispatch_on_suffix(tmp_path):
    (tmp_path / "a.yml").write_text("version: 1\nlayers:\n  - {name: x, type: add, input: [1, 2, 2]}\n")
    (tmp_path / "b.CSV").write_text(
        "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
        "c,4,4,3,3,2,2,1,\n")
    assert load_workload(tmp_path / "a.yml").layers[0].kind == "add"
    assert load_workload(str(tmp_path / "b.CSV")).layers[0].out_h == 2


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "net.onnx"
    path.write_bytes(b"\0")
    with pytest.raises(AxsimError) as info:
        load_workload(path)
    assert not isinstance(info.value, InputError)
    assert str(path) in str(info.value)
    for suffix in SUPPORTED_SUFFIXES:
        assert suffix in str(info.value)


@pytest.mark.parametrize("name", ["missing.yaml", "missing.csv"])
def test_missing_file(tmp_path, name):
    with pytest.raises(AxsimError, match="workload file not found") as info:
        load_workload(tmp_path / name)
    assert name in str(info.value)


def test_directory_is_not_a_file(tmp_path):
    (tmp_path / "d.yaml").mkdir()
    with pytest.raises(AxsimError, match="not a file"):
        load_workload(tmp_path / "d.yaml")


def test_list_workloads(tmp_path):
    for name in ("b.yaml", "a.csv", "c.yml", "README.md", "notes.txt"):
        (tmp_path / name).write_text("")
    (tmp_path / "sub.yaml").mkdir()
    assert [p.name for p in list_workloads(tmp_path)] == ["a.csv", "b.yaml", "c.yml"]
    with pytest.raises(AxsimError, match="workload folder not found"):
        list_workloads(tmp_path / "nope")
