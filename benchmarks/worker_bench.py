"""The OBS worker's CPU per mask on a clip, following the person vs not (issue 12 part 1).

    .venv/bin/python benchmarks/worker_bench.py [--video samples/sam2_coffee.mp4]

Replays a clip through what the worker does per frame, outside OBS: the frame read
back at the model's size (an area resize, as the filter's Downsample) and, when the
worker asked for one, the crop it asked for at the model's size; then either the
follow step (`pipeline.followed`, what the worker runs now) or the model on the whole
frame alone (what it ran before channel version 4), then the mask quantised and its
regions packed. The two run frame by frame in turn in one process, each with its own
state, and each frame's CPU time (time.process_time) is kept: on a shared machine the
ratio is what to read.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vbg_core.cli import media  # noqa: E402
from vbg_core.engine import regions, roi  # noqa: E402
from vbg_core.engine.pipeline import followed  # noqa: E402
from vbg_core.engine.refine import refine_lowres  # noqa: E402
from vbg_core.engine.segment import Segmenter  # noqa: E402
from vbg_core.shared.settings import Settings  # noqa: E402
from vbg_core.source_loop import quantize  # noqa: E402


def readback(rgb, size):
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


class Following:
    def __init__(self, segmenter, settings):
        self.segmenter, self.settings, self.state, self.roi, self.crops = segmenter, settings, None, None, 0

    def __call__(self, rgb):
        frame_hw, (mh, mw) = rgb.shape[:2], self.segmenter.spec.input_hw
        box, held = roi.plan(self.roi, frame_hw), None
        if box is not None:         # the filter's work (on the GPU), not timed
            held = box, readback(rgb[box[0]:box[2], box[1]:box[3]], (mw, mh))
            self.crops += 1
        views = roi.ReadbackViews(frame_hw, readback(rgb, (mw, mh)), held)
        started = time.process_time()
        alpha, self.state, self.roi = followed(views, self.segmenter, self.roi, self.state, self.settings)
        mask = quantize(alpha)
        regions.pack(mask)
        return time.process_time() - started


class WholeFrame:
    def __init__(self, segmenter, settings):
        self.segmenter, self.settings, self.state = segmenter, settings, None

    def __call__(self, rgb):
        (mh, mw) = self.segmenter.spec.input_hw
        small = readback(rgb, (mw, mh))
        started = time.process_time()
        probs = self.segmenter.predict(small)
        alpha, self.state = refine_lowres(probs, small, self.state, self.settings)
        mask = quantize(alpha)
        regions.pack(mask)
        return time.process_time() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=str(ROOT / "samples" / "sam2_coffee.mp4"))
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args(argv)
    settings = Settings()
    segmenter = Segmenter(settings.model, "cpu", 1)
    paths = {"whole frame (before)": WholeFrame(segmenter, settings), "following (now)": Following(segmenter, settings)}
    times = {name: [] for name in paths}
    reader = media.VideoReader(args.video)
    for _, rgb in zip(range(args.frames), reader):
        for name, step in paths.items():
            times[name].append(step(rgb))
    reader.close()
    medians = {name: 1000 * statistics.median(values) for name, values in times.items()}
    means = {name: 1000 * statistics.mean(values) for name, values in times.items()}
    for name in paths:
        print(f"{name}: CPU per mask median {medians[name]:.2f} ms, mean {means[name]:.2f} ms")
    print(f"crop read back in {paths['following (now)'].crops} of {len(times['following (now)'])} frames; "
          f"ratio of means {means['following (now)'] / means['whole frame (before)']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
