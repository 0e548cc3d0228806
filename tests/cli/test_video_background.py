"""`vbg render --background clip.mp4`: a real background video (samples/sam2_bedroom_wall.mp4,
384x288 @ 30, 2 s) behind a real person (the portrait photo as a 25 fps video of 3.2 s,
410x512): other size, other rate, shorter than the input. The background is judged where
the engine's own mask of the photo is certain background (alpha <= 5, eroded)."""

import av
import cv2
import numpy as np
import pytest

from vbg_core.cli import media
from vbg_core.cli.backdrop import BackgroundVideo
from vbg_core.engine import images
from vbg_core.engine.compose import fit_image
from vbg_core.engine.pipeline import Pipeline
from vbg_core.shared.settings import Settings
from realdata import DATA, ROOT
from test_cli import assert_one_line_error, vbg

CLIP = ROOT / "samples" / "sam2_bedroom_wall.mp4"
CLIP_FPS, CLIP_SECONDS = 30, 2.0
INPUT_FPS, INPUT_FRAMES, INPUT_SIZE = 25, 80, (410, 512)


@pytest.fixture(scope="module")
def clip_frames():
    return list(media.VideoReader(str(CLIP)))


@pytest.fixture(scope="module")
def person_video(tmp_path_factory):
    """The real portrait as a still video (the person does not move, the background must)."""
    path = tmp_path_factory.mktemp("person") / "person.mp4"
    photo = cv2.resize(images.read_image(str(DATA / "tfjs_portrait.jpg")), INPUT_SIZE, interpolation=cv2.INTER_AREA)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=INPUT_FPS)
        stream.width, stream.height, stream.pix_fmt = *INPUT_SIZE, "yuv420p"
        stream.options = {"crf": "12"}
        for _ in range(INPUT_FRAMES):
            for packet in stream.encode(av.VideoFrame.from_ndarray(photo)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    first = next(iter(media.VideoReader(str(path))))
    alpha = Pipeline(Settings()).alpha(first)
    background = cv2.erode((alpha <= 5).astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert 0.1 < background.mean() < 0.9, "the engine must find the person"
    return path, background


def mad(a, b, where) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32))[where].mean())


def expected_background(clip_frames, seconds: float, loop: bool = True):
    """The clip's frame shown `seconds` into the output (sample and hold), fitted (cover)."""
    at = seconds % CLIP_SECONDS if loop else min(seconds, CLIP_SECONDS)
    index = min(int(at * CLIP_FPS + 1e-6), len(clip_frames) - 1)
    return fit_image(clip_frames[index], INPUT_SIZE, "cover")


def render(person, tmp_path, *flags):
    out = tmp_path / "out.mp4"
    result = vbg("render", person, "-o", out, "--background", CLIP, *flags)
    assert result.returncode == 0, result.stderr
    return list(media.VideoReader(str(out))), media.VideoReader(str(out))


def test_the_background_video_plays_loops_and_the_length_is_the_inputs(person_video, clip_frames, tmp_path):
    person, background = person_video
    frames, reader = render(person, tmp_path)
    assert len(frames) == INPUT_FRAMES and reader.rate == INPUT_FPS, "the input's length and rate"
    assert frames[0].shape[:2] == (INPUT_SIZE[1], INPUT_SIZE[0])
    errors = [mad(frames[i], expected_background(clip_frames, i / INPUT_FPS), background)
              for i in range(0, INPUT_FRAMES, 5)]
    print(f"\nbackground vs the clip's frame at that time: MAD max {max(errors):.2f}")
    assert max(errors) < 4.0
    moved = mad(frames[0], frames[INPUT_FPS // 2], background)
    assert moved > 3 * max(errors), f"the background changes over time (half a second: MAD {moved:.1f})"
    looped = mad(frames[5], frames[5 + INPUT_FPS * 2], background)        # 2 s later: the clip again
    assert looped < 2.0 < moved


def test_no_loop_holds_the_last_frame(person_video, clip_frames, tmp_path):
    person, background = person_video
    frames, _ = render(person, tmp_path, "--no-loop", "--fit", "cover")
    last = fit_image(clip_frames[-1], INPUT_SIZE, "cover")
    held = [mad(frames[i], last, background) for i in range(int(CLIP_SECONDS * INPUT_FPS) + 2, INPUT_FRAMES)]
    assert len(held) > 20 and max(held) < 4.0
    assert mad(frames[5], last, background) > 3 * max(held), "before its end the clip still plays"


def test_a_photo_gets_the_first_frame(clip_frames, tmp_path):
    out = tmp_path / "out.png"
    result = vbg("render", DATA / "tfjs_portrait.jpg", "-o", out, "--background", CLIP, "--fit", "stretch")
    assert result.returncode == 0, result.stderr
    photo = images.read_image(str(DATA / "tfjs_portrait.jpg"))
    alpha = Pipeline(Settings()).alpha(photo)
    expected = fit_image(clip_frames[0], (photo.shape[1], photo.shape[0]), "stretch")
    assert mad(images.read_image(str(out)), expected, alpha == 0) < 2.0


def test_the_background_is_sampled_and_held_at_any_rate(clip_frames):
    def same(a, b):
        return a is b or np.array_equal(a, b)
    video = BackgroundVideo(str(CLIP), loop=True)
    step = 1 / CLIP_FPS
    assert same(video.at(0.0), clip_frames[0]) and same(video.at(step * 0.99), clip_frames[0])
    assert same(video.at(step), clip_frames[1]) and same(video.at(1.0), clip_frames[30])
    assert video.at(1.0) is video.at(1.0 + step / 2), "a repeated frame is the same array"
    assert same(video.at(CLIP_SECONDS), clip_frames[0]) and same(video.at(CLIP_SECONDS + step), clip_frames[1])
    assert same(video.at(3 * CLIP_SECONDS + 0.5), clip_frames[15])
    video.close()
    held = BackgroundVideo(str(CLIP), loop=False)
    assert same(held.at(0.5), clip_frames[15]) and same(held.at(100.0), clip_frames[-1])
    held.close()


def test_a_missing_or_broken_background_video_is_one_line(person_video, tmp_path):
    person, _ = person_video
    result = vbg("render", person, "-o", tmp_path / "out.mp4", "--background", tmp_path / "gone.mp4")
    assert_one_line_error(result, "background video not found", "gone.mp4")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all\n" * 100)
    result = vbg("render", person, "-o", tmp_path / "out.mp4", "--background", broken)
    assert_one_line_error(result, "cannot read video", "broken.mp4")
    assert not (tmp_path / "out.mp4").exists()


def test_bench_refuses_a_background_video():
    assert_one_line_error(vbg("bench", "--background", CLIP), "vbg bench times still backgrounds")
