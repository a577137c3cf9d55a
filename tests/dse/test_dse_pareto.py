"""The non-dominated filter against brute force; fronts per pair and per knob family."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from _sweep_util import sweep_data, write_sweep
from simulator.dse import pareto
from simulator.dse.spec import load_sweep


def brute_force(v: np.ndarray) -> list[bool]:
    """Point i is kept unless some j is <= in every objective and < in one (plain loops)."""
    n, k = v.shape
    out = []
    for i in range(n):
        dominated = False
        for j in range(n):
            if all(v[j, m] <= v[i, m] for m in range(k)) and any(v[j, m] < v[i, m] for m in range(k)):
                dominated = True
                break
        out.append(not dominated)
    return out


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 4).flatmap(lambda k: arrays(np.float64, st.tuples(st.integers(1, 40), st.just(k)),
                                                  elements=st.integers(0, 6).map(float))))
def test_filter_matches_brute_force(values):
    # small integer values: many ties and duplicates
    assert pareto.non_dominated(values).tolist() == brute_force(values)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 30), st.just(3)), elements=st.floats(-1e6, 1e6)),
       st.lists(st.booleans(), min_size=3, max_size=3))
def test_maximised_objectives_are_negated(values, maximize):
    signs = np.where(maximize, -1.0, 1.0)
    assert pareto.non_dominated(values, maximize).tolist() == brute_force(values * signs)


def test_chunks_cover_more_points_than_one_chunk():
    rng = np.random.default_rng(3)
    v = rng.integers(0, 50, size=(pareto.CHUNK * 2 + 7, 2)).astype(float)
    assert pareto.non_dominated(v).tolist() == brute_force(v)


def test_hand_example():
    v = np.array([[1, 5], [2, 2], [5, 1], [3, 3], [2, 2], [6, 6]], dtype=float)
    assert pareto.non_dominated(v).tolist() == [True, True, True, False, True, False]


def _row(i, noc, mac, e, lat, **extra):
    return {"point": i, "pe_mac": {"block_bits": 2, "block_multipliers_per_lane": 16}, "noc_bits": noc,
            "conv_mac": mac, "energy_pj": e, "latency_cycles": lat, "status": "ok", "feasible": True, **extra}


def test_family_fronts_and_pair_table(tmp_path):
    sweep = load_sweep(write_sweep(tmp_path, sweep_data()))  # baselines: noc 64, conv exact
    rows = [_row(0, 64, "exact", 10.0, 10),   # baseline: in every subset
            _row(1, 32, "exact", 9.0, 12),    # communication only
            _row(2, 64, "msb2", 8.0, 9),      # compute only: dominates the baseline
            _row(3, 32, "msb2", 7.0, 11),     # combined
            _row(4, 32, "msb2", 1.0, 1, status="invalid"),  # did not run: never on a front
            ]
    fronts = pareto.family_fronts(sweep, rows, ["energy_pj", "latency_cycles"])
    pts = {name: [r["point"] for r in f] for name, f in fronts.items()}
    assert pts == {"compute only": [2], "communication only": [1, 0], "combined": [3, 2]}
    table = pareto.pair_table(sweep, rows)
    assert [(t["objectives"], t["point"]) for t in table] == [("energy_pj vs latency_cycles", 3),
                                                             ("energy_pj vs latency_cycles", 2)]
    assert pareto.family_of(sweep, rows[3]) == {"communication", "compute"}


def test_four_family_fronts_on_one_figure(tmp_path):
    """Compute, communication, memory and compression knobs: each family's front uses only the
    points whose other knobs sit at their baselines, and all fronts are drawn on one figure."""
    from _sweep_util import ROOT
    data = {"version": 1, "name": "f", "arch": str(ROOT / "arch" / "simba_axbxp.yaml"),
            "workload": str(ROOT / "workloads" / "digits_cnn.yaml"),
            "approx": str(ROOT / "examples" / "sweeps" / "macs.yaml"),
            "knobs": [{"name": "mac", "layers": "*", "values": ["exact", "msb2"], "family": "compute"},
                      {"name": "swing", "path": "package.nop.swing_v", "values": [0.8, 0.5],
                       "family": "communication"},
                      {"name": "vdd", "path": "chiplet.global_buffer.vdd_v", "values": [0.8, 0.6],
                       "family": "memory"},
                      {"name": "wc", "compress": "*", "values": ["none", "lowbits:2"]}],
            "objectives": [{"name": "energy_pj"}, {"name": "latency_cycles"}]}
    sweep = load_sweep(write_sweep(tmp_path, data))

    def row(i, mac, swing, vdd, wc, e, lat):
        return {"point": i, "mac": mac, "swing": swing, "vdd": vdd, "wc": wc, "energy_pj": e,
                "latency_cycles": lat, "status": "ok", "feasible": True}
    rows = [row(0, "exact", 0.8, 0.8, "none", 10.0, 10), row(1, "msb2", 0.8, 0.8, "none", 6.0, 8),
            row(2, "exact", 0.5, 0.8, "none", 9.0, 10), row(3, "exact", 0.8, 0.6, "none", 9.5, 10),
            row(4, "exact", 0.8, 0.8, "lowbits:2", 8.0, 9), row(5, "msb2", 0.5, 0.6, "lowbits:2", 4.0, 7)]
    fronts = pareto.family_fronts(sweep, rows, ["energy_pj", "latency_cycles"])
    pts = {name: [r["point"] for r in f] for name, f in fronts.items()}
    assert pts == {"compute only": [1], "communication only": [2], "memory only": [3],
                   "compression only": [4], "combined": [5]}
    from simulator.plots.sweep_plots import plot_family_fronts
    path = plot_family_fronts(fronts, "energy_pj", "latency_cycles", tmp_path, "t")
    assert path.is_file() and path.stat().st_size > 1000
