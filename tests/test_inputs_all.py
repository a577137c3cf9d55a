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


EXAMPLES_DIR = ARCH_DIR.parent / "examples"
TRACE_EXAMPLES = ARCH_DIR.parent / "traces" / "examples"


def test_examples_validate(capsys):
    files = [*sorted(EXAMPLES_DIR.rglob("*.yaml")), *sorted(TRACE_EXAMPLES.glob("*.jsonl"))]
    assert len(files) >= 3
    capsys.readouterr()
    assert main(["validate", *map(str, files)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.count(": ok (") == len(files)


def test_example_trace_is_current(tiny_arch):
    """The shipped example trace equals what the mapper produces now
    (regenerate with: axsim trace --arch arch/tiny.yaml --workload examples/small.yaml
    --out traces/examples/tiny_small.trace.jsonl)."""
    from simulator import api
    from simulator.mapping.tracefile import read_traces

    _, shipped = read_traces(TRACE_EXAMPLES / "tiny_small.trace.jsonl", tiny_arch)
    fresh = list(api.generate_traces(tiny_arch, load_workload(EXAMPLES_DIR / "small.yaml")))
    assert [t.layer for t in shipped] == [t.layer for t in fresh]
    for a, b in zip(shipped, fresh):
        assert [x.to_dict() for x in a.txns] == [x.to_dict() for x in b.txns]
    replay = api.simulate(tiny_arch, traces=shipped)
    direct = api.simulate(tiny_arch, load_workload(EXAMPLES_DIR / "small.yaml"))
    assert replay.latency_cycles == direct.latency_cycles
    assert replay.energy_pj == direct.energy_pj
