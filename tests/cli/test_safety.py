"""`vbg` never loses a user's file, and takes the videos users have (issue 14, items 1-8).

Real subprocess runs on real media; the clips with variable frame rate, rotation metadata
and odd or large sizes are made here from the bundled sample with PyAV."""

import argparse
import resource
import shutil
import signal
import subprocess
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from realdata import DATA, ROOT, SAMPLE_VIDEO
from test_cli import assert_one_line_error, vbg, vbg_command, vbg_env
from vbg_core.cli.main import build_parser
from vbg_core.engine import images

OLD_VIDEO = ROOT / "samples" / "sam2_juggle.mp4"     # stands for a user's earlier render
SAMPLE_FRAMES = 287


@pytest.fixture(scope="module")
def frames():
    """The sample's first 12 frames (a person at a table), RGB."""
    with av.open(str(SAMPLE_VIDEO)) as container:
        return [f.to_ndarray(format="rgb24") for f, _ in zip(container.decode(video=0), range(12))]


def make_clip(path: Path, frames, size, pts_ms=None, rotation=0) -> Path:
    """H.264 4:4:4 at quantiser 0 (lossless, any size) in `path`; frames resized to `size`,
    stamped with `pts_ms`, stored turned by `rotation` (counter-clockwise to display) with
    the display matrix saying so, as a phone does."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"qp": "0", "preset": "ultrafast"})
        turns = rotation // 90
        stream.width, stream.height = size[::-1] if turns % 2 else size
        stream.pix_fmt, stream.codec_context.time_base = "yuv444p", Fraction(1, 1000)
        if rotation:
            stream.set_display_rotation(rotation)
        for index, rgb in enumerate(frames):
            stored = np.ascontiguousarray(np.rot90(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), -turns))
            frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
            frame.pts, frame.time_base = (pts_ms or range(0, 10 ** 6, 33))[index], Fraction(1, 1000)
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    return path


def decoded(path: Path):
    """-> (width, height, [frame times in seconds], [RGB frames]) as a player shows them."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(video=0))
        return (stream.codec_context.width, stream.codec_context.height,
                [float(f.pts * f.time_base) for f in frames], [f.to_ndarray(format="rgb24") for f in frames])


def only_files(folder: Path):
    return sorted(p.name for p in folder.iterdir())


# 1. An output that is an input is refused: same path, another spelling, symlink, hard link.
@pytest.mark.parametrize("how", ["same path", "another spelling", "symlink", "hard link", "background image"])
def test_render_refuses_to_write_over_an_input(how, frames, tmp_path):
    clip = make_clip(tmp_path / "clip.mp4", frames[:3], (160, 90))
    args, target = [clip, "-o"], clip
    if how == "another spelling":
        target = tmp_path / "." / "clip.mp4"
    elif how == "symlink":
        target = tmp_path / "link.mp4"
        target.symlink_to(clip)
    elif how == "hard link":
        target = tmp_path / "hard.mp4"
        target.hardlink_to(clip)
    elif how == "background image":
        clip = tmp_path / "beach.jpg"
        shutil.copy(DATA / "tfjs_pose.jpg", clip)
        args, target = [DATA / "tfjs_portrait.jpg", "--background", clip, "-o"], clip
    before, names = clip.read_bytes(), only_files(tmp_path)
    result = vbg("render", *args, target, cwd=tmp_path)
    assert_one_line_error(result, "refusing to write", "it is the input")
    assert clip.read_bytes() == before and only_files(tmp_path) == names


