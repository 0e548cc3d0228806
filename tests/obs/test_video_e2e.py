"""Video mode in real headless OBS: the bundled background clip (samples/sam2_bedroom_wall.mp4,
384x288 @ 30, 2 s) played by the worker (vbg_core/video_backdrop.py) behind a real person (the
portrait photo as an image source, 820x1024). One OBS for the module; tests run in file order,
the last one shuts OBS down and reads its log.

Regions as in test_filter_e2e.py: the real engine's mask of the photo, eroded.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from tests.obs.harness import ObsInstance, image_source, known_settings, vbg_filter
from tests.obs.test_filter_e2e import (AGREEMENT_MAD, ask_helper, assert_no_errors, mad, photo,  # noqa: F401 (fixtures)
                                      regions, wait_for)
from vbg_core.cli import media
from vbg_core.engine import images
from vbg_core.engine.compose import blur_background, fit_image
from vbg_core.shared.settings import BLUR_LEVELS

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PHOTO = ROOT / "samples" / "tfjs_portrait.jpg"
CLIP = ROOT / "samples" / "sam2_bedroom_wall.mp4"
LEAKS = "Number of memory leaks: "


@pytest.fixture(scope="module")
def clip(photo):
    """The clip's frames fitted (cover) to the photo's size, as OBS should draw them."""
    size = (photo.shape[1], photo.shape[0])
    return [fit_image(rgb, size, "cover") for rgb in media.VideoReader(str(CLIP))]


@pytest.fixture(scope="module")
def baseline_leaks(tmp_path_factory):
    """What this OBS reports at exit with no script at all (OBS 29.0.2 here: 1)."""
    with ObsInstance(tmp_path_factory.mktemp("obs-bare"), sources=[image_source("Person", PHOTO)]) as bare:
        bare.stop()
        return leaks(bare.log_text())


def leaks(log: str) -> int:
    counts = [int(line.split(LEAKS)[1]) for line in log.splitlines() if LEAKS in line]
    assert counts, "OBS logs its memory leaks at exit"
    return counts[-1]


@pytest.fixture(scope="module")
def obs(tmp_path_factory, baseline_leaks):
    home = tmp_path_factory.mktemp("obs-home")
    triggers = home / "triggers"
    triggers.mkdir()
    sources = [image_source("Person", PHOTO, [vbg_filter("VBG", mode="video", video_path=str(CLIP))])]
    env = {"VBG_PYTHON": sys.executable, "VBG_TEST_TRIGGER_DIR": str(triggers)}
    with ObsInstance(home, scripts=[str(ROOT / "obs_vbg.py"), str(HERE / "obs_helper.py")],
                     sources=sources, env=env) as instance:
        instance.triggers, instance.baseline_leaks = triggers, baseline_leaks
        yield instance


def set_filter(obs, **values):
    obs.client.set_source_filter_settings("Person", "VBG", known_settings(values), True)


def nearest_clip_frame(rgba, clip, background):
    """-> (index, MAD) of the clip frame the screenshot's background is closest to
    (on every 4th pixel and row: 60 comparisons must not slow the screenshots down)."""
    shot, where = rgba[::4, ::4, :3].astype(np.float32), background[::4, ::4]
    errors = [float(np.abs(shot - frame[::4, ::4])[where].mean()) for frame in clip]
    return int(np.argmin(errors)), min(errors)


def plays_the_clip(clip, regions, photo):
    person, background, _ = regions

    def check(rgba):
        index, error = nearest_clip_frame(rgba, clip, background)
        kept = mad(rgba[:, :, :3], photo, person)
        return error < 4 and kept < 6, f"nearest clip frame {index} at MAD {error:.1f}, person MAD {kept:.1f}"
    return check


def status_line(obs) -> str:
    ask_helper(obs, "panel", json.dumps({"source": "Person", "filter": "VBG", "mode": "video"}))
    return json.loads((obs.triggers / "panel.json").read_text())["top"]["status"]["label"]


# ---- tests, in order ----
def test_the_video_plays_behind_the_person(obs, clip, regions, photo):
    person, background, _ = regions
    wait_for(obs, plays_the_clip(clip, regions, photo), timeout=30)
    first = obs.screenshot("Person")
    a, error_a = nearest_clip_frame(first, clip, background)

    # Clip frames 10 or more apart differ by MAD 2.85 or more here (these regions, every
    # 4th pixel); the same frame twice by 0. A loaded machine plays slower: wait for 10
    # frames' progress (a third of a second at full speed) with a deadline, not a fixed time.
    def moved_on(rgba):
        b, _ = nearest_clip_frame(rgba, clip, background)
        apart = min((a - b) % len(clip), (b - a) % len(clip))
        return apart >= 10, f"clip frame {b}, {apart} frames from {a}"
    second, seconds = wait_for(obs, moved_on, timeout=15)
    b, error_b = nearest_clip_frame(second, clip, background)
    moved, kept = mad(first[:, :, :3], second[:, :, :3], background), mad(first[:, :, :3], second[:, :, :3], person)
    print(f"\nscreenshots {seconds:.1f} s apart: clip frames {a} and {b} (MAD {error_a:.1f}, {error_b:.1f}); "
          f"background changed by MAD {moved:.1f}, the person by {kept:.2f}")
    assert moved > 2.0 and kept < 1.5
    assert_no_errors(obs.log_text())


def test_without_looping_the_last_frame_stays_and_agrees_with_vbg_render(obs, clip, regions, photo, tmp_path):
    person, background, _ = regions
    set_filter(obs, mode="video", video_path=str(CLIP), video_loop=False)
    last = len(clip) - 1

    # Until the new settings are in effect the looping video still plays, and passes its
    # last frame every 2 s: only the last frame held for 1.5 s on every screenshot is the
    # new video's (a looping one leaves it within a frame), and by then the temporal
    # smoothing has settled.
    held_since = []

    def held_on_last_frame(rgba):
        index, error = nearest_clip_frame(rgba, clip, background)
        if index != last or error >= 4:
            held_since.clear()
            return False, f"nearest clip frame {index} (MAD {error:.1f}), not the last"
        held_since[:] = held_since or [time.monotonic()]
        held = time.monotonic() - held_since[0]
        return held >= 1.5, f"the last frame, held {held:.1f} s"
    wait_for(obs, held_on_last_frame, timeout=20)
    gpu = obs.screenshot("Person")[:, :, :3]
    assert nearest_clip_frame(gpu, clip, background)[0] == last, "the last frame stays"
    frame_png = tmp_path / "last.png"
    images.write_image(str(frame_png), list(media.VideoReader(str(CLIP)))[-1])
    cpu_png = tmp_path / "cpu.png"
    subprocess.run([sys.executable, "-m", "vbg_core.cli", "render", str(PHOTO), "-o", str(cpu_png),
                    "--background", str(frame_png)], check=True, cwd=ROOT, capture_output=True, timeout=300)
    error = mad(gpu, images.read_image(str(cpu_png)))
    print(f"\nOBS vs vbg render (video mode, the clip's last frame): mean absolute difference {error:.2f} / 255")
    assert error < AGREEMENT_MAD

    # other settings of the same clip keep its held frame (no new one will come)
    set_filter(obs, mode="video", video_path=str(CLIP), video_loop=False, blur_level="high")
    for _ in range(5):
        index, error = nearest_clip_frame(obs.screenshot("Person"), clip, background)
        assert index == last and error < 4, f"clip frame {index} at MAD {error:.1f} after the blur level changed"


def test_showing_the_source_again_restarts_the_video(obs, clip, regions):
    """Hidden 1 s, shown again: the clip plays from its start (2 s) and holds its last
    frame. Quarter-size screenshots, so a loaded machine still takes several a second."""
    size = (clip[0].shape[1] // 4, clip[0].shape[0] // 4)
    small = [cv2.resize(frame, size, interpolation=cv2.INTER_AREA) for frame in clip]
    where = cv2.resize(regions[1].astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    last = len(clip) - 1

    def until(accept, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while True:
            shot = obs.screenshot("Person", *size)[:, :, :3].astype(np.float32)
            errors = [float(np.abs(shot - frame)[where].mean()) for frame in small]
            index = int(np.argmin(errors))
            if accept(index) and errors[index] < 6:
                return
            assert time.monotonic() < deadline, f"after {timeout} s, {what}: clip frame {index} (MAD {errors[index]:.1f})"
    item = obs.client.get_scene_item_id("Scene", "Person").scene_item_id
    obs.client.set_scene_item_enabled("Scene", item, False)
    time.sleep(1.0)
    obs.client.set_scene_item_enabled("Scene", item, True)
    until(lambda index: index < last - 10, 10, "not restarted")
    until(lambda index: index == last, 20, "not back on the last frame")


def test_a_bad_path_shows_blur_and_says_why(obs, regions, photo, tmp_path):
    person, background, alpha = regions
    blurred = blur_background(photo, alpha, BLUR_LEVELS["medium"])

    def shows_blur(rgba):
        error = mad(rgba[:, :, :3], blurred, background)
        return error < 4, f"background MAD vs blur {error:.1f}"
    set_filter(obs, mode="video", video_path="/nonexistent/clip.mp4", blur_level="medium")
    wait_for(obs, shows_blur)
    assert "background video not found: /nonexistent/clip.mp4 — showing blur instead" in status_line(obs)
    not_video = tmp_path / "notes.mp4"
    not_video.write_bytes(b"this is not a video\n" * 500)
    set_filter(obs, video_path=str(not_video))
    wait_for(obs, shows_blur)
    reason = f"cannot play background video {not_video} (not a video file, or corrupt"
    wait_for(obs, lambda rgba: (reason in obs.log_text(), "no reason logged yet"), timeout=20)
    assert reason in status_line(obs)
    assert_no_errors(obs.log_text())


def test_a_cut_short_video_neither_crashes_nor_freezes_obs(obs, tmp_path):
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(CLIP.read_bytes()[: CLIP.stat().st_size // 3])
    set_filter(obs, video_path=str(cut), video_loop=True)
    frames = [obs.screenshot("Person") for _ in range(10)]         # each within the websocket's deadline
    assert all(f.shape[:2] == (1024, 820) for f in frames)
    # not frozen: OBS goes on rendering (30 frames, 1 s at full speed; a loaded machine
    # gets a deadline, not a frame rate to beat)
    start, deadline = obs.client.get_stats().render_total_frames, time.monotonic() + 15
    while obs.client.get_stats().render_total_frames - start < 30 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert obs.client.get_stats().render_total_frames - start >= 30, "OBS stopped rendering"
    assert obs.process.poll() is None


def encoded(clip_path: Path, path: Path, codec: str, pix_fmt: str, size) -> Path:
    """The bundled clip mirrored (so no frame of it passes for the clip's own) and encoded
    again with `codec` in `pix_fmt` at `size` (PyAV's FFmpeg)."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=30)
        (stream.width, stream.height), stream.pix_fmt = size, pix_fmt
        for rgb in media.VideoReader(str(clip_path)):
            rgb = cv2.resize(rgb[:, ::-1], size, interpolation=cv2.INTER_AREA)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)))
        out.mux(stream.encode())
    return path


