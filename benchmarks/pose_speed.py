"""Cost of the whole-body (pose) path: `Pipeline` with and without it, frame by frame
alternately in one process, so both see the same load on a shared machine.

    python benchmarks/pose_speed.py [--frames 40]

Prints, per clip (sam2_coffee: a torso at a table, no whole body; sam2_juggle: one
whole body) and size (720p, 1080p), the median and mean ms per frame (blur mode, all
stages) of each and their ratio. The detector runs every few frames, so the mean is
the honest cost; the median is the usual frame.
"""

import argparse
import sys
import time
from pathlib import Path
from statistics import mean, median

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vbg_core.cli.bench import load_frames  # noqa: E402
from vbg_core.engine.pipeline import Pipeline  # noqa: E402
from vbg_core.engine.segment import Segmenter  # noqa: E402
from vbg_core.shared.settings import Settings  # noqa: E402

SAMPLES = ROOT / "samples"
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
WARMUP = 5


def timed(pipeline: Pipeline, rgb_u8) -> float:
    start = time.perf_counter()
    pipeline(rgb_u8)
    return (time.perf_counter() - start) * 1000


def compare(frames, settings: Settings, segmenter: Segmenter) -> dict:
    pipelines = {"with": Pipeline(settings, segmenter), "without": Pipeline(settings.with_(bodies=False), segmenter)}
    times = {name: [] for name in pipelines}
    for index, rgb_u8 in enumerate(frames):
        for name, pipeline in pipelines.items():
            ms = timed(pipeline, rgb_u8)
            if index >= WARMUP:
                times[name].append(ms)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    settings = Settings(mode="blur")
    segmenter = Segmenter(settings.model, settings.provider, settings.threads)
    print("clip size | with pose: median / mean ms | without: median / mean ms | ratio of medians / means")
    for clip in ("sam2_coffee.mp4", "sam2_juggle.mp4"):
        source = load_frames(SAMPLES / clip, args.frames + WARMUP)
        for label, size in SIZES.items():
            frames = [cv2.resize(f, size, interpolation=cv2.INTER_LINEAR) if f.shape[1::-1] != size else f
                      for f in source]
            t = compare(frames, settings, segmenter)
            w, wo = t["with"], t["without"]
            print(f"{clip} {label} | {median(w):.2f} / {mean(w):.2f} | {median(wo):.2f} / {mean(wo):.2f} | "
                  f"{median(w) / median(wo):.2f}x / {mean(w) / mean(wo):.2f}x", flush=True)


if __name__ == "__main__":
    main()
