"""The mutation-testing helpers: the kill-rate report and its sample restriction."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_run(tmp_path: Path) -> Path:
    # 10 engine mutants: 8 killed (exit 1), 1 timeout (36), 1 survived (0); 2 hw mutants unchecked.
    codes = {f"simulator.engine.m.x_f__mutmut_{i}": 1 for i in range(1, 9)}
    codes["simulator.engine.m.x_f__mutmut_9"] = 36
    codes["simulator.engine.m.x_f__mutmut_10"] = 0
    meta = tmp_path / "mutants" / "simulator" / "engine" / "m.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    hw = tmp_path / "mutants" / "simulator" / "hw" / "h.py.meta"
    hw.parent.mkdir(parents=True)
    hw.write_text(json.dumps({"exit_code_by_key": {"simulator.hw.h.x_g__mutmut_1": None,
                                                   "simulator.hw.h.x_g__mutmut_2": None}}))
    return tmp_path / "mutants"


def _names(tmp_path: Path, *names: str) -> Path:
    path = tmp_path / "sample.txt"
    path.write_text("".join(n + "\n" for n in names))
    return path


def test_wilson_interval_matches_the_closed_form():
    report = _load("mutation_report")
    # 9 of 10: p = 0.9, z = 1.96; centre (p + z^2/2n)/(1 + z^2/n) = 1.09208/1.38416 = 0.78898,
    # half-width z*sqrt(p(1-p)/n + z^2/4n^2)/(1 + z^2/n) = 1.96*0.136397/1.38416 = 0.19314.
    lo, hi = report.wilson(9, 10)
    assert abs(lo - 0.59584) < 1e-4 and abs(hi - 0.98212) < 1e-4


def test_report_counts_and_restricts_to_named_mutants(tmp_path, capsys):
    report = _load("mutation_report")
    mutants = _fake_run(tmp_path)
    eq = tmp_path / "eq.txt"
    eq.write_text("simulator.engine.m.x_f__mutmut_10  # reason\n")
    assert report.main(["--mutants", str(mutants), "--equivalent", str(eq)]) == 0
    out = capsys.readouterr().out
    assert "| engine | 10 | 8 | 1 | 1 | 0 | 0 | 0 | 100.0% |" in out
    assert "| hw | 2 | 0 | 0 | 0 | 0 | 0 | 2 | nan% |" in out
    names = _names(tmp_path, "simulator.engine.m.x_f__mutmut_1", "simulator.engine.m.x_f__mutmut_10")
    assert report.main(["--mutants", str(mutants), "--equivalent", str(tmp_path / "none.txt"),
                        "--names", str(names)]) == 0
    out = capsys.readouterr().out
    # 1 killed of 2 checked: 50 %, Wilson interval 9.5-90.5 % (n = 2).
    assert "| engine | 2 | 1 | 0 | 0 | 1 | 0 | 0 | 50.0% | 9.5-90.5% |" in out
    assert "hw" not in out.split("\n", 2)[2]


def test_report_rejects_names_that_are_not_mutants(tmp_path, capsys):
    report = _load("mutation_report")
    mutants = _fake_run(tmp_path)
    names = _names(tmp_path, "simulator.engine.m.x_nope__mutmut_1")
    assert report.main(["--mutants", str(mutants), "--names", str(names)]) == 1
    assert "1 names are not mutants of this run, e.g. simulator.engine.m.x_nope__mutmut_1" in capsys.readouterr().out


def test_sample_is_a_seeded_prefix_of_one_shuffle(tmp_path, monkeypatch, capsys):
    pending = _load("mutation_pending")
    _fake_run(tmp_path)
    monkeypatch.chdir(tmp_path)
    pending.main(["--sample", "0.5", "simulator.engine."])
    half = capsys.readouterr().out.split()
    pending.main(["--sample", "0.8", "simulator.engine."])
    more = capsys.readouterr().out.split()
    pending.main(["--sample", "0.5", "--rest", "simulator.engine."])
    rest = capsys.readouterr().out.split()
    assert len(half) == 5 and len(more) == 8 and more[:5] == half
    assert sorted(half + rest) == sorted(f"simulator.engine.m.x_f__mutmut_{i}" for i in range(1, 11))
