"""The optional RVM model (Robust Video Matting) in the engine: its explicit recurrent
state, per stream; and, when it is not installed, the default model with a sentence
saying how to install it. RVM itself is never in the repository (GPL-3.0): the tests
that run it skip only when it is not installed, and CI installs it (.ci/run)."""

import dataclasses

import numpy as np
import pytest

from realdata import PHOTOS, ROOT, load_photo, rvm_missing
from vbg_core.cli import media
from vbg_core.engine import metrics, motion
from vbg_core.engine.pipeline import Pipeline
from vbg_core.engine.segment import RecurrentSegmenter, open_segmenter
from vbg_core.shared import models
from vbg_core.shared.settings import Settings

needs_rvm = pytest.mark.skipif(bool(rvm_missing()), reason=rvm_missing())
# Agreement with the reference masks of tests/data (Google's models' outputs, coarser
# than RVM's), measured: (IoU, share of the reference's background marked person)
# portrait 0.993/0.002, pose 0.956/0.001, three people 0.911/0.059. With a margin:
BOUNDS = {"tfjs_portrait": (0.97, 0.02), "tfjs_pose": (0.92, 0.02), "tfjs_three_people": (0.87, 0.12)}


def clip(name: str, count: int):
    reader = media.VideoReader(str(ROOT / "samples" / name))
    frames = [rgb for _, rgb in zip(range(count), reader)]
    reader.close()
    return frames


@pytest.fixture(scope="module")
def rvm():
    return open_segmenter("rvm")


@needs_rvm
@pytest.mark.parametrize("name", PHOTOS)
def test_rvm_keeps_the_person_and_drops_the_background(rvm, name):
    rgb, truth = load_photo(name)
    person = Pipeline(Settings(model="rvm"), rvm).alpha(rgb) >= 128
    min_iou, max_background = BOUNDS[name]
    assert metrics.iou(person, truth) >= min_iou
    assert person[~truth].mean() < max_background


@needs_rvm
def test_the_input_keeps_the_frame_aspect_at_the_model_pixel_count(rvm):
    assert isinstance(rvm, RecurrentSegmenter) and rvm.model_note == ""
    mh, mw = rvm.spec.input_hw
    assert rvm.input_hw_for((720, 1280)) == (mh, mw)
    h, w = rvm.input_hw_for((800, 600))                         # a portrait photo stays upright
    assert h > w and abs(h / w - 4 / 3) < 0.02 and abs(h * w / (mh * mw) - 1) < 0.02
    best = open_segmenter("rvm_best")                           # the same file at RVM's own 640x360, ratio 1
    assert best.spec.path == rvm.spec.path and best.input_hw_for((720, 1280)) == (360, 640)
    assert best.spec.downsample_ratio == 1.0 and rvm.spec.downsample_ratio < 1.0


@needs_rvm
def test_two_streams_share_the_session_never_the_state(rvm):
    """Interleaving two clips of different people on one segmenter gives exactly what
    each gives alone: the state is the caller's, not the session's."""
    juggle, coffee = clip("sam2_juggle.mp4", 4), clip("sam2_coffee.mp4", 4)
    alone = []
    for frames in (juggle, coffee):
        memory, out = None, []
        for rgb in frames:
            probs, memory = rvm.step(rgb, memory)
            out.append(probs)
        alone.append(out)
    memories = [None, None]
    for index in range(4):
        for stream, frames in enumerate((juggle, coffee)):
            probs, memories[stream] = rvm.step(frames[index], memories[stream])
            np.testing.assert_array_equal(probs, alone[stream][index])
    assert all(a.shape != b.shape or not np.array_equal(a, b) for a, b in zip(*memories))


@needs_rvm
def test_the_state_carries_over_frames_and_reset_starts_afresh(rvm):
    """The second pass over a frame differs from the first (the state matters); a
    Pipeline's reset() makes its next frame exactly a new stream's first."""
    rgb = clip("sam2_juggle.mp4", 1)[0]
    first, memory = rvm.step(rgb, None)
    second, _ = rvm.step(rgb, memory)
    assert np.abs(first - second).max() > 1e-3
    pipeline = Pipeline(Settings(model="rvm"), rvm)
    fresh = pipeline.alpha(rgb).copy()
    pipeline.alpha(clip("sam2_coffee.mp4", 1)[0])
    assert pipeline.memory is not None and not pipeline.follow    # it sees the whole frame
    pipeline.reset()
    assert pipeline.memory is None
    np.testing.assert_array_equal(pipeline.alpha(rgb), fresh)


def test_not_installed_runs_the_default_model_and_says_how_to_install(monkeypatch, tmp_path):
    spec = models.get_model("rvm")
    monkeypatch.setitem(models.REGISTRY, "rvm", dataclasses.replace(spec, file=str(tmp_path / "absent.onnx")))
    segmenter = open_segmenter("rvm")
    assert segmenter.spec.name == models.DEFAULT_MODEL and not isinstance(segmenter, RecurrentSegmenter)
    assert "RVM is not installed" in segmenter.model_note and "--with-rvm" in segmenter.model_note
    assert Pipeline(Settings(model="rvm")).segmenter.spec.name == models.DEFAULT_MODEL


def test_a_cut_is_told_from_movement_on_real_clips():
    """Between consecutive frames of the bundled clips (people moving, a juggler's fast
    arms) no cut; between two clips, always one."""
    import cv2
    firsts = []
    for name in ("sam2_juggle.mp4", "sam2_coffee.mp4", "sam2_bedroom_wall.mp4"):
        signatures = [motion.signature(cv2.resize(rgb, (512, 288), interpolation=cv2.INTER_AREA))
                      for rgb in clip(name, 60)]
        assert not any(motion.cut(a, b) for a, b in zip(signatures, signatures[1:])), name
        firsts.append(signatures[0])
    assert all(motion.cut(a, b) for a in firsts for b in firsts if a is not b)
