"""Whole bodies (engine/pose*.py): the converted MediaPipe Pose models and the tracker,
on real photos and clips (tests/data, samples/)."""

import threading

import numpy as np
import pytest

from realdata import load_photo, sample_frames
from vbg_core.engine import metrics, pose, pose_geometry
from vbg_core.engine.imaging import Pyramid, shared
from vbg_core.engine.pipeline import Pipeline
from vbg_core.engine.pose import PoseTracker
from vbg_core.shared.settings import Settings


@pytest.fixture(scope="module")
def tracker():
    return PoseTracker()


@pytest.fixture(scope="module")
def juggle():
    """Every second frame of the first 160: an adult juggling, full body, moving sideways."""
    return sample_frames("sam2_juggle.mp4", 80, step=2)


@pytest.fixture(scope="module")
def bedroom():
    return sample_frames("sam2_bedroom_jump.mp4", 50)


def _track(tracker, frames, grid_hw=None):
    state, results = None, []
    for rgb in frames:
        result = tracker(Pyramid(rgb), state, grid_hw or rgb.shape[:2])
        results.append(result)
        state = result.state
    return results


def test_the_converted_models_find_the_body_on_a_real_photo(tracker):
    """tfjs_pose.jpg: one person found; the body landmarks the model is sure of lie on
    the person of BlazePose's own mask; the segmentation agrees with that mask."""
    rgb, truth = load_photo("tfjs_pose")
    found = tracker.detector(Pyramid(rgb))
    assert len(found) == 1 and found[0].score > 0.9
    result = tracker(Pyramid(rgb), None, rgb.shape[:2])
    (body,) = result.bodies
    assert body.presence > 0.99 and body.whole(rgb.shape[:2])
    sure = body.in_view[:33] > 0.9
    x, y = np.round(body.landmarks[:33][sure]).astype(int).T
    near_person = _dilated(truth, 9)
    assert sure.sum() >= 20 and near_person[y, x].mean() >= 0.95
    assert metrics.iou(result.probs > 0.5, truth) > 0.9


def _dilated(mask, radius):
    import cv2
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel) > 0


def test_the_tracked_body_follows_the_juggler(tracker, juggle):
    """The region follows the person across the clip, and the body's mask agrees with
    a reference made from the clip at test time by the other model (the selfie model,
    following the person as `roi.py` does, without the pose path)."""
    results = _track(tracker, juggle)
    assert all(len(r.bodies) == 1 for r in results)
    selfie = Pipeline(Settings(bodies=False))
    reference = [selfie.alpha(rgb) >= 128 for rgb in juggle]
    centre_x = [r.bodies[0].rect.cx for r in results]
    person_x = [np.nonzero(m)[1].mean() for m in reference]
    width = juggle[0].shape[1]
    assert np.ptp(centre_x) > 0.05 * width                  # it moves...
    assert np.corrcoef(centre_x, person_x)[0, 1] > 0.8      # ...with the person
    assert np.mean(np.abs(np.subtract(centre_x, person_x))) < 0.05 * width
    ious = [metrics.iou(r.probs > 0.5, m) for r, m in zip(results, reference)]
    assert np.median(ious) > 0.85 and min(ious) > 0.6


def test_both_children_on_the_bed_are_kept(tracker, bedroom):
    """Two children jumping apart: two bodies are tracked through most of the clip,
    one region each (their hips apart), and the mask holds both."""
    results = _track(tracker, bedroom)
    two = [r for r in results if len(r.bodies) == 2]
    assert len(two) >= 0.8 * len(results)
    for result in two:
        a, b = (body.rect for body in result.bodies)
        assert pose_geometry.closeness(a, b) < 0.8
        hips = [body.landmarks[33] for body in result.bodies]
        person = result.probs > 0.5
        assert all(person[int(y), int(x)] for x, y in hips)


