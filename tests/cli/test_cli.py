"""The `vbg` command end to end, as a user runs it (subprocesses), on real media."""

import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from vbg_core.cli import media
from vbg_core.engine import images
from vbg_core.engine.pipeline import Pipeline
from vbg_core.shared.settings import Settings
from realdata import DATA, ROOT, SAMPLE_VIDEO


def vbg_command(*args):
    return [sys.executable, "-m", "vbg_core.cli", *map(str, args)]


def vbg_env(env=None):
    """This checkout's vbg_core, whatever the working directory."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}


def vbg(*args, env=None, cwd=ROOT, **options):
    return subprocess.run(vbg_command(*args), cwd=cwd, capture_output=True, text=True, env=vbg_env(env),
                          timeout=600, **options)


def assert_one_line_error(result, *words):
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert lines[-1].startswith("vbg: error:") or lines[-1].startswith("vbg: error"), result.stderr
    for word in words:
        assert word in lines[-1], result.stderr


@pytest.fixture(scope="module")
def clip_with_audio(tmp_path_factory) -> Path:
    """The first 24 frames of the real sample video with a 440 Hz AAC tone added."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    reader = media.VideoReader(str(SAMPLE_VIDEO))
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=reader.rate)
        video.width, video.height, video.pix_fmt = reader.width, reader.height, "yuv420p"
        audio = out.add_stream("aac", rate=48000)
        for index, frame in enumerate(reader.decoded()):
            if index == 24:
                break
            for packet in video.encode(av.VideoFrame.from_ndarray(frame.to_ndarray(format="rgb24"))):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        t = np.arange(48000 * 24 // 30) / 48000
        tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None]
        for start in range(0, tone.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone[:, start:start + 1024]), format="fltp",
                                               layout="mono")
            frame.sample_rate = 48000
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in audio.encode():
            out.mux(packet)
    reader.close()
    return path


def probe(path: Path):
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        return {"size": (v.codec_context.width, v.codec_context.height), "rate": v.average_rate,
                "frames": frames, "audio": [a.codec_context.name for a in container.streams.audio]}


def test_render_video_keeps_size_rate_frames_and_audio(clip_with_audio, tmp_path):
    out = tmp_path / "out.mp4"
    result = vbg("render", clip_with_audio, "-o", out, "--background", "blur")
    assert result.returncode == 0, result.stderr
    assert "inference on cpu" in result.stderr
    source, rendered = probe(clip_with_audio), probe(out)
    assert rendered == source
    assert rendered["audio"] == ["aac"]


def test_render_image_each_background(tmp_path):
    image = DATA / "tfjs_portrait.jpg"
    rgb = images.read_image(str(image))
    for background, name in (("#00FF00", "green.png"), ("blur:high", "blur.jpg"),
                             (str(DATA / "tfjs_pose.jpg"), "image.png")):
        result = vbg("render", image, "-o", tmp_path / name, "--background", background)
        assert result.returncode == 0, result.stderr
        out = images.read_image(str(tmp_path / name))
        assert out.shape == rgb.shape
        assert np.abs(out.astype(int) - rgb).mean() > 5      # the background really changed
    assert vbg("render", image, "-o", tmp_path / "cut.png", "--background", "transparent").returncode == 0
    import cv2
    rgba = cv2.imread(str(tmp_path / "cut.png"), cv2.IMREAD_UNCHANGED)
    assert rgba.shape == rgb.shape[:2] + (4,)
    assert (rgba[..., 3] == 0).mean() > 0.3 and (rgba[..., 3] == 255).mean() > 0.3


def test_render_transparent_video_has_alpha(clip_with_audio, tmp_path):
    out = tmp_path / "cut.mov"
    assert vbg("render", clip_with_audio, "-o", out, "--background", "transparent").returncode == 0
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0))
        assert container.streams.video[0].codec_context.name == "qtrle"
        rgba = frame.to_ndarray(format="rgba")
    assert rgba[..., 3].min() < 20 and rgba[..., 3].max() > 235


