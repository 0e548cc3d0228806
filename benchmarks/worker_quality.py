"""The OBS worker's masks scored against reference mattes, without OBS: the worker's own
SourceLoop fed the filter's readbacks (tests/filter_side.py: the frame and the crop the
worker asked for, each area-averaged to the model's size, as the filter's Downsample
pass does), with "Track whole bodies" off and on.

    python benchmarks/worker_quality.py --clips DIR --mattes DIR [--names sam2_juggle sam2_bedroom]
        [--smoothing S] [--model general]

`--clips` holds <name>.mp4, `--mattes` a folder per name of reference mattes (PNG, one
per frame; person >= 128), e.g. the research set beside the project (never committed).
Prints mIoU (the worker's mask scaled to the frame, then area-resized to the matte's
size, person >= 128; and "as drawn": the alpha the filter draws from the worker's
guided filter coefficients and the frame's luma, vbg.effect's alpha_guided), excess
flicker (the share of pixels whose person/background decision flips between frames,
the worker's minus the reference's, as devscore counts it) and the worker's step per
frame in ms (median / mean: reading the frame, segmenting, the mask, its coefficients
and regions written back). `--smoothing`,
`--model`: the temporal smoothing and the model (default: the settings' defaults).
"""

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.filter_side import FilterSide  # noqa: E402
from vbg_core.cli.bench import load_frames  # noqa: E402
from vbg_core.source_loop import Segmenters  # noqa: E402


def score(clip: Path, mattes: list, settings: dict):
    """-> {"mask": (mIoU, excess flicker), "drawn": (the same)}, (median, mean) step ms."""
    worker = FilterSide(Segmenters(), **settings)
    kinds = ("mask", "drawn")
    ious, flips, times, previous = {k: [] for k in kinds}, {k: [] for k in kinds}, [], None
    try:
        for rgb, matte in zip(load_frames(clip, len(mattes)), mattes):
            mask = worker.mask(rgb)
            times.append(worker.step_ms)
            truth = cv2.imread(str(matte), cv2.IMREAD_GRAYSCALE) >= 128
            now = {"truth": truth}
            for kind, alpha in zip(kinds, (mask, worker.drawn(rgb, mask))):
                person = now[kind] = cv2.resize(alpha, truth.shape[::-1], interpolation=cv2.INTER_AREA) >= 128
                ious[kind].append((person & truth).sum() / max((person | truth).sum(), 1))
                if previous is not None:
                    flips[kind].append((person != previous[kind]).mean() - (truth != previous["truth"]).mean())
            previous = now
    finally:
        worker.close()
    return ({k: (float(np.mean(ious[k])), float(np.mean(flips[k]))) for k in kinds},
            (float(np.median(times)), float(np.mean(times))))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", required=True, help="folder of <name>.mp4")
    parser.add_argument("--mattes", required=True, help="folder of <name>/ reference mattes")
    parser.add_argument("--names", nargs="+", default=["sam2_juggle", "sam2_bedroom"])
    parser.add_argument("--smoothing", type=float, help="temporal smoothing 0..1")
    parser.add_argument("--model", help="the source's model (default: the setting's default)")
    args = parser.parse_args()
    chosen = {k: v for k, v in (("smoothing", args.smoothing), ("model", args.model)) if v is not None}
    print("clip | whole bodies | mask: mIoU / excess flicker | as drawn: mIoU / excess flicker | "
          "worker ms per frame, median / mean")
    for name in args.names:
        mattes = sorted((Path(args.mattes) / name).glob("*.png"))
        for bodies in (False, True):
            settings = dict(whole_bodies=bodies, **chosen)
            scores, (med, mean) = score(Path(args.clips) / f"{name}.mp4", mattes, settings)
            print(f"{name} | {'on' if bodies else 'off'} | "
                  + " | ".join(f"{miou:.4f} / {excess:+.5f}" for miou, excess in scores.values())
                  + f" | {med:.2f} / {mean:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
