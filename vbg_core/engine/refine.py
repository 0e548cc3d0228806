"""Raw probabilities -> the alpha that is drawn.

Three steps, each a small function on arrays:
1. `temporal`: motion-aware smoothing at the model's resolution. Where the frame does
   not change, the mask moves slowly toward the new prediction (no flicker, no popping
   edges); where the frame changes, the new prediction is taken at once (no ghost).
2. `soft_threshold`: probability -> alpha with a soft ramp of width `softness` around
   `threshold`.
3. `upsample`: low-res alpha -> full-resolution alpha, guided by the frame itself (a
   fast guided filter, He & Sun 2015) so the edge follows hair and shoulders; above
   720p it is applied at half size or less (GUIDE_MIN_PIXELS).

The temporal state is explicit: `alpha, state = refine(probs, frame, state, settings)`,
starting from `state=None`. The OBS worker runs steps 1-2 (`refine_lowres`); the OBS
shader runs step 3 with the same maths (constants in shared/maths.py).
"""

import math
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import cv2
import numpy as np

from .imaging import Pyramid, Workspace, in_bands, shrink
from ..shared.maths import EDGE_EPS, EDGE_RADIUS
from ..shared.settings import Settings

# Temporal smoothing: where nothing moves, the new prediction's weight is
# 1 - smoothing * (1 - MIN_WEIGHT_AT_FULL_SMOOTHING) (0.235 at the default 0.9); it
# rises linearly to 1 as the frame's luma changes by MOTION_FULL (0..1 scale) there.
MOTION_FULL = 0.06
MIN_WEIGHT_AT_FULL_SMOOTHING = 0.15

# The guided filter is applied on the frame's coarsest halving that still has this
# many pixels, and its alpha bilinearly enlarged to the frame: frames up to 720p are
# guided at their own size, 1080p at 960x540, 4K at 960x540. Measured (RESULTS.md,
# "Engine speed"): at 1080p the half-size guide saves 1.7 ms of 9.8 outside the
# model; on the test photos it costs 0.002-0.003 IoU and boundary F, so 720p (where
# it would save only 0.6 ms of 5.0) keeps the full-size guide.
GUIDE_MIN_PIXELS = 960 * 540


@dataclass(frozen=True)
class RefineState:
    probs_f32: np.ndarray       # smoothed probabilities of the previous frame
    luma_f32: np.ndarray        # the previous frame's luma at the same resolution


def luma_f32(rgb_u8: np.ndarray, hw: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """RGB uint8 -> luma in 0..1 (weights maths.LUMA, which are OpenCV's RGB2GRAY weights),
    shrunk to hw=(h, w) if given."""
    if hw is not None:
        rgb_u8 = shrink(rgb_u8, hw[1], hw[0])
    return cv2.cvtColor(rgb_u8.astype(np.float32), cv2.COLOR_RGB2GRAY) * np.float32(1 / 255)


def still_weight(smoothing: float) -> float:
    """The new prediction's weight where nothing moves."""
    return 1.0 - smoothing * (1.0 - MIN_WEIGHT_AT_FULL_SMOOTHING)


def frames_to_settle(smoothing: float, left: float = 0.02) -> int:
    """Frames of a still picture after which the smoothed mask is within `left` of
    the model's (8 at smoothing 0.7, 15 at 0.9)."""
    weight = still_weight(smoothing)
    return 1 if weight >= 1.0 else math.ceil(math.log(left) / math.log(1.0 - weight))


def temporal(probs_f32: np.ndarray, luma: np.ndarray, state: Optional[RefineState],
             smoothing: float) -> Tuple[np.ndarray, RefineState]:
    """Motion-aware exponential smoothing of probabilities (all at one resolution)."""
    if state is None or state.probs_f32.shape != probs_f32.shape or smoothing <= 0:
        return probs_f32, RefineState(probs_f32, luma)
    motion = cv2.GaussianBlur(np.abs(luma - state.luma_f32), (5, 5), 0)
    still = still_weight(smoothing)
    weight = np.clip(still + motion * ((1.0 - still) / MOTION_FULL), 0.0, 1.0)
    smoothed = state.probs_f32 + weight * (probs_f32 - state.probs_f32)
    return smoothed, RefineState(smoothed, luma)


def soft_threshold(probs_f32: np.ndarray, threshold: float, softness: float) -> np.ndarray:
    """Probability -> alpha 0..1: 0.5 at `threshold`, a linear ramp `softness` wide."""
    width = max(softness, 1e-3)
    return np.clip((probs_f32 - threshold) * (1.0 / width) + 0.5, 0.0, 1.0)


def for_model(settings: Settings, spec) -> Settings:
    """The settings refining a model's output: a recurrent model (RVM) is temporally
    stable by itself, so it gets only its spec's share of the temporal smoothing."""
    return settings if spec.smoothing == 1.0 else settings.with_(smoothing=settings.smoothing * spec.smoothing)


def refine_lowres(probs_f32: np.ndarray, rgb_u8: np.ndarray, state: Optional[RefineState],
                  settings: Settings) -> Tuple[np.ndarray, RefineState]:
    """Steps 1-2 at the model's resolution: -> (alpha_f32 shaped like probs, state).
    `rgb_u8` is the frame at any size; it is shrunk to the probabilities' size."""
    luma = luma_f32(rgb_u8, probs_f32.shape)
    smoothed, state = temporal(probs_f32, luma, state, settings.smoothing)
    return soft_threshold(smoothed, settings.threshold, settings.softness), state


def guided_coefficients(alpha_lo: np.ndarray, luma_lo: np.ndarray,
                        radius: int = EDGE_RADIUS, eps: float = EDGE_EPS) -> Tuple[np.ndarray, np.ndarray]:
    """Guided filter at low resolution -> box-averaged (mean_a, mean_b), so that
    alpha = mean_a * luma + mean_b anywhere in the frame."""
    def box(x):
        return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1),
                             borderType=cv2.BORDER_REPLICATE)
    mean_i, mean_p = box(luma_lo), box(alpha_lo)
    cov_ip = box(luma_lo * alpha_lo) - mean_i * mean_p
    var_i = box(luma_lo * luma_lo) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a), box(b)


