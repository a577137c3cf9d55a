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
    assert "do not depend on it" in text


CLAIM_SOURCES = {
    "pyproject.toml description": lambda: tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "description"],
    "README.md introduction": lambda: (ROOT / "README.md").read_text().split("## Quick start")[0],
    "axsim --help": lambda: cli._parser().format_help(),
    "package docstring": lambda: __import__("simulator").__doc__,
}


@pytest.mark.parametrize("where", sorted(CLAIM_SOURCES))
def test_the_engine_is_described_as_it_is(where):
    """Transaction-level timing in integer cycles; no claim of a cycle-level engine or of bit errors
    in runs (the fault functions are not connected to `axsim run` yet)."""
    text = " ".join(CLAIM_SOURCES[where]().split()).lower()
    assert "transaction-level" in text
    assert not re.search(r"(?<!not )cycle-level|cycle-accurate", text)
    assert "noc/sram bit errors" not in text


def test_readme_says_runs_have_no_bit_errors_yet():
    intro = " ".join((ROOT / "README.md").read_text().split("## Quick start")[0].split())
    assert "Runs do not inject bit errors" in intro


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
