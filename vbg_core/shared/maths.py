"""Every number and formula the CPU engine and the OBS shader share, so both draw the
same picture. Standard library only (OBS's Python imports it too).

The CPU reads these names (engine/refine.py, compose.py, regions.py, segment.py);
the shader gets the constants as `#define`s that vbg_core/obs/effect.py puts before
vbg.effect's text when it compiles it (`shader_defines`), and the per-frame values
(image placement) as uniforms computed here. The blur's plan is the CPU's alone now
(`vbg`, and the OBS worker, which blurs the background for the filter). Read from
here; never copy a number. tests/shared/test_maths.py checks both halves read the same.
"""

import math
from typing import Tuple

# guide luma = dot(rgb / 255, LUMA): OpenCV's RGB2GRAY weights, which the CPU uses
LUMA = (0.299, 0.587, 0.114)
# guided filter: window radius in low-res mask texels; regularisation (luma in 0..1;
# 1e-3 let leafy backgrounds speckle the edge)
EDGE_RADIUS = 2
EDGE_EPS = 1e-2
# background blur: Gaussian kernel radius in sigmas (OpenCV's default 4 adds 0.3 % of
# the weight); the blurred weight is floored at this before the division
BLUR_RADIUS_SIGMAS = 3
BLUR_WEIGHT_FLOOR = 1e-3
# regions (engine/regions.py): cells per side of a block; where the mask is certain
# over MARGIN cells around a block, the guided alpha is too (two box means of radius
# EDGE_RADIUS, plus one cell for the bilinear read)
REGION_BLOCK = 4
REGION_MARGIN = 2 * EDGE_RADIUS + 1

# the constants the shader is compiled with, by the names vbg.effect uses
SHADER_DEFINES = {"LUMA": LUMA}


def _shader_literal(value) -> str:
    if isinstance(value, tuple):
        return f"float{len(value)}({', '.join(_shader_literal(float(v)) for v in value)})"
    if isinstance(value, int):
        return str(value)
    text = f"{value:.12f}".rstrip("0")        # no exponent: plain decimals parse everywhere
    return text + "0" if text.endswith(".") else text


def shader_defines() -> str:
    """SHADER_DEFINES as effect-file lines, one `#define NAME value` each."""
    return "".join(f"#define {name} {_shader_literal(value)}\n" for name, value in SHADER_DEFINES.items())


def blur_sigma_px(sigma_720: float, frame_height: int) -> float:
    """A blur setting (sigma at 720 lines) -> sigma in pixels of this frame."""
    return sigma_720 * frame_height / 720.0


def blur_downscale(sigma_px: float) -> int:
    """Integer factor by which the background is shrunk before blurring: the blur
    then has a sigma of about 2 pixels there (coarser looked the same after the
    bilinear upsampling and costs half as much as about 3)."""
    return int(max(1, min(8, round(sigma_px / 2.0))))


def blur_plan(frame_wh: Tuple[int, int], sigma_720: float) -> Tuple[Tuple[int, int], float]:
    """-> ((width, height) of the shrunk image the blur runs on, sigma there in its
    pixels)."""
    w, h = frame_wh
    sigma = blur_sigma_px(sigma_720, h)
    factor = blur_downscale(sigma)
    return (max(1, w // factor), max(1, h // factor)), sigma / factor


def blur_radius(sigma: float) -> int:
    """Gaussian kernel radius in pixels for this sigma."""
    return math.ceil(BLUR_RADIUS_SIGMAS * sigma)


def fit_box(src_hw, dst_hw, fill: bool):
    """Scale a (h, w) box into a (h, w) box keeping its aspect: to fill it (and be
    cropped) or to fit inside it (and be padded). -> (width, height, y0, x0), the
    scaled size and its centred offset (negative when it sticks out)."""
    (h, w), (dh, dw) = src_hw, dst_hw
    scale = (max if fill else min)(dw / w, dh / h)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    return sw, sh, (dh - sh) // 2, (dw - sw) // 2


def fit_uv(frame_wh: Tuple[int, int], image_wh: Tuple[int, int], fit: str):
    """The shader's form of a background image's placement (fit_box; 'stretch'
    fills the frame): uv of the frame -> uv of the image, as (scale_u, scale_v,
    offset_u, offset_v); outside 0..1 is the black bars."""
    (w, h), (iw, ih) = frame_wh, image_wh
    if fit == "stretch" or not iw or not ih:
        return 1.0, 1.0, 0.0, 0.0
    sw, sh, y0, x0 = fit_box((ih, iw), (h, w), fill=fit == "cover")
    return w / sw, h / sh, -x0 / sw, -y0 / sh

