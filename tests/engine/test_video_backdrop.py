"""Video mode's clip played by the worker (vbg_core/video_backdrop.py): the frame due at a
time, sent once per frame of the clip, from its start again when shown again, at a size
the frame can show; a file that is no video says so. The player's work (`decode`) is
given its times (no clock involved); its thread is waited for with a deadline; the last
test steps the worker's own SourceLoop on a real channel.
The bundled clip: samples/sam2_bedroom_wall.mp4, 384x288 @ 30, 2 s."""

import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from realdata import ROOT
from vbg_core.cli import media
from vbg_core.shared.channel import Channel
from vbg_core.shared.messages import pack_frame, split_mask
from vbg_core.source_loop import Segmenters, SourceLoop
from vbg_core.video_backdrop import VideoBackdrop, backdrop_size

CLIP = ROOT / "samples" / "sam2_bedroom_wall.mp4"
FRAME_HW = (720, 1280)


@pytest.fixture(scope="module")
def clip():
    return list(media.VideoReader(str(CLIP)))


def rgb_of(sent):
    data, (w, h) = sent
    return np.frombuffer(data, np.uint8).reshape(h, w, 4)[:, :, :3]


def test_the_frame_due_is_sent_once_and_the_clip_restarts_when_shown_again(clip):
    backdrop = VideoBackdrop(str(CLIP), loop=True)
    try:
        first = backdrop.decode(0.0, FRAME_HW)
        assert first[1] == (384, 288) and np.array_equal(rgb_of(first), clip[0])
        assert backdrop.decode(0.01, FRAME_HW) is None, "the same frame is not sent twice"
        later = backdrop.decode(1.0, FRAME_HW)                  # 1 s in: frame 30 of 60
        assert np.array_equal(rgb_of(later), clip[30])
        looped = backdrop.decode(2.5, FRAME_HW)                 # 2.5 s in: looped to frame 15
        assert np.array_equal(rgb_of(looped), clip[15])
        backdrop.restart()
        assert np.array_equal(rgb_of(backdrop.decode(0.0, FRAME_HW)), clip[0])
    finally:
        backdrop.close()


def test_without_looping_the_last_frame_stays(clip):
    backdrop = VideoBackdrop(str(CLIP), loop=False)
    try:
        backdrop.decode(0.0, FRAME_HW)
        assert np.array_equal(rgb_of(backdrop.decode(1.99, FRAME_HW)), clip[-1])
        assert backdrop.decode(5.0, FRAME_HW) is None and backdrop.problem == ""
    finally:
        backdrop.close()


def test_the_size_sent_is_what_the_frame_can_show():
    assert backdrop_size((384, 288), (720, 1280)) == (384, 288)        # never enlarged
    assert backdrop_size((1920, 1080), (720, 1280)) == (1280, 720)     # no more than the frame shows
    assert backdrop_size((1920, 1080), (360, 640)) == (640, 360)
    assert backdrop_size((1080, 1920), (720, 1280)) == (720, 1280)     # an upright clip: 1280x720 pixels at most
    assert backdrop_size((3840, 2160), (2160, 3840)) == (1280, 720)    # at most 1280x720 pixels


def test_a_smaller_frame_gets_the_clip_scaled_down(clip):
    backdrop = VideoBackdrop(str(CLIP), loop=True)
    try:
        sent = backdrop.decode(0.0, (144, 192))
        assert sent[1] == (192, 144)
        expected = cv2.resize(clip[0], (192, 144), interpolation=cv2.INTER_AREA)
        error = np.abs(rgb_of(sent).astype(np.float32) - expected).mean()
        assert error < 1.5, f"MAD {error:.2f} from OpenCV's area average (swscale's, from YUV)"
    finally:
        backdrop.close()


def test_a_file_that_is_no_video_says_so(tmp_path):
    notes = tmp_path / "notes.mp4"
    notes.write_bytes(b"this is not a video\n" * 500)
    backdrop = VideoBackdrop(str(notes), loop=True)
    assert backdrop.problem == (f"cannot play background video {notes} (not a video file, or corrupt) "
                                "— showing blur instead")
    assert backdrop.frame(0.0, FRAME_HW) is None and not backdrop.playing


def test_a_clip_removed_before_the_worker_opens_it_says_so_once(tmp_path):
    """OBS checked the file, then it went (a race): the player's own words, not nested."""
    gone = tmp_path / "gone.mp4"
    backdrop = VideoBackdrop(str(gone), loop=True)
    assert backdrop.problem == f"background video not found: {gone} — showing blur instead"
    assert backdrop.frame(0.0, FRAME_HW) is None and not backdrop.playing


def test_a_cut_short_clip_plays_what_it_has_and_never_raises(tmp_path):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(CLIP.read_bytes()[: CLIP.stat().st_size // 3])
    backdrop = VideoBackdrop(str(cut), loop=True)
    try:
        sent = [backdrop.decode(i / 30, FRAME_HW) for i in range(150)]      # 5 s of its times
        assert any(s is not None for s in sent)
    finally:
        backdrop.close()


def test_the_thread_makes_the_frames_and_the_loop_never_waits(clip):
    """`frame` hands over what the thread made by its last call and asks for the next:
    the first call gives nothing yet, a later one the clip's first frame."""
    backdrop = VideoBackdrop(str(CLIP), loop=True)
    try:
        assert backdrop.frame(0.0, FRAME_HW) is None
        deadline, sent = time.monotonic() + 10, None
        while sent is None and time.monotonic() < deadline:
            time.sleep(0.01)
            sent = backdrop.frame(0.001, FRAME_HW)
        assert sent is not None and np.array_equal(rgb_of(sent), clip[0])
    finally:
        backdrop.close()
    assert backdrop.pool is None and backdrop.video is None


def open_files(path: Path) -> int:
    return sum(os.path.realpath(f"/proc/self/fd/{fd}") == str(path) for fd in os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files in /proc")
def test_the_worker_sends_the_clip_and_lets_go_of_it_in_another_mode(clip, tmp_path):
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(CLIP.read_bytes())
    channel = Channel.create(f"vbg_test_{os.getpid()}_{time.monotonic_ns()}", os.getpid())
    loop = SourceLoop(channel, Segmenters())
    try:
        Channel.put_json(channel.settings, {"mode": "video", "video_path": str(copy), "video_loop": True}, 1)
        frame, frame_id = np.full((144, 256, 4), 128, np.uint8), 0
        deadline = time.monotonic() + 10        # the clip's thread makes its frame meanwhile
        while (frame_id < 2 or channel.backdrops.read() is None) and time.monotonic() < deadline:
            frame_id += 1
            channel.frames.write(pack_frame((1280, 720), frame.tobytes()), 256, 144, frame_id)
            loop.step()
            time.sleep(0.01)
        frame_id += 1                           # a mask made while the clip plays
        channel.frames.write(pack_frame((1280, 720), frame.tobytes()), 256, 144, frame_id)
        loop.step()
        sent = channel.backdrops.read()
        assert (sent.width, sent.height) == (384, 288)
        assert np.array_equal(rgb_of((sent.data, (384, 288))), clip[0])
        mask = split_mask(channel.masks.read())
        assert mask.background == b"", "no blur is sent while the clip plays"
        assert open_files(copy) >= 1
        Channel.put_json(channel.settings, {"mode": "color"}, 2)
        loop.step()
        assert loop.backdrop is None and open_files(copy) == 0
    finally:
        loop.close()
