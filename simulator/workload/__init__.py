"""Workloads: layer shapes of DNNs and the loaders for the supported file formats.

- ``workloads/*.yaml``: the axsim YAML format (``docs/workloads.md``);
- ``*.csv``: SCALE-Sim topology files (unpadded convolutions).
"""
from .layer import ACTIVATIONS, LAYER_KINDS, NETWORK_INPUT, POOL_MODES, Layer, LayerKind, Workload
from .loader import SUPPORTED_SUFFIXES, list_workloads, load_workload
from .scalesim import load_scalesim_csv, parse_scalesim_csv
from .yaml_loader import (
    SUPPORTED_VERSIONS,
    layer_to_dict,
    load_yaml_workload,
    parse_yaml_workload,
    workload_to_yaml,
)

__all__ = [
    "ACTIVATIONS",
    "LAYER_KINDS",
    "NETWORK_INPUT",
    "POOL_MODES",
    "SUPPORTED_SUFFIXES",
    "SUPPORTED_VERSIONS",
    "Layer",
    "LayerKind",
    "Workload",
    "layer_to_dict",
    "list_workloads",
    "load_scalesim_csv",
    "load_workload",
    "load_yaml_workload",
    "parse_scalesim_csv",
    "parse_yaml_workload",
    "workload_to_yaml",
]