# 2. An image's mask is named <stem>_mask and never replaces an input; collisions are refused.
def test_mask_into_the_input_folder_keeps_the_input(tmp_path):
    images.write_image(str(tmp_path / "a.png"), images.read_image(str(DATA / "tfjs_portrait.jpg")))
    before = (tmp_path / "a.png").read_bytes()
    result = vbg("mask", "a.png", "--out", ".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "a.png").read_bytes() == before
    mask = cv2.imread(str(tmp_path / "a_mask.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (1024, 820) and set(np.unique(mask)) == {0, 255}
    assert only_files(tmp_path) == ["a.png", "a_mask.png"]


@pytest.mark.parametrize("inputs, words", [
    (["a.png", "a_mask.png"], ["refusing to write", "it is the input a_mask.png"]),
    (["a.png", "b/a.png"], ["would both write masks to", "a_mask.png"]),
])
def test_mask_refuses_names_that_collide(inputs, words, tmp_path):
    for name in inputs:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        shutil.copy(DATA / "tfjs_portrait_mask.png", tmp_path / name)
    before = {name: (tmp_path / name).read_bytes() for name in inputs}
    assert_one_line_error(vbg("mask", *inputs, "--out", ".", cwd=tmp_path), *words)
    assert {name: (tmp_path / name).read_bytes() for name in inputs} == before


def test_masks_of_a_frame_folder_never_go_into_it(tmp_path):
    """OUT/<folder>/ is where a folder's masks go (the layout scoring tools read): with OUT
    the folder's parent, that is the frames' own folder, so it is refused."""
    frames = tmp_path / "frames"
    frames.mkdir()
    shutil.copy(DATA / "tfjs_portrait.jpg", frames / "00000.jpg")
    images.write_image(str(frames / "00001.png"), images.read_image(str(DATA / "tfjs_portrait.jpg")))
    before = {p.name: p.read_bytes() for p in frames.iterdir()}
    assert_one_line_error(vbg("mask", "frames", "--out", ".", cwd=tmp_path), "refusing to write masks into")
    assert {p.name: p.read_bytes() for p in frames.iterdir()} == before


# 3. Ctrl-C, SIGTERM (service manager) and SIGHUP (closing terminal) mid-render: the old
#    target is left byte for byte, and no temporary file remains.
def _writing(folder: Path, target: Path, old_size: int) -> bool:
    """Encoded frames (50 kB) in a temporary output, or the target itself touched (as main did)."""
    try:
        others = [p.stat().st_size for p in folder.iterdir() if p.name != target.name]
        return max(others, default=0) > 50_000 or target.stat().st_size != old_size
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("sig, code, line", [(signal.SIGINT, 130, "vbg: interrupted"),
                                             (signal.SIGTERM, 143, "vbg: stopped by SIGTERM"),
                                             (signal.SIGHUP, 129, "vbg: stopped by SIGHUP")])
def test_interrupt_leaves_the_target_as_it_was(sig, code, line, tmp_path):
    target = tmp_path / "out.mp4"
    shutil.copy(OLD_VIDEO, target)
    old = target.read_bytes()
    proc = subprocess.Popen(vbg_command("render", SAMPLE_VIDEO, "-o", target), cwd=ROOT, env=vbg_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not _writing(tmp_path, target, len(old)) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the render ended before it could be interrupted"
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == line and "Traceback" not in stderr
    assert target.read_bytes() == old
    assert only_files(tmp_path) == ["out.mp4"]


# 3 and 4. A write error midway (the file-size limit stands for a full disk) is reported as
#    it happens, naming the output; the old target is kept and the partial file removed.
def test_write_error_midway_is_reported_at_once_and_keeps_the_target(tmp_path):
    target = tmp_path / "out.mp4"
    shutil.copy(OLD_VIDEO, target)
    old = target.read_bytes()
    limit = (resource.RLIMIT_FSIZE, (200_000, 200_000))
    result = vbg("render", SAMPLE_VIDEO, "-o", target, preexec_fn=lambda: resource.setrlimit(*limit))
    assert_one_line_error(result, f"cannot write video {target}", "File too large", "stopped after")
    written = int(result.stderr.split("stopped after ")[1].split()[0])
    assert 0 < written < SAMPLE_FRAMES // 2         # when it happened, not at the end
    assert target.read_bytes() == old and only_files(tmp_path) == ["out.mp4"]


# 4. A folder that takes no new file is refused before the model loads or a frame is read.
def test_unwritable_folder_is_refused_before_any_work(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    probe = folder / "probe"
    try:
        probe.touch()           # root writes anywhere a mode allows nothing: use /proc instead
        probe.unlink()
        folder = Path("/proc")
    except PermissionError:
        pass
    target = folder / "out.mp4"
    result = vbg("render", SAMPLE_VIDEO, "-o", target)
    assert_one_line_error(result, f"cannot write {target}", f"in the folder {folder}")
    assert "inference on" not in result.stderr


# 5. Variable frame rate: every frame keeps its source timestamp.
def test_variable_frame_rate_keeps_each_frame_time(frames, tmp_path):
    pts_ms = [0, 33, 67, 100, 133, 300, 333, 367, 600, 633, 1000, 1033]
    clip = make_clip(tmp_path / "vfr.mp4", frames, (320, 180), pts_ms=pts_ms)
    result = vbg("render", clip, "-o", tmp_path / "out.mp4")
    assert result.returncode == 0, result.stderr
    times = decoded(tmp_path / "out.mp4")[2]
    assert times == pytest.approx([t / 1000 for t in pts_ms], abs=1e-3)


# 6. Rotation metadata: segmented and written upright, as the same clip stored upright is.
def test_rotated_clip_is_rendered_upright(frames, tmp_path):
    upright = make_clip(tmp_path / "upright.mp4", frames[:4], (320, 180))
    phone = make_clip(tmp_path / "phone.mp4", frames[:4], (320, 180), rotation=90)
    assert decoded(phone)[:2] == (180, 320)                   # stored sideways
    for clip in (upright, phone):
        assert vbg("render", clip, "-o", tmp_path / f"out_{clip.name}").returncode == 0
    want, got = decoded(tmp_path / "out_upright.mp4"), decoded(tmp_path / "out_phone.mp4")
    assert got[:2] == (320, 180)
    assert np.abs(np.int16(got[3]) - np.int16(want[3])).mean() < 1.0


# 7. Any size up to 4K, odd ones included, in every output kind; 8K is refused in one line.
@pytest.mark.parametrize("size, name, background", [
    ((16, 16), "out.mp4", "blur"), ((641, 481), "out.mp4", "blur"), ((641, 481), "out.mov", "transparent"),
    ((641, 481), "out.webm", "transparent"), ((3840, 2160), "out.mp4", "#00FF00"),
])
def test_sizes_up_to_4k(size, name, background, frames, tmp_path):
    clip = make_clip(tmp_path / "in.mp4", frames[:2], size)
    result = vbg("render", clip, "-o", tmp_path / name, "--background", background)
    assert result.returncode == 0, result.stderr
    width, height, times, _ = decoded(tmp_path / name)
    assert (width, height, len(times)) == (*size, 2)


def test_8k_is_refused(frames, tmp_path):
    clip = make_clip(tmp_path / "in.mp4", frames[:1], (7680, 4320))
    assert_one_line_error(vbg("render", clip, "-o", tmp_path / "out.mp4"), "7680x4320", "larger than 4K")
    assert only_files(tmp_path) == ["in.mp4"]


# 8 (part). No prefix matching: `--mod` is not `--model` (nor `--mode` `--model`).
def test_options_are_never_taken_from_a_prefix(tmp_path):
    result = vbg("render", DATA / "tfjs_portrait.jpg", "-o", tmp_path / "out.png", "--mod", "general")
    assert result.returncode == 2 and "unrecognized arguments: --mod general" in result.stderr
    assert not (tmp_path / "out.png").exists()
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert [p.allow_abbrev for p in (parser, *commands.values())] == [False] * (1 + len(commands))
