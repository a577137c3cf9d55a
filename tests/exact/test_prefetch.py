"""Weight prefetch across layers: the engine's overlap of two layers (hand-computed cycles), the
buffer rule of simulator/mapping/prefetch.py (exact fit and wait), unchanged work and data with
prefetch, and a checker of every dependency over replayed schedules."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator import api
from simulator.cli import main
from simulator.engine.replay import Replayer, SimulationError
from simulator.errors import AxsimError
from simulator.hw.package import Package
from simulator.mapping.prefetch import Prefetch
from simulator.mapping.trace import LayerTrace
from simulator.mapping.tracefile import read_traces, write_traces
from simulator.report.events import EventRecorder
from simulator.stats.counters import Counters
from simulator.workload.layer import Layer, Workload

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- engine: two layers by hand
def two_layers(early: bool) -> list[LayerTrace]:
    """tiny: DRAM one channel, 16 B/cycle, 50 cycles latency; a compute of k = c = 4, rs = 1 on one
    PE (4 vector MACs x 4 lanes) takes ``pixels`` cycles."""
    one = LayerTrace("one", "conv", 0)
    rd = one.add("dram_read", bytes=160)                                              # 0 -> 10 + 50 = 60
    one.add("compute", [rd], chiplet=(0, 0), pes=1, k=4, c=4, rs=1, pixels=30)        # 60 -> 90
    two = LayerTrace("two", "conv", 0)
    w = two.add("dram_read", bytes=32, early=early)
    two.add("compute", [w], chiplet=(0, 0), pes=1, k=4, c=4, rs=1, pixels=4, prev=(1,) if early else ())
    x = two.add("dram_read", bytes=16)
    two.add("compute", [x], chiplet=(0, 0), pes=1, k=4, c=4, rs=1, pixels=4)
    return [one, two]


def replay(arch, traces):
    seen = {}
    eng = Replayer(Package(arch, Counters()), arch.max_cycles)
    eng.on_txn = lambda trace, txn, ready, finish: seen.__setitem__((trace.layer, txn.id), (ready, finish))
    return list(eng.replay(traces)), seen


def test_prefetch_overlaps_by_hand(tiny_arch):
    """Layer two's early weight read starts when layer one starts (cycle 0), queues behind layer
    one's read on the channel (busy 0..10) and finishes at 10 + 2 + 50 = 62; its compute waits for
    layer one's compute (prev edge, done at 90): 90 -> 94. Its input read starts when layer one
    has finished (90): 90 + 1 + 50 = 141, compute 141 -> 145."""
    out, seen = replay(tiny_arch, two_layers(early=True))
    assert seen == {("one", 0): (0, 60), ("one", 1): (60, 90),
                    ("two", 0): (0, 62), ("two", 1): (90, 94), ("two", 2): (90, 141), ("two", 3): (141, 145)}
    (_, a), (_, b) = out
    assert (a.start_cycle, a.end_cycle, a.first_cycle, a.latency_cycles) == (0, 90, 0, 90)
    assert (b.start_cycle, b.end_cycle, b.first_cycle, b.latency_cycles, b.overlap_cycles) == (90, 145, 0, 55, 90)


def test_without_early_layers_run_one_after_another(tiny_arch):
    """Both reads of layer two start at 90: 90 + 2 + 50 = 142 and (queued) 92 + 1 + 50 = 143; the
    computes share the PE array: 142 -> 146, then the second, ready at 143, runs 146 -> 150
    (the recorded interval is ready -> finish)."""
    out, seen = replay(tiny_arch, two_layers(early=False))
    assert {k: v for k, v in seen.items() if k[0] == "two"} == {
        ("two", 0): (90, 142), ("two", 1): (142, 146), ("two", 2): (90, 143), ("two", 3): (143, 150)}
    assert [(t.start_cycle, t.end_cycle, t.overlap_cycles) for _, t in out] == [(0, 90, 0), (90, 150, 0)]


def test_prefetched_actions_count_under_their_layer_and_rows_add_up(tiny_arch):
    result = api.simulate(tiny_arch, traces=two_layers(early=True))
    one, two = result.layers
    assert one.count("dram.read_bit") == 160 * 8           # the 32 B read during layer one is layer two's
    assert two.count("dram.read_bit") == (32 + 16) * 8
    assert (one.latency_cycles, two.latency_cycles, result.latency_cycles) == (90, 55, 145)
    assert (two.first_cycle, two.overlap_cycles) == (0, 90)
    leak = {e.component_class: e.count for e in two.energy if e.component == "leakage"}
    assert leak["pe"] == pytest.approx(4 * 55 / tiny_arch.clock_ghz)  # 4 PEs leak over 55 cycles (ns)


def test_empty_layer_between_does_not_break_the_window(tiny_arch):
    """A fused add (no transactions) between two layers: the prefetch still overlaps layer one."""
    one, two = two_layers(early=True)
    out, seen = replay(tiny_arch, [one, LayerTrace("add", "add", 0), two])
    assert [t.layer for t, _ in out] == ["one", "add", "two"]
    assert seen[("two", 0)] == (0, 62) and out[1][1].start_cycle == out[1][1].end_cycle == 90


def test_prev_edge_out_of_range_is_an_error(tiny_arch):
    one, two = two_layers(early=True)
    two.txns[1].prev = (5,)
    with pytest.raises(SimulationError) as info:
        replay(tiny_arch, [one, two])
    assert str(info.value) == ("layer 'two': transaction 1 waits for 5 of the previous layer 'one', which has "
                               "transactions 0..1")


# --------------------------------------------------------------------------- the buffer rule
def chain_workload(k1: int) -> Workload:
    """l1's output (k1 x 32 x 32, 1 B each) stays in the global buffer; l2 reads it (1x1 conv)."""
    return Workload("w", (Layer("l1", "conv", 8, 32, 32, k1, 1, 1), Layer("l2", "conv", k1, 32, 32, 8, 1, 1)),
                    "<tests>")


