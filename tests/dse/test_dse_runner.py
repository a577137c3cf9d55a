"""Running sweeps: pool vs in-process, resume after a kill, NSGA-II, Dask, the CLI around them."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from _sweep_util import BLOCK_MAC, ROOT, sweep_data, write_sweep
from simulator.cli import main
from simulator.dse import store
from simulator.dse.runner import run_sweep
from simulator.dse.spec import load_sweep


def grid(tmp_path, **over):
    knobs = sweep_data()["knobs"] + [
        {"name": "gb", "path": "chiplet.global_buffer.size_bytes", "values": [8192, 16384, 32768],
         "family": "memory"}]
    knobs[1]["values"] = [32, 64, 128]
    knobs[2]["values"] = ["exact", "msb3", "msb2"]
    return write_sweep(tmp_path, sweep_data(knobs=knobs, **over))


def table(out):
    return (out / "results.csv").read_text()


def test_pool_and_in_process_give_identical_tables(tmp_path):
    sweep = load_sweep(grid(tmp_path))
    calls = []
    a = run_sweep(sweep, tmp_path / "a", jobs=1, progress=lambda *c: calls.append(c))
    b = run_sweep(sweep, tmp_path / "b", jobs=2)
    assert a.evaluated == b.evaluated == 27
    # progress: (points done, total, points that reused work), ending at the whole sweep
    assert calls[0] == (0, 27, 0) and calls[-1][:2] == (27, 27)
    assert calls[-1][2] == sum(r["reused"] != "none" for r in a.rows.values())
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)
    assert table(tmp_path / "a") == table(tmp_path / "b")
    rows = store.read_results(tmp_path / "a" / "results.csv")
    assert [int(r["point"]) for r in rows] == list(range(27))
    # grid order: the last knob varies fastest
    assert [(r["noc_bits"], r["conv_mac"], r["gb"]) for r in rows[:4]] == [
        ("32", "exact", "8192"), ("32", "exact", "16384"), ("32", "exact", "32768"), ("32", "msb3", "8192")]


def test_existing_folder_needs_resume(tmp_path):
    sweep = load_sweep(grid(tmp_path))
    run_sweep(sweep, tmp_path / "a", jobs=1)
    with pytest.raises(Exception, match="--resume"):
        run_sweep(sweep, tmp_path / "a", jobs=1)
    again = run_sweep(sweep, tmp_path / "a", jobs=1, resume=True)
    assert (again.resumed, again.evaluated) == (27, 0)


def test_resume_after_kill_recomputes_nothing_and_matches(tmp_path):
    spec = grid(tmp_path)
    full, killed = tmp_path / "full", tmp_path / "killed"
    assert main(["sweep", str(spec), "--out", str(full), "--jobs", "1", "--quiet"]) == 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "sweep", str(spec), "--out", str(killed),
                             "--jobs", "1", "--quiet"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while store.count_points(killed) < 5 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = store.read_points(killed)
    assert 5 <= len(before) < 27, "the kill should land mid-sweep"
    stamps = {f.name: f.stat().st_mtime_ns for f in (killed / "points").glob("[0-9]*.json")}
    assert main(["sweep", "--resume", str(killed), "--jobs", "1", "--quiet"]) == 0
    after = store.read_points(killed)
    assert len(after) == 27
    # nothing that finished was recomputed: those point files are untouched
    assert {f.name: f.stat().st_mtime_ns for f in (killed / "points").glob("[0-9]*.json")
            if f.name in stamps} == stamps
    a = store.read_results(full / "results.csv")
    b = store.read_results(killed / "results.csv")
    # identical rows; 'reused' says what each execution did, so a point that followed the kill in
    # a partly finished group may have simulated afresh instead of replaying the group's traces
    strip = lambda rows: [{k: v for k, v in r.items() if k != "reused"} for r in rows]  # noqa: E731
    assert strip(a) == strip(b)
    assert all(x["reused"] == y["reused"] or y["reused"] == "none" for x, y in zip(a, b))


def test_nsga2_is_seeded_and_resumes(tmp_path):
    spec = grid(tmp_path, search={"kind": "nsga2", "points": 12, "population": 4, "seed": 5})
    sweep = load_sweep(spec)
    run_sweep(sweep, tmp_path / "a", jobs=1)
    run_sweep(sweep, tmp_path / "b", jobs=1)
    assert table(tmp_path / "a") == table(tmp_path / "b")
    rows = store.read_results(tmp_path / "a" / "results.csv")
    assert len(rows) == 12
    # duplicates proposed by the optimiser reuse the earlier run
    seen = {}
    for r in rows:
        key = (r["noc_bits"], r["conv_mac"], r["gb"])
        if key in seen:
            assert r["reused"] == "run" and r["energy_pj"] == seen[key]["energy_pj"]
        seen.setdefault(key, r)
    # lose the last generation and half of the second: resume asks the same points again
    for i in [5, 6, 8, 9, 10, 11]:
        (tmp_path / "a" / "points" / f"{i:06d}.json").unlink()
    out = run_sweep(load_sweep(tmp_path / "a" / "sweep.yaml"), tmp_path / "a", jobs=1, resume=True)
    assert out.resumed == 6
    strip = lambda rows: [{k: v for k, v in r.items() if k != "reused"} for r in rows]  # noqa: E731
    assert strip(store.read_results(tmp_path / "a" / "results.csv")) == strip(
        store.read_results(tmp_path / "b" / "results.csv"))


def test_resume_refuses_a_folder_of_another_sweep(tmp_path):
    run_sweep(load_sweep(grid(tmp_path)), tmp_path / "a", jobs=1)
    point = tmp_path / "a" / "points" / "000003.json"
    data = json.loads(point.read_text())
    data["row"]["gb"] = 999
    point.write_text(json.dumps(data))
    with pytest.raises(Exception, match="another sweep"):
        run_sweep(load_sweep(tmp_path / "a" / "sweep.yaml"), tmp_path / "a", jobs=1, resume=True)


def test_dask_local_cluster_gives_the_same_table(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    sweep = load_sweep(grid(tmp_path))
    run_sweep(sweep, tmp_path / "local", jobs=1)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        out = run_sweep(sweep, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert out.evaluated == 27
    assert table(tmp_path / "dask") == table(tmp_path / "local")


def test_unreachable_scheduler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    pytest.importorskip("dask.distributed")
    from simulator.dse import runner
    monkeypatch.setattr(runner, "CONNECT_TIMEOUT_S", 1)
    code = main(["sweep", str(grid(tmp_path)), "--out", str(tmp_path / "x"),
                 "--scheduler", "tcp://127.0.0.1:1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "Dask scheduler" in err and "Traceback" not in err


def test_cli_writes_pareto_figures_and_a_point_run_folder(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["sweep", str(grid(tmp_path)), "--out", str(out), "--jobs", "1", "--quiet"]) == 0
    assert (out / "pareto.csv").is_file() and (out / "plots" / "pareto.png").is_file()
    assert (out / "plots" / "family_fronts.png").is_file()
    rows = {int(r["point"]): r for r in store.read_results(out / "results.csv")}
    assert main(["sweep", "--point", "7", str(out)]) == 0
    summary = json.loads((out / "runs" / "point-000007" / "summary.json").read_text())
    assert summary["energy_pj"] == float(rows[7]["energy_pj"])
    assert summary["latency_cycles"] == int(rows[7]["latency_cycles"])
    assert summary["knobs"]["pe_mac"] == BLOCK_MAC
    assert main(["sweep", "--point", "99", str(out)]) == 2
    assert "point 99 has not been evaluated" in capsys.readouterr().err
    pareto_rows = store.read_results(out / "pareto.csv")
    energies = [float(rows[int(p["point"])]["energy_pj"]) for p in pareto_rows]
    assert energies == sorted(energies) and pareto_rows


def test_check_validates_only(tmp_path, capsys):
    assert main(["sweep", str(grid(tmp_path)), "--check"]) == 0
    assert "ok (sweep, 4 knobs, search grid, 27 points)" in capsys.readouterr().out


def test_random_search_is_seeded_and_repeats_reuse_the_run(tmp_path):
    spec = grid(tmp_path, search={"kind": "random", "points": 20, "seed": 3})
    sweep = load_sweep(spec)
    a = run_sweep(sweep, tmp_path / "a", jobs=1)
    run_sweep(sweep, tmp_path / "b", jobs=2)
    assert table(tmp_path / "a") == table(tmp_path / "b")
    rows = [a.rows[i] for i in range(20)]
    for knob in sweep.knobs:
        assert {json.dumps(r[knob.name]) for r in rows} <= {json.dumps(v) for v in knob.values}
    keys = [(r["noc_bits"], r["conv_mac"], r["gb"]) for r in rows]
    assert len(set(keys)) < 20  # 20 draws from 27 combinations repeat (birthday bound)
    first = {}
    for r, key in zip(rows, keys):
        if key in first:
            assert r["reused"] == "run" and r["energy_pj"] == first[key]["energy_pj"]
        else:
            first[key] = r
            assert r["reused"] in ("none", "run+reprice")
    other = load_sweep(grid(tmp_path, search={"kind": "random", "points": 20, "seed": 4}))
    c = run_sweep(other, tmp_path / "c", jobs=1)
    assert [(r["noc_bits"], r["conv_mac"], r["gb"]) for r in (c.rows[i] for i in range(20))] != keys


def test_example_tiny_sweep_runs_end_to_end(tmp_path, capsys):
    out = tmp_path / "tiny"
    assert main(["sweep", str(ROOT / "examples" / "sweeps" / "tiny.yaml"), "--out", str(out), "--jobs", "2",
                 "--quiet"]) == 0
    rows = store.read_results(out / "results.csv")
    assert len(rows) == 36 and all(r["status"] == "ok" for r in rows)
    # fewer block products (msb2: 4 of 16) cost less energy than the exact mode, all else equal
    by = {(r["gb_bytes"], r["noc_width_bits"], r["conv_mac"]): float(r["energy_pj"]) for r in rows}
    assert all(by[(g, n, "msb2")] < by[(g, n, "msb3")] < by[(g, n, "exact")] for g, n, _ in by)
    assert "non-dominated points" in capsys.readouterr().out


def test_an_input_file_the_workers_cannot_read_stops_the_sweep(tmp_path):
    import shutil
    workload = tmp_path / "w.yaml"
    shutil.copy(sweep_data()["workload"], workload)
    sweep = load_sweep(write_sweep(tmp_path, sweep_data(workload=str(workload))))
    workload.unlink()  # gone after validation, e.g. not on a worker's file system
    with pytest.raises(Exception, match="w.yaml"):
        run_sweep(sweep, tmp_path / "out", jobs=1)
    assert store.read_points(tmp_path / "out") == {}  # nothing recorded as finished