def test_two_peoples_landmark_runs_share_the_two_cores(tracker, bedroom):
    """`vbg`'s tracker (imaging.shared) runs the second child's landmark model on the
    band pool while the first child's runs here: two threads, the same bodies as the
    OBS worker's tracker makes in turn."""
    spread = PoseTracker(spread=shared)
    threads, landmarks = set(), spread.landmarks

    def watched(frame, rect):
        threads.add(threading.current_thread().name)
        return landmarks(frame, rect)
    spread.landmarks = watched
    in_turn, both = _track(tracker, bedroom[:10]), _track(spread, bedroom[:10])
    assert len(both[-1].state.rects) == 2 and len(threads) == 2, threads
    for a, b in zip(in_turn, both):
        assert [x.presence for x in a.bodies] == [x.presence for x in b.bodies]
        assert all(np.array_equal(x.seg_f32, y.seg_f32) for x, y in zip(a.bodies, b.bodies))


def test_a_child_hidden_for_a_moment_is_taken_back_in_his_last_region(tracker, bedroom):
    """Two children tracked; one is painted over for a frame (as when he hides behind
    his sister): that frame draws one body, and the next frame has him back from his
    last region, long before the detector's next turn. Hidden for longer, his region
    is given up after HOLD frames (it costs a landmark run a frame while held)."""
    results = _track(tracker, bedroom[:8])
    state = results[-1].state
    assert len(state.rects) == 2
    hidden = _painted_over(bedroom[8], results[-1].bodies[1])
    during = tracker(Pyramid(hidden), state, hidden.shape[:2])
    assert len(during.bodies) == 1 and len(during.state.held) == 1
    after = tracker(Pyramid(bedroom[9]), during.state, hidden.shape[:2])
    assert len(after.bodies) == 2 and after.state.since_detect == 1     # no detector run
    state = during.state
    for _ in range(pose.HOLD):
        state = tracker(Pyramid(hidden), state, hidden.shape[:2]).state
    assert state.held == () and len(state.rects) == 1


def _painted_over(rgb, body):
    """The frame with the body's landmarks' box (and a margin) filled with one colour."""
    out = rgb.copy()
    x0, y0 = body.landmarks[:33].min(axis=0) - 30
    x1, y1 = body.landmarks[:33].max(axis=0) + 30
    h, w = rgb.shape[:2]
    out[max(0, int(y0)):min(h, int(y1)), max(0, int(x0)):min(w, int(x1))] = np.median(rgb, axis=(0, 1))
    return out


def test_a_cut_is_not_smeared(juggle, bedroom):
    """Juggle frames then the bedroom: the first frame after the cut gets the mask a
    fresh stream gives, and neither it nor the next keeps any of the juggler where the
    children are not. (Later frames may differ from a fresh stream's: each finds the
    second child when its detector does.)"""
    pipeline = Pipeline(Settings())
    for rgb in juggle[:24]:
        juggler = pipeline.alpha(rgb) >= 128
    assert pipeline.pose_state.rects                  # the juggler is tracked
    cut = [_resized(rgb, juggle[0].shape) for rgb in bedroom[:2]]
    for index, rgb in enumerate(cut):
        after = pipeline.alpha(rgb) >= 128
        fresh = Pipeline(Settings()).alpha(rgb) >= 128
        assert index > 0 or metrics.iou(after, fresh) > 0.9
        assert (after & juggler & ~fresh).sum() < 0.05 * juggler.sum()


