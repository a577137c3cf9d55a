"""What the project says about itself matches the code: package metadata, README and CLI help;
every CLI option explains itself; long error lists say how many more problems there are;
pyproject.toml builds without warnings about its own metadata."""
from __future__ import annotations

import argparse
import re
import tomllib
import warnings

import pytest

from conftest import ROOT
from simulator import cli
from simulator.errors import MAX_SHOWN, InputError, Problem


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_every_option_has_help():
    parser = cli._parser()
    missing = []
    for name, sub in [("axsim", parser), *_subparsers(parser).items()]:
        for action in sub._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help or not action.help.strip():
                missing.append(f"{name} {action.option_strings or action.dest}")
    assert missing == []


def test_validate_help_lists_every_input_kind(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    top = " ".join(capsys.readouterr().out.split())
    for kind in ("architecture", "workload", "technology", "trace", "approximation"):
        assert kind in top.split("validate", 1)[1], kind


def test_validate_own_help_lists_approximation_files(capsys):
    with pytest.raises(SystemExit):
        cli.main(["validate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for kind in ("architecture", "workload", "technology table", "layer trace", "approximation file"):
        assert kind in text, kind


def test_seed_help_says_what_it_drives(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--seed SEED run seed, recorded in summary.json" in text
    assert "stuck-cell maps" in text and "latency and energy do not depend on it" in text


CLAIM_SOURCES = {
    "pyproject.toml description": lambda: tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "description"],
    "README.md introduction": lambda: (ROOT / "README.md").read_text().split("## Quick start")[0],
    "axsim --help": lambda: cli._parser().format_help(),
    "package docstring": lambda: __import__("simulator").__doc__,
}


@pytest.mark.parametrize("where", sorted(CLAIM_SOURCES))
def test_the_engine_is_described_as_it_is(where):
    """Transaction-level timing in integer cycles; no claim of a cycle-level engine."""
    text = " ".join(CLAIM_SOURCES[where]().split()).lower()
    assert "transaction-level" in text
    assert not re.search(r"(?<!not )cycle-level|cycle-accurate", text)
    assert "noc/sram bit errors" not in text


def test_readme_says_what_bit_errors_a_run_gives_and_what_the_seed_drives():
    intro = " ".join((ROOT / "README.md").read_text().split("## Quick start")[0].split())
    assert "exposure.npz" in intro and "axsim accuracy --run RUN_DIR" in intro
    assert "latency and energy do not depend on it" in intro


def test_long_problem_lists_say_how_many_more():
    problems = [Problem(f"layers[{i}].stride", "0: must be >= 1") for i in range(MAX_SHOWN + 7)]
    message = str(InputError("w.yaml", problems))
    lines = message.splitlines()
    assert len(lines) == MAX_SHOWN + 1
    assert lines[-1] == f"w.yaml: ... and 7 more problems (the first {MAX_SHOWN} are listed)"
    assert lines[MAX_SHOWN - 1].startswith(f"w.yaml: layers[{MAX_SHOWN - 1}].stride")
    assert len(str(InputError("w.yaml", problems[:MAX_SHOWN])).splitlines()) == MAX_SHOWN


def test_trace_with_many_bad_lines_counts_them_all(tmp_path):
    from simulator.mapping.tracefile import read_traces
    bad = 80
    lines = ['{"format": "axsim-trace", "version": 1}', f'{{"layer": "l", "txns": {bad}}}']
    lines += [f'{{"id": {i}, "op": "teleport"}}' for i in range(bad)]
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as info:
        read_traces(path)
    assert len(info.value.problems) == bad
    assert str(info.value).splitlines()[-1].endswith(f"... and {bad - MAX_SHOWN} more problems "
                                                     f"(the first {MAX_SHOWN} are listed)")


def test_pyproject_metadata_raises_no_setuptools_warning(monkeypatch, tmp_path):
    """The build reads pyproject.toml like this; the old licence table is the control case."""
    setuptools = pytest.importorskip("setuptools")
    assert int(setuptools.__version__.split(".")[0]) >= 77, "the test extra asks for setuptools>=77"
    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    def warnings_of(folder):
        monkeypatch.chdir(folder)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            apply_configuration(Distribution(), "pyproject.toml")
        return [str(w.message).splitlines()[0] for w in caught]

    assert warnings_of(ROOT) == []
    old = (ROOT / "pyproject.toml").read_text().replace('license = "MIT"', 'license = { text = "MIT" }')
    (tmp_path / "pyproject.toml").write_text(old)
    (tmp_path / "README.md").write_text("x\n")
    assert any("license" in w for w in warnings_of(tmp_path))


def test_the_seed_draws_stuck_cells_but_not_latency_or_energy(tmp_path, write_arch):
    """What the --seed help promises: another seed, other stuck-cell maps; the same latency and energy."""
    import json

    arch = write_arch({"chiplet.pe.weight_buffer.vdd_v": 0.55}, base="tiny")
    wl = ROOT / "examples" / "small.yaml"
    runs = {}
    for seed in (0, 1, 0):
        out = tmp_path / f"s{seed}-{len(runs)}"
        assert cli.main(["run", "--arch", str(arch), "--workload", str(wl), "--seed", str(seed),
                         "--out", str(out), "--quiet"]) == 0
        runs[out] = seed
    (a, b, c) = runs
    summary = [json.loads((r / "summary.json").read_text()) for r in (a, b, c)]
    assert summary[0]["latency_cycles"] == summary[1]["latency_cycles"]
    assert summary[0]["energy_pj"] == summary[1]["energy_pj"]
    exposure = [(r / "exposure.npz").read_bytes() for r in (a, b, c)]
    assert exposure[0] == exposure[2] and exposure[0] != exposure[1]
