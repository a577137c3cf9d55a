"""Every bundled input file loads, and `axsim validate` accepts all of them."""
from __future__ import annotations

from pathlib import Path

from conftest import ARCH_DIR, TECH_DIR, WORKLOAD_DIR
from simulator.cli import main
from simulator.config import Arch, TechTable, load_arch, load_tech
from simulator.workload import Workload, load_workload


def bundled_files() -> dict[str, list]:
    return {
        "arch": sorted(ARCH_DIR.glob("*.yaml")),
        "tech": sorted(TECH_DIR.glob("*.yaml")),
        "workload": sorted([*WORKLOAD_DIR.glob("*.yaml"), *WORKLOAD_DIR.glob("*.yml"),
                            *WORKLOAD_DIR.glob("*.csv")]),
    }


def test_every_bundled_input_loads_and_validates(capsys):
    files = bundled_files()
    assert {p.stem for p in files["arch"]} >= {"simba", "tiny"}
    assert files["tech"] and len(files["workload"]) >= 4

    for path in files["arch"]:
        arch = load_arch(path)
        assert isinstance(arch, Arch) and arch.tech_table is not None, path
    for path in files["tech"]:
        assert isinstance(load_tech(path), TechTable), path
    for path in files["workload"]:
        wl = load_workload(path)
        assert isinstance(wl, Workload) and len(wl.layers) > 0 and wl.total_macs() > 0, path

    every = [str(p) for group in files.values() for p in group]
    capsys.readouterr()
    assert main(["validate", *every]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    out = " ".join(out.split())  # the console may wrap long paths
    for name in every:
        assert Path(name).name in out, name
    assert out.count(": ok (") == len(every)
