"""Whole bodies in motion: MediaPipe Pose's segmentation, tracked per person (issue 12, parts 3-4).

Per frame, the landmark model runs on each tracked person's region (`pose_landmarks`),
and the region for the next frame comes from this frame's alignment landmarks. The
detector (`pose_detect`) runs only to (re)find people: on a stream's first frame, at
once when a tracked person's presence drops (a cut, someone leaving: the same frame is
searched again, so an old region never paints the new picture), and every
DETECT_EVERY frames to look for someone new (with nobody tracked, every SEARCH_EVERY
frames for anyone: a desk camera's cost).
A person lost is looked for again in their last region for HOLD frames (not drawn
meanwhile): a child who turns away or is hidden behind another scores a low presence
for a frame or two, and the detector rarely finds them again (bedroom clip).
Up to MAX_PEOPLE people, one region each; a detection whose region is centred near a
tracked one is the same person. Only whole bodies (down to the knees) are tracked: a
close-up is left to the selfie model, so a head-and-shoulders camera costs the detector
every SEARCH_EVERY frames and nothing else.

State is explicit: `result = tracker(frame, state, grid_hw)`, `result.state` for the next
frame, starting from `None`. `result.probs` is the bodies' segmentation over the frame
(max over people, 0 outside their regions), None when no body is in view.
"""

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import numpy as np

from . import pose_geometry as geometry
from .imaging import Pyramid
from .pose_detect import PoseDetector, views
from .pose_landmarks import Body, LandmarkModel

MAX_PEOPLE = 3
DETECT_EVERY = 8        # frames between detector runs while tracking someone
SEARCH_EVERY = 24       # ... while tracking nobody (about a second: the selfie model covers a newcomer meanwhile)
MIN_PRESENCE = 0.5      # the landmark model's pose presence below which a person is lost
SAME_PERSON = 0.8       # closeness (pose_geometry) above which two regions are one person
HOLD = 1                # frames a lost person's last region is looked at again


@dataclass(frozen=True)
class PoseState:
    rects: Tuple[geometry.Rect, ...]    # the regions to look at in the next frame
    since_detect: int                   # frames since the detector last ran
    view: int = 0                       # the detector's next view (pose_detect.views), in turn
    held: Tuple[Tuple[geometry.Rect, int], ...] = ()    # lost people's last regions, frames left to retry


@dataclass(frozen=True)
class PoseResult:
    bodies: Tuple[Body, ...]
    probs: Optional[np.ndarray]         # float32 at grid_hw (< 0: in no region), or None (no body)
    state: PoseState


def _in_turn(work: Callable, items) -> list:
    return [work(item) for item in items]


