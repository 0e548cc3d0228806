"""CPU compositing for the command line: colour, image, blur, transparent.

Same maths as the OBS shader (vbg_core/obs), on sRGB-encoded uint8 values:
    out = frame * alpha + background * (1 - alpha)
The blur blurs only the background: at reduced resolution, frame and weight
(1 - alpha) are blurred separately and divided, so the person's colours do not bleed
into the background (no halo). Full-resolution work stays in uint8 OpenCV calls.
"""

from typing import Optional, Tuple, Union

import cv2
import numpy as np

from .imaging import Pyramid, Workspace, in_bands, paste, shrink
from .images import read_image
from ..shared.maths import BLUR_WEIGHT_FLOOR, blur_plan, blur_radius, fit_box
from ..shared.settings import Settings


def load_image(path: str) -> np.ndarray:
    """Background image file -> RGB uint8, or MediaError naming the path and the problem."""
    return read_image(path, what="background image")


def fit_image(rgb_u8: np.ndarray, size: Tuple[int, int], fit: str) -> np.ndarray:
    """Fit an image to (width, height): 'cover' scales to fill and crops the centre
    (never distorts), 'contain' fits inside with black bars, 'stretch' distorts."""
    width, height = size
    if fit == "stretch":
        return cv2.resize(rgb_u8, size, interpolation=cv2.INTER_AREA)
    sw, sh, y0, x0 = fit_box(rgb_u8.shape[:2], (height, width), fill=fit == "cover")
    canvas = np.zeros((height, width, 3), np.uint8)
    paste(canvas, cv2.resize(rgb_u8, (sw, sh), interpolation=cv2.INTER_AREA), y0, x0)
    return canvas


def coverage(alpha: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """The person's alpha resized to (width, height), float32 0..1. `alpha`: float
    0..1 at any size (the refined low-res alpha), or uint8 0..255 (area-averaged)."""
    if alpha.dtype == np.uint8:
        return shrink(alpha, *size).astype(np.float32) * np.float32(1 / 255)
    return cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR)


def blur_background(frame: Union[np.ndarray, Pyramid], alpha: np.ndarray, sigma_720: float,
                    work: Optional[Workspace] = None) -> np.ndarray:
    """Mask-weighted blur of the background only, computed at reduced resolution.
    `frame`: the RGB uint8 frame or its Pyramid (whose halvings it then shares);
    `alpha`: the person's alpha (see `coverage`): the weights are 1 - alpha there."""
    frame = frame if isinstance(frame, Pyramid) else Pyramid(frame)
    h, w = frame.image.shape[:2]
    dst = None if work is None else work.get("background", (h, w, 3), np.uint8)
    return cv2.resize(blurred_small(frame, alpha, sigma_720), (w, h), dst=dst, interpolation=cv2.INTER_LINEAR)


def blurred_small(frame: Union[np.ndarray, Pyramid], alpha: np.ndarray, sigma_720: float) -> np.ndarray:
    """blur_background before it is scaled up to the frame: RGB uint8 at blur_plan's
    size. The OBS worker makes it from the frame it reads back (the model's size) and
    the filter scales it up as it draws."""
    frame = frame if isinstance(frame, Pyramid) else Pyramid(frame)
    h, w = frame.image.shape[:2]
    size, sigma = blur_plan((w, h), sigma_720)
    small = frame.shrink(*size).astype(np.float32)
    weight = 1.0 - coverage(alpha, size)
    ksize = (2 * blur_radius(sigma) + 1,) * 2
    num = cv2.GaussianBlur(small * weight[:, :, None], ksize, sigma)
    den = cv2.GaussianBlur(weight, ksize, sigma)
    return cv2.divide(num, cv2.merge((np.maximum(den, BLUR_WEIGHT_FLOOR),) * 3), dtype=cv2.CV_8U)


