"""Small image helpers shared by the stages (OpenCV on uint8/float32 arrays)."""

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Sequence

import cv2
import numpy as np


def halve(image: np.ndarray) -> np.ndarray:
    """Exact 2x area average (OpenCV's fast path for integer INTER_AREA); an odd last
    row or column is dropped."""
    half = (image.shape[1] // 2, image.shape[0] // 2)
    return cv2.resize(image[:half[1] * 2, :half[0] * 2], half, interpolation=cv2.INTER_AREA)


class Pyramid:
    """A frame and its halvings, made on demand and kept for the frame's lifetime, so
    the stages that want a smaller view of the same frame (the model's input, the
    guided filter's guide, the background blur) share the work: halving a 720p frame
    once costs about as much as everything else at low resolution together."""

    def __init__(self, image: np.ndarray):
        self._levels = [image]
        self._grays = {}
        self._lock = threading.Lock()       # the blur may ask from another thread

    @property
    def image(self) -> np.ndarray:
        return self._levels[0]

    def level(self, k: int) -> np.ndarray:
        """The frame halved k times."""
        with self._lock:
            while len(self._levels) <= k:
                self._levels.append(halve(self._levels[-1]))
            return self._levels[k]

    def gray(self, k: int) -> np.ndarray:
        """The luma (uint8, OpenCV's RGB2GRAY) of the frame halved k times."""
        image = self.level(k)
        with self._lock:
            if k not in self._grays:
                self._grays[k] = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
            return self._grays[k]

    def coarsest_level(self, width: int, height: int) -> int:
        """The most halvings that keep the frame at least (width, height)."""
        k, (h, w) = 0, self.image.shape[:2]
        while w >= 2 * width and h >= 2 * height:
            k, w, h = k + 1, w // 2, h // 2
        return k

    def shrink(self, width: int, height: int) -> np.ndarray:
        """Downscale to (width, height): exact halvings while the frame is at least
        twice the target, then one resize by less than 2x. That last step is
        bilinear: OpenCV's INTER_AREA for a non-integer factor is 5x slower (0.5 ms
        from 320x180 to 256x144) and, under 2x, samples the same pixels."""
        image = self.level(self.coarsest_level(width, height))
        if (image.shape[1], image.shape[0]) == (width, height):
            return image
        return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Area-like downscale of one image (see Pyramid.shrink)."""
    return Pyramid(image).shrink(width, height)


def paste(dst: np.ndarray, src: np.ndarray, y0: int, x0: int) -> None:
    """Copy src into dst with src's top-left at (y0, x0), clipped to both."""
    dy, dx = max(0, y0), max(0, x0)
    sy, sx = max(0, -y0), max(0, -x0)
    h = min(dst.shape[0] - dy, src.shape[0] - sy)
    w = min(dst.shape[1] - dx, src.shape[1] - sx)
    if h > 0 and w > 0:
        dst[dy:dy + h, dx:dx + w] = src[sy:sy + h, sx:sx + w]


class Workspace:
    """Reusable full-frame scratch arrays, one per name. Allocating a fresh 720p or
    1080p array per frame costs more than the arithmetic on it (the pages are
    faulted in anew every time), so the hot path writes into these via OpenCV's
    `dst=` arguments. One Workspace per stream; not shared between threads."""

    def __init__(self):
        self._arrays = {}

    def get(self, name: str, shape, dtype) -> np.ndarray:
        array = self._arrays.get(name)
        if array is None or array.shape != tuple(shape) or array.dtype != dtype:
            array = self._arrays[name] = np.empty(shape, dtype)
        return array


# The engine's thread pools, made once here (their threads start with the first job).
BANDS = min(4, os.cpu_count() or 1)
_BAND_POOL = ThreadPoolExecutor(max_workers=max(1, BANDS - 1), thread_name_prefix="vbg-band")
_ASIDE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vbg-aside")
_BEHIND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vbg-behind")


def aside(work: Callable, *args) -> Future:
    """Run `work(*args)` on a thread of its own (one, shared by all callers), beside
    the caller's own work; -> its Future. Not the band pool: a long job there would
    hold up the bands that the caller runs meanwhile."""
    return _ASIDE.submit(work, *args)


def behind(work: Callable, *args) -> Future:
    """Run `work(*args)` on a thread of its own whose result a later frame takes (no
    frame waits for it): not `aside`'s, whose short jobs this frame waits for."""
    return _BEHIND.submit(work, *args)


def shared(work: Callable, items: Sequence) -> list:
    """[work(item) for item in items], every second one on the band pool meanwhile (idle
    then: the bands' passes come after): several people's landmark runs on two cores."""
    futures = [_BAND_POOL.submit(work, item) for item in items[1::2]]
    out = [None] * len(items)
    out[0::2] = [work(item) for item in items[0::2]]
    out[1::2] = [future.result() for future in futures]
    return out


def in_bands(work: Callable[[slice], None], height: int, bands: int = 0) -> None:
    """Run `work(rows)` over horizontal bands of a frame on a small thread pool.
    OpenCV's element-wise operations run on one core and release the GIL, so on a
    multi-core machine the bands of a full-resolution pass run side by side."""
    bands = bands or BANDS
    if bands <= 1 or height < 64:
        work(slice(0, height))
        return
    edges = [height * i // bands for i in range(bands + 1)]
    futures = [_BAND_POOL.submit(work, slice(a, b)) for a, b in zip(edges[1:-1], edges[2:])]
    work(slice(0, edges[1]))            # the first band here, the others on the pool
    for future in futures:
        future.result()