def colour_coefficients(alpha_lo: np.ndarray, rgb_lo_u8: np.ndarray, radius: int,
                        eps: float) -> Tuple[np.ndarray, np.ndarray]:
    """The guided filter with the frame's colours as the guide (He et al. 2013, eq. 14)
    at low resolution -> box-averaged (mean_a (h, w, 3), mean_b), so that
    alpha = dot(mean_a, rgb / 255) + mean_b anywhere in the frame."""
    def box(x):
        return cv2.boxFilter(x, -1, (2 * radius + 1, 2 * radius + 1), borderType=cv2.BORDER_REPLICATE)
    rgb = cv2.split(rgb_lo_u8.astype(np.float32) * np.float32(1 / 255))
    mean_i, mean_p = [box(c) for c in rgb], box(alpha_lo)
    cov_ip = [box(c * alpha_lo) - m * mean_p for c, m in zip(rgb, mean_i)]

    def var(i, j):
        return box(rgb[i] * rgb[j]) - mean_i[i] * mean_i[j] + (np.float32(eps) if i == j else 0)
    a = _solve_symmetric_3x3([var(0, 0), var(0, 1), var(0, 2), var(1, 1), var(1, 2), var(2, 2)], cov_ip)
    b = mean_p - a[0] * mean_i[0] - a[1] * mean_i[1] - a[2] * mean_i[2]
    return cv2.merge([box(c) for c in a]), box(b)


def _solve_symmetric_3x3(sigma, rhs):
    """Per cell, the symmetric system [[s0 s1 s2] [s1 s3 s4] [s2 s4 s5]] x = rhs, by its
    cofactors (numpy's batched linalg.solve was ten times slower)."""
    s0, s1, s2, s3, s4, s5 = sigma
    c00, c01, c02 = s3 * s5 - s4 * s4, s2 * s4 - s1 * s5, s1 * s4 - s2 * s3
    c11, c12, c22 = s0 * s5 - s2 * s2, s1 * s2 - s0 * s4, s0 * s3 - s1 * s1
    inv_det = 1.0 / (s0 * c00 + s1 * c01 + s2 * c02)
    r0, r1, r2 = rhs
    return [(c00 * r0 + c01 * r1 + c02 * r2) * inv_det, (c01 * r0 + c11 * r1 + c12 * r2) * inv_det,
            (c02 * r0 + c12 * r1 + c22 * r2) * inv_det]


def upsample_colour(alpha_lo: np.ndarray, frame: Pyramid, radius: int, eps: float,
                    work: Optional[Workspace] = None, detail: float = 0.0) -> np.ndarray:
    """As `upsample` with edges, guided by the frame's colours (colour_coefficients):
    for still images (engine/still.py), where three multiplies a pixel are no cost.
    `detail` > 0: then a second colour-guided pass applied at the guide's resolution,
    the first pass's alpha its input, its window that share of the shorter side: the
    edge follows hair and fingers finer than the grid's cells."""
    work = work or Workspace()
    h, w = frame.image.shape[:2]
    mean_a, mean_b = colour_coefficients(alpha_lo, frame.shrink(alpha_lo.shape[1], alpha_lo.shape[0]),
                                         radius, eps)
    level = guide_level((h, w))
    guide_u8 = frame.level(level)
    guided_u8 = _colour_applied(mean_a, mean_b, guide_u8)
    if detail > 0 and min(guide_u8.shape[:2]) * detail >= 2:     # (a tiny image: its window would be no pixel)
        half = frame.level(level + 1)   # its coefficients at half that resolution (He's fast guided filter)
        fine = max(1, round(detail * min(half.shape[:2])))
        mean_a, mean_b = colour_coefficients(cv2.resize(guided_u8, (half.shape[1], half.shape[0]),
                                                        interpolation=cv2.INTER_AREA) * np.float32(1 / 255),
                                             half, fine, eps)
        guided_u8 = _colour_applied(mean_a, mean_b, guide_u8)
    return cv2.resize(guided_u8, (w, h), dst=work.get("alpha", (h, w), np.uint8),
                      interpolation=cv2.INTER_LINEAR)


