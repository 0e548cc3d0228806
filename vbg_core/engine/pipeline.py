"""segment -> refine -> compose for one stream of frames (the command line's engine)."""

from dataclasses import replace
from typing import Callable, Optional, Sequence

import cv2
import numpy as np

from . import roi
from .blobs import stray
from .compose import Compositor
from .imaging import Pyramid, Workspace, aside, behind, shared
from .pose import SEARCH_EVERY, PoseTracker, PoseState, searching
from .pose_landmarks import Body
from .refine import RefineState, for_model, guide_level, refine_lowres, upsample, upsample_colour
from .segment import Memory, Segmenter, open_segmenter
from .still import STILL_DETAIL, STILL_EDGE_EPS, STILL_EDGE_RADIUS, StillLook
from ..shared.settings import Settings


def _no_clock(stage: str) -> None:
    pass


class Pipeline:
    """Frames of one video (or single images) -> composited frames.
    Holds the temporal state explicitly (and a recurrent model's); `reset()` starts a
    new stream."""

    def __init__(self, settings: Settings, segmenter: Optional[Segmenter] = None, follow: bool = True):
        self.settings = settings
        self.segmenter = segmenter or open_segmenter(settings.model, settings.provider, settings.threads)
        self.compositor = Compositor(settings)
        spec = self.segmenter.spec      # roi.py: crop around the person (a recurrent model sees it all)
        plain = self.segmenter.plain
        self.follow = follow and plain
        self.refining = for_model(settings, spec)
        # still.py: a still image gets four looks (measured with the stretching selfie models only)
        self.still_look = StillLook(self.segmenter, settings.threads) if plain else None
        self.state: Optional[RefineState] = None
        self.memory: Memory = None
        self.roi: Optional[roi.RoiState] = None
        # pose.py: whole bodies, several people (the selfie model is for close-ups)
        self.pose = PoseTracker(settings.provider, settings.threads, shared) if settings.bodies and plain else None
        self.pose_state: Optional[PoseState] = None
        self._search = None             # (a search for people behind the frames: its Future, frames since)
        self._work = Workspace()

    def reset(self) -> None:
        self.state = None
        self.roi = None
        self.memory = None
        self.pose_state = None
        self._search = None

    def alpha(self, rgb_u8: np.ndarray, still: bool = False) -> np.ndarray:
        """RGB uint8 frame -> refined alpha uint8 of the same size (255 = person).
        The array is reused by the next call: copy it to keep it. `still`: the frame is
        a still image, a stream of its own (still.py: four looks, colour-guided edges)."""
        frame = Pyramid(rgb_u8)
        still = self._start(still)
        return self._upsample(frame, self._alpha_lo(frame, _no_clock, still), still)

    def __call__(self, rgb_u8: np.ndarray, clock: Callable[[str], None] = _no_clock,
                 backdrop: Optional[np.ndarray] = None, still: bool = False) -> np.ndarray:
        """RGB uint8 frame -> composited frame (a new array). `clock(stage)` is called
        as each stage ends ("pre-process", "inference", "refine", "compose"): the
        benchmark's stopwatch. `backdrop`: in video mode, this frame's picture of the
        background video (RGB uint8, any size; fitted with settings.video_fit).
        `still`: as for `alpha`."""
        frame = Pyramid(rgb_u8)
        still = self._start(still)
        alpha_lo = self._alpha_lo(frame, clock, still)
        # The background (the blur's work) needs only the low-res alpha: it is made on
        # the other core while this one refines the edges at full resolution.
        background = aside(self.compositor.background, frame, alpha_lo, backdrop)
        alpha_u8 = self._upsample(frame, alpha_lo, still)
        clock("refine")
        out = self.compositor(frame, alpha_u8, background.result())
        clock("compose")
        return out

    def _start(self, still: bool) -> bool:
        """A still image starts a stream of its own; -> whether it gets still.py's looks."""
        if still:
            self.reset()
        return still and self.still_look is not None

    def _alpha_lo(self, frame: Pyramid, clock: Callable[[str], None], still: bool = False) -> np.ndarray:
        """Model + temporal smoothing + soft threshold -> alpha 0..1 at about the
        model's resolution (float32)."""
        if still:
            return self._alpha_still(frame, clock)
        if self.follow and self.state is not None:
            return self._alpha_followed(frame, clock)
        segmenter = self.segmenter
        small = model_view(frame, segmenter)
        tensor = segmenter.preprocess(frame.image if small is None else small)
        clock("pre-process")
        if self.settings.edges:         # the guide's luma, on the other core meanwhile
            aside(frame.gray, guide_level(frame.image.shape[:2]))
        lay_in_bodies = self._bodies(frame)
        output, self.memory = segmenter.infer_step(tensor, self.memory)
        clock("inference")
        probs = lay_in_bodies(segmenter.postprocess(output, frame.image.shape[:2]))
        state = self.state and resized_state(self.state, probs.shape)
        alpha_lo, self.state = refine_lowres(probs, frame.image if small is None else small,
                                             state, self.refining)
        if self.follow:
            self.roi = roi.follow(alpha_lo, None, frame.image.shape[:2], segmenter.spec.input_hw, True)
        return alpha_lo

    def _alpha_followed(self, frame: Pyramid, clock: Callable[[str], None]) -> np.ndarray:
        """After a stream's first frame: the model on a crop around the person (roi.py)."""
        clock("pre-process")
        if self.settings.edges:
            aside(frame.gray, guide_level(frame.image.shape[:2]))
        views = roi.PyramidViews(frame, self.segmenter.spec.input_hw)
        alpha_lo, self.state, self.roi = followed(views, self.segmenter, self.roi, self.state, self.refining,
                                                  self._bodies(frame), self._looks())
        clock("inference")
        return alpha_lo

    def _looks(self) -> Optional[Callable[[np.ndarray], np.ndarray]]:
        """While whole bodies are tracked (as of the last frame) the general model looks
        (256x256: a standing person gets twice the landscape model's rows), at the
        picture and at its mirror image; these looks take the time the bodies' models
        take on the other core anyway. Otherwise (None) the configured model's one look,
        so a close-up keeps its budget. Measured: RESULTS.md, "A second look while
        bodies are tracked"."""
        if not tracking(self.pose_state):
            return None
        general = self.still_look.named("general")
        return lambda rgb: general.predict(rgb, mirrored=True)

    def _alpha_still(self, frame: Pyramid, clock: Callable[[str], None]) -> np.ndarray:
        """A still image: both models, mirrored too (still.py), the whole bodies in it
        laid in, then as any first frame."""
        clock("pre-process")
        lay_in_bodies = self._bodies(frame)
        probs = lay_in_bodies(self.still_look.probs(frame))
        clock("inference")
        gh, gw = probs.shape
        alpha_lo, self.state = refine_lowres(probs, frame.shrink(gw, gh), None, self.settings)
        if self.follow:
            self.roi = roi.follow(alpha_lo, None, frame.image.shape[:2], self.segmenter.spec.input_hw, True)
        return alpha_lo

    def _bodies(self, frame: Pyramid) -> Callable[[np.ndarray], np.ndarray]:
        """Start tracking this frame's whole bodies on the other core (imaging.aside:
        their models run while the selfie model does) -> the function that waits for
        them and lays them into the selfie model's probabilities (`combine`)."""
        if self.pose is None:
            return _same
        if self._searched(frame):
            return _same
        frame_hw = frame.image.shape[:2]
        pending = aside(self.pose.track, frame, self.pose_state)

        def lay_in(probs: np.ndarray) -> np.ndarray:
            bodies, self.pose_state = pending.result()
            return laid_in(probs, bodies, frame_hw)
        return lay_in

    def _searched(self, frame: Pyramid) -> bool:
        """While nobody is tracked, the search for someone new (`pose.searching`: the
        detector, and the landmark model on what it finds) runs behind the frames on a
        thread of its own, so no frame waits for it. -> whether this frame leaves the
        bodies alone (a search began, or is still running). A finished search's people
        are tracked from the frame that takes it on; it is waited for only when the
        next one would be due (a very slow machine)."""
        if self._search is None:
            if not searching(self.pose_state):
                return False
            self._search = (behind(self.pose.track, frame, self.pose_state), 1)
            return True
        future, frames = self._search
        if not future.done() and frames < SEARCH_EVERY:
            self._search = (future, frames + 1)
            return True
        self._search = None
        _, state = future.result()
        # as if it had run in its own frame (the same frames search as without this)
        self.pose_state = replace(state, since_detect=state.since_detect + frames - 1)
        return False

    def _upsample(self, frame: Pyramid, alpha_lo: np.ndarray, still: bool = False) -> np.ndarray:
        if still and self.settings.edges:
            return upsample_colour(alpha_lo, frame, STILL_EDGE_RADIUS, STILL_EDGE_EPS, self._work, STILL_DETAIL)
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


