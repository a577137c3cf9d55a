"""Actions of unevenly split compute steps, by hand (``simulator/hw/pe.py``, docs/models.md "Exact
actions of uneven splits").

The PEs of a chiplet are timed in lock-step by the step's ``k``, ``c``, ``pixels``; their actions
(MACs, weight/input/accumulation buffer reads, leading-block detection, vector operations) follow
each PE's own work slice ``data[i]`` = (k0, k1, c0, c1, rows0, rows1, cols0, cols1). PE of
``tests/quad.py``: 4 vector MACs x 2 lanes, buffers of ``arch/tiny.yaml`` (weights 128 bits/cycle,
inputs 64, accumulation 96 with 24-bit entries).
"""
from __future__ import annotations

import pytest

from conftest import ARCH_DIR
from quad import quad_arch, quad_pes
from simulator import api
from simulator.errors import InputError
from simulator.hw.pe import EXACT, MacModel, PEArray
from simulator.mapping.tracefile import read_traces
from simulator.stats.counters import Counters
from simulator.workload import Layer, Workload

# K = 7 = 4 + 3 output channels, C = 8 = 5 + 3 reduction channels, R·S = 3, one row of 7 pixels:
# the step is sized by the largest part, k 4 x c 5.
UNEVEN = ((0, 4, 0, 5, 0, 1, 0, 7), (4, 7, 0, 5, 0, 1, 0, 7),
          (0, 4, 5, 8, 0, 1, 0, 7), (4, 7, 5, 8, 0, 1, 0, 7))


@pytest.fixture
def array(tmp_path):
    return quad_pes(tmp_path)


def test_uneven_step_counts_each_pe_own_work(array):
    """MACs = K·C·R·S·pixels = 7·8·3·7 = 1176 (lock-step: 4 PEs x 4·5·3·7 = 1680). Weight reads
    Σ k_i·c_i·3 = (20 + 15 + 12 + 9)·3 = 168 words; input reads Σ ceil(k_i/4)·c_i·3·7 =
    (5 + 5 + 3 + 3)·21 = 336 words; accumulation Σ k_i·7·ceil(c_i/2)·3 = (4·3 + 3·3 + 4·2 + 3·2)·21
    = 735 entries x 24 bits, read and written. Cycles stay those of the lock-step k 4, c 5 step:
    lanes ceil(4/4)·ceil(5/2)·3·7 = 63; buffers 480/128 -> 4, 840/64 -> 14, 6048/96 = 63."""
    pes, counters = array
    assert pes.compute(10, 4, 4, 5, 3, 7, 0, EXACT, UNEVEN) == 10 + 63
    assert counters.take() == {("chip.pes", "mac.op"): 1176,
                               ("chip.pes", "weight_buffer.read_bit"): 168 * 8,
                               ("chip.pes", "input_buffer.read_bit"): 336 * 8,
                               ("chip.pes", "accumulation_buffer.read_bit"): 735 * 24,
                               ("chip.pes", "accumulation_buffer.write_bit"): 735 * 24}
    assert counters.take_sram() == {("chip.pes", "weight_buffer.read_bit", "weights"): 168 * 8,
                                    ("chip.pes", "input_buffer.read_bit", "inputs"): 336 * 8,
                                    ("chip.pes", "accumulation_buffer.read_bit", "psums"): 735 * 24,
                                    ("chip.pes", "accumulation_buffer.write_bit", "psums"): 735 * 24}
    assert pes.macs == 7 * 8 * 3 * 7


def test_without_slices_every_pe_counts_the_whole_step(array):
    """The documented rule for compute steps without ``data``: 4 PEs x k 4 x c 5 x 3 x 7 = 1680
    MACs, 4 x 60 weights, 4 x 105 inputs, 4 x 4·7·3·3 = 1008 accumulation entries."""
    pes, counters = array
    assert pes.compute(0, 4, 4, 5, 3, 7, 0, EXACT) == 63
    got = counters.take()
    assert got[("chip.pes", "mac.op")] == 1680
    assert got[("chip.pes", "weight_buffer.read_bit")] == 4 * 60 * 8
    assert got[("chip.pes", "input_buffer.read_bit")] == 4 * 105 * 8
    assert got[("chip.pes", "accumulation_buffer.read_bit")] == 1008 * 24


