"""Where the DRAM channels attach (``package.dram.attach``, ``.edges``) under both dataflows: ResNet-50 on simba.

Layouts of the 6 channels on the 6 x 6 package: ``west`` (the default, chiplets [i, 0]),
``west_east`` (three on each edge), ``corners_mid`` (the four corners and two mid-edge
chiplets), ``west_by_east`` (the west-edge chiplets, each channel entering by the chiplet's east
edge, which it shares with the link from column 1). Printed per layout, dataflow and mapping
(DRAM dataflow with the fixed mapping; resident dataflow with the fixed mapping and with the
search): latency, energy, DRAM bytes, NoP byte-hops and their ratio to the DRAM bytes.

    .venv/bin/python benchmarks/study_dram_attach.py [--write]   # --write: into docs/validation.md
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from doc_blocks import replace_block  # noqa: E402
from simulator import api  # noqa: E402

LAYOUTS = {   # name: (attach, edges)
    "west": ([[i, 0] for i in range(6)], None),
    "west_east": ([[0, 0], [2, 0], [4, 0], [1, 5], [3, 5], [5, 5]], None),
    "corners_mid": ([[0, 0], [0, 5], [5, 0], [5, 5], [2, 0], [3, 5]], None),
    "west_by_east": ([[i, 0] for i in range(6)], ["east"] * 6),
}
RUNS = (("dram", "fixed"), ("resident", "fixed"), ("resident", "search"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    base = yaml.safe_load((ROOT / "arch" / "simba.yaml").read_text())
    wl = api.load_workload(ROOT / "workloads" / "resnet50.yaml")
    head = ["attach", "dataflow", "mapping", "latency ms", "energy mJ", "DRAM MB", "NoP byte-hops MB", "NoP / DRAM"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    with tempfile.TemporaryDirectory() as tmp:
        for name, (attach, edges) in LAYOUTS.items():
            dram_doc = {**base["package"]["dram"], "attach": attach, **({"edges": edges} if edges else {})}
            doc = {**base, "package": {**base["package"], "dram": dram_doc}}
            path = Path(tmp) / f"simba_{name}.yaml"
            path.write_text(yaml.safe_dump(doc))
            tech = base.get("tech")
            if tech and not Path(tech).is_absolute():  # the technology table relative to arch/
                doc["tech"] = str((ROOT / "arch" / tech).resolve())
                path.write_text(yaml.safe_dump(doc))
            arch = api.load_arch(path)
            for flow, mapping in RUNS:
                res = api.simulate(arch, wl, dataflow=flow, mapping=mapping, prefetch=False)
                dram = sum(layer.bytes_moved()["dram_bytes"] for layer in res.layers)
                nop = sum(layer.bytes_moved()["nop_byte_hops"] for layer in res.layers)
                lines.append(f"| {name} | {flow} | {mapping} | {res.latency_ms:.3f} | {res.energy_pj / 1e9:.2f} | "
                             f"{dram / 1e6:.2f} | {nop / 1e6:.2f} | {nop / dram:.2f} |")
                print(lines[-1], flush=True)
    if args.write:
        replace_block(ROOT / "docs" / "validation.md", "dram_attach", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
