"""The shipped digits network: its recorded accuracy, bit-flip injection through the hook,
broken weights files."""
from __future__ import annotations

import json

import numpy as np
import pytest

from simulator.accuracy.engine import Tensor, infer, quantize_input, run_compute
from simulator.accuracy.model import load_weights
from simulator.errors import AxsimError, InputError
from simulator.faults.inject import flip_bits
from simulator.macs import EXACT
from simulator.workload import load_workload

from conftest import ROOT, WORKLOAD_DIR
from _acc_ref import ref_conv


@pytest.fixture(scope="module")
def digits():
    wl = load_workload(WORKLOAD_DIR / "digits_cnn.yaml")
    model = load_weights(wl)
    data = np.load(ROOT / "datasets" / "digits.npz")
    return wl, model, quantize_input(model, data["x"].astype(np.float32)), data["y"]


def test_shipped_model_accuracy_is_the_recorded_one(digits):
    _, model, x, y = digits
    record = json.loads((WORKLOAD_DIR / "digits_cnn.accuracy.json").read_text())
    correct = int((infer(model, x).predictions() == y).sum())
    assert correct == record["correct_int8_exact"] and len(y) == record["samples"]
    assert correct / len(y) > 0.9


def test_dataset_split_is_disjoint_and_complete():
    data = np.load(ROOT / "datasets" / "digits.npz")
    train, test = set(data["train_index"].tolist()), set(data["test_index"].tolist())
    assert not train & test and len(train | test) == 1797
    assert data["x"].shape == (360, 8, 8) and data["x"].max() == 16
    assert "CC BY 4.0" in str(data["source"])


def _hook(p_bit, structures, seed=0):
    rng = np.random.default_rng(seed)

    def corrupt(layer, ds, t, unit):
        return flip_bits(t, p_bit, rng) if ds in structures else t
    return corrupt


def test_zero_probability_leaves_outputs_identical(digits):
    _, model, x, _ = digits
    exact = infer(model, x, keep=True)
    hooked = infer(model, x, corrupt=_hook(np.zeros(8), ("weights", "inputs", "psums", "outputs")), keep=True)
    for name in ("conv1", "conv2", "conv3", "fc"):
        np.testing.assert_array_equal(hooked.tensors[name].codes, exact.tensors[name].codes)


def test_sign_bit_of_every_weight(digits):
    """Bit 7 of an int8 code flipped: w' = w − 128 for w >= 0, w + 128 for w < 0."""
    _, model, x, _ = digits
    q = model.layer("conv2")
    src_q = model.layer("conv1")
    src = Tensor(infer(model, x[:3], keep=True).tensors["conv1"].codes, src_q.scale, src_q.zero_point)
    p = np.zeros(8)
    p[7] = 1.0
    got = run_compute(q, src, EXACT, _hook(p, ("weights",)))
    w = q.weight.astype(int)
    flipped = np.where(w >= 0, w - 128, w + 128)
    exp = ref_conv(src.codes, src.zero_point, src.scale, flipped, q.bias, q.weight_scale, q.scale,
                   q.zero_point, 2, 1, 1, "relu")
    np.testing.assert_array_equal(got, exp)
    assert not np.array_equal(got, run_compute(q, src, EXACT))


def test_accuracy_falls_to_chance_at_extreme_ber(digits):
    _, model, x, y = digits
    acc = (infer(model, x, corrupt=_hook(np.full(8, 0.5), ("weights", "inputs"))).predictions() == y).mean()
    assert acc < 0.25  # chance is 0.1 (10 balanced classes)
    low = (infer(model, x, corrupt=_hook(np.full(8, 1e-5), ("weights", "inputs"))).predictions() == y).mean()
    assert low > 0.9


def _write(path, arrays):
    np.savez(path, **arrays)
    return path


def test_broken_weights_files_give_clear_errors(digits, tmp_path):
    wl, model, _, _ = digits
    good = model.arrays()
    bad = dict(good)
    del bad["conv2.bias"]
    bad["conv1.weight"] = good["conv1.weight"].astype(np.float32)
    bad["conv3.weight"] = good["conv3.weight"][:, :4]
    bad["fc.scale"] = np.float32(-1.0)
    bad["conv9.weight"] = good["conv1.weight"]
    with pytest.raises(InputError) as err:
        load_weights(wl, _write(tmp_path / "bad.npz", bad))
    msg = str(err.value)
    assert "bad.npz: conv2.bias: missing array" in msg
    assert "bad.npz: conv1.weight: dtype float32: must be int8" in msg
    assert "bad.npz: conv3.weight: shape (32, 4, 3, 3): must be (32, 16, 3, 3)" in msg
    assert "bad.npz: fc.scale: -1.0: must be > 0" in msg
    assert "bad.npz: conv9.weight: array for no layer" in msg
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(InputError, match="junk.npz: not a readable .npz"):
        load_weights(wl, tmp_path / "junk.npz")
    with pytest.raises(AxsimError, match="weights file not found"):
        load_weights(wl, tmp_path / "absent.npz")


def test_weights_round_trip(digits, tmp_path):
    wl, model, x, _ = digits
    again = load_weights(wl, model.save(tmp_path / "copy.npz"))
    np.testing.assert_array_equal(infer(again, x[:20]).output.codes, infer(model, x[:20]).output.codes)


def test_validate_checks_the_trained_weights(tmp_path, capsys):
    from simulator.cli import main
    text = (WORKLOAD_DIR / "digits_cnn.yaml").read_text().replace("out_channels: 16", "out_channels: 12").replace(
        "input: [16, 4, 4]", "input: [12, 4, 4]")  # shapes still chain; only the weights disagree
    (tmp_path / "w.yaml").write_text(text.replace("weights: digits_cnn.npz", f"weights: {WORKLOAD_DIR / 'digits_cnn.npz'}"))
    assert main(["validate", str(WORKLOAD_DIR / "digits_cnn.yaml")]) == 0
    assert main(["validate", str(tmp_path / "w.yaml")]) == 2
    assert "digits_cnn.npz: conv2.weight: shape (16, 8, 3, 3): must be (12, 8, 3, 3)" in capsys.readouterr().err


def test_missing_weights_file_names_the_workload(tmp_path):
    text = (WORKLOAD_DIR / "digits_cnn.yaml").read_text()
    (tmp_path / "d.yaml").write_text(text)
    with pytest.raises(InputError) as err:
        load_weights(load_workload(tmp_path / "d.yaml"))
    assert str(err.value).startswith(f"{tmp_path / 'd.yaml'}: weights: 'digits_cnn.npz': weights file not found")