@pytest.mark.parametrize("k1, fits", [(11, True), (12, False)])
def test_prefetch_fits_or_waits(tiny_arch, k1, fits):
    """tiny: 16 KB global buffer, resident share 0.75 x 16384 = 12,288 B. While l1 runs the buffer
    holds its output, 1,024 * k1 B: 11,264 B (k1 = 11: 1,024 B free) or 12,288 B (k1 = 12: none
    free). l2's first weight tiles are one read per K part, (8 / k_parts) * k1 B each."""
    traces = list(api.generate_traces(tiny_arch, chain_workload(k1), mapping="fixed"))
    l2 = traces[1]
    k_parts = l2.meta["partition"]["k_parts"]
    chain = 8 // k_parts * k1
    reads = [t for t in l2.txns if t.op == "dram_read" and t.ds == "weights" and not t.after]
    assert [t.bytes for t in reads] == [chain] * k_parts
    free = 12288 - 1024 * k1
    assert (k_parts * chain <= free) is fits
    assert [t.early for t in reads] == [fits] * k_parts
    key = "prefetch_bytes" if fits else "prefetch_waiting_bytes"
    assert l2.meta[key] == k_parts * chain
    assert not any(t.early for t in l2.txns if t.ds != "weights")  # inputs are never prefetched
    result = api.simulate(tiny_arch, traces=traces)
    first, second = result.layers
    # prefetched: l2's first transactions start when l1 starts; otherwise when l1 has finished
    assert second.first_cycle == (0 if fits else first.end_cycle)
    assert second.start_cycle == first.end_cycle


class _Held:
    """A stand-in for Residency: its budget and what the previous layer held."""

    def __init__(self, budget: int, held: dict):
        self.budget_bytes, self._held = budget, held

    def take_peak(self):
        return dict(self._held)


def _chains(sizes: list[int]) -> LayerTrace:
    tr = LayerTrace("x", "conv", 0)
    for n in sizes:
        rd = tr.add("dram_read", bytes=n, ds="weights")
        nop = tr.add("nop", [rd], ds="weights", bytes=n, src=(0, 0), dsts=((0, 0),), src_buf="dram", dst_buf="gb")
        tr.add("noc", [nop], ds="weights", bytes=n, chiplet=(0, 0), dsts=((0, 0),), src_buf="gb", dst_buf="pe")
    return tr


