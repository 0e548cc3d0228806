"""Follow the person: run the model on a crop around the previous mask (issue 12, part 1).

Once a person was found, the next frame's model input is a box around the previous
alpha's person pixels (padded, widened to the model's aspect, clamped to the frame,
smoothed over time), so the person fills more of the model's input. The full frame is
looked at again every FULL_EVERY frames (outside the box, for someone entering) and at
once when the person reaches past the box (its mask touches the box's inner border:
the crop's look is kept inside it, the full frame's taken outside). A crop whose
person's area jumps (a cut, a fast move) is lost: the full frame's look alone is used.
Several people: one box around all of them; when that box would cover most of the
frame, the full frame is used instead.

State is explicit: `box, state = plan(...)`, `state = follow(alpha, state, ...)`,
starting from `None` (the first frame of a stream is always a full-frame look).
`look` decides crop / full / lost for both `vbg` (the crop cut from the frame) and the
OBS worker (the crop the filter read back where the worker asked, see
shared/messages.py): one piece of code, two sources of pixels ("views").
"""

from dataclasses import dataclass
from typing import Optional, Tuple

import cv2
import numpy as np

Box = Tuple[int, int, int, int]         # (y0, x0, y1, x1) in frame pixels, end exclusive

PAD = 0.15              # the crop's margin around the person, per side, in person sizes
FULL_EVERY = 15         # frames between full-frame looks while following
MAX_SHARE = 0.6         # a crop covering more of the frame than this: use the full frame
SHRINK_RATE = 0.2       # per frame, how far a box edge moves inward toward its target
MIN_PERSON = 0.002      # components smaller than this share of the frame are ignored
AREA_JUMP = 1.5         # crop area ratio (either way) to the previous frame that means lost
MAX_STRETCH = 3.0       # a crop may be up to this much narrower than the model's input (stretched to it)
BORDER_HIT = 0.08       # share of the crop's inner border rows/cols that are person: look past it


@dataclass(frozen=True)
class RoiState:
    box: Optional[Tuple[float, float, float, float]]   # smoothed crop (y0, x0, y1, x1); None = full frame
    since_full: int                                    # frames since the last full-frame look
    area: float                                        # person pixels share of the last mask


def plan(state: Optional[RoiState], frame_hw) -> Optional[Box]:
    """The crop to run the model on for this frame, or None for the full frame."""
    if state is None or state.box is None:
        return None
    return _pixels(state.box, frame_hw)


def needs_full(state: RoiState, crop_probs: np.ndarray, box: Box, frame_hw) -> Tuple[bool, bool]:
    """After a crop's inference: -> (look at the full frame too, the crop is lost).
    A person reaching past the box needs the full frame outside it, but the crop is
    still this frame's pixels and its look stands; only a jump in the person's area (a
    cut, a fast move) makes the crop lost. (Treating a border touch as lost threw the
    crop's look away for the full frame's at the model's size, which misses small
    people: two children on a bed vanished from the OBS worker's mask for 12 frames.)"""
    lost = _area_jumped(crop_probs, box, frame_hw, state.area)
    return lost or _touches_border(crop_probs, box, frame_hw) or state.since_full + 1 >= FULL_EVERY, lost


def follow(alpha_f32: np.ndarray, state: Optional[RoiState], frame_hw, model_hw,
           looked_full: bool) -> RoiState:
    """The alpha this frame ended with (any resolution covering the frame) -> the next state."""
    since_full = 0 if looked_full else state.since_full + 1
    area = float((alpha_f32 > 0.5).mean())
    target = person_box(alpha_f32, frame_hw)
    if target is None:
        return RoiState(None, since_full, area)
    box = fit_crop(target, frame_hw, model_hw)
    if box is None:
        return RoiState(None, since_full, area)
    previous = state.box if state is not None and not looked_full else None
    return RoiState(_smooth(previous, box, frame_hw, model_hw), since_full, area)


def person_box(alpha_f32: np.ndarray, frame_hw) -> Optional[Tuple[float, float, float, float]]:
    """The box (frame pixels) around every sizeable person region of the alpha, or None."""
    person = (alpha_f32 > 0.5).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(person, connectivity=8)
    big = [s for s in stats[1:count] if s[cv2.CC_STAT_AREA] >= MIN_PERSON * person.size]
    if not big:
        return None
    sy, sx = frame_hw[0] / person.shape[0], frame_hw[1] / person.shape[1]
    x0 = min(s[cv2.CC_STAT_LEFT] for s in big)
    y0 = min(s[cv2.CC_STAT_TOP] for s in big)
    x1 = max(s[cv2.CC_STAT_LEFT] + s[cv2.CC_STAT_WIDTH] for s in big)
    y1 = max(s[cv2.CC_STAT_TOP] + s[cv2.CC_STAT_HEIGHT] for s in big)
    return y0 * sy, x0 * sx, y1 * sy, x1 * sx


