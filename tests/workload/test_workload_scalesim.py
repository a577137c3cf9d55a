"""SCALE-Sim topology CSV import."""
from pathlib import Path

import pytest

from simulator.errors import InputError
from simulator.workload import load_workload, parse_scalesim_csv

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "scalesim"
HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,"


def reference(name: str) -> Path:
    path = REFERENCE / name
    if not path.is_file():
        pytest.skip(f"SCALE-Sim reference file {path} is not available")
    return path


def test_single_conv3x3():
    w = load_workload(reference("single_conv3x3.csv"))
    assert w.name == "single_conv3x3" and w.batch == 1
    (layer,) = w.layers
    assert layer.name == "Conv3x3_c128" and layer.kind == "conv"
    assert (layer.in_channels, layer.in_h, layer.in_w, layer.out_channels) == (128, 30, 30, 128)
    assert (layer.pad_h, layer.pad_w, layer.groups) == (0, 0, 1)
    assert (layer.out_h, layer.out_w) == (28, 28)
    assert layer.macs == 128 * 128 * 9 * 28 * 28 == 115_605_504


def test_single_conv1x1_and_fc():
    (conv,) = load_workload(reference("single_conv1x1.csv")).layers
    assert (conv.out_h, conv.out_w) == (28, 28)
    assert conv.macs == 512 * 128 * 28 * 28
    (fc,) = load_workload(reference("single_fc.csv")).layers
    assert (fc.out_h, fc.out_w) == (1, 1)
    assert fc.macs == 2048 * 1000


def test_resnet50_bundled():
    w = load_workload(reference("resnet50_bundled_clean.csv"))
    assert len(w.layers) == 54  # 53 convolutions + FC6
    assert all(layer.kind == "conv" and layer.pad_h == 0 for layer in w.layers)
    conv1 = w.layer("Conv1")
    assert (conv1.out_h, conv1.out_w) == (109, 109)  # unpadded: (224 - 7) // 2 + 1
    assert w.layer("CB3s").out_h == 28
    assert w.layer("FC6").macs == 2_048_000
    # Independent count from the raw rows: K*C*R*S*P*Q with P = (H - R) // stride + 1.
    total = 0
    for line in reference("resnet50_bundled_clean.csv").read_text().splitlines()[1:]:
        _, h, w_, r, s, c, k, st = line.rstrip(",").split(",")
        h, w_, r, s, c, k, st = map(int, (h, w_, r, s, c, k, st))
        total += k * c * r * s * ((h - r) // st + 1) * ((w_ - s) // st + 1)
    # Unpadded 3x3 convolutions (54x54 instead of 56x56, ...) and no max pool make
    # SCALE-Sim's ResNet-50 smaller than torchvision's 4,089,184,256 MACs.
    assert w.total_macs() == total == 3_409_810_112


def test_missing_trailing_comma_spaces_and_blank_lines():
    text = ("Layer name,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,Num Filter,Strides\n"
            "\n  a , 8, 8, 3, 3, 4, 16, 1\nb,6,6,1,1,16,32,2,\n")
    w = parse_scalesim_csv(text, "t.csv")
    assert [l.name for l in w.layers] == ["a", "b"]
    assert (w.layers[1].out_h, w.layers[1].stride_w) == (3, 2)


def errors(text: str) -> str:
    with pytest.raises(InputError) as info:
        parse_scalesim_csv(text, "topo.csv")
    return str(info.value)


def test_wrong_header():
    message = errors("name,h,w\na,1,1\n")
    assert message.startswith("topo.csv: header (line 1): 'name,h,w': not a SCALE-Sim topology header")
    assert "Layer name, IFMAP Height, IFMAP Width, Filter Height" in message


def test_empty_and_header_only():
    assert "the file is empty" in errors("\n")
    assert "no layers" in errors(HEADER + "\n")


def test_all_row_problems_at_once():
    text = "\n".join([
        HEADER,
        "ok,8,8,3,3,4,16,1,",
        "short,8,8,3,3,4,",
        "zero,8,8,3,3,0,16,1,",
        "float,8,8,3,3,4,16.5,1,",
        "big,8,4,3,5,4,16,1,",
        "ok,8,8,3,3,4,16,1,",
        ",8,8,3,3,4,16,x,",
    ]) + "\n"
    lines = errors(text).splitlines()
    assert lines == [
        "topo.csv: row 2 (line 3): 'short,8,8,3,3,4,': has 6 columns, expected 8 (Layer name, "
        "IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides)",
        "topo.csv: row 3 (line 4): column 'Channels': '0': must be an integer >= 1",
        "topo.csv: row 4 (line 5): column 'Num Filter': '16.5': must be an integer >= 1",
        "topo.csv: row 5 (line 6): column 'Filter Width': 5: filter width is larger than the input "
        "width 4 (SCALE-Sim convolutions are unpadded); it must be at most 4",
        "topo.csv: row 6 (line 7): column 'Layer name': 'ok': duplicate layer name, already used "
        "by row 1; names must be unique",
        "topo.csv: row 7 (line 8): column 'Layer name': '': must not be empty",
        "topo.csv: row 7 (line 8): column 'Strides': 'x': must be an integer >= 1",
    ]
