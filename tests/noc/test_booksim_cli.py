"""BookSim2 configuration files, synthetic traffic and the ``axsim noc`` command."""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from simulator.cli import main
from simulator.errors import InputError
from simulator.noc.booksim import load_setup, parse_booksim
from simulator.noc.traffic import bernoulli_times, destinations, stream

REF = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "booksim"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "net.cfg"
    p.write_text(text)
    return p


def test_statements_comments_lists_and_later_lines_win(tmp_path):
    p = _write(tmp_path, "// comment\nnum_vcs = 4; vc_buf_size = 2;\ntraffic = transpose; // trailing\n"
                         "num_vcs = 8;\nhotspot_nodes = {1, 5};\n")
    assert parse_booksim(p) == {"num_vcs": 8, "vc_buf_size": 2, "traffic": "transpose", "hotspot_nodes": [1, 5]}
    s = load_setup(p, vc_buf_size=6)
    assert (s.num_vcs, s.vc_buf_size, s.hotspot_nodes) == (8, 6, (1, 5))
    r = s.router()
    assert (r.num_vcs, r.vc_buf_size) == (8, 6)


def test_unknown_keys_are_listed_with_their_lines(tmp_path):
    p = _write(tmp_path, "num_vcs = 4;\nfoo = 1;\nvc_buf_size = 2;\nbar_baz = {1,2};\n")
    with pytest.raises(InputError) as err:
        parse_booksim(p)
    msg = str(err.value)
    assert "line 2: unknown or unsupported key 'foo'" in msg
    assert "line 4: unknown or unsupported key 'bar_baz'" in msg
    assert "supported keys:" in msg and "num_vcs" in msg


def test_unsupported_values_name_the_key_and_the_allowed_values(tmp_path):
    p = _write(tmp_path, "topology = torus;\nvc_allocator = select;\nnum_vcs = 0;\n")
    with pytest.raises(InputError) as err:
        load_setup(p)
    msg = str(err.value)
    assert f"{p}: topology: 'torus'" in msg and "'mesh'" in msg
    assert "vc_allocator: 'select'" in msg and "'islip'" in msg
    assert "num_vcs: 0: must be >= 1" in msg
    with pytest.raises(InputError, match="neighbor needs k >= 2"):
        load_setup(None, k=1, traffic="neighbor")
    with pytest.raises(InputError, match="bitcomp needs a power-of-two"):
        load_setup(None, k=3, traffic="bitcomp")


def test_malformed_statement_and_missing_file(tmp_path):
    with pytest.raises(InputError, match="expected 'key = value;'"):
        parse_booksim(_write(tmp_path, "num_vcs 4;\n"))
    with pytest.raises(InputError, match="cannot read"):
        parse_booksim(tmp_path / "absent.cfg")


@pytest.mark.skipif(not REF.is_dir(), reason="reference data ../shared/reference/booksim not present")
def test_reference_configurations_parse():
    for cfg in sorted(REF.glob("*.cfg")):
        s = load_setup(cfg)
        assert (s.k, s.num_vcs, s.vc_buf_size, s.alloc_iters, s.credit_delay) == (8, 16, 8, 2, 2)


def test_traffic_patterns_by_hand():
    k = 4
    src = np.arange(16)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(destinations("transpose", src, k, rng), [(s % 4) * 4 + s // 4 for s in range(16)])
    np.testing.assert_array_equal(destinations("bitcomp", src, k, rng), [s ^ 15 for s in range(16)])
    nb = destinations("neighbor", np.repeat(src, 50), k, rng)
    dist = np.abs(nb % 4 - np.repeat(src, 50) % 4) + np.abs(nb // 4 - np.repeat(src, 50) // 4)
    assert (dist == 1).all()
    hot = destinations("hotspot", np.zeros(20000, np.int64), k, rng, hotspots=(5,), hotspot_fraction=0.5)
    # P(dst = 5) = 0.5 + 0.5/16
    assert abs((hot == 5).mean() - (0.5 + 0.5 / 16)) < 0.015


def test_bernoulli_injection_rate_and_independence_of_streams():
    t = bernoulli_times(0.1, 200_000, stream(3, "noc.node[0]"))
    assert abs(len(t) / 200_000 - 0.1) < 0.004 and (np.diff(t) > 0).all() and t.max() < 200_000
    again = bernoulli_times(0.1, 200_000, stream(3, "noc.node[0]"))
    other = bernoulli_times(0.1, 200_000, stream(3, "noc.node[1]"))
    np.testing.assert_array_equal(t, again)
    assert len(other) != len(t) or not np.array_equal(other, t)


def test_axsim_noc_writes_csv_and_plot(tmp_path):
    out = tmp_path / "run"
    rc = main(["noc", "--k", "4", "--rates", "0.05,0.2", "--packet-sizes", "1,3", "--num-vcs", "2",
               "--warmup-periods", "1", "--sample-period", "1000", "--out", str(out)])
    assert rc == 0
    rows = list(csv.DictReader((out / "noc.csv").open()))
    assert [r["packet_flits"] for r in rows] == ["1", "1", "3", "3"]
    assert list(rows[0])[:5] == ["packet_flits", "offered_flits_per_node_cycle", "packet_latency_cycles",
                                 "network_latency_cycles", "accepted_flits_per_node_cycle"]
    for r in rows:
        assert r["status"] == "ok"
        # below saturation the network accepts what is offered
        assert abs(float(r["accepted_flits_per_node_cycle"]) - float(r["offered_flits_per_node_cycle"])) < 0.03
        # packet latency includes source queueing: never below network latency
        assert float(r["packet_latency_cycles"]) >= float(r["network_latency_cycles"])
    assert (out / "latency_vs_load.png").stat().st_size > 1000


def test_axsim_noc_bad_file_is_a_clear_error(tmp_path, capsys):
    p = _write(tmp_path, "num_vcs = 4;\nfrobnicate = 2;\n")
    assert main(["noc", "--booksim", str(p), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "frobnicate" in err and "Traceback" not in err


def test_throughput_mode_reports_the_accepted_rate_beyond_saturation(tmp_path):
    """Offered 0.9 flits/node/cycle on a 4x4 mesh (ideal capacity 4b/k = 1.0 for uniform traffic,
    less with allocation losses): the accepted rate is below the offered one and latency is blank."""
    out = tmp_path / "thr"
    assert main(["noc", "--k", "4", "--rates", "0.9", "--sim-type", "throughput", "--warmup-periods", "1",
                 "--sample-period", "2000", "--no-plot", "--out", str(out)]) == 0
    (row,) = list(csv.DictReader((out / "noc.csv").open()))
    assert row["packet_latency_cycles"] == "" and row["status"] == "ok"
    assert 0.3 < float(row["accepted_flits_per_node_cycle"]) < 0.88  # clearly below the offered 0.9