def _colour_applied(mean_a: np.ndarray, mean_b: np.ndarray, guide_u8: np.ndarray) -> np.ndarray:
    """alpha = dot(mean_a, rgb / 255) + mean_b (colour_coefficients) at the guide's size, uint8."""
    gh, gw = guide_u8.shape[:2]
    if mean_b.shape != (gh, gw):
        mean_a = cv2.resize(mean_a, (gw, gh), interpolation=cv2.INTER_LINEAR)
        mean_b = cv2.resize(mean_b, (gw, gh), interpolation=cv2.INTER_LINEAR)
    product = cv2.transform(cv2.multiply(guide_u8, mean_a, dtype=cv2.CV_32F), np.ones((1, 3), np.float32))
    return cv2.add(product, mean_b * np.float32(255), dtype=cv2.CV_8U)


def upsample(alpha_lo: np.ndarray, frame: Union[np.ndarray, Pyramid], edges: bool = True,
             luma_lo: Optional[np.ndarray] = None, work: Optional[Workspace] = None,
             level: Optional[int] = None) -> np.ndarray:
    """Low-res alpha -> uint8 alpha at the frame's size, guided by the frame if edges.
    The guided filter is applied on `frame.level(level)` (0: the frame itself;
    default: `guide_level` of the frame's size)
    and the result bilinearly resized to the frame. `luma_lo`: the frame's luma at
    alpha's size, if already computed; `work`: scratch arrays reused between frames
    (the returned alpha is one of them)."""
    work = work or Workspace()
    frame = frame if isinstance(frame, Pyramid) else Pyramid(frame)
    h, w = frame.image.shape[:2]
    alpha_u8 = work.get("alpha", (h, w), np.uint8)
    if not edges:
        up = cv2.resize(alpha_lo, (w, h), dst=work.get("a", (h, w), np.float32),
                        interpolation=cv2.INTER_LINEAR)
        return cv2.convertScaleAbs(up, dst=alpha_u8, alpha=255.0)
    if luma_lo is None:
        luma_lo = luma_f32(frame.image, alpha_lo.shape)
    mean_a, mean_b = guided_coefficients(alpha_lo, luma_lo)
    level = guide_level((h, w)) if level is None else level
    gray_u8 = frame.gray(level)         # the guide (made beside inference by Pipeline)
    gh, gw = gray_u8.shape
    # In 0..255 units: alpha = a * gray_u8 + 255 * b, saturated to uint8 by cv2.add.
    a_up = cv2.resize(mean_a, (gw, gh), dst=work.get("a", (gh, gw), np.float32),
                      interpolation=cv2.INTER_LINEAR)
    b_up = cv2.resize(mean_b * np.float32(255), (gw, gh), dst=work.get("b", (gh, gw), np.float32),
                      interpolation=cv2.INTER_LINEAR)
    guided_u8 = alpha_u8 if level == 0 else work.get("guided", (gh, gw), np.uint8)

    def band(rows: slice) -> None:
        product = cv2.multiply(gray_u8[rows], a_up[rows], dst=a_up[rows], dtype=cv2.CV_32F)
        cv2.add(product, b_up[rows], dst=guided_u8[rows], dtype=cv2.CV_8U)
    in_bands(band, gh)
    if level:
        cv2.resize(guided_u8, (w, h), dst=alpha_u8, interpolation=cv2.INTER_LINEAR)
    return alpha_u8


def guide_level(frame_hw: Tuple[int, int]) -> int:
    """How many halvings of the frame the guided filter is applied on (GUIDE_MIN_PIXELS)."""
    (h, w), level = frame_hw, 0
    while (h // 2) * (w // 2) >= GUIDE_MIN_PIXELS:
        h, w, level = h // 2, w // 2, level + 1
    return level


def refine(probs_f32: np.ndarray, frame: Union[np.ndarray, Pyramid], state: Optional[RefineState],
           settings: Settings, work: Optional[Workspace] = None,
           level: Optional[int] = None) -> Tuple[np.ndarray, RefineState]:
    """All three steps: -> (alpha_u8 at the frame's size, state). `frame`: the frame,
    or its Pyramid when the caller already made one (then shared with the caller);
    `level`: the guide's halvings (default: see `upsample`)."""
    frame = frame if isinstance(frame, Pyramid) else Pyramid(frame)
    h, w = probs_f32.shape
    alpha_lo, state = refine_lowres(probs_f32, frame.shrink(w, h), state, settings)
    return upsample(alpha_lo, frame, settings.edges, state.luma_f32, work, level), state
