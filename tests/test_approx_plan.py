"""Approximation files (simulator.macs.approxfile): loading, per-layer resolution, problems,
and their effect on a run through ``axsim run --approx FILE``."""
from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest

from simulator.approx import blocked, generators
from simulator.approx.lut import save_binary
from simulator.macs.approxfile import ApproxSpec, load_approx, resolve
from simulator.cli import main
from simulator.config import load_arch
from simulator.errors import InputError
from simulator.hw.mac import MacPlan
from simulator.macs.timing import block_mac_model, exact_model, lut_mac_model

from conftest import ARCH_DIR


@pytest.fixture(scope="module")
def simba(simba_arch):
    return simba_arch


@pytest.fixture
def write(tmp_path):
    """``write(text, name)`` -> path of a dedented YAML file in tmp_path."""

    def _write(text: str, name: str = "approx.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


def _problems(exc: InputError) -> dict[str, str]:
    return {p.path: p.message for p in exc.problems}


def _load_error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_approx(path)
    err = info.value
    assert err.file == str(path)
    for line in str(err).splitlines():          # every line names the file
        assert line.startswith(f"{path}: ")
    return err


# ---- good files -----------------------------------------------------------------------------
def test_axbxp_static_forms(write):
    path = write("""
        version: 1
        name: statics
        configs:
          msb3: {type: axbxp, bits: 8, block_bits: 2, msb_blocks: [3, 3]}
          msb32: {type: axbxp, block_bits: 2, msb_blocks: [3, 2]}
          pairs: {type: axbxp, block_bits: 2, pairs: [[3, 3], [3, 2], [2, 3]]}
          top6: {type: axbxp, block_bits: 2, top: 6}
          signed: {type: axbxp, block_bits: 2, signed: true, top: 10}
        default: msb3
    """)
    spec = load_approx(path)
    assert isinstance(spec, ApproxSpec)
    assert spec.file == str(path) and spec.name == "statics" and spec.default == "msb3" and spec.layers == ()
    assert list(spec.configs) == ["msb3", "msb32", "pairs", "top6", "signed"]
    assert all(c.type == "axbxp" and c.block.policy == "static" for c in spec.configs.values())
    msb3 = spec.configs["msb3"].block
    assert msb3.name == "msb3" and msb3.bits == 8 and msb3.block_bits == 2
    assert msb3.pairs == frozenset(blocked.msb_pairs(4, 3, 3)) and msb3.products_per_mac == 9
    assert spec.configs["msb32"].block.pairs == frozenset(blocked.msb_pairs(4, 3, 2))
    assert spec.configs["pairs"].block.pairs == {(3, 3), (3, 2), (2, 3)}
    assert spec.configs["top6"].block.pairs == frozenset(blocked.top_pairs(4, 6))
    signed = spec.configs["signed"].block
    assert signed.signed and signed.stored_bits_a == 9 and signed.products_per_mac == 10


def test_axbxp_dynamic(write):
    spec = load_approx(write("""
        version: 1
        configs:
          dyn: {type: axbxp, block_bits: 2, policy: dynamic, keep_a: 2, keep_w: 3}
        default: dyn
    """, "dynamic_study.yaml"))
    assert spec.name == "dynamic_study"            # file stem when the file has no name
    dyn = spec.configs["dyn"].block
    assert dyn.policy == "dynamic" and (dyn.keep_a, dyn.keep_w) == (2, 3)
    assert dyn.products_per_mac == 6 and (dyn.stored_bits_a, dyn.stored_bits_w) == (6, 7)


def test_lut_with_generator(write):
    spec = load_approx(write("""
        version: 1
        configs:
          drum4: {type: lut, generator: {kind: drum, k: 4}, relative_power: 0.45}
        default: drum4
    """))
    cfg = spec.configs["drum4"]
    assert cfg.type == "lut" and cfg.relative_power == 0.45 and cfg.block is None
    assert cfg.lut.same_table(generators.drum(4))


def test_lut_with_table_file_relative_to_the_approx_file(write, tmp_path):
    (tmp_path / "tables").mkdir()
    save_binary(generators.mitchell(), tmp_path / "tables" / "mitchell.bin")
    spec = load_approx(write("""
        version: 1
        configs:
          mitch: {type: lut, table: tables/mitchell.bin, relative_power: 0.6}
          abs: {type: lut, table: TABLE, relative_power: 1}
        default: mitch
    """.replace("TABLE", str(tmp_path / "tables" / "mitchell.bin"))))
    mitch = spec.configs["mitch"]
    assert mitch.type == "lut" and mitch.relative_power == 0.6
    assert mitch.lut.same_table(generators.mitchell())
    assert mitch.lut.name == "mitch" and mitch.lut.relative_power == 0.6
    assert spec.configs["abs"].relative_power == 1.0 and isinstance(spec.configs["abs"].relative_power, float)


def test_exact_config_and_defaults(write):
    spec = load_approx(write("""
        version: 1
        configs:
          ex: {type: exact}
    """))
    assert spec.configs["ex"].type == "exact" and spec.default == "exact" and spec.layers == ()
    spec = load_approx(write("version: 1\n", "empty.yaml"))
    assert spec.configs == {} and spec.default == "exact"


def test_bundled_example_loads(repo_root):
    spec = load_approx(repo_root / "examples" / "approx" / "axbxp_msb3.yaml")
    assert spec.default == "msb3" and spec.layers == (("conv1", "exact"), ("fc", "exact"))


# ---- resolution against an architecture and a workload ----------------------------------------
PLAN = """
    version: 1
    name: mixed
    configs:
      msb3: {type: axbxp, bits: 8, block_bits: 2, msb_blocks: [3, 3]}
      dyn2: {type: axbxp, block_bits: 2, policy: dynamic, keep_a: 2, keep_w: 2}
      drum: {type: lut, generator: {kind: drum, k: 4}, relative_power: 0.45}
      ex: {type: exact}
    default: msb3
    layers:
      conv: exact
      "block[1]": ex
      "layer1.*": dyn2
      "layer*": drum
      "layer1.0": drum
"""
NAMES = ["conv", "block[1]", "block1", "layer1.0", "layer1.1", "layer2.0", "fc"]


def test_resolve_overrides_first_match_wins(write, axbxp_arch):
    spec = load_approx(write(PLAN))
    plan = resolve(spec, axbxp_arch, NAMES)
    assert isinstance(plan, MacPlan) and plan.label == "mixed"
    pe = axbxp_arch.chiplet.pe
    assert plan.default == block_mac_model(spec.configs["msb3"].block, pe, "msb3")
    assert plan.model_for("conv") == exact_model(pe)
    # "block[1]" matches the layer of that exact name, and as a glob also "block1"
    assert plan.model_for("block[1]") == exact_model(pe)
    assert plan.model_for("block1") == exact_model(pe)
    # "layer1.*" comes before "layer*" and "layer1.0": the first match wins
    assert plan.model_for("layer1.0").name == "dyn2" and plan.model_for("layer1.1").name == "dyn2"
    assert plan.model_for("layer1.0").lane_factor == 4 and plan.model_for("layer1.0").input_bits == 6
    assert plan.model_for("layer2.0") == lut_mac_model("drum", 0.45, pe)
    assert plan.model_for("fc").name == "msb3"
    assert plan.describe()["per_layer"] == {"conv": "exact", "block[1]": "exact", "block1": "exact",
                                            "layer1.0": "dyn2",
                                            "layer1.1": "dyn2", "layer2.0": "drum"}


def test_resolve_small_workload(write, axbxp_arch, small_workload):
    spec = load_approx(write("""
        version: 1
        configs:
          top6: {type: axbxp, block_bits: 2, top: 6}
        default: exact
        layers:
          "[cp]o*": top6
    """))
    plan = resolve(spec, axbxp_arch, [layer.name for layer in small_workload.layers])
    assert plan.default == exact_model(axbxp_arch.chiplet.pe)
    assert set(plan.per_layer) == {"conv", "pool"}
    top6 = plan.model_for("conv")
    assert top6.name == "top6" and top6.lane_factor == 2 and top6.input_bits == top6.weight_bits == 6
    assert plan.model_for("fc").name == "exact"


def test_resolve_lut_and_exact_on_fixed_point_pes(write, simba):
    spec = load_approx(write("""
        version: 1
        configs:
          drum: {type: lut, generator: {kind: drum, k: 6}, relative_power: 0.8}
          ex: {type: exact}
        default: drum
        layers: {fc: ex}
    """))
    plan = resolve(spec, simba, ["conv", "fc"])
    assert plan.default.actions_per_mac == {"mac.multiply_8b": 0.8, "mac.accumulate": 1.0}
    assert plan.model_for("fc").actions_per_mac == {"mac.op": 1.0}


# ---- bad files --------------------------------------------------------------------------------
def test_unknown_top_level_key_and_wrong_version(write):
    err = _load_error(write("""
        version: 2
        configs: {}
        layer: {conv1: exact}
    """))
    probs = _problems(err)
    assert set(probs) == {"version", "layer"}
    assert "2" in probs["version"] and "supported versions: 1" in probs["version"]
    assert "unknown key" in probs["layer"] and "layers" in probs["layer"]


def test_missing_version(write):
    assert set(_problems(_load_error(write("configs: {}\n")))) == {"version"}


def test_unknown_config_type(write):
    path = write("""
        version: 1
        configs:
          msb3: {type: blockwise, msb_blocks: [3, 3]}
          raw: 3
        default: msb3
    """)
    err = _load_error(path)
    probs = _problems(err)
    assert set(probs) == {"configs.msb3.type", "configs.raw"}
    assert "'blockwise'" in probs["configs.msb3.type"] and "axbxp, lut, exact" in probs["configs.msb3.type"]
    assert f"{path}: configs.msb3.type: 'blockwise'" in str(err)


@pytest.mark.parametrize("body, key, words", [
    ("{type: axbxp, block_bits: 2, msb_block: [3, 3]}", "configs.msb3.msb_block", ["unknown key"]),
    ("{type: axbxp, block_bits: 2, msb_blocks: [5, 3]}", "configs.msb3.msb_blocks", ["[5, 3]", "1..4"]),
    ("{type: axbxp, block_bits: 3}", "configs.msb3.block_bits", ["must divide bits"]),
    ("{type: axbxp, block_bits: 2, top: 17}", "configs.msb3.top", ["17", "1..16"]),
    ("{type: axbxp, block_bits: 2, policy: dynamic, keep_a: 0, keep_w: 2}", "configs.msb3.keep_a", ["1..4"]),
    ("{type: axbxp, block_bits: 2, policy: sometimes}", "configs.msb3.policy", ["'sometimes'"]),
    ("{type: axbxp, block_bits: 2, pairs: [[4, 0]]}", "configs.msb3.pairs[0]", ["0..3"]),
    ("{type: exact, block_bits: 2}", "configs.msb3", ["takes none"]),
])
def test_bad_axbxp_key_or_value(write, body, key, words):
    path = write(f"version: 1\nconfigs:\n  msb3: {body}\ndefault: msb3\n")
    err = _load_error(path)
    probs = _problems(err)
    assert key in probs, probs
    for word in words:
        assert word in probs[key]
    assert f"{path}: {key}: " in str(err)


def test_lut_without_relative_power(write):
    err = _load_error(write("""
        version: 1
        configs:
          drum: {type: lut, generator: {kind: drum, k: 4}}
          neg: {type: lut, generator: {kind: drum, k: 4}, relative_power: 0}
    """))
    probs = _problems(err)
    assert set(probs) == {"configs.drum.relative_power", "configs.neg.relative_power"}
    assert "missing" in probs["configs.drum.relative_power"] and "power_from" in probs["configs.drum.relative_power"]
    assert "(0, 4]" in probs["configs.neg.relative_power"]


def test_lut_with_table_and_generator_or_neither(write, tmp_path):
    save_binary(generators.drum(4), tmp_path / "d.bin")
    err = _load_error(write("""
        version: 1
        configs:
          both: {type: lut, table: d.bin, generator: {kind: drum, k: 4}, relative_power: 0.5}
          none: {type: lut, relative_power: 0.5}
          extra: {type: lut, table: d.bin, relative_power: 0.5, power: 1}
    """))
    probs = _problems(err)
    assert set(probs) == {"configs.both", "configs.none", "configs.extra.power"}
    assert "exactly one of 'table'" in probs["configs.both"] and "exactly one" in probs["configs.none"]


def test_lut_bad_generator_parameter(write):
    probs = _problems(_load_error(write("""
        version: 1
        configs:
          d: {type: lut, generator: {kind: drum, k: 12}, relative_power: 0.5}
          m: {type: lut, generator: {kind: booth}, relative_power: 0.5}
    """)))
    assert set(probs) == {"configs.d.generator.k", "configs.m.generator.kind"}
    assert "1..8" in probs["configs.d.generator.k"] and "'booth'" in probs["configs.m.generator.kind"]


def test_unreadable_table_names_the_key_and_the_table(write, tmp_path):
    (tmp_path / "short.bin").write_bytes(b"\x00" * 10)
    err = _load_error(write("""
        version: 1
        configs:
          evo: {type: lut, table: tables/missing.bin, relative_power: 0.5}
          short: {type: lut, table: short.bin, relative_power: 0.5}
    """))
    probs = _problems(err)
    assert set(probs) == {"configs.evo.table", "configs.short.table"}
    assert "missing.bin" in probs["configs.evo.table"]
    assert "131072 bytes" in probs["configs.short.table"]


def test_default_and_override_name_unknown_configs(write):
    path = write("""
        version: 1
        configs:
          msb3: {type: axbxp, block_bits: 2, msb_blocks: [3, 3]}
          exact: {type: exact}
        default: msb2
        layers:
          conv1: exact
          conv9: msb4
    """)
    err = _load_error(path)
    probs = _problems(err)
    assert set(probs) == {"default", "layers.conv9", "configs.exact"}
    assert "'msb2'" in probs["default"] and "msb3" in probs["default"]
    assert "'msb4'" in probs["layers.conv9"] and "exact, msb3" in probs["layers.conv9"]
    assert "built in" in probs["configs.exact"]
    assert f"{path}: layers.conv9: 'msb4'" in str(err)


def test_override_pattern_matching_no_layer_is_a_warning(write, axbxp_arch, small_workload):
    """Approximation files travel between networks: unmatched patterns warn, the rest applies."""
    path = write("""
        version: 1
        configs:
          msb3: {type: axbxp, block_bits: 2, msb_blocks: [3, 3]}
        default: msb3
        layers:
          conv: exact
          conv9: exact
          "layer4.*": msb3
    """)
    spec = load_approx(path)                    # the file itself is fine
    plan = resolve(spec, axbxp_arch, [layer.name for layer in small_workload.layers])
    assert len(plan.warnings) == 2
    conv9, layer4 = plan.warnings
    assert conv9.startswith(f"{path}: layers.conv9: matches no layer") and "conv, pool, fc" in conv9
    assert layer4.startswith(f"{path}: layers.layer4.*: matches no layer")
    assert plan.model_for("conv").name == "exact" and plan.model_for("fc").name == "msb3"


def test_axbxp_on_fixed_point_pes(write, simba, small_workload):
    path = write("""
        version: 1
        configs:
          msb3: {type: axbxp, block_bits: 2, msb_blocks: [3, 3]}
          drum: {type: lut, generator: {kind: drum, k: 4}, relative_power: 0.45}
        default: msb3
        layers: {fc: drum}
    """)
    with pytest.raises(InputError) as info:
        resolve(load_approx(path), simba, [layer.name for layer in small_workload.layers])
    err = info.value
    probs = _problems(err)
    assert set(probs) == {"configs.msb3"}                # the LUT multiplier is fine on simba
    assert "block multipliers" in probs["configs.msb3"] and "simba.yaml" in probs["configs.msb3"]
    assert str(err).startswith(f"{path}: configs.msb3: ")


def test_axbxp_block_size_differs_from_the_pes(write, axbxp_arch):
    path = write("""
        version: 1
        configs:
          k4: {type: axbxp, top: 3}
        default: k4
    """)
    with pytest.raises(InputError) as info:
        resolve(load_approx(path), axbxp_arch, ["conv"])
    msg = _problems(info.value)["configs.k4"]
    assert "4-bit blocks" in msg and "2-bit blocks" in msg and "simba_axbxp.yaml" in msg


def test_all_problems_at_once(write):
    path = write("""
        version: 3
        colour: blue
        configs:
          a: {type: axbxp, block_bits: 2, msb_blocks: [3, 3], keep: 2}
          b: {type: lut, relative_power: 9}
          c: {type: fancy}
        default: z
        layers:
          conv1: y
    """)
    err = _load_error(path)
    paths = [p.path for p in err.problems]
    assert set(paths) == {"version", "colour", "configs.a.keep", "configs.b.relative_power", "configs.b",
                          "configs.c.type", "default", "layers.conv1"}
    assert len(str(err).splitlines()) == len(paths)


def test_cli_reports_bad_approx_file(write, tmp_path, capsys):
    bad = write("version: 1\ndefault: nothing\n")
    rc = main(["run", "--arch", str(ARCH_DIR / "tiny.yaml"), "--workload", str(_write_workload(tmp_path)),
               "--approx", str(bad), "--out", str(tmp_path / "run"), "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert f"{bad}: default: 'nothing'" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()
    rc = main(["validate", str(bad)])
    assert rc == 2


# ---- end to end: axsim run --approx on a tiny block-wise architecture --------------------------
RECONFIG = 8

WORKLOAD = """
version: 1
name: small3
layers:
  - {name: conv1, type: conv, input: [3, 16, 16], out_channels: 16, kernel: 3, padding: 1}
  - {name: conv2, type: conv, input: [16, 16, 16], out_channels: 32, kernel: 3, stride: 2, padding: 1}
  - {name: conv3, type: conv, input: [32, 8, 8], out_channels: 32, kernel: 3, padding: 1}
  - {name: fc, type: fc, in_features: 2048, out_features: 10}
"""

APPROX = """
version: 1
name: msb2-inner
configs:
  msb2: {type: axbxp, bits: 8, block_bits: 2, msb_blocks: [2, 2]}
default: msb2
layers:
  conv1: exact
  fc: exact
"""


def _write_workload(tmp_path: Path) -> Path:
    path = tmp_path / "small3.yaml"
    path.write_text(WORKLOAD, encoding="utf-8")
    return path


def _rows(folder: Path) -> dict[str, dict]:
    with (folder / "layers.csv").open() as fh:
        return {row["layer"]: row for row in csv.DictReader(fh)}


def _action_counts(folder: Path, layer: str) -> dict[str, float]:
    """Action counts of one layer from components.csv, summed over components (leakage left out)."""
    out: dict[str, float] = {}
    with (folder / "components.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["layer"] == layer and row["component_class"] != "leakage":
                key = f"{row['component_class']}.{row['action']}"
                out[key] = out.get(key, 0.0) + float(row["count"])
    return out


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    """The same workload on a tiny block-wise architecture, exact and with APPROX."""
    import yaml

    tmp = tmp_path_factory.mktemp("e2e")
    data = yaml.safe_load((ARCH_DIR / "tiny.yaml").read_text(encoding="utf-8"))
    data["name"] = "tiny_axbxp"
    data["tech"] = str((ARCH_DIR / "tech" / "simba_16nm.yaml").resolve())
    data["chiplet"]["pe"]["mac"] = {"block_bits": 2, "block_multipliers_per_lane": 16,
                                    "reconfig_cycles": RECONFIG}
    arch = tmp / "tiny_axbxp.yaml"
    arch.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    workload = _write_workload(tmp)
    approx = tmp / "approx.yaml"
    approx.write_text(APPROX, encoding="utf-8")
    # layers one after another: with weight prefetch the next layer's loads overlap (and contend
    # with) the current layer, which the per-layer expectations below do not model
    base = ["run", "--arch", str(arch), "--workload", str(workload), "--quiet", "--no-prefetch"]
    assert main([*base, "--out", str(tmp / "exact")]) == 0
    assert main([*base, "--approx", str(approx), "--out", str(tmp / "approx")]) == 0
    return {"arch": load_arch(arch), "exact": tmp / "exact", "approx": tmp / "approx", "approx_file": approx}


def test_e2e_mac_config_column(e2e):
    exact, approx = _rows(e2e["exact"]), _rows(e2e["approx"])
    assert [r["mac_config"] for r in exact.values()] == ["exact"] * 4
    assert {k: r["mac_config"] for k, r in approx.items()} == {"conv1": "exact", "conv2": "msb2",
                                                              "conv3": "msb2", "fc": "exact"}
    summary = json.loads((e2e["approx"] / "summary.json").read_text())
    assert summary["approx_file"] == str(e2e["approx_file"])


def test_e2e_first_layer_overridden_to_exact_is_identical(e2e):
    # conv1 is the first layer: nothing ran before it, so the exact layer meets identical hardware state
    exact, approx = _rows(e2e["exact"])["conv1"], _rows(e2e["approx"])["conv1"]
    for key in ("start_cycle", "latency_cycles", "macs", "energy_pj", "dram_bytes"):
        assert approx[key] == exact[key], key
    assert _action_counts(e2e["approx"], "conv1") == _action_counts(e2e["exact"], "conv1")


def test_e2e_last_layer_exact_pays_one_reconfiguration(e2e):
    """fc runs exact after two msb2 layers: same actions as in the exact run, but its first compute
    step switches the PE array back to the exact configuration, which costs ``reconfig_cycles``
    (the steps of a layer are serial on the PE array, so the layer is exactly that much longer),
    and the longer layer leaks for those cycles."""
    exact, approx = _rows(e2e["exact"])["fc"], _rows(e2e["approx"])["fc"]
    assert int(approx["latency_cycles"]) == int(exact["latency_cycles"]) + RECONFIG
    assert int(approx["start_cycle"]) < int(exact["start_cycle"])           # earlier layers were faster
    assert _action_counts(e2e["approx"], "fc") == _action_counts(e2e["exact"], "fc")
    extra = float(approx["energy_pj"]) - float(exact["energy_pj"])
    assert extra == pytest.approx(float(approx["energy_pj_leakage"]) - float(exact["energy_pj_leakage"]))
    # leakage of the tiny package: 4 PEs x 0.5 mW + 1 global buffer x 0.3 mW + 1 NoP router x 2 mW
    # for RECONFIG cycles at 1 GHz (mW x ns = pJ)
    tech = e2e["arch"].tech_table
    leak_mw = 4 * tech.leakage_mw("pe") + tech.leakage_mw("global_buffer") + tech.leakage_mw("nop_router")
    assert leak_mw == pytest.approx(4.3)
    assert extra == pytest.approx(leak_mw * RECONFIG / e2e["arch"].clock_ghz)


def test_e2e_approximated_layers_cost_less(e2e):
    exact, approx = _rows(e2e["exact"]), _rows(e2e["approx"])
    for name in ("conv2", "conv3"):
        e, a = exact[name], approx[name]
        assert float(a["energy_pj"]) < float(e["energy_pj"]), name
        assert int(a["latency_cycles"]) <= int(e["latency_cycles"]), name
        assert a["macs"] == e["macs"]
        # msb2 keeps 2 of 4 blocks: activations and weights are stored and moved on 4 bits
        assert float(a["dram_bytes"]) < 0.6 * float(e["dram_bytes"]), name
        # and 4 block products per MAC (16 pp bits) instead of 16 (64 pp bits)
        ca, ce = _action_counts(e2e["approx"], name), _action_counts(e2e["exact"], name)
        # (components.csv keeps 6 significant digits)
        assert ca["mac.pp_bit"] == pytest.approx(16 * ca["mac.accumulate"], rel=1e-5)
        assert ce["mac.pp_bit"] == pytest.approx(64 * ce["mac.accumulate"], rel=1e-5)
        assert ca["mac.block_shift_add"] == pytest.approx(4 * ca["mac.accumulate"], rel=1e-5)
        assert float(a["energy_pj_mac"]) < 0.4 * float(e["energy_pj_mac"])
    # conv2 has 16 input channels = 4 lanes x lane factor 4: its compute takes a quarter of the
    # cycles, so the layer is at least twice as fast even with the reconfiguration
    assert 2 * int(approx["conv2"]["latency_cycles"]) < int(exact["conv2"]["latency_cycles"])


def test_e2e_totals(e2e):
    s_exact = json.loads((e2e["exact"] / "summary.json").read_text())
    s_approx = json.loads((e2e["approx"] / "summary.json").read_text())
    rows_e, rows_a = _rows(e2e["exact"]), _rows(e2e["approx"])
    assert s_approx["energy_pj"] < s_exact["energy_pj"]
    assert s_approx["latency_cycles"] < s_exact["latency_cycles"]
    assert s_approx["latency_cycles"] == sum(int(r["latency_cycles"]) for r in rows_a.values())
    assert s_exact["energy_pj"] == pytest.approx(sum(float(r["energy_pj"]) for r in rows_e.values()), rel=1e-6)
    assert s_approx["macs"] == s_exact["macs"]


def test_e2e_same_plan_through_the_api(e2e, tmp_path):
    """The CLI run equals simulate() with the plan resolved from the same file."""
    from simulator import api

    arch = e2e["arch"]
    workload = api.load_workload(_write_workload(tmp_path))
    plan = resolve(load_approx(e2e["approx_file"]), arch, [layer.name for layer in workload.layers])
    result = api.simulate(arch, workload, plan=plan, prefetch=False)  # as the CLI runs of the fixture
    rows = _rows(e2e["approx"])
    assert [layer.latency_cycles for layer in result.layers] == [int(rows[n]["latency_cycles"])
                                                                 for n in ("conv1", "conv2", "conv3", "fc")]
    assert [layer.mac_config for layer in result.layers] == ["exact", "msb2", "msb2", "exact"]
    assert np.allclose([layer.energy_pj for layer in result.layers],
                       [float(rows[n]["energy_pj"]) for n in ("conv1", "conv2", "conv3", "fc")], rtol=1e-6)
