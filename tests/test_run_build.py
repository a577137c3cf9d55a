"""A run folder records the simulator build that wrote it; re-pricing its counts and reusing its
exposure refuse another build unless explicitly accepted, and then say so."""
import json

import pytest

from conftest import ARCH_DIR, ROOT, WORKLOAD_DIR
from simulator import __version__, api, build
from simulator.accuracy.runs import load_run
from simulator.cli import main
from simulator.config import load_arch
from simulator.errors import AxsimError
from simulator.report.files import write_run

OTHER_DIGEST = "e" * 64


@pytest.fixture
def run(small_workload, tmp_path):
    arch = load_arch(ARCH_DIR / "tiny.yaml")
    return write_run(api.simulate(arch, small_workload), tmp_path / "run", arch=arch), arch


def other_build(monkeypatch):
    monkeypatch.setattr(build, "source_digest", lambda: OTHER_DIGEST)
    return build.build_stamp()


def test_summary_records_the_build(run):
    folder, _ = run
    assert json.loads((folder / "summary.json").read_text())["build"] == build.build_stamp()


def test_same_build_reprices(run):
    folder, arch = run
    priced = api.reprice(str(folder), arch)
    now = build.short(build.build_stamp())
    assert (priced["run_build"], priced["pricing_build"], priced["mixed_builds"]) == (now, now, False)


def test_other_build_refuses_then_opt_in_records_the_mix(run, monkeypatch):
    folder, arch = run
    same = api.reprice(str(folder), arch)
    old_stamp = build.build_stamp()
    new_stamp = other_build(monkeypatch)
    old, new = build.short(old_stamp), build.short(new_stamp)
    with pytest.raises(AxsimError) as info:
        api.reprice(str(folder), arch)
    msg = str(info.value)
    assert (f"{folder}: its results were produced by simulator build {old} (version {__version__}, source sha256 "
            f"{old_stamp['source_sha256']}), this is build {new} (version {__version__}, "
            f"source sha256 {OTHER_DIGEST})") in msg
    assert OTHER_DIGEST in msg and "--accept-other-build" in msg
    with pytest.raises(AxsimError, match="produced by simulator build"):
        api.reprice_many(str(folder / "counts.npz"), [arch])  # the counts file itself: its folder's stamp
    mixed = api.reprice(str(folder), arch, accept_other_build=True)
    assert (mixed["run_build"], mixed["pricing_build"], mixed["mixed_builds"]) == (old, new, True)
    assert mixed["energy_pj"] == same["energy_pj"]  # the same counts at the same prices


def test_missing_stamp_refuses(run):
    folder, arch = run
    summary = json.loads((folder / "summary.json").read_text())
    del summary["build"]
    (folder / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(AxsimError, match="summary.json carries no build stamp"):
        api.reprice(str(folder), arch)
    assert api.reprice(str(folder), arch, accept_other_build=True)["run_build"] == "unknown"
    with pytest.raises(AxsimError, match="summary.json carries no build stamp"):
        load_run(folder)


def test_cli_reprice_opt_in_is_written(run, monkeypatch, tmp_path, capsys):
    folder, _ = run
    old = build.short(build.build_stamp())
    other_build(monkeypatch)
    arch_file = str(ARCH_DIR / "tiny.yaml")
    assert main(["reprice", str(folder), "--arch", arch_file]) == 2
    assert "Reusing them would mix results of different builds" in capsys.readouterr().err
    out = tmp_path / "priced.json"
    assert main(["reprice", str(folder), "--arch", arch_file, "--accept-other-build", "--out", str(out)]) == 0
    assert "priced by build" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["mixed_builds"] is True and data["run_build"] == old


def test_accuracy_of_a_run_of_another_build(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    assert main(["run", "--arch", str(ROOT / "arch/simba_lowpower.yaml"), "--workload",
                 str(WORKLOAD_DIR / "digits_cnn.yaml"), "--out", str(run)]) == 0
    old = build.short(build.build_stamp())
    other_build(monkeypatch)
    capsys.readouterr()
    assert main(["accuracy", "--run", str(run), "--seeds", "1", "--limit", "20"]) == 2
    assert f"produced by simulator build {old}" in capsys.readouterr().err
    assert not (run / "accuracy.json").exists()
    assert main(["accuracy", "--run", str(run), "--seeds", "1", "--limit", "20", "--accept-other-build"]) == 0
    acc = json.loads((run / "accuracy.json").read_text())
    assert acc["run_build"] == old and acc["mixed_builds"] is True
    assert main(["accuracy", "--ber", "0.01", "--limit", "5", "--accept-other-build"]) == 2
    assert "--accept-other-build applies to --run RUN_DIR only" in capsys.readouterr().err
