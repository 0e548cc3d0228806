"""Mask quality: ours vs the raw model, on real photos with reference masks and on
real videos (flicker and lag). Prints tables; results go into RESULTS.md by hand.

    .venv/bin/python benchmarks/quality.py [--images DIR] [--videos V1.mp4 V2.mp4 ...]

Images: every `X.jpg` in DIR with a `X_mask.png` beside it (default tests/data).
Raw model = stretch-resize, threshold 0.5, bilinear upsampling (bench.naive_alpha).
"""

import argparse
import sys
from pathlib import Path
from statistics import mean

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vbg_core.cli import media  # noqa: E402
from vbg_core.engine import images, metrics  # noqa: E402
from vbg_core.cli.bench import naive_alpha  # noqa: E402
from vbg_core.engine.refine import refine  # noqa: E402
from vbg_core.engine.segment import MODEL_FITS, Segmenter  # noqa: E402
from vbg_core.shared.settings import Settings  # noqa: E402


def image_pairs(directory: Path):
    for image in sorted(directory.glob("*.jpg")):
        mask = image.with_name(image.stem + "_mask.png")
        if mask.exists():
            yield image.stem, images.read_image(str(image)), images.read_image(str(mask))[:, :, 0] > 127


def ours_alpha(rgb_u8, segmenter, settings, state=None, level=None):
    return refine(segmenter.predict(rgb_u8), rgb_u8, state, settings, level=level)


def score_images(directory: Path, settings: Settings) -> None:
    pairs = list(image_pairs(directory))
    print(f"\n## Images ({len(pairs)}: {', '.join(p[0] for p in pairs)}) — mean IoU / mean boundary F")
    print(f"{'model':>10} | {'method':>22} | {'IoU':>6} | {'BF':>6}")
    for model in ("landscape", "general"):
        rows = {"raw (stretch, bilinear)": []}
        for fit in MODEL_FITS:
            segmenter = Segmenter(model, fit=fit)
            for edges in (False, True):
                key = f"{fit}{' + edges' if edges else ''}"
                rows[key] = [_scores(ours_alpha(rgb, segmenter, settings.with_(model=model, edges=edges))[0] >= 128, truth)
                             for _, rgb, truth in pairs]
            if fit == "stretch":
                settings_m = settings.with_(model=model)
                rows["stretch + edges at 1/2"] = [_scores(ours_alpha(rgb, segmenter, settings_m, level=1)[0] >= 128, truth)
                                                  for _, rgb, truth in pairs]
                rows["raw (stretch, bilinear)"] = [_scores(naive_alpha(rgb, segmenter) >= 0.5, truth)
                                                   for _, rgb, truth in pairs]
        for key, scores in rows.items():
            print(f"{model:>10} | {key:>22} | {mean(s[0] for s in scores):.4f} | {mean(s[1] for s in scores):.4f}"
                  f"   per image IoU {' '.join(f'{s[0]:.3f}' for s in scores)}")


def _scores(pred, truth):
    return metrics.iou(pred, truth), metrics.boundary_f(pred, truth)


def score_video(path: str, settings: Settings) -> None:
    segmenter = Segmenter(settings.model)
    reader = media.VideoReader(path)
    raw_flicker, our_flicker, raw_flips, our_flips, agreement = [], [], [], [], []
    prev = None
    state = None
    for rgb in reader:
        raw = (naive_alpha(rgb, segmenter) * 255).astype(np.uint8)
        ours, state = ours_alpha(rgb, segmenter, settings, state)
        if prev is not None:
            still = metrics.still_pixels(prev[0], rgb)
            raw_flicker.append(metrics.flicker(prev[1], raw, still))
            our_flicker.append(metrics.flicker(prev[2], ours, still))
            raw_flips.append(metrics.flips(prev[1], raw, still))
            our_flips.append(metrics.flips(prev[2], ours, still))
        agreement.append(metrics.iou(ours >= 128, raw >= 128))
        prev = (rgb, raw, ours.copy())
    reader.close()
    print(f"{Path(path).name:>18} | {mean(raw_flicker) * 1000:8.2f} | {mean(our_flicker) * 1000:8.2f} | "
          f"{mean(raw_flips) * 1000:8.3f} | {mean(our_flips) * 1000:8.3f} | {mean(agreement):.4f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=Path, default=ROOT / "tests" / "data")
    parser.add_argument("--videos", nargs="*", default=[str(ROOT / "samples" / "sam2_coffee.mp4")])
    args = parser.parse_args()
    settings = Settings()
    score_images(args.images, settings)
    print("\n## Videos — on pixels whose picture did not change between frames: flicker = mean "
          "|alpha change| (x1000), flips = share whose person/background decision flipped (x1000); "
          "agreement = mean per-frame IoU of ours vs raw")
    print(f"{'video':>18} | {'raw flk':>8} | {'our flk':>8} | {'raw flip':>8} | {'our flip':>8} | agreement")
    for video in args.videos:
        score_video(video, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
