"""segment -> refine -> compose for one stream of frames (the command line's engine)."""

from typing import Optional

import numpy as np

from .compose import Compositor
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

    def reset(self) -> None:
        self.state = None

    def alpha(self, rgb_u8: np.ndarray) -> np.ndarray:
        """RGB uint8 frame -> refined alpha uint8 of the same size (255 = person)."""
        probs = self.segmenter.predict(rgb_u8)
        alpha_u8, self.state = refine(probs, rgb_u8, self.state, self.settings)
        return alpha_u8

    def __call__(self, rgb_u8: np.ndarray) -> np.ndarray:
        return self.compositor(rgb_u8, self.alpha(rgb_u8))
