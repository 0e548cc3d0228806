"""How to put frames of any aspect ratio into the model: stretch, letterbox, crop or
'balanced' (half the aspect change by stretching, the rest by padding), measured on
real photos with reference masks, each centre-cropped to common camera aspects.

    .venv/bin/python benchmarks/aspect.py [--images DIR]
"""

import argparse
import sys
from pathlib import Path
from statistics import mean

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vbg_core.engine import metrics  # noqa: E402
from vbg_core.engine.refine import refine  # noqa: E402
from vbg_core.engine.segment import MODEL_FITS, Segmenter  # noqa: E402
from vbg_core.shared.settings import Settings  # noqa: E402

from quality import image_pairs  # noqa: E402

ASPECTS = {"16:9": 16 / 9, "4:3": 4 / 3, "1:1": 1.0, "3:4": 3 / 4, "9:16": 9 / 16}


def centre_crop(array, aspect: float):
    h, w = array.shape[:2]
    if w / h > aspect:
        cw = round(h * aspect)
        return array[:, (w - cw) // 2:(w - cw) // 2 + cw]
    ch = round(w / aspect)
    return array[(h - ch) // 2:(h - ch) // 2 + ch]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=Path, default=ROOT / "tests" / "data")
    args = parser.parse_args()
    pairs = list(image_pairs(args.images))
    print(f"mean IoU / boundary F over {len(pairs)} photos, ours with edges, per crop aspect")
    print(f"{'model':>10} | {'fit':>9} | " + " | ".join(f"{a:>11}" for a in ASPECTS) + " | mean IoU | mean BF")
    for model in ("landscape", "general"):
        settings = Settings(model=model)
        for fit in MODEL_FITS:
            segmenter = Segmenter(model, fit=fit)
            cells, ious, bfs = [], [], []
            for aspect in ASPECTS.values():
                scores = []
                for _, rgb, truth in pairs:
                    rgb_c, truth_c = centre_crop(rgb, aspect), centre_crop(truth, aspect)
                    pred = refine(segmenter.predict(rgb_c), rgb_c, None, settings)[0] >= 128
                    scores.append((metrics.iou(pred, truth_c), metrics.boundary_f(pred, truth_c)))
                iou, bf = mean(s[0] for s in scores), mean(s[1] for s in scores)
                ious.append(iou), bfs.append(bf)
                cells.append(f"{iou:.3f}/{bf:.3f}")
            print(f"{model:>10} | {fit:>9} | " + " | ".join(cells) + f" |   {mean(ious):.4f} | {mean(bfs):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
