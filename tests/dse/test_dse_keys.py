"""Key paths (split, get, set, nearest) and the knob classes behind reuse."""
import pytest

from simulator.dse import keys


def test_split_get_set_paths():
    assert keys.split_path("package.dram.attach[1]") == ["package", "dram", "attach", 1]
    data = {"a": {"b": [[0, 0], [1, 2]]}}
    assert keys.get_path(data, "a.b[1]") == [1, 2]
    keys.set_path(data, "a.b[1][0]", 7)
    keys.set_path(data, "a.c.d", 3)  # missing mappings are created
    assert data == {"a": {"b": [[0, 0], [7, 2]], "c": {"d": 3}}}
    with pytest.raises(KeyError):
        keys.get_path(data, "a.x")
    with pytest.raises(ValueError):
        keys.split_path("a..b[")


def test_classes_follow_the_pattern_lists():
    assert keys.knob_class("chiplet.global_buffer.size_bytes") == "structural"
    assert keys.knob_class("tech") == "energy"
    # operating points: energy only, but they set error rates, so accuracy is not reused
    assert keys.knob_class("package.nop.swing_v") == "energy+errors"
    assert keys.knob_class("chiplet.pe.weight_buffer.vdd_v") == "energy+errors"
    assert keys.knob_class("package.nop.links[3].swing_v") == "energy+errors"


def test_structural_hash_ignores_energy_only_keys_and_sees_the_rest():
    base = {"tech": "a.yaml", "chiplet": {"noc": {"link_width_bits": 64, "swing_v": 1.0},
                                          "global_buffer": {"size_bytes": 16, "vdd_v": 0.8}}}
    energy = {"tech": "b.yaml", "chiplet": {"noc": {"link_width_bits": 64, "swing_v": 0.5},
                                            "global_buffer": {"size_bytes": 16, "vdd_v": 0.6}}}
    structure = {"tech": "a.yaml", "chiplet": {"noc": {"link_width_bits": 32, "swing_v": 1.0},
                                               "global_buffer": {"size_bytes": 16, "vdd_v": 0.8}}}
    assert keys.structural_hash(base, "plan") == keys.structural_hash(energy, "plan")
    assert keys.structural_hash(base, "plan") != keys.structural_hash(structure, "plan")
    assert keys.structural_hash(base, "plan") != keys.structural_hash(base, "other plan")
    # accuracy follows the error-rate keys (swing, Vdd) but not the technology table
    tech_only = {**base, "tech": "b.yaml"}
    assert keys.accuracy_hash(base) == keys.accuracy_hash(tech_only)
    assert keys.accuracy_hash(base) != keys.accuracy_hash(energy)


def test_nearest_lists_the_intended_key():
    cands = ["chiplet.global_buffer.size_bytes", "chiplet.global_buffer.banks", "chiplet.noc.link_width_bits"]
    assert keys.nearest("chiplet.global_bufer.size_bytes", cands)[0] == "chiplet.global_buffer.size_bytes"


def test_every_operating_key_of_the_architecture_format_is_energy_only():
    """The keys the re-pricer accepts as operating points (config.identity.OPERATING_KEYS) are
    classified energy-only with error rates, whichever level the knob sets them at."""
    from simulator.config.identity import OPERATING_KEYS
    paths = {"swing_v": "chiplet.noc.swing_v", "bit_groups": "package.nop.bit_groups",
             "links": "chiplet.noc.links", "vdd_v": "chiplet.global_buffer.vdd_v",
             "vdd_v_per_ds": "chiplet.global_buffer.vdd_v_per_ds"}
    assert set(paths) == set(OPERATING_KEYS)
    for path in [*paths.values(), "package.nop.bit_groups[0].swing_v", "chiplet.global_buffer.vdd_v_per_ds.weights"]:
        assert keys.knob_class(path) == "energy+errors", path
    for path in ("package.nop.link_width_bits", "chiplet.noc.mesh.rows", "chiplet.pe.weight_buffer.banks"):
        assert keys.knob_class(path) == "structural", path
