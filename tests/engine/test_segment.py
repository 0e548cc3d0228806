"""Segmentation and refinement with the real shipped models on real photos and video."""

import dataclasses

import numpy as np
import pytest

from vbg_core.engine import metrics, segment
from vbg_core.shared.errors import ModelError
from vbg_core.shared.models import REGISTRY, file_sha256, get_model
from vbg_core.engine.pipeline import Pipeline
from vbg_core.engine.segment import Segmenter, open_session
from vbg_core.shared.settings import Settings

from realdata import PHOTOS, load_photo

# Agreement with the reference masks (outputs of Google's own models, see
# tests/data/README.md), measured for the shipped pipeline as (IoU, share of the
# reference's background marked person): landscape portrait 0.983/0.013, pose
# 0.908/0.003, three people 0.895/0.141 (a coarse reference); general 0.984/0.007,
# 0.926/0.003, 0.908/0.127. The bounds leave a margin.
BOUNDS = {"tfjs_portrait": (0.96, 0.03), "tfjs_pose": (0.87, 0.02), "tfjs_three_people": (0.86, 0.2)}


@pytest.fixture(scope="module", params=["landscape", "general"])
def model(request):
    return request.param


@pytest.mark.parametrize("name", PHOTOS)
def test_mask_covers_the_person_and_not_the_background(model, name):
    rgb, truth = load_photo(name)
    person = Pipeline(Settings(model=model)).alpha(rgb) >= 128
    min_iou, max_background = BOUNDS[name]
    assert metrics.iou(person, truth) >= min_iou
    assert person[truth].mean() > 0.93                  # the person is kept ...
    assert person[~truth].mean() < max_background       # ... and the background is not


def test_refined_edges_beat_the_raw_model(model):
    """Boundary F of ours vs the raw model (stretch, bilinear, threshold 0.5)."""
    from vbg_core.cli.bench import naive_alpha
    ours, raw = [], []
    segmenter = Segmenter(model)
    for name in PHOTOS:
        rgb, truth = load_photo(name)
        ours.append(metrics.boundary_f(Pipeline(Settings(model=model), segmenter).alpha(rgb) >= 128, truth))
        raw.append(metrics.boundary_f(naive_alpha(rgb, segmenter) >= 0.5, truth))
    assert np.mean(ours) > np.mean(raw) + 0.005


def test_astronaut_face_is_person_sky_is_not(astronaut):
    person = Pipeline(Settings()).alpha(astronaut) >= 128
    h, w = person.shape
    assert person[h // 5: h // 2, w // 3: w // 2].mean() > 0.9      # face and helmet ring
    assert person[: h // 8, : w // 8].mean() < 0.05                 # the flag corner


@pytest.mark.parametrize("fill", [0, 128, 255])
def test_blank_frame_gives_an_empty_mask(fill):
    frame = np.full((720, 1280, 3), fill, np.uint8)
    assert (Pipeline(Settings()).alpha(frame) >= 128).mean() < 0.01


@pytest.mark.parametrize("aspect", [16 / 9, 4 / 3, 1.0, 3 / 4, 9 / 16])
def test_any_aspect_ratio_keeps_the_person(aspect):
    """The portrait photo cropped to each camera aspect: the mask has the frame's
    size and still matches the reference."""
    rgb, truth = load_photo("tfjs_portrait")
    h, w = truth.shape
    ch, cw = (round(w / aspect), w) if w / h < aspect else (h, round(h * aspect))
    ch, cw = min(ch, h), min(cw, w)
    rgb_c, truth_c = rgb[h - ch:, (w - cw) // 2:(w - cw) // 2 + cw], truth[h - ch:, (w - cw) // 2:(w - cw) // 2 + cw]
    alpha = Pipeline(Settings(model="general")).alpha(np.ascontiguousarray(rgb_c))
    assert alpha.shape == truth_c.shape
    assert metrics.iou(alpha >= 128, truth_c) > 0.93


def test_still_video_does_not_flicker_more_than_the_raw_model(sample_frames):
    """On the real sample video, the frame-to-frame alpha change on pixels that did
    not change is lower with temporal smoothing than for the raw model."""
    from vbg_core.cli.bench import naive_alpha
    pipeline = Pipeline(Settings())
    raw_prev = ours_prev = prev = None
    raw, ours = [], []
    for rgb in sample_frames:
        raw_a = (naive_alpha(rgb, pipeline.segmenter) * 255).astype(np.uint8)
        ours_a = pipeline.alpha(rgb).copy()
        if prev is not None:
            still = metrics.still_pixels(prev, rgb)
            raw.append(metrics.flicker(raw_prev, raw_a, still))
            ours.append(metrics.flicker(ours_prev, ours_a, still))
        prev, raw_prev, ours_prev = rgb, raw_a, ours_a
    assert np.mean(ours) < 0.85 * np.mean(raw)


def test_moving_person_leaves_no_ghost(portrait):
    """The person jumps sideways between two frames: the new mask must follow at
    once (motion-aware smoothing), not keep a ghost where the person was."""
    rgb, truth = portrait
    shift = rgb.shape[1] // 3
    moved, moved_truth = np.roll(rgb, shift, axis=1), np.roll(truth, shift, axis=1)
    pipeline = Pipeline(Settings(smoothing=1.0))
    for _ in range(5):
        pipeline.alpha(rgb)
    person = pipeline.alpha(moved) >= 128
    fresh = Pipeline(Settings()).alpha(moved) >= 128     # no history at all
    ghost = truth & ~moved_truth
    assert person[ghost].mean() < 0.05
    assert metrics.iou(person, fresh) > 0.98


def test_shipped_models_match_the_registry():
    for spec in REGISTRY.values():
        assert spec.path.is_file() and file_sha256(spec.path) == spec.sha256


def test_cpu_is_always_available_and_reported():
    s = Segmenter(provider="cpu")
    assert s.active_provider == "cpu" and s.fallback_note == ""


@pytest.mark.parametrize("provider", ["cuda", "directml", "coreml"])
def test_missing_provider_falls_back_to_cpu_and_says_so(provider):
    """This machine's onnxruntime has no GPU providers, so asking for one must fall
    back to the CPU and tell the truth about it."""
    if provider in segment.available_providers():
        pytest.skip(f"{provider} really exists here; covered by the next test")
    s = Segmenter(provider=provider)
    assert s.active_provider == "cpu"
    assert provider in s.fallback_note and "using cpu" in s.fallback_note


def test_provider_that_fails_to_start_falls_back(monkeypatch):
    """Test double (CUDA cannot run here): onnxruntime claims CUDA is available, as a
    GPU build on a machine with a broken driver does; the session then really runs
    on the CPU, and the segmenter must report cpu, not cuda."""
    import onnxruntime
    real = onnxruntime.get_available_providers()
    monkeypatch.setattr(onnxruntime, "get_available_providers", lambda: ["CUDAExecutionProvider", *real])
    s = Segmenter(provider="cuda")
    assert s.active_provider == "cpu"
    assert "cuda" in s.fallback_note and "cpu" in s.fallback_note


def test_corrupt_and_missing_model_files(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(get_model("landscape").path.read_bytes()[:10000])
    spec = dataclasses.replace(get_model("landscape"), file=str(broken))
    with pytest.raises(ModelError, match="cannot load model .*broken.onnx.*corrupt"):
        open_session(spec)
    with pytest.raises(ModelError, match="model file not found"):
        open_session(dataclasses.replace(spec, file=str(tmp_path / "none.onnx")))
    with pytest.raises(ModelError, match="unknown model 'huge'"):
        get_model("huge")
