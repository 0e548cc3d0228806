"""Where a low-res mask already decides the full-resolution alpha.

The drawn alpha at a pixel is the guided filter's a * luma + b (or, with edges off,
the mask itself), with (a, b) read bilinearly from the low-res grid. Both box means
of the guided filter have radius EDGE_RADIUS, so a and b at a mask cell depend on the
mask within 2 * EDGE_RADIUS cells, and the bilinear read adds one more: where the
mask is exactly 0 (or exactly 255) over a square of radius MARGIN cells, a = 0 and
b = 0 (or 1) exactly, whatever the frame, and the alpha is 0 (or 1) there.

The OBS filter draws those parts with a shader that reads only what it needs (the
frame, or the background) and runs the full composite only on the edges: on a GPU
emulated by the CPU (llvmpipe) most of a frame's cost is texture reads per pixel.
"""

from typing import Tuple

import cv2
import numpy as np

from ..shared.messages import MAX_RECTS, REGION_CLASSES, REGION_HEADER
from ..shared.maths import REGION_BLOCK as BLOCK, REGION_MARGIN as MARGIN

BACKGROUND, PERSON, EDGE = (REGION_CLASSES.index(name) for name in ("background", "person", "edge"))


def classify(mask_u8: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Low-res mask (h, w), 255 = person -> class per block of block x block cells
    (ceil(h / block), ceil(w / block)): BACKGROUND, PERSON or EDGE."""
    # One erosion per value over each block grown by MARGIN, read at the blocks'
    # corners. Outside the grid counts as "true" (erode's default border): right,
    # since the shader clamps there (what lies beyond is the border cells).
    size = block + 2 * MARGIN
    kernel = np.ones((size, size), np.uint8)
    classes = np.full((-(-mask_u8.shape[0] // block), -(-mask_u8.shape[1] // block)), EDGE, np.uint8)
    for value, cls in ((0, BACKGROUND), (255, PERSON)):
        certain = cv2.erode((mask_u8 == value).view(np.uint8), kernel, anchor=(MARGIN, MARGIN))
        classes[certain[::block, ::block] != 0] = cls
    return classes


def runs(classes: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Runs of one class along each block row -> (row, first column, end column,
    class) arrays, row by row, left to right."""
    starts = np.ones(classes.shape, bool)
    starts[:, 1:] = classes[:, 1:] != classes[:, :-1]
    rows, cols = np.nonzero(starts)
    ends = np.full(cols.shape, classes.shape[1])
    ends[:-1] = np.where(rows[1:] == rows[:-1], cols[1:], classes.shape[1])
    return rows, cols, ends, classes[rows, cols]


def pack(mask_u8: np.ndarray, block: int = BLOCK) -> bytes:
    """The regions of a mask in the channel's format (messages.REGION_*), or b"" when
    they would take more than MAX_RECTS rectangles (then the filter computes the
    alpha everywhere, as without regions)."""
    h, w = mask_u8.shape
    rows, cols, ends, cls = runs(classify(mask_u8, block))
    if len(rows) > MAX_RECTS:
        return b""
    order = np.argsort(cls, kind="stable")
    rows, cols, ends, cls = rows[order], cols[order], ends[order], cls[order]
    x0, x1 = cols * block / w, np.minimum(ends * block, w) / w
    y0, y1 = rows * block / h, np.minimum((rows + 1) * block, h) / h
    # two triangles per rectangle, both wound like libobs' sprites
    xs = np.stack([x0, x1, x0, x0, x1, x1], axis=1).ravel()
    ys = np.stack([y0, y0, y1, y1, y0, y1], axis=1).ravel()
    points = np.zeros((len(xs), 4), np.float32)
    points[:, 0], points[:, 1] = xs, ys
    counts = np.bincount(cls, minlength=len(REGION_CLASSES))
    return REGION_HEADER.pack(*counts.tolist()) + points.tobytes() + points[:, :2].tobytes()