@pytest.mark.parametrize("codec, pix_fmt, size", [
    ("mjpeg", "yuvj422p", (384, 288)),      # full range, 4:2:2
    ("libx264", "yuv444p", (383, 287)),     # 4:4:4, odd size (its rows are padded)
    ("ffv1", "bgr0", (384, 288)),           # packed RGB
])
def test_videos_of_other_formats_play_behind_the_person(obs, regions, photo, tmp_path, codec, pix_fmt, size):
    """The bundled clip (I420, limited range: the tests above) in three other formats,
    decoded to frames of other layouts: the frames OBS shows are the ones PyAV decodes
    from the same file."""
    path = encoded(CLIP, tmp_path / f"clip_{pix_fmt}.mkv", codec, pix_fmt, size)
    shown = (photo.shape[1], photo.shape[0])
    frames = [fit_image(rgb, shown, "cover") for rgb in media.VideoReader(str(path))]
    set_filter(obs, mode="video", video_path=str(path), video_loop=True)
    wait_for(obs, plays_the_clip(frames, regions, photo), timeout=20)


def media_threads(obs) -> int:
    """OBS's media threads (a media source's, and the FFmpeg decoding threads it starts,
    which inherit its name): video mode makes none, the worker plays the clip."""
    count = 0
    for comm in Path(f"/proc/{obs.pid}/task").glob("*/comm"):
        try:
            count += comm.read_text().strip() == "mp_media_thread"
        except OSError:         # a thread that ended meanwhile
            pass
    return count


