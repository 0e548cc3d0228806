"""Rotated square regions of a frame, as MediaPipe Pose uses them (issue 12, part 3).

A `Rect` is a square in frame pixels: centre, side and rotation. The detector's and the
landmark model's input is a Rect of the frame warped to the model's size (one affine
matrix each way), and the next frame's Rect comes from two alignment points (the hip
centre and a point giving the body's scale and direction), as MediaPipe's
AlignmentPointsRectsCalculator + RectTransformationCalculator (scale 1.25,
square_long) compute it.
"""

import math
from dataclasses import dataclass
from typing import Tuple

import cv2
import numpy as np

ROI_SCALE = 1.25                # the rect is 1.25 x twice the alignment points' distance
TARGET_ANGLE = math.pi / 2      # hip centre -> scale point is turned to point "up"


@dataclass(frozen=True)
class Rect:
    cx: float           # centre, frame pixels
    cy: float
    size: float         # side of the square, frame pixels
    angle: float        # radians, counter-clockwise as MediaPipe's NormalizedRect.rotation

    def scaled(self, factor: float) -> "Rect":
        return Rect(self.cx, self.cy, self.size * factor, self.angle)


def whole_frame(frame_hw) -> Rect:
    """The square around the whole frame (the detector's letterboxed view)."""
    h, w = frame_hw
    return Rect(w / 2, h / 2, float(max(h, w)), 0.0)


def from_alignment(centre_xy, scale_xy) -> Rect:
    """Rect from the hip centre and the scale point (frame pixels)."""
    (x0, y0), (x1, y1) = centre_xy, scale_xy
    size = 2.0 * math.hypot(x1 - x0, y1 - y0) * ROI_SCALE
    angle = _normalised(TARGET_ANGLE - math.atan2(-(y1 - y0), x1 - x0))
    return Rect(float(x0), float(y0), size, angle)


def _normalised(angle: float) -> float:
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def to_model(rect: Rect, out_size: int) -> np.ndarray:
    """2x3 affine matrix: frame pixels -> the model's input pixels (out_size square).
    The rect's own axes in the frame (y down) are (cos, sin) and (-sin, cos)."""
    scale = out_size / rect.size
    cos, sin = math.cos(rect.angle) * scale, math.sin(rect.angle) * scale
    m = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]])
    m[:, 2] = out_size / 2 - m[:, :2] @ np.array([rect.cx, rect.cy])
    return m


def crop(rgb_u8: np.ndarray, rect: Rect, out_size: int, border=cv2.BORDER_REPLICATE,
         level: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """-> (the rect's pixels as an out_size square uint8 image, frame->model matrix).
    `rgb_u8` may be the frame halved `level` times (a cheaper source for large rects)."""
    m = to_model(rect, out_size)
    source_m = m.copy()
    source_m[:, :2] *= 2 ** level
    patch = cv2.warpAffine(rgb_u8, source_m, (out_size, out_size), flags=cv2.INTER_LINEAR,
                           borderMode=border)
    return patch, m


def to_frame(points_xy: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Model-input pixel coordinates (N x 2) -> frame pixels, inverting `m`."""
    inverse = cv2.invertAffineTransform(m)
    return points_xy @ inverse[:, :2].T + inverse[:, 2]


OUTSIDE = -1.0      # paste_back's value outside the rect (< 0: not looked at)


def paste_back(probs_f32: np.ndarray, m: np.ndarray, out_size: int, frame_hw, grid_hw) -> np.ndarray:
    """A map aligned with a model input of out_size (any square size) -> a map over the
    frame at grid_hw, OUTSIDE outside the rect. `m`: the frame->model matrix."""
    (gh, gw), (fh, fw) = grid_hw, frame_hw
    k = probs_f32.shape[0] / out_size
    grid_to_probs = (m * k) @ np.diag([fw / gw, fh / gh, 1.0])
    return cv2.warpAffine(probs_f32, grid_to_probs, (gw, gh), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=OUTSIDE)


def closeness(a: Rect, b: Rect) -> float:
    """How much two regions are one person's: 1 - centre distance / the smaller side
    (regions are ~2.5 body-heights wide, so neighbours' regions overlap a lot while
    their centres, the hips, stay apart). 1 = same centre, <= 0 = a side apart."""
    return 1.0 - math.hypot(a.cx - b.cx, a.cy - b.cy) / min(a.size, b.size)
