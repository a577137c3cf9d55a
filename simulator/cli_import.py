"""``axsim import MODEL.onnx``: an ONNX model as a workload YAML plus its int8 weights."""
from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console


def add_parser(sub) -> None:
    p = sub.add_parser("import", help="turn an ONNX model (QDQ, QLinear or float) into a workload and int8 weights")
    p.add_argument("model", help="ONNX file")
    p.add_argument("--calibration", help="calibration samples for a float model (.npz with array x)")
    p.add_argument("--out", help="workload file to write (default workloads/<model name>.yaml); "
                                 "the weights go beside it as .npz")
    p.add_argument("--name", help="workload name (default: the model file name)")


def cmd_import(args: argparse.Namespace, console: Console) -> int:
    from simulator.accuracy.evaluate import load_dataset
    from simulator.accuracy.model import read_npz
    from simulator.accuracy.onnx_import import import_onnx, write_import
    from simulator.errors import InputError, Problem

    calibration = None
    if args.calibration:
        arrays = read_npz(Path(args.calibration), "calibration file")
        if "x" not in arrays:
            raise InputError(args.calibration, [Problem("x", "missing array (calibration samples)")])
        calibration = load_dataset(args.calibration)[0] if "y" in arrays else arrays["x"]
    workload, model = import_onnx(args.model, calibration, args.name)
    out = Path(args.out) if args.out else Path("workloads") / f"{workload.name}.yaml"
    yaml_path, npz = write_import(workload, model, out)
    macs = sum(layer.macs for layer in workload.layers)
    console.print(f"{len(workload.layers)} layers, {macs:,} MACs per sample")
    console.print(f"workload: {yaml_path}\nweights:  {npz}")
    return 0
