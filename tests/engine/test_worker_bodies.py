"""The OBS worker tracks whole bodies as `vbg` does, in what the filter reads back (the
frame and the crop it was asked for, each at the model's size): its own SourceLoop on a
real channel, stepped in this process, the filter's readbacks made here with OpenCV's
area average (what the filter's Downsample pass computes); the real models on the
bundled bedroom clip (two children jumping on a bed)."""

import os
import time

import cv2
import numpy as np
import pytest

from realdata import sample_frames
from vbg_core.engine.imaging import Pyramid
from vbg_core.engine.pose import PoseTracker
from vbg_core.shared.channel import Channel
from vbg_core.shared.messages import CROP, pack_frame, split_mask
from vbg_core.source_loop import Segmenters, SourceLoop

MODEL_WH = (256, 144)           # the default model's input: what the filter reads back for 16:9


class Filter:
    """The filter's side of one source: sends each frame's readbacks, returns the mask."""

    def __init__(self, segmenters: Segmenters, **settings):
        self.channel = Channel.create(f"vbg_test_{os.getpid()}_{time.monotonic_ns()}", os.getpid())
        Channel.put_json(self.channel.settings, dict({"mode": "color", "pause_when_still": False}, **settings), 1)
        self.loop = SourceLoop(self.channel, segmenters)
        self.frame_id = 0

    def mask(self, rgb) -> np.ndarray:
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
        self.loop.step()
        slot = self.channel.masks.read(self.frame_id - 1)
        assert slot is not None and slot.frame_id == self.frame_id, self.loop.error
        rows = np.frombuffer(split_mask(slot).rows, np.uint8).reshape(slot.height, -1)
        return cv2.resize(rows[:, :slot.width], (w, h), interpolation=cv2.INTER_LINEAR)

    def close(self) -> None:
        self.channel.close()


def _rgba(rgb) -> bytes:
    return np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]).tobytes()


@pytest.fixture(scope="module")
def bedroom():
    return sample_frames("sam2_bedroom_jump.mp4", 50)


def test_both_children_on_the_bed_are_in_the_workers_mask(bedroom):
    """Where the tracker finds each child's hips and shoulders in the full frame (`vbg`'s
    view), the worker's mask says person in at least 90 % of the points; the selfie
    model alone leaves much of the second child out."""
    tracker, state, points = PoseTracker(), None, []
    for rgb in bedroom:
        result = tracker(Pyramid(rgb), state, rgb.shape[:2])
        state = result.state
        points.append([body.landmarks[i] for body in result.bodies for i in (11, 12, 23, 24)])
    worker = Filter(Segmenters())
    try:
        masks = [worker.mask(rgb) for rgb in bedroom]
        assert worker.loop.tracker is not None and worker.loop.pose_state is not None
    finally:
        worker.close()
    h, w = bedroom[0].shape[:2]
    seen = [mask[int(y), int(x)] >= 128 for mask, frame_points in zip(masks, points)
            for x, y in frame_points if 0 <= x < w and 0 <= y < h]
    assert len(seen) >= 4 * 50 and np.mean(seen) >= 0.9, f"{np.mean(seen):.3f} of {len(seen)} points"


def test_whole_bodies_off_is_the_selfie_model_alone(bedroom):
    """The panel's "Track whole bodies" off (OBS's default): no tracker for that source
    while another source of the same worker has one (shared), and the two sources'
    masks of the same frames differ (the bodies are what differs)."""
    segmenters = Segmenters()
    off, on = Filter(segmenters, whole_bodies=False), Filter(segmenters)
    try:
        masks = [(off.mask(rgb), on.mask(rgb)) for rgb in bedroom[:6]]
        assert off.loop.tracker is None and on.loop.tracker is not None
        assert segmenters.trackers and len(segmenters.trackers) == 1
    finally:
        off.close()
        on.close()
    assert any(not np.array_equal(a, b) for a, b in masks)


def test_track_whole_bodies_ticked_later_starts_tracking(bedroom):
    """The same model, "Track whole bodies" ticked after frames without it: the worker
    picks the tracker up (the model is not loaded again) and drops it when unticked."""
    worker = Filter(Segmenters(), whole_bodies=False)
    try:
        worker.mask(bedroom[0])
        assert worker.loop.tracker is None
        Channel.put_json(worker.channel.settings, {"mode": "color", "pause_when_still": False}, 2)
        worker.mask(bedroom[1])
        assert worker.loop.tracker is not None and worker.loop.pose_state is not None
        Channel.put_json(worker.channel.settings, {"mode": "color", "whole_bodies": False}, 3)
        worker.mask(bedroom[2])
        assert worker.loop.tracker is None and worker.loop.pose_state is None
    finally:
        worker.close()