def test_rule_boundary_and_order(tiny_arch):
    """Room F = 1000 - 600 = 400 B. Chains (DRAM read 3i, NoP 3i+1, NoC 3i+2) of 150 and 250 B fit
    together (400 <= 400: early); 1 B does not fit beside them: it waits for the NoC transfer of
    the oldest (150 B, id 2), leaving 250 + 1; 300 B then needs the 250 B chain's transfer (id 5)
    too (1 + 300 <= 400); 401 B is larger than the room: not prefetched."""
    pre = Prefetch(tiny_arch, _Held(1000, {(0, 0): 600}))
    pre.end({(0, 0): [7, 9]})  # the previous layer: last users of its two weight loads
    pre.begin()
    tr = _chains([150, 250, 1, 300, 401])
    pre.mark(tr, 0, {}, [])
    reads = [t for t in tr.txns if t.op == "dram_read"]
    assert [t.early for t in reads] == [True, True, False, False, False]
    assert [t.after for t in reads] == [(), (), (2,), (5,), ()]
    assert tr.meta == {"prefetch_bytes": 701, "prefetch_queued_bytes": 301, "prefetch_waiting_bytes": 401}
    # double buffering: the first load overwrites the slot of the previous layer's second-to-last
    # load (last user 7), which is the only slot rule at j = 0
    assert [t.prev for t in tr.txns if t.op == "noc"] == [(7,), (7,), (7,), (7,), ()]


def test_slot_rule_without_double_buffering(write_arch):
    single = api.load_arch(write_arch({"chiplet.pe.double_buffering": False}, base="tiny"))
    pre = Prefetch(single, _Held(1000, {}))
    pre.end({(0, 0): [7, 9]})
    pre.begin()
    tr = _chains([10])
    pre.mark(tr, 0, {}, [])
    assert tr.txns[2].prev == (9,)  # one slot: wait for the last user of the previous layer's weights


def test_loads_with_dependencies_inside_the_layer_are_not_prefetched(tiny_arch):
    pre = Prefetch(tiny_arch, _Held(1000, {}))
    pre.end({})
    pre.begin()
    tr = _chains([10])
    pre.mark(tr, 0, {}, [3])
    assert not tr.txns[0].early and tr.meta == {}


# --------------------------------------------------------------------------- same work, same data
@pytest.mark.parametrize("net", ["alexnet", "mobilenetv2"])
def test_prefetch_changes_only_the_schedule(simba_arch, net):
    """With and without prefetch the traces are the same transactions (same bytes, slices, MACs,
    hence the same MAC counts and tensor coverage), except early/prev; DRAM bytes and MACs equal."""
    wl = api.load_workload(ROOT / "workloads" / f"{net}.yaml")
    on = list(api.generate_traces(simba_arch, wl, prefetch=True))
    off = list(api.generate_traces(simba_arch, wl, prefetch=False))
    def strip(t):  # the scheduling fields prefetch may add: early, prev, and after on a weight read
        drop = ("early", "prev", "after") if t.op == "dram_read" and t.ds == "weights" else ("early", "prev")
        return {k: v for k, v in t.to_dict().items() if k not in drop}
    assert [tr.layer for tr in on] == [tr.layer for tr in off]
    for a, b in zip(on, off):
        assert [strip(t) for t in a.txns] == [strip(t) for t in b.txns], a.layer
        assert not any(t.early or t.prev for t in b.txns)
        for x, y in zip(a.txns, b.txns):
            if x.after != y.after:  # a queued prefetch: waits for weight transfers into the PE buffers
                assert not y.after and all(a.txns[d].op == "noc" and a.txns[d].ds == "weights" for d in x.after)
    assert sum(t.early for tr in on for t in tr.txns) > 0
    r_on = api.simulate(simba_arch, traces=on)
    r_off = api.simulate(simba_arch, traces=off)
    assert r_on.macs == r_off.macs
    for a, b in zip(r_on.layers, r_off.layers):
        assert a.count("mac.") == b.count("mac.") and a.count("dram.") == b.count("dram."), a.name
    assert r_on.latency_cycles <= r_off.latency_cycles