def _resized(rgb, shape):
    import cv2
    return cv2.resize(rgb, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def test_a_close_up_is_left_to_the_selfie_model(tracker):
    """A head-and-shoulders portrait: no body is tracked, and the pipeline's mask is
    exactly the one without the pose path."""
    rgb, _ = load_photo("tfjs_portrait")
    assert tracker(Pyramid(rgb), None, (144, 256)).bodies == ()
    with_bodies = Pipeline(Settings()).alpha(rgb).copy()
    assert np.array_equal(with_bodies, Pipeline(Settings(bodies=False)).alpha(rgb))


def _looks(frames) -> list:
    """For each frame of one stream through `vbg`'s pipeline: the (model, mirrored)
    looks the selfie models took."""
    pipeline = Pipeline(Settings())
    looks = []
    for segmenter in pipeline.still_look.segmenters():
        def watched(rgb, mirrored=False, segmenter=segmenter, predict=segmenter.predict):
            looks[-1].add((segmenter.spec.name, mirrored))
            return predict(rgb, mirrored)
        segmenter.predict = watched
    for rgb in frames:
        looks.append(set())
        pipeline.alpha(rgb)
    return looks


def test_while_a_body_is_tracked_the_general_model_looks_twice(juggle):
    """While a whole body is tracked the general model looks, at the picture and its
    mirror image (a steadier mask, in the time the bodies' models take anyway); a
    head-and-shoulders camera keeps the landscape model's one look a frame (its 8 ms
    budget)."""
    juggler = _looks(juggle[:12])
    assert all(("general", True) in looks and ("landscape", False) not in looks for looks in juggler[2:]), juggler
    desk = _looks(sample_frames("sam2_coffee.mp4", 40))
    assert all(looks <= {("landscape", False)} for looks in desk), desk


def test_a_torso_at_a_table_is_never_taken_for_a_whole_body(tracker):
    """sam2_coffee: a torso at a table, a hand holding a mug. The detector finds a
    "person" in the arm and the landmark model puts a whole body there, hips and knees
    visible, lying on its side; tracked, it would cost the landmark model every frame.
    Every 10th frame of the clip, each seen afresh (every view of the detector): none
    is taken (before the upright-torso rule: 7 of the 29)."""
    frames = sample_frames("sam2_coffee.mp4", 29, step=10)
    taken = [i for i, rgb in enumerate(frames) if tracker(Pyramid(rgb), None, (144, 256)).bodies]
    assert taken == [], f"bodies taken in frames {taken} of {len(frames)}"


class _HeldDetector:
    """The real detector, held at its start until `release` is set (at most 30 s)."""

    def __init__(self, detector):
        self.detector = detector
        self.release, self.started, self.finished = threading.Event(), threading.Event(), threading.Event()

    def __call__(self, frame, view):
        self.started.set()
        self.release.wait(timeout=30)
        self.finished.set()
        return self.detector(frame, view)


def test_the_search_for_someone_new_runs_behind_the_frames(juggle):
    """Nobody tracked (the desk clip): the frame whose turn it is to look for someone new
    returns while the detector is still held (a frame that waited for it would have
    returned only after the 30 s hold). Then the juggler walks in (a cut to his clip):
    a later search finds him and the pipeline tracks him from the frame that takes it,
    within three searches (the detector's views take turns; a search still running is
    waited for when the next is due)."""
    pipeline = Pipeline(Settings())
    desk = sample_frames("sam2_coffee.mp4", pose.SEARCH_EVERY + 1)
    for rgb in desk[:pose.SEARCH_EVERY]:
        pipeline.alpha(rgb)
    assert not pipeline.pose_state.rects and pose.searching(pipeline.pose_state)
    held = pipeline.pose.detector = _HeldDetector(pipeline.pose.detector)
    pipeline.alpha(desk[pose.SEARCH_EVERY])
    assert held.started.wait(timeout=30) and not held.finished.is_set()
    held.release.set()
    for rgb in juggle[:3 * pose.SEARCH_EVERY + 2]:
        pipeline.alpha(rgb)
        if pipeline.pose_state.rects:
            break
    assert pipeline.pose_state.rects, "the juggler was never tracked"


def test_regions_are_rotated_squares_that_map_back():
    """A rect turned by 90 degrees: its model-space 'up' is the frame's right, and the
    frame -> model -> frame round trip is exact."""
    rect = pose_geometry.from_alignment((100.0, 200.0), (180.0, 200.0))     # scale point to the right
    assert rect.angle == pytest.approx(np.pi / 2) and rect.size == pytest.approx(2 * 80 * 1.25)
    m = pose_geometry.to_model(rect, 256)
    up = pose_geometry.to_frame(np.array([[128.0, 0.0]]), m)     # the input's top centre
    assert np.allclose(up, [[100.0 + 100.0, 200.0]])        # half the side to the right
    points = np.array([[10.0, 20.0], [300.0, 250.0]])
    back = pose_geometry.to_frame(points @ m[:, :2].T + m[:, 2], m)
    assert np.allclose(back, points)
