"""LUT multipliers priced from a published power table (`power_from: {csv, name}`)."""
from __future__ import annotations

import textwrap

import pytest

from simulator.macs.approxfile import load_approx, resolve
from simulator.errors import InputError

REFERENCE = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared" / "reference" / "evoapprox_mul8u.csv"

CSV = "name,power_mw_pdk45,area_um2_pdk45\nmul8u_1JFF,0.400,700\nmul8u_HALF,0.200,350\nmul8u_ZERO,0,0\n"


def _file(tmp_path, body: str):
    (tmp_path / "power.csv").write_text(CSV)
    path = tmp_path / "approx.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def test_relative_power_from_a_table(tmp_path, simba_arch):
    spec = load_approx(_file(tmp_path, """
        version: 1
        configs:
          half: {type: lut, generator: {kind: drum, k: 4}, power_from: {csv: power.csv, name: mul8u_HALF}}
        default: half
    """))
    assert spec.configs["half"].relative_power == pytest.approx(0.5)
    model = resolve(spec, simba_arch, ["conv"]).default
    assert model.actions_per_mac["mac.multiply_8b"] == pytest.approx(0.5)


@pytest.mark.skipif(not REFERENCE.is_file(), reason="EvoApprox reference data not present beside the project")
def test_published_evoapprox_power(tmp_path):
    spec = load_approx(_file(tmp_path, f"""
        version: 1
        configs:
          e: {{type: lut, generator: {{kind: exact}}, power_from: {{csv: {REFERENCE}, name: mul8u_2P7}}}}
    """))
    assert spec.configs["e"].relative_power == pytest.approx(0.386 / 0.391)


def test_bad_power_sources(tmp_path):
    with pytest.raises(InputError) as err:
        load_approx(_file(tmp_path, """
            version: 1
            configs:
              a: {type: lut, generator: {kind: exact}}
              b: {type: lut, generator: {kind: exact}, relative_power: 0.5, power_from: {csv: power.csv, name: x}}
              c: {type: lut, generator: {kind: exact}, power_from: {csv: power.csv, name: mul8u_NOPE}}
              d: {type: lut, generator: {kind: exact}, power_from: {csv: missing.csv, name: mul8u_HALF}}
              e: {type: lut, generator: {kind: exact}, power_from: {csv: power.csv, name: mul8u_ZERO}}
              f: {type: lut, generator: {kind: exact}, power_from: power.csv}
        """))
    msg = str(err.value)
    assert "approx.yaml: configs.a.relative_power: missing: needs exactly one of 'relative_power'" in msg
    assert "configs.b: needs exactly one of" in msg
    assert "configs.c.power_from.name: 'mul8u_NOPE': not in" in msg
    assert "configs.d.power_from.csv: 'missing.csv': cannot be read" in msg
    assert "configs.e.power_from.name: relative power 0 of 'mul8u_ZERO'" in msg
    assert "configs.f.power_from: 'power.csv': must be {csv: FILE, name: MULTIPLIER}" in msg