# --------------------------------------------------------------------------- dependency checker
def check_schedule(traces: list[LayerTrace], seen: dict, timings: list) -> list[str]:
    """Every edge of the replayed schedule, independently of the engine: a transaction starts after
    its ``after`` and ``prev`` transactions finished; a root starts when its layer opens (the
    previous layer with transactions finished) or, if early, when the previous layer opened; every
    compute starts after the previous layer finished (its inputs exist)."""
    bad = []
    prev_tr, prev_open, prev_end = None, 0, 0
    for tr, timing in zip(traces, timings):
        if not tr.txns:
            continue
        for t in tr.txns:
            start, _ = seen[(tr.layer, t.id)]
            for d in t.after:
                if start < seen[(tr.layer, d)][1]:
                    bad.append(f"{tr.layer}:{t.id} before after {d}")
            for d in t.prev:
                if start < seen[(prev_tr.layer, d)][1]:
                    bad.append(f"{tr.layer}:{t.id} before prev {d}")
            if not t.after and start < (prev_open if t.early else prev_end):
                bad.append(f"{tr.layer}:{t.id} root too early")
            if t.op == "compute" and start < prev_end:
                bad.append(f"{tr.layer}:{t.id} computes before its inputs")
        assert timing.start_cycle == prev_end
        prev_tr, prev_open = tr, timing.start_cycle
        prev_end = max(f for (layer, _), (_, f) in seen.items() if layer == tr.layer)
        assert timing.end_cycle == max(prev_end, timing.start_cycle)
    return bad


@pytest.mark.parametrize("net", ["alexnet", "resnet50"])
def test_no_dependency_is_violated(simba_arch, net):
    wl = api.load_workload(ROOT / "workloads" / f"{net}.yaml")
    traces = list(api.generate_traces(simba_arch, wl))
    out, seen = replay(simba_arch, traces)
    assert check_schedule(traces, seen, [t for _, t in out]) == []
    assert sum(t.overlap_cycles for _, t in out) > 0  # the check saw overlapping layers


def test_checker_catches_a_violation(tiny_arch):
    """The checker itself: a schedule where layer two's weight compute ran before its prev edge."""
    traces = two_layers(early=True)
    out, seen = replay(tiny_arch, traces)
    seen[("two", 1)] = (80, 84)
    assert check_schedule(traces, seen, [t for _, t in out]) == ["two:1 before prev 1", "two:1 computes before "
                                                                  "its inputs"]


# --------------------------------------------------------------------------- files, events, switches
def test_version_3_file_replays_the_overlap(tmp_path, tiny_arch):
    traces = two_layers(early=True)
    path = write_traces(tmp_path / "t.jsonl", traces, {"arch": "tiny"})
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0]["version"] == 3
    assert lines[5] == {"id": 0, "op": "dram_read", "early": True, "bytes": 32}
    assert lines[6]["prev"] == [1]
    _, back = read_traces(path, tiny_arch)
    direct = api.simulate(tiny_arch, traces=traces)
    again = api.simulate(tiny_arch, traces=back)
    assert [(x.start_cycle, x.latency_cycles, x.first_cycle) for x in again.layers] == \
        [(x.start_cycle, x.latency_cycles, x.first_cycle) for x in direct.layers] == [(0, 90, 0), (90, 55, 0)]


def test_early_must_be_a_boolean(tmp_path, tiny_arch):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"format": "axsim-trace", "version": 3}\n{"layer": "a", "txns": 1}\n'
                    '{"id": 0, "op": "dram_read", "bytes": 8, "early": 1}\n')
    with pytest.raises(AxsimError) as info:
        read_traces(path, tiny_arch)
    assert "line 3.early: 1: must be true or false" in str(info.value)


def test_events_of_overlapping_layers_nest(simba_arch, tmp_path):
    from test_events import nesting_violations
    wl = api.load_workload(ROOT / "workloads" / "alexnet.yaml")
    recorder = EventRecorder(simba_arch.clock_ghz)
    result = api.simulate(simba_arch, wl, on_txn=recorder)
    events = json.loads(recorder.write(tmp_path / "events.json").read_text())["traceEvents"]
    assert nesting_violations(events) == []
    layer_tracks = {e["tid"] for e in events if e["ph"] == "X" and e["pid"] == 0}
    assert len(layer_tracks) == 2 and any(x.overlap_cycles for x in result.layers)
    spans = {e["name"]: e for e in events if e["ph"] == "X" and e["pid"] == 0}
    for layer in result.layers:
        if layer.events:
            assert round(spans[layer.name]["ts"] * 1000) == round(layer.first_cycle / simba_arch.clock_ghz)