class PoseTracker:
    """RGB frames of one stream (any size) -> the bodies' segmentation and next regions."""

    def __init__(self, provider: str = "cpu", threads: int = 1, spread: Callable = _in_turn):
        """`spread(work, items)`: how the people's landmark runs are made (in turn, or
        `imaging.shared`: two at once in `vbg`; the OBS worker keeps to one core)."""
        self.detector = PoseDetector(provider, threads)
        self.landmarks = LandmarkModel(provider, threads)
        self.spread = spread

    def __call__(self, frame: Pyramid, state: Optional[PoseState], grid_hw) -> PoseResult:
        bodies, next_state = self.track(frame, state)
        return PoseResult(bodies, self.probs(bodies, frame.image.shape[:2], grid_hw), next_state)

    def track(self, frame: Pyramid, state: Optional[PoseState]) -> Tuple[Tuple[Body, ...], PoseState]:
        """The models' work: -> (this frame's bodies, the state for the next frame)."""
        frame_hw = frame.image.shape[:2]
        bodies, lost, held = self._track(frame, state)
        since = state.since_detect + 1 if state is not None else DETECT_EVERY
        view = state.view if state is not None else 0
        lost = lost or state is None
        every = DETECT_EVERY if bodies else SEARCH_EVERY
        if lost or since >= every:              # someone lost (a cut?) or a new stream: every view, now
            looks = range(len(views(frame_hw))) if lost else [view]
            for look in looks:
                bodies = self._add_found(frame, bodies, look)
            since, view = 0, (view + 1) % len(views(frame_hw))
        bodies = tuple(bodies)
        return bodies, PoseState(tuple(b.next_rect() for b in bodies), since, view, held)

    def _track(self, frame: Pyramid, state: Optional[PoseState]) -> Tuple[list, bool, tuple]:
        """-> (the bodies still tracked, whether one was lost: gone, or no longer whole,
        the regions to look at again). Someone lost while their hips are in the frame
        (a low presence: turned away, hidden) is looked for in their last region for
        HOLD frames, and taken back only as a new person would be (`kept`, admitting)."""
        if state is None:
            return [], False, ()
        frame_hw = frame.image.shape[:2]
        rects = state.rects + tuple(rect for rect, _ in state.held)
        looked = self.spread(lambda rect: self.landmarks(frame, rect), rects)
        bodies, retried = looked[:len(state.rects)], looked[len(state.rects):]
        tracked = [kept(b, frame_hw, False) for b in bodies]
        back = [kept(b, frame_hw, True) for b in retried]
        held = [(b.rect, HOLD) for b, k in zip(bodies, tracked) if not k and b.whole(frame_hw, False)]
        held += [(rect, left - 1) for (rect, left), k in zip(state.held, back) if not k and left > 1]
        found = [b for b, k in zip(bodies + retried, tracked + back) if k]
        return distinct(found)[:MAX_PEOPLE], not all(tracked), tuple(held[:MAX_PEOPLE])

    def _add_found(self, frame: Pyramid, bodies: list, view: int) -> list:
        for detection in self.detector(frame, view):
            if len(bodies) >= MAX_PEOPLE:
                break
            rect = detection.rect()
            if not inside(detection.keypoints[0], frame.image.shape[:2]):
                continue                        # hips out of the frame: a close-up
            if any(geometry.closeness(rect, b.next_rect()) > SAME_PERSON for b in bodies):
                continue
            body = self.landmarks(frame, rect)
            if kept(body, frame.image.shape[:2], True):
                bodies = distinct(bodies + [body])
        return bodies

    @staticmethod
    def probs(bodies, frame_hw, grid_hw) -> Optional[np.ndarray]:
        """The bodies' segmentation over the frame at grid_hw (see PoseResult)."""
        if not bodies:
            return None
        probs = bodies[0].probs(frame_hw, grid_hw)
        for body in bodies[1:]:
            np.maximum(probs, body.probs(frame_hw, grid_hw), out=probs)
        return probs


def searching(state: Optional[PoseState]) -> bool:
    """Nobody is tracked or held and this frame is the one to look for someone new:
    only the detector (and the landmark model on what it finds) runs, and what it finds
    can be taken a few frames later (`Pipeline`: behind the frames, not in them)."""
    return (state is not None and not state.rects and not state.held
            and state.since_detect + 1 >= SEARCH_EVERY)


def kept(body: Body, frame_hw, admitting: bool) -> bool:
    """Tracked: a person (presence) whose whole body is in view (`Body.whole`: stricter
    to start than to keep); a close-up is the selfie model's alone (and costs no landmark
    model per frame)."""
    return body.presence >= MIN_PRESENCE and body.whole(frame_hw, admitting)


def inside(point_xy, frame_hw) -> bool:
    return 0 <= point_xy[0] < frame_hw[1] and 0 <= point_xy[1] < frame_hw[0]


def distinct(bodies: list) -> list:
    """Drop a body whose next region overlaps an earlier (kept) one: two tracks that
    converged on one person."""
    kept = []
    for body in bodies:
        if all(geometry.closeness(body.next_rect(), k.next_rect()) <= SAME_PERSON for k in kept):
            kept.append(body)
    return kept
