"""The worker's per-source state with the recurrent RVM model: two sources (different
people) served by one worker share the inference session, never the state; the state
starts afresh on a cut, a new frame size, frames resuming after a pause and new
settings. The worker's own SourceLoops on real channels, stepped in this process (no
timing involved); real RVM on the bundled clips."""

import dataclasses
import os
import time

import cv2
import numpy as np
import pytest

from realdata import ROOT, rvm_missing
from vbg_core.cli import media
from vbg_core.shared import models
from vbg_core.shared.channel import Channel
from vbg_core.shared.maths import blur_plan
from vbg_core.shared.messages import Mask, pack_frame, split_mask
from vbg_core.shared.settings import Settings
from vbg_core.source_loop import IDLE_AFTER_S, Segmenters, SourceLoop

SETTINGS = {"model": "rvm", "pause_when_still": False}
SIZE = (512, 288)               # what OBS reads back for a 16:9 source with RVM
needs_rvm = pytest.mark.skipif(bool(rvm_missing()), reason=rvm_missing())


def frames(name: str, count: int, size=SIZE):
    reader = media.VideoReader(str(ROOT / "samples" / name))
    out = [np.dstack([small := cv2.resize(rgb, size, interpolation=cv2.INTER_AREA),
                      np.full(small.shape[:2], 255, np.uint8)]) for _, rgb in zip(range(count), reader)]
    reader.close()
    return out


class Source:
    """One source's channel and the worker's loop for it."""

    def __init__(self, segmenters: Segmenters, settings=SETTINGS):
        self.channel = Channel.create(f"vbg_test_{os.getpid()}_{time.monotonic_ns()}", os.getpid())
        self.loop = SourceLoop(self.channel, segmenters)
        self.frame_id, self.settings_id = 0, 0
        self.configure(settings)

    def configure(self, settings) -> None:
        self.settings_id += 1
        Channel.put_json(self.channel.settings, settings, self.settings_id)

    def message(self, rgba) -> Mask:
        """Send a frame, let the worker's loop take one step -> the message it wrote."""
        self.frame_id += 1
        message = pack_frame(rgba.shape[1::-1], rgba.tobytes())     # the source read back whole, no crop
        self.channel.frames.write(message, rgba.shape[1], rgba.shape[0], self.frame_id)
        self.loop.step()
        slot = self.channel.masks.read(self.frame_id - 1)
        assert slot is not None and slot.frame_id == self.frame_id, self.loop.error
        return split_mask(slot)

    def mask(self, rgba) -> np.ndarray:
        """-> the mask the worker wrote for this frame."""
        return np.frombuffer(self.message(rgba).rows, np.uint8).reshape(rgba.shape[0], -1)

    def close(self) -> None:
        self.channel.close()


@pytest.fixture
def segmenters():
    return Segmenters()


@pytest.fixture
def sources(segmenters):
    made = []
    yield lambda settings=SETTINGS: made.append(Source(segmenters, settings)) or made[-1]
    for source in made:
        source.close()


@pytest.fixture(scope="module")
def clips():
    return {"juggle": frames("sam2_juggle.mp4", 4), "coffee": frames("sam2_coffee.mp4", 4)}


@needs_rvm
def test_two_sources_share_the_session_never_the_state(sources, segmenters, clips):
    """Served interleaved, each source's masks are exactly those it gets alone."""
    alone = {}
    for name, clip in clips.items():
        source = sources()
        alone[name] = [source.mask(rgba) for rgba in clip]
    juggler, coffee = sources(), sources()
    for index in range(4):
        np.testing.assert_array_equal(juggler.mask(clips["juggle"][index]), alone["juggle"][index])
        np.testing.assert_array_equal(coffee.mask(clips["coffee"][index]), alone["coffee"][index])
    assert len(segmenters.sessions) == 1 and juggler.loop.segmenter is coffee.loop.segmenter
    assert juggler.loop.memory is not coffee.loop.memory
    assert juggler.loop.resets == coffee.loop.resets == 0


def first_mask(sources, rgba, settings=SETTINGS):
    """A new stream's mask of this frame (a source that never saw another)."""
    return sources(settings).mask(rgba)


@needs_rvm
def test_a_cut_starts_the_state_afresh(sources, clips):
    source = sources()
    for rgba in clips["juggle"]:
        source.mask(rgba)
    after_cut = source.mask(clips["coffee"][0])
    assert source.loop.resets == 1
    np.testing.assert_array_equal(after_cut, first_mask(sources, clips["coffee"][0]))


@needs_rvm
def test_new_settings_a_new_size_and_a_pause_start_the_state_afresh(sources, clips):
    source = sources()
    for rgba in clips["juggle"][:2]:
        source.mask(rgba)
    changed = dict(SETTINGS, threshold=0.4)
    source.configure(changed)
    np.testing.assert_array_equal(source.mask(clips["juggle"][2]), first_mask(sources, clips["juggle"][2], changed))
    smaller = frames("sam2_juggle.mp4", 4, (384, 216))
    source.mask(smaller[2])
    assert source.loop.resets == 1 and source.loop.memory_size == (384, 216)
    source.mask(smaller[3])
    source.loop.step()                                      # no new frame: the worker waits ...
    source.loop.waiting_since -= IDLE_AFTER_S + 0.1         # ... as long as while the source was hidden
    resumed = source.mask(smaller[3])
    assert source.loop.resets == 2
    np.testing.assert_array_equal(resumed, first_mask(sources, smaller[3], changed))


def test_rvm_not_installed_runs_the_default_model_and_the_stats_say_how(sources, monkeypatch, tmp_path):
    spec = models.get_model("rvm")
    monkeypatch.setitem(models.REGISTRY, "rvm", dataclasses.replace(spec, file=str(tmp_path / "absent.onnx")))
    source = sources()
    source.mask(frames("sam2_juggle.mp4", 1)[0])
    source.loop.publish_stats(force=True)
    stats = Channel.get_json(source.channel.stats)[1]
    assert stats["model"] == models.DEFAULT_MODEL and not stats["error"]
    assert "RVM is not installed" in stats["note"] and "--with-rvm" in stats["note"]


@pytest.mark.parametrize("mode, blurred", [("blur", True), ("video", True), ("color", False),
                                           ("image", False), ("transparent", False)])
def test_the_background_is_blurred_only_in_the_modes_that_may_draw_it(sources, clips, mode, blurred):
    """Blur mode, and video mode (which shows the blur while its video has no frame);
    the filter sends the mode it draws (blur for a missing image): no CPU spent on a
    blur the filter would not draw. The default model."""
    source = sources({"model": "landscape", "mode": mode, "pause_when_still": False})
    message = source.message(clips["coffee"][0])
    assert bool(message.background) is blurred
    if blurred:
        w, h = message.background_size
        assert len(message.background) == w * h * 4 and (w, h) == blur_plan(SIZE, Settings().blur)[0]
