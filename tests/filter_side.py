"""The OBS filter's side of one source, without OBS: each frame's readbacks (the whole
frame and the crop the worker asked for, each area-averaged to the model's size with
OpenCV, as the filter's Downsample pass does) sent through a real channel to the
worker's own SourceLoop, stepped in this process; the mask it writes comes back.
Used by tests/engine/test_worker_bodies.py and benchmarks/worker_quality.py."""

import os
import time

import cv2
import numpy as np

from vbg_core.engine.refine import luma_f32
from vbg_core.shared.channel import Channel
from vbg_core.shared.messages import CROP, pack_frame, split_mask
from vbg_core.source_loop import Segmenters, SourceLoop

MODEL_WH = (256, 144)           # the default model's input: what the filter reads back for 16:9


class FilterSide:
    def __init__(self, segmenters: Segmenters, **settings):
        self.channel = Channel.create(f"vbg_test_{os.getpid()}_{time.monotonic_ns()}", os.getpid())
        self.settings_id = 0
        self.configure(**settings)
        self.loop = SourceLoop(self.channel, segmenters)
        self.frame_id = 0
        self.step_ms = 0.0              # the worker's last step (no readback work in it)
        self.coefficients = None        # the last mask's guided filter coefficients (h, w, 2), or None

    def configure(self, **settings) -> None:
        """New settings, as the filter sends them (colour mode, never pausing)."""
        self.settings_id += 1
        Channel.put_json(self.channel.settings, dict({"mode": "color", "pause_when_still": False}, **settings),
                         self.settings_id)

    def mask(self, rgb) -> np.ndarray:
        """Send this frame's readbacks, let the worker take one step -> its mask (uint8,
        255 = person), scaled to the frame's size."""
        h, w = rgb.shape[:2]
        self.frame_id += 1
        full = _rgba(cv2.resize(rgb, MODEL_WH, interpolation=cv2.INTER_AREA))
        slot = self.channel.crops.read(-1)
        if slot is not None and slot.data:
            rect = CROP.unpack(slot.data)
            x0, y0, x1, y1 = (round(v * s) for v, s in zip(rect, (w, h, w, h)))
            crop = _rgba(cv2.resize(rgb[y0:y1, x0:x1], MODEL_WH, interpolation=cv2.INTER_AREA))
            message = pack_frame((w, h), full, MODEL_WH, rect, crop)
        else:
            message = pack_frame((w, h), full)
        self.channel.frames.write(message, *MODEL_WH, self.frame_id)
        start = time.perf_counter()
        self.loop.step()
        self.step_ms = (time.perf_counter() - start) * 1000
        slot = self.channel.masks.read(self.frame_id - 1)
        assert slot is not None and slot.frame_id == self.frame_id, self.loop.error
        mask = split_mask(slot)
        rows = np.frombuffer(mask.rows, np.uint8).reshape(slot.height, -1)
        self.coefficients = np.frombuffer(mask.coefficients, np.float16).reshape(slot.height, slot.width, 2) \
            if mask.coefficients else None
        return cv2.resize(rows[:, :slot.width], (w, h), interpolation=cv2.INTER_LINEAR)

    def drawn(self, rgb, mask) -> np.ndarray:
        """The alpha the filter draws on `rgb` with the last mask (`mask`, as `mask`
        returned it): with edge refinement, a * luma + b from the worker's coefficients
        read bilinearly at every pixel (vbg.effect's alpha_guided); else the mask as it is."""
        if self.coefficients is None:
            return mask
        h, w = rgb.shape[:2]
        ab = cv2.resize(self.coefficients.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
        return (np.clip(ab[:, :, 0] * luma_f32(rgb) + ab[:, :, 1], 0, 1) * 255 + 0.5).astype(np.uint8)

    def close(self) -> None:
        self.channel.close()


def _rgba(rgb) -> bytes:
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]).tobytes()