def clips_open(obs, path: Path) -> int:
    """How many of OBS's worker's open files are `path` (the clip's decoder holds it open;
    compared by inode: a worker in a chroot names it by another path)."""
    clip, count = path.stat(), 0
    for pid in obs.worker_pids():
        for fd in Path(f"/proc/{pid}/fd").glob("*"):
            try:
                held = fd.stat()
            except OSError:         # closed meanwhile
                continue
            count += (held.st_dev, held.st_ino) == (clip.st_dev, clip.st_ino)
    return count


def clips_open_become(obs, path: Path, expected, timeout: float = 10.0) -> None:
    """Wait (with a deadline) until the worker holds `path` open `expected` times (a
    callable: a test of the count)."""
    accept = expected if callable(expected) else (lambda count: count == expected)
    deadline = time.monotonic() + timeout
    while not accept(clips_open(obs, path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert accept(clips_open(obs, path)), f"the worker holds {path.name} open {clips_open(obs, path)} times"


def test_switching_modes_and_removing_the_filter_let_go_of_the_clip(obs, clip, regions, photo, tmp_path):
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(CLIP.read_bytes())
    set_filter(obs, mode="video", video_path=str(copy))
    clips_open_become(obs, copy, lambda count: count >= 1)
    assert media_threads(obs) == 0, "OBS decodes nothing: the worker plays the clip"
    for mode, path in (("blur", copy), ("video", CLIP), ("video", copy), ("image", copy)):
        set_filter(obs, mode=mode, video_path=str(path), image_path=str(PHOTO))
        if mode == "video" and path == copy:
            clips_open_become(obs, copy, lambda count: count >= 1)
        else:
            clips_open_become(obs, copy, 0)         # another mode, or another file, lets go of it
    set_filter(obs, mode="video", video_path=str(copy))
    wait_for(obs, plays_the_clip(clip, regions, photo), timeout=15)
    obs.client.remove_source_filter("Person", "VBG")
    wait_for(obs, lambda rgba: (mad(rgba[:, :, :3], photo) < 2, "the filter is still drawing"))
    clips_open_become(obs, copy, 0)
    code = obs.stop()
    log = obs.log_text()
    assert code == 0, log[-6000:]
    assert "Freeing OBS context data" in log
    assert "were remaining" not in log, [line for line in log.splitlines() if "remaining" in line]
    assert leaks(log) <= obs.baseline_leaks, f"{leaks(log)} leaks, {obs.baseline_leaks} with no script"
    assert_no_errors(log)