def fit_crop(person, frame_hw, model_hw) -> Optional[Tuple[float, float, float, float]]:
    """Pad a person box, widen it to the model's aspect and clamp it to the frame;
    None when it would cover more than MAX_SHARE of the frame."""
    y0, x0, y1, x1 = person
    py, px = (y1 - y0) * PAD, (x1 - x0) * PAD
    box = _refit((y0 - py, x0 - px, y1 + py, x1 + px), frame_hw, model_hw)
    (fh, fw) = frame_hw
    if (box[2] - box[0]) * (box[3] - box[1]) > MAX_SHARE * fh * fw:
        return None
    return box


def _smooth(previous, box, frame_hw, model_hw):
    """Grow at once (never cut a limb off), shrink slowly (a waving arm or a passing
    bystander does not make the box jump), then refit to the aspect."""
    if previous is None:
        return box
    outer = [b if b <= p else p + SHRINK_RATE * (b - p) for b, p in zip(box[:2], previous[:2])]
    outer += [b if b >= p else p + SHRINK_RATE * (b - p) for b, p in zip(box[2:], previous[2:])]
    return _refit(outer, frame_hw, model_hw)


def _refit(box, frame_hw, model_hw):
    """Widen a box to the model's aspect around its centre and clamp it to the frame."""
    y0, x0, y1, x1 = box
    aspect = model_hw[1] / model_hw[0]
    h, w = y1 - y0, x1 - x0
    h, w = min(max(h, w / aspect), frame_hw[0]), min(max(w, h * aspect / MAX_STRETCH), frame_hw[1])
    cy = min(max((y0 + y1) / 2, h / 2), frame_hw[0] - h / 2)
    cx = min(max((x0 + x1) / 2, w / 2), frame_hw[1] - w / 2)
    return cy - h / 2, cx - w / 2, cy + h / 2, cx + w / 2


def _pixels(box, frame_hw) -> Box:
    y0, x0, y1, x1 = box
    return (max(0, int(round(y0))), max(0, int(round(x0))),
            min(frame_hw[0], int(round(y1))), min(frame_hw[1], int(round(x1))))


def _touches_border(crop_probs: np.ndarray, box: Box, frame_hw) -> bool:
    """The crop's person reaches one of its sides that is not the frame's own edge."""
    person = crop_probs > 0.5
    sides = ((box[0] > 0, person[0]), (box[1] > 0, person[:, 0]),
             (box[2] < frame_hw[0], person[-1]), (box[3] < frame_hw[1], person[:, -1]))
    return any(inner and line.mean() > BORDER_HIT for inner, line in sides)


def _area_jumped(crop_probs: np.ndarray, box: Box, frame_hw, previous_area: float) -> bool:
    share = (box[2] - box[0]) * (box[3] - box[1]) / (frame_hw[0] * frame_hw[1])
    area = float((crop_probs > 0.5).mean()) * share
    if previous_area <= 0 or area <= 0:
        return True
    return max(area / previous_area, previous_area / area) > AREA_JUMP


class PyramidViews:
    """The model-sized views `look` reads, cut from the frame itself (`vbg`): the
    whole frame shrunk, and the crop `plan` asks for, from the frame's halvings."""

    def __init__(self, frame, model_hw):
        self.frame, self.model_hw = frame, model_hw
        self.frame_hw = frame.image.shape[:2]

    def full(self) -> np.ndarray:
        return self.frame.shrink(self.model_hw[1], self.model_hw[0])

    def crop(self, state: Optional[RoiState]):
        """-> (box, its pixels at the model's size), or None (look at the full frame)."""
        box = plan(state, self.frame_hw)
        return None if box is None else (box, _crop_view(self.frame, box, self.model_hw))

    def guide(self, width: int, height: int) -> np.ndarray:
        return self.frame.shrink(width, height)


