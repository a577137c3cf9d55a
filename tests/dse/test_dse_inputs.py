"""A sweep folder records the digests of its input files; a resume never mixes points of edited inputs silently."""
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from _sweep_util import MACS, SMALL, TINY, sweep_data, write_sweep
from simulator.cli import main
from simulator.dse.inputs import INPUTS_FILE, input_files
from simulator.dse.runner import run_sweep
from simulator.dse.spec import load_sweep
from simulator.errors import AxsimError


def interrupted(tmp_path):
    """A 4-point sweep whose workload is a copy in ``tmp_path``, with points 1 and 3 removed."""
    workload = tmp_path / "small.yaml"
    shutil.copy(SMALL, workload)
    sweep = load_sweep(write_sweep(tmp_path, sweep_data(workload=str(workload))))
    out = tmp_path / "s"
    run_sweep(sweep, out, jobs=1)
    for index in (1, 3):
        (out / "points" / f"{index:06d}.json").unlink()
    return sweep, out, workload


def record(out):
    return json.loads((out / INPUTS_FILE).read_text())


def test_new_folder_records_every_input_file_by_content(tmp_path):
    sweep, out, workload = interrupted(tmp_path)
    files = record(out)["files"]
    tech = Path(sweep.arch_data["tech"])
    assert set(files) == {str(Path(p).resolve()) for p in (TINY, tech, workload, MACS)}
    assert [Path(p) for p in files] == input_files(sweep)
    assert files[str(workload.resolve())] == hashlib.sha256(workload.read_bytes()).hexdigest()
    assert record(out)["changed_inputs"] is False


def test_unchanged_inputs_resume(tmp_path):
    sweep, out, _ = interrupted(tmp_path)
    outcome = run_sweep(sweep, out, jobs=1, resume=True)
    assert (outcome.resumed, outcome.evaluated) == (2, 2)


def test_an_edited_input_file_stops_the_resume_and_is_named(tmp_path):
    sweep, out, workload = interrupted(tmp_path)
    workload.write_text(workload.read_text() + "# edited\n")
    before = sorted(p.name for p in (out / "points").iterdir())
    with pytest.raises(AxsimError) as info:
        run_sweep(sweep, out, jobs=1, resume=True)
    msg = str(info.value)
    assert f"{workload.resolve()} (edited)" in msg and "2 finished points" in msg
    assert "--accept-changed-inputs" in msg and "NEW_DIR" in msg
    assert sorted(p.name for p in (out / "points").iterdir()) == before  # nothing evaluated or removed


def test_accepting_changed_inputs_resumes_and_marks_the_folder(tmp_path):
    sweep, out, workload = interrupted(tmp_path)
    workload.write_text(workload.read_text() + "# edited\n")
    outcome = run_sweep(sweep, out, jobs=1, resume=True, accept_changed_inputs=True)
    assert (outcome.resumed, outcome.evaluated) == (2, 2)
    data = record(out)
    assert data["changed_inputs"] is True
    assert data["files"][str(workload.resolve())] == hashlib.sha256(workload.read_bytes()).hexdigest()


def test_a_folder_without_a_record_stops_the_resume(tmp_path):
    sweep, out, _ = interrupted(tmp_path)
    (out / INPUTS_FILE).unlink()
    with pytest.raises(AxsimError, match=f"no record of their input files \\({INPUTS_FILE} is missing\\)"):
        run_sweep(sweep, out, jobs=1, resume=True)
    run_sweep(sweep, out, jobs=1, resume=True, accept_changed_inputs=True)
    assert record(out)["changed_inputs"] is True


def test_a_bad_record_is_a_clear_error(tmp_path):
    sweep, out, _ = interrupted(tmp_path)
    (out / INPUTS_FILE).write_text(json.dumps({"files": {"x": 3}, "changed_inputs": False}))
    with pytest.raises(AxsimError, match="files"):
        run_sweep(sweep, out, jobs=1, resume=True)


def test_the_opt_in_needs_resume(tmp_path, capsys):
    spec = write_sweep(tmp_path, sweep_data())
    assert main(["sweep", str(spec), "--accept-changed-inputs", "--out", str(tmp_path / "o")]) != 0
    assert "--accept-changed-inputs applies to --resume DIR only" in capsys.readouterr().err
