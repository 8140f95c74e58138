"""Export hardware/enclosure/dimensions.json from pod.scad with OpenSCAD.

For each variant the body is rendered to STL; the file records the numbers
the .scad echoes (content, cavity, strap slot, USB-C opening) and the outer
size measured from the exported mesh, and fails if the two disagree, or if a
USB-C plug's shell centred in the opening meets the body (the .scad's
``part="plug"``, which must render empty).

    python hardware/enclosure/export_dimensions.py   # needs openscad on PATH
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = ("xiao", "stick", "atom")


def stl_bbox(path: Path) -> list[float]:
    lo = [float("inf")] * 3
    hi = [float("-inf")] * 3
    for m in re.finditer(rb"vertex\s+(\S+)\s+(\S+)\s+(\S+)", path.read_bytes()):
        for i in range(3):
            v = float(m.group(i + 1))
            lo[i] = min(lo[i], v)
            hi[i] = max(hi[i], v)
    return [round(h - low, 2) for low, h in zip(lo, hi)]


def export(openscad: str) -> dict[str, object]:
    version = subprocess.run([openscad, "--version"], capture_output=True, text=True).stderr.strip()
    out: dict[str, object] = {"source": "pod.scad", "openscad": version, "variants": {}}
    variants: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for v in VARIANTS:
            stl = Path(tmp) / f"pod_{v}.stl"
            proc = subprocess.run(
                [openscad, "-D", f'variant="{v}"', "-D", 'part="body"', "--export-format", "asciistl", "-o", str(stl), str(HERE / "pod.scad")],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            m = re.search(r'ECHO: "DIMS (.*)"', proc.stderr)
            if not m:
                raise SystemExit(f"{v}: pod.scad echoed no DIMS line")
            dims = json.loads(m.group(1).replace('\\"', '"'))
            measured = stl_bbox(stl)
            if any(abs(a - b) > 0.05 for a, b in zip(measured, dims["outer_mm"])):
                raise SystemExit(f"{v}: mesh is {measured} mm but pod.scad says {dims['outer_mm']}")
            dims["stl_bbox_mm"] = measured
            _check_plug_fits(openscad, v, Path(tmp))
            del dims["variant"]
            variants[v] = dims
    out["variants"] = variants
    return out


def _check_plug_fits(openscad: str, variant: str, tmp: Path) -> None:
    """A USB-C plug's shell in the middle of the opening meets no wall: ``part="plug"`` (their
    intersection) renders empty, which OpenSCAD says and exports no file for."""
    stl = tmp / f"plug_{variant}.stl"
    proc = subprocess.run(
        [openscad, "-D", f'variant="{variant}"', "-D", 'part="plug"', "-o", str(stl), str(HERE / "pod.scad")],
        capture_output=True, text=True,
    )  # fmt: skip
    if "top level object is empty" not in proc.stderr or stl.exists():
        raise SystemExit(f"{variant}: a USB-C plug in the opening meets the body (pod.scad usb_z)")


def main() -> int:
    openscad = shutil.which("openscad")
    if openscad is None:
        print("openscad is not on PATH (apt install openscad)", file=sys.stderr)
        return 1
    doc = export(openscad)
    (HERE / "dimensions.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc["variants"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