def test_switch_hash_and_defaults(tiny_arch, small_workload, tmp_path):
    on = api.simulate(tiny_arch, small_workload)
    off = api.simulate(tiny_arch, small_workload, prefetch=False)
    assert on.config_hash != off.config_hash
    assert on.config_hash == api.simulate(tiny_arch, small_workload, dataflow="resident", mapping="search",
                                          prefetch=True).config_hash
    with pytest.raises(AxsimError, match="needs the on-package dataflow"):
        api.simulate(tiny_arch, small_workload, dataflow="dram", prefetch=True)
    wl = tmp_path / "w.yaml"
    wl.write_text("version: 1\nname: w\nlayers:\n"
                  "  - {name: c, type: conv, input: [8, 8, 8], out_channels: 8, kernel: 3, padding: 1}\n")
    assert main(["run", "--arch", str(ROOT / "arch/tiny.yaml"), "--workload", str(wl), "--quiet",
                 "--out", str(tmp_path / "r"), "--dataflow", "dram", "--prefetch"]) == 2
    for flag, want in (([], True), (["--no-prefetch"], False)):
        out = tmp_path / f"run{len(flag)}"
        assert main(["run", "--arch", str(ROOT / "arch/tiny.yaml"), "--workload", str(wl), "--quiet",
                     "--out", str(out), *flag]) == 0
        assert json.loads((out / "summary.json").read_text())["prefetch"] is want


def test_flit_networks_replay_the_overlap(tiny_arch):
    """With flit-level networks the prefetch still overlaps, dependencies hold, and what does not
    depend on the network model is counted as with the transaction model; per-layer link bits add
    up to the run's totals."""
    traces = list(api.generate_traces(tiny_arch, chain_workload(11), mapping="fixed"))
    flit = {"nop": "flit", "noc": "flit"}
    seen = {}
    eng = Replayer(Package(tiny_arch, Counters(), network_model=flit), tiny_arch.max_cycles)
    eng.on_txn = lambda trace, txn, ready, finish: seen.__setitem__((trace.layer, txn.id), (ready, finish))
    out = list(eng.replay(traces))
    assert check_schedule(traces, seen, [t for _, t in out]) == []
    assert out[1][1].overlap_cycles > 0
    a = api.simulate(tiny_arch, traces=traces, network_model=flit)
    b = api.simulate(tiny_arch, traces=traces)
    for x, y in zip(a.layers, b.layers):
        for key in ("mac.", "dram.", "global_buffer.", "weight_buffer.", "input_buffer."):
            assert x.count(key) == y.count(key), (x.name, key)
    for net, rows in a.link_stats.items():
        if net != "dram":
            assert sum(r["bits"] for r in rows) == sum(int(layer.link_bits[net].sum()) for layer in a.layers)


