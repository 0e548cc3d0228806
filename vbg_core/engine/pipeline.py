"""segment -> refine -> compose for one stream of frames (the command line's engine)."""

from typing import Callable, Optional

import cv2
import numpy as np

from . import roi
from .compose import Compositor
from .imaging import Pyramid, Workspace, aside
from .pose import PoseTracker, PoseState
from .refine import RefineState, guide_level, refine_lowres, upsample
from .segment import Segmenter
from ..shared.settings import Settings


def _no_clock(stage: str) -> None:
    pass


class Pipeline:
    """Frames of one video (or single images) -> composited frames.
    Holds the temporal state explicitly; `reset()` starts a new stream."""

    def __init__(self, settings: Settings, segmenter: Optional[Segmenter] = None, follow: bool = True,
                 bodies: bool = True):
        self.settings = settings
        self.segmenter = segmenter or Segmenter(settings.model, settings.provider, settings.threads)
        self.compositor = Compositor(settings)
        self.follow = follow and self.segmenter.fit == "stretch"    # roi.py: crop around the person
        self.state: Optional[RefineState] = None
        self.roi: Optional[roi.RoiState] = None
        # pose.py: whole bodies, several people (the selfie model is for close-ups)
        self.pose = PoseTracker(settings.provider, settings.threads) if bodies else None
        self.pose_state: Optional[PoseState] = None
        self._work = Workspace()

    def reset(self) -> None:
        self.state = None
        self.roi = None
        self.pose_state = None

    def alpha(self, rgb_u8: np.ndarray) -> np.ndarray:
        """RGB uint8 frame -> refined alpha uint8 of the same size (255 = person).
        The array is reused by the next call: copy it to keep it."""
        frame = Pyramid(rgb_u8)
        return self._upsample(frame, self._alpha_lo(frame, _no_clock))

    def __call__(self, rgb_u8: np.ndarray, clock: Callable[[str], None] = _no_clock,
                 backdrop: Optional[np.ndarray] = None) -> np.ndarray:
        """RGB uint8 frame -> composited frame (a new array). `clock(stage)` is called
        as each stage ends ("pre-process", "inference", "refine", "compose"): the
        benchmark's stopwatch. `backdrop`: in video mode, this frame's picture of the
        background video (RGB uint8, any size; fitted with settings.video_fit)."""
        frame = Pyramid(rgb_u8)
        alpha_lo = self._alpha_lo(frame, clock)
        # The background (the blur's work) needs only the low-res alpha: it is made on
        # the other core while this one refines the edges at full resolution.
        background = aside(self.compositor.background, frame, alpha_lo, backdrop)
        alpha_u8 = self._upsample(frame, alpha_lo)
        clock("refine")
        out = self.compositor(frame, alpha_u8, background.result())
        clock("compose")
        return out

    def _alpha_lo(self, frame: Pyramid, clock: Callable[[str], None]) -> np.ndarray:
        """Model + temporal smoothing + soft threshold -> alpha 0..1 at about the
        model's resolution (float32)."""
        if self.follow and self.state is not None:
            return self._alpha_followed(frame, clock)
        segmenter = self.segmenter
        small = model_view(frame, segmenter)
        tensor = segmenter.preprocess(frame.image if small is None else small)
        clock("pre-process")
        if self.settings.edges:         # the guide's luma, on the other core meanwhile
            aside(frame.gray, guide_level(frame.image.shape[:2]))
        output = segmenter.infer(tensor)
        clock("inference")
        probs = self._with_bodies(frame, segmenter.postprocess(output, frame.image.shape[:2]))
        alpha_lo, self.state = refine_lowres(probs, frame.image if small is None else small,
                                             self.state, self.settings)
        if self.follow:
            self.roi = roi.follow(alpha_lo, None, frame.image.shape[:2], segmenter.spec.input_hw, True)
        return alpha_lo

    def _alpha_followed(self, frame: Pyramid, clock: Callable[[str], None]) -> np.ndarray:
        """After a stream's first frame: the model on a crop around the person (roi.py),
        at GRID_SCALE times the model's resolution (the full frame's alone at the model's)."""
        frame_hw, model_hw = frame.image.shape[:2], self.segmenter.spec.input_hw
        clock("pre-process")
        if self.settings.edges:
            aside(frame.gray, guide_level(frame_hw))
        probs, looked_full = roi.look(frame, self.segmenter, self.roi, grid_size(frame_hw, model_hw))
        probs = self._with_bodies(frame, probs)
        clock("inference")
        (gh, gw) = probs.shape
        state = resized_state(self.state, (gh, gw))
        alpha_lo, self.state = refine_lowres(probs, frame.shrink(gw, gh), state, self.settings)
        self.roi = roi.follow(alpha_lo, self.roi, frame_hw, model_hw, looked_full)
        return alpha_lo

    def _with_bodies(self, frame: Pyramid, probs: np.ndarray) -> np.ndarray:
        """The selfie model's probabilities with the tracked bodies' segmentation laid in."""
        if self.pose is None:
            return probs
        result = self.pose(frame, self.pose_state, probs.shape)
        self.pose_state = result.state
        return probs if result.probs is None else combine(probs, result.probs)

    def _upsample(self, frame: Pyramid, alpha_lo: np.ndarray) -> np.ndarray:
        return upsample(alpha_lo, frame, self.settings.edges, self.state.luma_f32, self._work)


# Inside a body's region the selfie model's probability is kept where it is at least
# this sure: a second person the region's own segmentation leaves out (it segments its
# one person), without the selfie model's unsure blobs over the bed.
SELFIE_SURE = 0.95


def combine(selfie_f32: np.ndarray, bodies_f32: np.ndarray) -> np.ndarray:
    """Both models' person probabilities (same grid) -> one: inside the bodies' regions
    (bodies_f32 >= 0) the pose model's, raised to the selfie model's where that one is
    sure; the selfie model's elsewhere. Measured (RESULTS.md, "Whole bodies"): better
    than the pose model's alone there, and than the maximum of both (which keeps the
    selfie model's blobs over the bed and its halo around moving limbs)."""
    sure = np.where(selfie_f32 >= SELFIE_SURE, selfie_f32, 0.0)
    return np.where(bodies_f32 >= 0, np.maximum(bodies_f32, sure), selfie_f32).astype(np.float32)


def model_view(frame: Pyramid, segmenter: Segmenter) -> Optional[np.ndarray]:
    """The frame shrunk to the model's input size when the segmenter stretches (the
    default), from the frame's shared halvings; None for the other fits."""
    if segmenter.fit != "stretch":
        return None
    mh, mw = segmenter.spec.input_hw
    return frame.shrink(mw, mh)


# While following, probabilities are kept at this many times the model's resolution
# (at most the frame's), so the crop's finer view is not thrown away.
GRID_SCALE = 2


def grid_size(frame_hw, model_hw):
    return (min(frame_hw[0], model_hw[0] * GRID_SCALE), min(frame_hw[1], model_hw[1] * GRID_SCALE))


def resized_state(state: RefineState, hw) -> RefineState:
    """The temporal state at another resolution (the first frame's is the model's)."""
    if state.probs_f32.shape == tuple(hw):
        return state
    size = (hw[1], hw[0])
    return RefineState(cv2.resize(state.probs_f32, size, interpolation=cv2.INTER_LINEAR),
                       cv2.resize(state.luma_f32, size, interpolation=cv2.INTER_LINEAR))
