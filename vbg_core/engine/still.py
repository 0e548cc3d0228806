"""A still image: four looks instead of one (issue 12, part 2).

Video frames after the first are followed (roi.py) and smoothed over time (refine.py);
a still image has neither, and the default landscape model squeezes a 3:4 portrait by
about 2.4x into its 16:9 input. So a still image gets both selfie models (landscape
256x144 and general 256x256), each on the image and on its mirror image, averaged on
the finer of the two grids, and its edges guided by the image's colours (He et al.'s
colour guided filter, refine.colour_coefficients) over a wider window, then once more
at the image's resolution with the first pass's alpha as input (STILL_DETAIL): four
inferences (1.5-3 ms each on a quiet machine) and the colour guide, once per image,
cost 2.7-3x a one-look image (RESULTS.md, "Still images: a second, finer colour pass").
`Pipeline` lays the whole bodies in a still (pose.py) into these looks' probabilities,
as into a video frame's.

Measured on hand-labelled portraits (benchmarks/RESULTS.md, "Still images"): each part
moved the scores; tiles of the image at a finer scale did not. A video's first frame
does not get it: its next frames, followed and smoothed from a different first mask,
lost more than the first frame gained (two children on a bed: -0.0012 mIoU).
"""

from typing import List, Optional

import cv2
import numpy as np

from .imaging import Pyramid
from .segment import Segmenter

# The other selfie model, looked at beside the configured one.
PARTNER = {"landscape": "general", "general": "landscape"}
# The colour guided filter of a still frame: radius in grid cells, regularisation.
STILL_EDGE_RADIUS = 5
STILL_EDGE_EPS = 3e-3
# ... then once more at the guide's resolution, over this share of its shorter side
# (refine.upsample_colour's `detail`: a 17x17 window at 300x400 for a 600x800 portrait).
STILL_DETAIL = 0.027


class StillLook:
    """The configured segmenter and its partner model (opened at the first still)."""

    def __init__(self, segmenter: Segmenter, threads: int = 1):
        self.segmenter = segmenter
        self.threads = threads
        self._partner: Optional[Segmenter] = None

    def segmenters(self) -> List[Segmenter]:
        name = PARTNER.get(self.segmenter.spec.name)
        if name is None:
            return [self.segmenter]
        if self._partner is None:
            self._partner = Segmenter(name, self.segmenter.active_provider, self.threads)
        return [self.segmenter, self._partner]

    def named(self, name: str) -> Segmenter:
        """The configured segmenter or its partner, by model name."""
        return next(s for s in self.segmenters() if s.spec.name == name)

    def probs(self, frame: Pyramid) -> np.ndarray:
        """-> person probabilities over the whole frame (float32), on the finest grid of
        the models' inputs (each axis its largest)."""
        looks = [mirrored_probs(s, frame) for s in self.segmenters()]
        gh, gw = max(p.shape[0] for p in looks), max(p.shape[1] for p in looks)
        resized = [p if p.shape == (gh, gw) else
                   cv2.resize(p, (gw, gh), interpolation=cv2.INTER_LINEAR) for p in looks]
        return np.mean(resized, axis=0, dtype=np.float32)


def mirrored_probs(segmenter: Segmenter, frame: Pyramid) -> np.ndarray:
    """The model's probabilities of the frame (stretched into its input) averaged with
    those of the frame's mirror image, mirrored back."""
    mh, mw = segmenter.spec.input_hw
    return segmenter.predict(frame.shrink(mw, mh), mirrored=True)