def blend(rgb_u8: np.ndarray, background_u8: np.ndarray, alpha_u8: np.ndarray,
          work: Optional[Workspace] = None) -> np.ndarray:
    """frame * alpha + background * (1 - alpha), in uint8 (error at most 1 level),
    in row bands side by side. -> a new array."""
    work = work or Workspace()
    shape = rgb_u8.shape
    alpha3, front = work.get("alpha3", shape, np.uint8), work.get("front", shape, np.uint8)
    out = np.empty(shape, np.uint8)

    def band(rows: slice) -> None:
        a3 = cv2.merge((alpha_u8[rows],) * 3, dst=alpha3[rows])
        cv2.multiply(rgb_u8[rows], a3, dst=front[rows], scale=1 / 255)
        cv2.bitwise_not(a3, dst=a3)
        cv2.multiply(background_u8[rows], a3, dst=out[rows], scale=1 / 255)
        cv2.add(front[rows], out[rows], dst=out[rows])
    in_bands(band, shape[0])
    return out


class Compositor:
    """Draws frames for one Settings. Loads the background image once (a missing or
    corrupt image raises MediaError here, before any frame) and caches its fit; in
    video mode the caller hands each frame its `backdrop` (a frame of the background
    video, any size), fitted here and cached while the same array comes again."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._image = load_image(settings.image_path) if settings.mode == "image" else None
        self._cache: Optional[Tuple[Tuple[int, int], np.ndarray]] = None
        self._backdrop: Optional[Tuple[np.ndarray, Tuple[int, int], np.ndarray]] = None
        self._work = Workspace()

    def _static_background(self, size: Tuple[int, int]) -> np.ndarray:
        if self._cache is None or self._cache[0] != size:
            if self._image is not None:
                background = fit_image(self._image, size, self.settings.image_fit)
            else:
                background = np.empty((size[1], size[0], 3), np.uint8)
                background[:] = self.settings.color
            self._cache = (size, background)
        return self._cache[1]

    def _video_background(self, backdrop: Optional[np.ndarray], size: Tuple[int, int]) -> np.ndarray:
        if backdrop is None:
            raise ValueError("video mode: each frame needs its backdrop (a frame of the background video)")
        cached = self._backdrop
        if cached is None or cached[0] is not backdrop or cached[1] != size:
            self._backdrop = cached = (backdrop, size, fit_image(backdrop, size, self.settings.video_fit))
        return cached[2]

    def background(self, frame: Union[np.ndarray, Pyramid], alpha: np.ndarray,
                   backdrop: Optional[np.ndarray] = None) -> Optional[np.ndarray]:
        """The frame's background at its size (None for transparent). `alpha`: the
        person's alpha at any size (see `coverage`); only the blur reads it.
        `backdrop`: video mode's frame of the background video (RGB uint8)."""
        rgb_u8 = frame.image if isinstance(frame, Pyramid) else frame
        size = (rgb_u8.shape[1], rgb_u8.shape[0])
        if self.settings.mode == "blur":
            return blur_background(frame, alpha, self.settings.blur, self._work)
        if self.settings.mode == "transparent":
            return None
        if self.settings.mode == "video":
            return self._video_background(backdrop, size)
        return self._static_background(size)

    def __call__(self, frame: Union[np.ndarray, Pyramid], alpha_u8: np.ndarray,
                 background: Optional[np.ndarray] = None, backdrop: Optional[np.ndarray] = None) -> np.ndarray:
        """-> a new RGB uint8 (RGBA for transparent) array of the frame's size.
        `frame`: RGB uint8, or its Pyramid when the caller already made one;
        `background`: from `self.background`, if the caller made it already;
        `backdrop`: as for `self.background`."""
        rgb_u8 = frame.image if isinstance(frame, Pyramid) else frame
        if self.settings.mode == "transparent":
            return cv2.merge((rgb_u8, alpha_u8))
        if background is None:
            background = self.background(frame, alpha_u8, backdrop)
        return blend(rgb_u8, background, alpha_u8, self._work)