def laid_in(selfie_f32: np.ndarray, bodies: Sequence[Body], frame_hw) -> np.ndarray:
    """The selfie model's probabilities (at its grid) with the segmentation of `bodies`
    (tracked in a frame of frame_hw) laid in and the selfie model's stray blobs cleared
    (blobs.py); unchanged without a body."""
    if not bodies:
        return selfie_f32
    bodies_f32 = PoseTracker.probs(bodies, frame_hw, selfie_f32.shape)
    probs = combine(selfie_f32, bodies_f32)
    cleared = stray(selfie_f32, bodies, frame_hw)
    if cleared is not None:
        probs[cleared] = np.maximum(bodies_f32[cleared], 0.0)
    return probs


def tracking(pose_state: Optional[PoseState]) -> bool:
    """Whether whole bodies were tracked in the last frame: then the selfie model takes
    a second look, at the mirror image (`Pipeline._looks`; the OBS worker's
    `SourceLoop.looks`)."""
    return pose_state is not None and bool(pose_state.rects)


def with_bodies(tracker: PoseTracker, frame: Pyramid, state: Optional[PoseState], probs: np.ndarray):
    """The selfie model's probabilities with the bodies `tracker` follows in `frame`
    laid in, in turn (the OBS worker: one core) -> (probabilities, the tracker's next state)."""
    bodies, state = tracker.track(frame, state)
    return laid_in(probs, bodies, frame.image.shape[:2]), state