def test_mask_image_video_and_frame_directory(clip_with_audio, tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    reader = media.VideoReader(str(clip_with_audio))
    for index, rgb in zip(range(3), reader):
        images.write_image(str(frames / f"f{index:03d}.jpg"), rgb)
    reader.close()
    out = tmp_path / "masks"
    result = vbg("mask", DATA / "tfjs_portrait.jpg", clip_with_audio, frames, "--out", out)
    assert result.returncode == 0, result.stderr
    import cv2
    mask = cv2.imread(str(out / "tfjs_portrait_mask.png"), cv2.IMREAD_UNCHANGED)
    assert mask.ndim == 2 and mask.shape == (1024, 820) and set(np.unique(mask)) == {0, 255}
    still = Pipeline(Settings()).alpha(images.read_image(str(DATA / "tfjs_portrait.jpg")), still=True) >= 128
    assert ((mask == 255) != still).mean() < 1e-4      # an image is masked as a still (engine/still.py)
    assert sorted(p.name for p in (out / "clip").iterdir()) == [f"{i:05d}.png" for i in range(24)]
    assert sorted(p.name for p in (out / "frames").iterdir()) == ["f000.png", "f001.png", "f002.png"]


@pytest.mark.parametrize("args, words", [
    (["render", "nowhere.mp4", "-o", "x.mp4"], ["input not found: nowhere.mp4"]),
    (["render", DATA / "tfjs_portrait.jpg", "-o", "x.png", "--background", "#12345"], ["invalid colour", "#12345"]),
    (["render", DATA / "tfjs_portrait.jpg", "-o", "x.png", "--background", "missing/beach.jpg"],
     ["background image not found: missing/beach.jpg"]),
    (["render", DATA / "tfjs_portrait.jpg", "-o", "x.png", "--smoothing", "3"], ["invalid smoothing"]),
    (["mask", DATA / "README.md", "--out", "masks"], ["cannot read video", "README.md"]),
    (["camera", "--device", "7", "--preview"], ["no camera at device 7"]),     # this machine has no camera
    (["camera"], ["add --virtual-camera and/or --preview"]),
    (["camera", "--preview", "--background", "transparent"], ["cannot show transparency"]),
])
def test_user_errors_are_one_line(args, words, tmp_path):
    assert_one_line_error(vbg(*args), *words)


def test_unreadable_video_is_one_line(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(SAMPLE_VIDEO.read_bytes()[:5000])
    assert_one_line_error(vbg("render", broken, "-o", tmp_path / "o.mp4"), str(broken))


def test_corrupt_model_is_one_line(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "selfie_segmentation_landscape.onnx").write_bytes(b"\x08\x07not really onnx" * 100)
    result = vbg("render", DATA / "tfjs_portrait.jpg", "-o", tmp_path / "x.png", env={"VBG_MODELS_DIR": str(models)})
    assert_one_line_error(result, "cannot load model", "corrupt")


def test_transparent_into_jpeg_is_refused(tmp_path):
    assert_one_line_error(vbg("render", DATA / "tfjs_portrait.jpg", "-o", tmp_path / "x.jpg",
                              "--background", "transparent"), "JPEG cannot hold transparency")


def test_rvm_not_installed_masks_with_the_default_model_and_says_how_to_install(tmp_path):
    """A models folder with only the shipped models (what a clone without --with-rvm has)."""
    from vbg_core.shared.models import REGISTRY
    models = tmp_path / "models"
    models.mkdir()
    for spec in REGISTRY.values():
        if not spec.install:
            (models / spec.file).symlink_to(spec.path)
    result = vbg("mask", DATA / "tfjs_portrait.jpg", "--out", tmp_path / "out", "--model", "rvm",
                 env={"VBG_MODELS_DIR": str(models)})
    assert result.returncode == 0, result.stderr
    assert "vbg: RVM is not installed, so the landscape model runs: run install/install.sh --with-rvm" \
        in result.stderr
    assert (tmp_path / "out" / "tfjs_portrait_mask.png").is_file()


def test_rvm_renders_when_installed(tmp_path):
    """(Its masks, its state per video and per source: tests/engine/test_rvm.py, test_worker_state.py.)"""
    from realdata import rvm_missing
    if rvm_missing():
        pytest.skip(rvm_missing())
    result = vbg("render", DATA / "tfjs_portrait.jpg", "-o", tmp_path / "green.png", "--background", "#00FF00",
                 "--model", "rvm")
    assert result.returncode == 0, result.stderr
    assert "not installed" not in result.stderr and "inference on cpu" in result.stderr
    rgb, out = images.read_image(str(DATA / "tfjs_portrait.jpg")), images.read_image(str(tmp_path / "green.png"))
    assert out.shape == rgb.shape and np.abs(out.astype(int) - rgb).mean() > 5