class ReadbackViews:
    """The same views read back by another process (the OBS filter, through the
    channel): the whole frame at about the model's size and, when the filter had been
    asked for one, a crop at the model's size with the box it covers (which lags the
    box asked for). `frame_hw`: the real frame's size, which boxes are in."""

    def __init__(self, frame_hw, full_rgb: np.ndarray, crop=None):
        self.frame_hw, self.full_rgb, self.held = tuple(frame_hw), full_rgb, crop

    def full(self) -> np.ndarray:
        return self.full_rgb

    def crop(self, state: Optional[RoiState]):
        return self.held if plan(state, self.frame_hw) is not None else None

    def guide(self, width: int, height: int) -> np.ndarray:
        if self.full_rgb.shape[:2] == (height, width):
            return self.full_rgb
        return cv2.resize(self.full_rgb, (width, height), interpolation=cv2.INTER_LINEAR)

    def picture(self, hw) -> np.ndarray:
        """The whole frame at hw (h, w) as well as these views show it: the full view
        scaled up, the crop laid over its box (what the OBS worker tracks bodies in)."""
        picture = cv2.resize(self.full_rgb, (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)
        if self.held is not None:
            box, pixels = self.held
            gy0, gx0, gy1, gx1 = _pixels(_scaled(box, self.frame_hw, hw), hw)
            picture[gy0:gy1, gx0:gx1] = cv2.resize(pixels, (gx1 - gx0, gy1 - gy0), interpolation=cv2.INTER_AREA)
        return picture


def look(views, predict, state: Optional[RoiState], grid_hw) -> Tuple[np.ndarray, bool]:
    """One frame's probabilities covering the whole frame: at grid_hw (h, w) from the
    crop `views` hold for this state, with the full frame's outside the box when it
    is time to look there; or the full frame's alone at the model's resolution (no
    crop, or the crop lost: then the mask is the one a fresh stream would give).
    `views`: PyramidViews (`vbg`) or ReadbackViews (the OBS worker); `predict`: a
    picture -> its person probabilities (a Segmenter's `predict`, or another look).
    -> (probs_f32, looked at the full frame)."""
    frame_hw = views.frame_hw
    held = views.crop(state)
    if held is None:
        return predict(views.full()), True
    box, pixels = held
    crop_probs = predict(pixels)
    full, lost = needs_full(state, crop_probs, box, frame_hw)
    if lost:
        return look(views, predict, None, grid_hw)
    probs = _resized(predict(views.full()), grid_hw) if full \
        else np.zeros(grid_hw, np.float32)
    gy0, gx0, gy1, gx1 = _pixels(_scaled(box, frame_hw, grid_hw), grid_hw)
    probs[gy0:gy1, gx0:gx1] = _resized(crop_probs, (gy1 - gy0, gx1 - gx0))
    return probs, full


def unit_rect(box: Box, frame_hw) -> Tuple[float, float, float, float]:
    """A box in frame pixels -> (x0, y0, x1, y1) in the frame's unit square."""
    (fh, fw), (y0, x0, y1, x1) = frame_hw, box
    return x0 / fw, y0 / fh, x1 / fw, y1 / fh


def pixel_box(rect, frame_hw) -> Box:
    """(x0, y0, x1, y1) in the frame's unit square -> the box in frame pixels."""
    (fh, fw), (x0, y0, x1, y1) = frame_hw, rect
    return _pixels((y0 * fh, x0 * fw, y1 * fh, x1 * fw), frame_hw)


def _crop_view(frame, box: Box, model_hw) -> np.ndarray:
    """The box's pixels, from the frame's coarsest halving still at least the model's size."""
    mh, mw = model_hw
    y0, x0, y1, x1 = box
    k = 0
    while ((y1 - y0) >> (k + 1)) >= mh and ((x1 - x0) >> (k + 1)) >= mw:
        k += 1
    crop = frame.level(k)[y0 >> k:y1 >> k, x0 >> k:x1 >> k]
    return cv2.resize(crop, (mw, mh), interpolation=cv2.INTER_LINEAR if k else cv2.INTER_AREA)


def _scaled(box, frame_hw, grid_hw):
    sy, sx = grid_hw[0] / frame_hw[0], grid_hw[1] / frame_hw[1]
    return box[0] * sy, box[1] * sx, box[2] * sy, box[3] * sx


def _resized(probs: np.ndarray, hw) -> np.ndarray:
    if probs.shape == tuple(hw):
        return np.array(probs, np.float32)
    return cv2.resize(probs, (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)