def model_view(frame: Pyramid, segmenter: Segmenter) -> Optional[np.ndarray]:
    """The frame shrunk to the model's input size when the segmenter stretches (the
    default), from the frame's shared halvings; None for the other fits."""
    if segmenter.fit != "stretch":
        return None
    mh, mw = segmenter.input_hw_for(frame.image.shape[:2])
    return frame.shrink(mw, mh)


# While following, probabilities are kept at this many times the model's resolution
# (at most the frame's), so the crop's finer view is not thrown away.
GRID_SCALE = 2


def _same(probs: np.ndarray) -> np.ndarray:
    return probs


def followed(views, segmenter: Segmenter, roi_state: Optional[roi.RoiState],
             state: Optional[RefineState], settings: Settings,
             bodies: Callable[[np.ndarray], np.ndarray] = _same,
             looks: Optional[Callable[[np.ndarray], np.ndarray]] = None):
    """One frame, following the person: the model on the crop `views` hold (roi.look),
    at GRID_SCALE times the model's resolution (the full frame's alone at the model's),
    `bodies` lays the tracked whole bodies into the probabilities (`Pipeline._bodies`
    on the frame in `vbg`, `with_bodies` on what was read back in the OBS worker), then
    temporal smoothing and the soft threshold. `looks`: what looks at a picture instead
    of the segmenter's one look (while bodies are tracked). What `vbg` runs after a
    stream's first frame and the OBS worker on every frame.
    -> (alpha 0..1 float32, refine state, roi state)."""
    frame_hw, model_hw = views.frame_hw, segmenter.spec.input_hw
    probs, looked_full = roi.look(views, looks or segmenter.predict, roi_state, grid_size(frame_hw, model_hw))
    probs = bodies(probs)
    (gh, gw) = probs.shape
    alpha_lo, state = refine_lowres(probs, views.guide(gw, gh), resized_state(state, (gh, gw)), settings)
    return alpha_lo, state, roi.follow(alpha_lo, roi_state, frame_hw, model_hw, looked_full)


def grid_size(frame_hw, model_hw):
    return (min(frame_hw[0], model_hw[0] * GRID_SCALE), min(frame_hw[1], model_hw[1] * GRID_SCALE))


def resized_state(state: Optional[RefineState], hw) -> Optional[RefineState]:
    """The temporal state at another resolution (the first frame's is the model's)."""
    if state is None or state.probs_f32.shape == tuple(hw):
        return state
    size = (hw[1], hw[0])
    return RefineState(cv2.resize(state.probs_f32, size, interpolation=cv2.INTER_LINEAR),
                       cv2.resize(state.luma_f32, size, interpolation=cv2.INTER_LINEAR))
