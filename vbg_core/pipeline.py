"""segment -> refine -> compose for one stream of frames (the command line's engine)."""

from typing import Optional

import numpy as np

from .compose import Compositor
from .imaging import Workspace, shrink
from .refine import RefineState, refine
from .segment import Segmenter
from .settings import Settings


class Pipeline:
    """Frames of one video (or single images) -> composited frames.
    Holds the temporal state explicitly; `reset()` starts a new stream."""

    def __init__(self, settings: Settings, segmenter: Optional[Segmenter] = None):
        self.settings = settings
        self.segmenter = segmenter or Segmenter(settings.model, settings.provider, settings.threads)
        self.compositor = Compositor(settings)
        self.state: Optional[RefineState] = None
        self._work = Workspace()

    def reset(self) -> None:
        self.state = None

    def alpha(self, rgb_u8: np.ndarray) -> np.ndarray:
        """RGB uint8 frame -> refined alpha uint8 of the same size (255 = person).
        The array is reused by the next call: copy it to keep it."""
        small = model_view(rgb_u8, self.segmenter)
        probs = self.segmenter.predict(rgb_u8 if small is None else small)
        alpha_u8, self.state = refine(probs, rgb_u8, self.state, self.settings, small, self._work)
        return alpha_u8

    def __call__(self, rgb_u8: np.ndarray) -> np.ndarray:
        return self.compositor(rgb_u8, self.alpha(rgb_u8))


def model_view(rgb_u8: np.ndarray, segmenter: Segmenter) -> Optional[np.ndarray]:
    """The frame shrunk to the model's input size when the segmenter stretches (the
    default): shrunk once, it is both the model's input and the refinement's guide."""
    if segmenter.fit != "stretch":
        return None
    mh, mw = segmenter.spec.input_hw
    return shrink(rgb_u8, mw, mh)