def test_even_slices_count_as_the_lock_step(tmp_path):
    """Full slices (every PE does the whole k 4 x c 5 x 7-pixel step) give the lock-step counts."""
    pe = quad_arch(tmp_path).chiplet.pe
    full = tuple((4 * i, 4 * i + 4, 0, 5, 0, 1, 0, 7) for i in range(3))
    a, b = Counters(), Counters()
    assert PEArray("p", pe, a).compute(0, 3, 4, 5, 3, 7, 0, EXACT, full) == \
        PEArray("p", pe, b).compute(0, 3, 4, 5, 3, 7, 0, EXACT)
    assert a.take() == b.take() and a.take_sram() == b.take_sram()


def test_an_empty_slice_does_not_switch(array):
    """A PE whose part ends before the step (k [7, 7]) reads and multiplies nothing: 3 PEs with
    k 4, 3, 0 and c 5 count (4 + 3)·5·3·7 = 735 MACs and 2 x 105 input words, not 3."""
    pes, counters = array
    work = ((0, 4, 0, 5, 0, 1, 0, 7), (4, 7, 0, 5, 0, 1, 0, 7), (7, 7, 0, 5, 0, 1, 0, 7))
    pes.compute(0, 3, 4, 5, 3, 7, 0, EXACT, work)
    got = counters.take()
    assert got[("chip.pes", "mac.op")] == 735
    assert got[("chip.pes", "input_buffer.read_bit")] == 2 * 105 * 8


def test_a_pe_without_outputs_reads_no_weights(array):
    """A PE whose rows part lies beyond the step (rows [1, 1]) holds k 4 x c 5 channels but has no
    outputs: no MACs, no weight, input or accumulation reads; the other PE reads 4·5·3 = 60 weights."""
    pes, counters = array
    work = ((0, 4, 0, 5, 0, 1, 0, 7), (0, 4, 0, 5, 1, 1, 0, 7))
    pes.compute(0, 2, 4, 5, 3, 7, 0, EXACT, work)
    got = counters.take()
    assert got[("chip.pes", "weight_buffer.read_bit")] == 60 * 8
    assert got[("chip.pes", "mac.op")] == 420 and got[("chip.pes", "input_buffer.read_bit")] == 105 * 8


def test_lane_factor_and_detection_follow_the_slices(array):
    """f = 2 (4 products per lane chunk): accumulation Σ k_i·7·ceil(c_i/4)·3 = (4·2 + 3·2 + 4·1 +
    3·1)·21 = 441 entries; one lead detection per input read (336); half a mac.op per MAC (588);
    4-bit weights: 168 x 4 bits."""
    pes, counters = array
    model = MacModel(name="m", lane_factor=2.0, actions_per_mac={"mac.op": 0.5}, weight_bits=4.0,
                     detect_per_input=True, detect_cycles=1)
    pes.compute(0, 4, 4, 5, 3, 7, 0, model, UNEVEN)
    got = counters.take()
    assert got[("chip.pes", "mac.op")] == 588
    assert got[("chip.pes", "mac.lead_detect")] == 336
    assert got[("chip.pes", "accumulation_buffer.write_bit")] == 441 * 24
    assert got[("chip.pes", "weight_buffer.read_bit")] == 168 * 4


def test_vector_step_counts_the_outputs_of_each_pe(array):
    """Max pooling, 9 compares per output, step k 4 x 2 pixels -> 72 per PE. Slices with 4, 4 and 2
    channels (K = 10) of 2 pixels: 72 + 72 + 36 = 180 compares and input reads (lock-step: 216);
    with k = 0 (a step that does not name its channels) the lock-step 3 x 72."""
    pes, counters = array
    work = ((0, 4, 0, 1, 0, 1, 0, 2), (4, 8, 0, 1, 0, 1, 0, 2), (8, 10, 0, 1, 0, 1, 0, 2))
    assert pes.compute(0, 3, 4, 0, 0, 2, 72, EXACT, work) == 9   # ceil(72 / 8)
    assert counters.take() == {("chip.pes", "vector.op"): 180, ("chip.pes", "input_buffer.read_bit"): 180 * 8}
    pes.compute(0, 3, 0, 0, 0, 2, 72, EXACT, work)
    assert counters.take()[("chip.pes", "vector.op")] == 216


