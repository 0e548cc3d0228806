"""The OBS worker's masks scored against reference mattes, without OBS: the filter's
readbacks made here (the frame and the crop the worker asked for, each area-averaged
to the model's size, as the filter's Downsample pass does) and fed to the worker's own
step (`pipeline.followed`, with or without the whole-body tracker in what was read back).

    python benchmarks/worker_quality.py --clips DIR --mattes DIR [--names sam2_juggle sam2_bedroom]

`--clips` holds <name>.mp4, `--mattes` a folder per name of reference mattes (PNG, one
per frame; person >= 128), e.g. the research set beside the project (never committed).
Prints mIoU (mask upsampled bilinearly, person >= 0.5, both area-resized to the matte's
size) and the worker's ms per frame (median / mean) with whole bodies off and on.
"""

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vbg_core.cli.bench import load_frames  # noqa: E402
from vbg_core.engine import roi  # noqa: E402
from vbg_core.engine.imaging import Pyramid  # noqa: E402
from vbg_core.engine.pipeline import followed, grid_size, with_bodies  # noqa: E402
from vbg_core.engine.pose import PoseTracker  # noqa: E402
from vbg_core.engine.refine import for_model  # noqa: E402
from vbg_core.engine.segment import open_segmenter  # noqa: E402
from vbg_core.shared.settings import Settings  # noqa: E402


def readbacks(rgb, box, model_wh):
    """What the filter reads back for this frame: the whole frame and the box (if any)."""
    full = cv2.resize(rgb, model_wh, interpolation=cv2.INTER_AREA)
    if box is None:
        return full, None
    y0, x0, y1, x1 = box
    return full, (box, cv2.resize(rgb[y0:y1, x0:x1], model_wh, interpolation=cv2.INTER_AREA))


def score(clip: Path, mattes: list, bodies: bool):
    settings = Settings(bodies=bodies)
    segmenter = open_segmenter(settings.model, settings.provider, settings.threads)
    refining = for_model(settings, segmenter.spec)
    tracker = PoseTracker() if bodies else None
    model_wh = segmenter.spec.input_hw[::-1]
    roi_state = state = None
    pose_state = [None]
    ious, times = [], []
    for rgb, matte in zip(load_frames(clip, len(mattes)), mattes):
        hw = rgb.shape[:2]
        views = roi.ReadbackViews(hw, *readbacks(rgb, roi.plan(roi_state, hw), model_wh))

        def laid(probs):
            picture = Pyramid(views.picture(grid_size(hw, segmenter.spec.input_hw)))
            probs, pose_state[0] = with_bodies(tracker, picture, pose_state[0], probs)
            return probs
        start = time.perf_counter()
        alpha, state, roi_state = followed(views, segmenter, roi_state, state, refining,
                                           laid if bodies else (lambda probs: probs))
        times.append((time.perf_counter() - start) * 1000)
        truth = cv2.imread(str(matte), cv2.IMREAD_GRAYSCALE) >= 128
        up = cv2.resize(alpha, (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)
        person = cv2.resize(up, truth.shape[::-1], interpolation=cv2.INTER_AREA) >= 0.5
        ious.append((person & truth).sum() / max((person | truth).sum(), 1))
    return float(np.mean(ious)), float(np.median(times)), float(np.mean(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", required=True, help="folder of <name>.mp4")
    parser.add_argument("--mattes", required=True, help="folder of <name>/ reference mattes")
    parser.add_argument("--names", nargs="+", default=["sam2_juggle", "sam2_bedroom"])
    args = parser.parse_args()
    print("clip | whole bodies | mIoU | worker ms per frame, median / mean")
    for name in args.names:
        mattes = sorted((Path(args.mattes) / name).glob("*.png"))
        for bodies in (False, True):
            miou, med, mean = score(Path(args.clips) / f"{name}.mp4", mattes, bodies)
            print(f"{name} | {'on' if bodies else 'off'} | {miou:.4f} | {med:.2f} / {mean:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
