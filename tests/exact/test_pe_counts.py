"""One PE array's compute and vector steps (``simulator/hw/pe.py``): cycles and every action count,
with the data structure each buffer access is counted under, by hand on the non-square PE of
``tests/quad.py`` (4 vector MACs x 2 lanes; buffers of ``arch/tiny.yaml``: weights 2 x 64 = 128
bits/cycle, inputs 64, accumulation 96 bits/cycle with 24-bit entries).
"""
from __future__ import annotations

import pytest

from quad import quad_pes
from simulator.hw.pe import EXACT, MacModel


@pytest.fixture
def array(tmp_path):
    return quad_pes(tmp_path)


def test_compute_step_cycles_and_counts(array):
    """k 6, c 5, R·S 3, 7 pixels on 3 PEs. Per PE: weights 6·5·3 words = 720 bits; inputs
    ceil(6/4)·5·3·7 = 210 words = 1680 bits; accumulation ceil(5/2)·3 = 9 chunks per output x 6·7
    outputs x 24 bits = 9072 bits read and as many written. Cycles: lanes ceil(6/4)·ceil(5/2)·3·7 =
    126; buffers ceil(720/128) = 6, ceil(1680/64) = 27, ceil(9072/96) = 95: the lanes bind."""
    pes, counters = array
    assert pes.cycles(6, 5, 3, 7, 0, EXACT) == 126
    assert pes.compute(10, 3, 6, 5, 3, 7, 0, EXACT) == 10 + 126
    assert counters.take() == {("chip.pes", "mac.op"): 6 * 5 * 3 * 7 * 3,
                               ("chip.pes", "weight_buffer.read_bit"): 3 * 720,
                               ("chip.pes", "input_buffer.read_bit"): 3 * 1680,
                               ("chip.pes", "accumulation_buffer.read_bit"): 3 * 9072,
                               ("chip.pes", "accumulation_buffer.write_bit"): 3 * 9072}
    assert counters.take_sram() == {("chip.pes", "weight_buffer.read_bit", "weights"): 3 * 720,
                                    ("chip.pes", "input_buffer.read_bit", "inputs"): 3 * 1680,
                                    ("chip.pes", "accumulation_buffer.read_bit", "psums"): 3 * 9072,
                                    ("chip.pes", "accumulation_buffer.write_bit", "psums"): 3 * 9072}
    assert pes.macs == 1890


def test_vector_step_uses_every_lane_and_reads_inputs(array):
    """50 element operations per PE on 4 x 2 units: ceil(50/8) = 7 cycles; 3 PEs read 150 inputs."""
    pes, counters = array
    assert pes.compute(0, 3, 0, 0, 0, 0, 50, EXACT) == 7
    assert counters.take() == {("chip.pes", "vector.op"): 150, ("chip.pes", "input_buffer.read_bit"): 1200}
    assert counters.take_sram() == {("chip.pes", "input_buffer.read_bit", "inputs"): 1200}
    assert pes.macs == 0


def test_steps_queue_on_the_array_and_a_new_configuration_pays_its_switch(array):
    """Step 1 [0, 126); step 2 (ready 5) waits until 126; a model with another name and
    reconfig_cycles 9 adds 9 cycles to its step; the same model again adds nothing."""
    pes, _ = array
    other = MacModel(name="other", reconfig_cycles=9, actions_per_mac={"mac.op": 0.5},
                     weight_bits=4.0, input_bits=8.0)
    assert pes.compute(0, 1, 6, 5, 3, 7, 0, EXACT) == 126
    assert pes.compute(5, 1, 6, 5, 3, 7, 0, other) == 126 + 126 + 9
    assert pes.compute(0, 1, 6, 5, 3, 7, 0, other) == 126 + 126 + 9 + 126
    assert pes.compute(0, 1, 6, 5, 3, 7, 0, EXACT) == 126 * 4 + 9 + 0   # EXACT has reconfig_cycles 0


def test_actions_per_mac_and_stored_bits_of_a_configuration(array):
    """Half a mac.op and two block products per MAC; 4-bit weights halve the weight-buffer bits."""
    pes, counters = array
    model = MacModel(name="m", actions_per_mac={"mac.op": 0.5, "mac.pp_bit": 2.0}, weight_bits=4.0)
    pes.compute(0, 2, 6, 5, 3, 7, 0, model)
    got = counters.take()
    assert got[("chip.pes", "mac.op")] == 0.5 * 1260 and got[("chip.pes", "mac.pp_bit")] == 2.0 * 1260
    assert got[("chip.pes", "weight_buffer.read_bit")] == 2 * 6 * 5 * 3 * 4


def test_leading_block_detection_is_counted_on_the_array(array):
    """A configuration with per-input detection: one mac.lead_detect per input-buffer read,
    ceil(6/4) x 5 x 3 x 7 = 210 per PE, on the array's own component."""
    pes, counters = array
    model = MacModel(name="dyn", detect_per_input=True, detect_cycles=1)
    assert pes.compute(0, 3, 6, 5, 3, 7, 0, model) == 126 + 1
    assert counters.take()[("chip.pes", "mac.lead_detect")] == 3 * 210
