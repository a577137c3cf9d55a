"""read_yaml uses libyaml's safe loader when available: it must read every shipped file as PyYAML's
pure-Python safe loader does."""
import yaml

from conftest import ROOT
from simulator.config.yamlio import read_yaml


def test_fast_loader_reads_shipped_files_like_the_python_loader():
    files = [p for d in ("arch", "workloads", "examples") for p in sorted((ROOT / d).rglob("*.yaml"))]
    assert len(files) >= 10
    for path in files:
        assert read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8")), path