@pytest.fixture(scope="module")
def quad(tmp_path_factory):
    from quad import quad_arch
    return quad_arch(tmp_path_factory.mktemp("quad"))


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def conv_chains(draw):
    """2 to 4 chained convolutions (channels, sizes, kernels drawn)."""
    c, h = draw(st.integers(2, 24)), draw(st.sampled_from([4, 6, 8, 12]))
    layers = []
    for i in range(draw(st.integers(2, 4))):
        k, r = draw(st.integers(2, 40)), draw(st.sampled_from([1, 3]))
        layers.append(Layer(f"c{i}", "conv", c, h, h, k, r, r, pad_h=r // 2, pad_w=r // 2))
        c = k
    return Workload("rand", tuple(layers), "<hypothesis>")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(wl=conv_chains(), double=st.booleans())
def test_random_chains_keep_every_dependency(quad, wl, double):
    """On the asymmetric 2 x 2 package (tests/quad.py), with and without double buffering: the
    replayed schedule with prefetch passes the checker, and MACs and DRAM bytes per layer equal
    those without prefetch."""
    arch = quad if double else quad.model_copy(update={"chiplet": quad.chiplet.model_copy(
        update={"pe": quad.chiplet.pe.model_copy(update={"double_buffering": False})})})
    on = list(api.generate_traces(arch, wl, mapping="fixed"))
    out, seen = replay(arch, on)
    assert check_schedule(on, seen, [t for _, t in out]) == []
    off = api.simulate(arch, wl, mapping="fixed", prefetch=False)
    again = api.simulate(arch, traces=on)
    for a, b in zip(again.layers, off.layers):
        assert a.count("mac.") == b.count("mac.") and a.count("dram.") == b.count("dram."), a.name


def test_layers_csv_columns_with_overlap(tmp_path):
    """layers.csv of a run whose layers overlap: start_cycle is the previous row's end_cycle,
    latency_cycles = end - start add up to the summary's latency, first_cycle = start - overlap,
    and the prefetched layer's DRAM bytes are in its own row (those of a run without prefetch)."""
    import csv
    wl = tmp_path / "w.yaml"
    wl.write_text("version: 1\nname: w\nlayers:\n"
                  "  - {name: l1, type: conv, input: [8, 32, 32], out_channels: 11, kernel: 1}\n"
                  "  - {name: l2, type: conv, input: [11, 32, 32], out_channels: 8, kernel: 1}\n")
    runs = {}
    for flag in ("--prefetch", "--no-prefetch"):
        out = tmp_path / flag
        assert main(["run", "--arch", str(ROOT / "arch/tiny.yaml"), "--workload", str(wl), "--quiet",
                     "--mapping", "fixed", "--out", str(out), flag]) == 0
        with (out / "layers.csv").open(newline="") as fh:
            runs[flag] = (list(csv.DictReader(fh)), json.loads((out / "summary.json").read_text()))
    rows, summary = runs["--prefetch"]
    end = 0
    for r in rows:
        start, stop, first = int(r["start_cycle"]), int(r["end_cycle"]), int(r["first_cycle"])
        assert start == end and int(r["latency_cycles"]) == stop - start
        assert int(r["overlap_cycles"]) == start - first >= 0
        end = stop
    assert summary["latency_cycles"] == end == sum(int(r["latency_cycles"]) for r in rows)
    assert int(rows[1]["overlap_cycles"]) == int(rows[0]["end_cycle"]) > 0  # l2's weights load from cycle 0
    off = runs["--no-prefetch"][0]
    assert [r["dram_bytes"] for r in rows] == [r["dram_bytes"] for r in off]
    assert {r["overlap_cycles"] for r in off} == {"0"}


@pytest.mark.parametrize("consumer", [
    "  - {name: fc, type: fc, inputs: [cat], in_features: 2048, out_features: 10}\n",     # concat moves to DRAM
    "  - {name: c3, type: conv, inputs: [cat], input: [32, 8, 8], out_channels: 8, kernel: 1}\n"])  # a view
def test_concat_between_layers_keeps_the_window_right(tmp_path, tiny_arch, consumer):
    """A concat with transactions (its operands moved to DRAM for a fully connected consumer) is
    the previous layer of its consumer: the consumer's prev edges name the concat's transactions
    (none: the concat uses no PE buffer); a concat without transactions (a view) is skipped."""
    path = tmp_path / "cat.yaml"
    path.write_text("version: 1\nname: cat\nlayers:\n"
                    "  - {name: a, type: conv, input: [8, 8, 8], out_channels: 16, kernel: 1}\n"
                    "  - {name: b, type: conv, inputs: [a], input: [16, 8, 8], out_channels: 16, kernel: 1}\n"
                    "  - {name: cat, type: concat, inputs: [a, b], input: [32, 8, 8]}\n" + consumer)
    wl = api.load_workload(path)
    traces = list(api.generate_traces(tiny_arch, wl, mapping="fixed"))
    cat, last = traces[2], traces[3]
    if cat.txns:
        assert not any(t.prev for t in last.txns)
    out, seen = replay(tiny_arch, traces)
    assert check_schedule(traces, seen, [t for _, t in out]) == []
    result = api.simulate(tiny_arch, traces=traces)
    assert result.latency_cycles == sum(layer.latency_cycles for layer in result.layers)