def test_mapped_layer_counts_its_true_macs(tmp_path):
    """tiny.yaml (4 PEs, 4 x 4 lanes): conv 1 -> 7 channels, 3 x 3 input, 3 x 3 kernel, padding 1.
    K = 7 splits into 4 + 3, P = 3 into 2 + 1 rows: one step of k 4 x 2 rows x 3 columns on 4 PEs.
    MAC actions = K·C·R·S·P·Q = 7·1·9·3·3 = 567 (lock-step: 4·4·1·9·6 = 864); weight reads
    (4 + 3 + 4 + 3)·9 = 126 words; input reads Σ ceil(k_i/4)·1·9·n_i = 9·(6 + 6 + 3 + 3) = 162."""
    arch = api.load_arch(ARCH_DIR / "tiny.yaml")
    layer = Layer("u", "conv", 1, 3, 3, 7, 3, 3, pad_h=1, pad_w=1)
    wl = Workload("w", (layer,), "<test>")
    traces = list(api.generate_traces(arch, wl, dataflow="dram", mapping="fixed"))
    steps = [t for t in traces[0].txns if t.op == "compute"]
    assert [(t.pes, t.k, t.c, t.rs, t.pixels) for t in steps] == [(4, 4, 1, 9, 6)]
    result = api.simulate(arch, traces=traces)
    pes = [e for e in result.layers[0].energy if e.component.endswith(".pes")]
    assert result.layers[0].count("mac.op") == 567 == layer.macs
    assert sum(e.count for e in pes if e.component_class == "weight_buffer" and e.action == "read_bit") == 126 * 8
    assert sum(e.count for e in pes if e.component_class == "input_buffer" and e.action == "read_bit") == 162 * 8


def test_trace_file_refuses_work_larger_than_its_step(tmp_path):
    """A compute slice with more channels or pixels than the step it is timed by is an error with
    its line and key; a vector step without k (version-2 files) keeps its slices unchecked."""
    header = '{"format": "axsim-trace", "version": 3, "arch": "tiny"}\n'
    layer = '{"layer": "x", "kind": "conv", "macs": 0, "txns": 1}\n'
    bad = ('{"id":0,"op":"compute","chiplet":[0,0],"pes":1,"k":4,"c":2,"rs":1,"pixels":2,'
           '"data":[{"k":[0,5],"c":[0,2],"rows":[0,1],"cols":[0,2]}]}\n')
    path = tmp_path / "bad.jsonl"
    path.write_text(header + layer + bad)
    with pytest.raises(InputError) as err:
        read_traces(path)
    assert "line 3.data[0]: k [0, 5]: 5 channels > the step's k 4" in str(err.value)
    pixels = bad.replace('"k":[0,5]', '"k":[0,4]').replace('"cols":[0,2]', '"cols":[0,3]')
    path.write_text(header + layer + pixels)
    with pytest.raises(InputError, match=r"rows x cols \[0, 1\] x \[0, 3\]: 3 pixels > the step's pixels 2"):
        read_traces(path)
    vector = ('{"id":0,"op":"compute","chiplet":[0,0],"pes":1,"pixels":2,"vector_ops":8,'
              '"data":[{"k":[0,4],"c":[0,1],"rows":[0,1],"cols":[0,2]}]}\n')
    path.write_text(header + layer.replace('"conv"', '"pool"') + vector)
    _, traces = read_traces(path)
    assert traces[0].txns[0].data == ((0, 4, 0, 1, 0, 1, 0, 2),)


def test_vector_step_fractions_and_steps_without_pixels(array):
    """10 operations per PE for k 4 x 2 pixels, one PE with 1 channel x 1 pixel: 10·1/8 = 1.25
    (a hand-written step whose count does not divide); a step with pixels 0 (its slices empty) has
    no per-output count to scale: the lock-step 2 x 10."""
    pes, counters = array
    pes.compute(0, 1, 4, 0, 0, 2, 10, EXACT, ((0, 1, 0, 1, 0, 1, 0, 1),))
    assert counters.take()[("chip.pes", "vector.op")] == 1.25
    pes.compute(0, 2, 4, 0, 0, 0, 10, EXACT, ((0, 4, 0, 1, 0, 0, 0, 0), (4, 8, 0, 1, 0, 0, 0, 0)))
    assert counters.take()[("chip.pes", "vector.op")] == 20
