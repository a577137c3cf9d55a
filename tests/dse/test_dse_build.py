"""A sweep folder records the simulator build of its points; a resume never mixes builds silently."""
import json

import pytest

from _sweep_util import sweep_data, write_sweep
from simulator import __version__, build
from simulator.cli import main
from simulator.dse import store
from simulator.dse.evaluate import Point, run_group
from simulator.dse.runner import run_sweep
from simulator.dse.spec import load_sweep
from simulator.errors import AxsimError

OTHER_DIGEST = "f" * 64


def interrupted(tmp_path, drop=(1, 3)):
    """A finished 4-point sweep folder with the point files of ``drop`` removed (as after a kill)."""
    sweep = load_sweep(write_sweep(tmp_path, sweep_data()))
    out = tmp_path / "s"
    run_sweep(sweep, out, jobs=1)
    for index in drop:
        (out / "points" / f"{index:06d}.json").unlink()
    return sweep, out


def other_build(monkeypatch):
    monkeypatch.setattr(build, "source_digest", lambda: OTHER_DIGEST)
    return build.build_stamp()


def builds_column(out):
    return [r["build"] for r in store.read_results(out / "results.csv")]


def test_new_folder_records_the_build_and_each_row_names_it(tmp_path):
    sweep, out = interrupted(tmp_path, drop=())
    current = build.build_stamp()
    data = json.loads((out / "build.json").read_text())
    assert data == {"builds": [current], "mixed_builds": False}
    assert builds_column(out) == [build.short(current)] * 4


def test_same_build_resumes(tmp_path):
    sweep, out = interrupted(tmp_path)
    outcome = run_sweep(sweep, out, jobs=1, resume=True)
    assert (outcome.resumed, outcome.evaluated) == (2, 2)
    assert outcome.builds == [build.build_stamp()]
    assert json.loads((out / "build.json").read_text())["mixed_builds"] is False


def test_other_build_refuses_and_names_both_builds(tmp_path, monkeypatch):
    sweep, out = interrupted(tmp_path)
    old_stamp = build.build_stamp()
    old, new = build.short(old_stamp), build.short(other_build(monkeypatch))
    before = sorted(p.name for p in (out / "points").iterdir())
    with pytest.raises(AxsimError) as info:
        run_sweep(sweep, out, jobs=1, resume=True)
    msg = str(info.value)
    assert (f"{out}: its finished points were produced by simulator build {old} (version {__version__}, source sha256 "
            f"{old_stamp['source_sha256']}), this is build {new} (version {__version__}, "
            f"source sha256 {OTHER_DIGEST})") in msg
    assert OTHER_DIGEST in msg and "new sweep folder" in msg and "--accept-other-build" in msg
    assert sorted(p.name for p in (out / "points").iterdir()) == before  # nothing was evaluated


def test_missing_stamp_refuses(tmp_path):
    sweep, out = interrupted(tmp_path)
    (out / "build.json").unlink()
    with pytest.raises(AxsimError, match=r"its 2 finished points carry no build stamp \(build.json is missing"):
        run_sweep(sweep, out, jobs=1, resume=True)


def test_unreadable_or_invalid_stamp_refuses(tmp_path):
    sweep, out = interrupted(tmp_path)
    (out / "build.json").write_text("{not json")
    with pytest.raises(AxsimError, match="build.json: unreadable build stamp"):
        run_sweep(sweep, out, jobs=1, resume=True)
    (out / "build.json").write_text('{"builds": [{"version": 1, "source_sha256": "ab"}], "mixed_builds": false}')
    with pytest.raises(AxsimError, match=r"build.json: builds\[0\]\.version: 1: must be a string"):
        run_sweep(sweep, out, jobs=1, resume=True)
    (out / "build.json").write_text('{"builds": [], "mixed_builds": false}')
    with pytest.raises(AxsimError, match=r"build.json: builds: \[\]: list should have at least 1 item"):
        run_sweep(sweep, out, jobs=1, resume=True)


def test_opt_in_keeps_old_points_and_records_the_mix(tmp_path, monkeypatch, capsys):
    sweep, out = interrupted(tmp_path)
    old_stamp = build.build_stamp()
    new_stamp = other_build(monkeypatch)
    code = main(["sweep", "--resume", str(out), "--accept-other-build", "--jobs", "1", "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0
    assert json.loads((out / "build.json").read_text()) == {"builds": [old_stamp, new_stamp], "mixed_builds": True}
    # the resumed points 1 and 3 are the new build's; 0 and 2 were kept from the old one
    old, new = build.short(old_stamp), build.short(new_stamp)
    assert builds_column(out) == [old, new, old, new]
    assert "mixes points of simulator builds" in printed and old in printed and new in printed
    # once accepted, the folder resumes under either build without asking again
    again = run_sweep(sweep, out, jobs=1, resume=True)
    assert again.evaluated == 0 and again.builds == [old_stamp, new_stamp]


def test_opt_in_on_an_unstamped_folder_records_an_unknown_build(tmp_path):
    sweep, out = interrupted(tmp_path)
    (out / "build.json").unlink()
    for f in (out / "points").glob("[0-9]*.json"):  # points of a simulator without build stamps
        data = json.loads(f.read_text())
        del data["row"]["build"]
        f.write_text(json.dumps(data))
    outcome = run_sweep(sweep, out, jobs=1, resume=True, accept_other_build=True)
    assert outcome.builds == [store.UNKNOWN_BUILD, build.build_stamp()]
    assert json.loads((out / "build.json").read_text())["mixed_builds"] is True
    now = build.short(build.build_stamp())
    assert builds_column(out) == ["", now, "", now]


def test_a_point_of_an_unrecorded_build_refuses(tmp_path):
    sweep, out = interrupted(tmp_path)
    point = out / "points" / "000002.json"
    data = json.loads(point.read_text())
    data["row"]["build"] = "0.0.9+abcdef012345"
    point.write_text(json.dumps(data))
    with pytest.raises(AxsimError, match=r"points \[2\] were written by builds not recorded"):
        run_sweep(sweep, out, jobs=1, resume=True, accept_other_build=True)


def test_worker_of_another_build_refuses_its_task(tmp_path, monkeypatch):
    sweep = load_sweep(write_sweep(tmp_path, sweep_data()))
    coordinator = build.build_stamp()
    other_build(monkeypatch)
    point = Point(0, {"pe_mac": sweep_data()["knobs"][0]["values"][0], "noc_bits": 32, "conv_mac": "exact"})
    with pytest.raises(AxsimError) as info:
        run_group(sweep, [point], str(tmp_path / "w"), coordinator)
    assert (f"worker runs simulator build {build.short(build.build_stamp())} but the sweep was started with "
            f"build {build.short(coordinator)}") in str(info.value)
    assert not (tmp_path / "w").exists()


def test_opt_in_flag_needs_resume(tmp_path, capsys):
    spec = write_sweep(tmp_path, sweep_data())
    code = main(["sweep", str(spec), "--out", str(tmp_path / "n"), "--accept-other-build", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "--accept-other-build applies to --resume DIR only" in err and "Traceback" not in err
