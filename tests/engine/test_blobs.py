"""Stray blobs (engine/blobs.py) on real media: a ball in flight is cleared, a hand cut
off from its arm is kept, and so is a piece at the picture's border; nothing is cleared
without a tracked body."""

import cv2
import numpy as np
import pytest

from realdata import load_photo, sample_frames
from vbg_core.engine import blobs
from vbg_core.engine.imaging import Pyramid
from vbg_core.engine.pose import PoseTracker
from vbg_core.engine.segment import Segmenter

# samples/sam2_juggle.mp4, frame 235 (1280x720): the football in flight beside the
# juggler's knee. The general model's look at the whole frame takes part of it for
# person (measured: 280 cells of its 256x256 grid), a piece apart from the juggler.
BALL_FRAME = 235
BALL = (slice(495, 560), slice(750, 835))       # rows, columns of the frame


def test_a_ball_in_flight_is_a_stray_blob_and_the_juggler_is_not():
    """The juggler tracked from frame 224 to the ball's frame; the selfie model's pieces
    there: the ball's is cleared, not a cell of the juggler's."""
    frames = sample_frames("sam2_juggle.mp4", BALL_FRAME - 223, start=224)
    tracker, state = PoseTracker(), None
    for rgb in frames:
        bodies, state = tracker.track(Pyramid(rgb), state)
    rgb, hw = frames[-1], frames[-1].shape[:2]
    probs = Segmenter("general", "cpu").predict(rgb)
    _, labels, stats, _ = cv2.connectedComponentsWithStats((probs >= 0.5).astype(np.uint8), connectivity=8)
    juggler = labels == 1 + np.argmax(stats[1:, cv2.CC_STAT_AREA])
    ball = np.zeros(hw, bool)
    ball[BALL] = True
    ball = cv2.resize(ball.astype(np.uint8), probs.shape[::-1], interpolation=cv2.INTER_NEAREST) > 0
    ball &= (probs >= 0.5) & ~juggler
    assert len(bodies) == 1 and ball.sum() >= 100       # the ball is a piece of its own: the test can fail
    cleared = blobs.stray(probs, bodies, hw)
    assert cleared is not None and cleared[ball].all() and not cleared[juggler].any()


@pytest.fixture(scope="module")
def posed():
    """tfjs_pose.jpg (arms stretched out) with its tracked body; BlazePose's own mask
    stands for the selfie model's probabilities."""
    rgb, truth = load_photo("tfjs_pose")
    bodies, _ = PoseTracker().track(Pyramid(rgb), None)
    assert len(bodies) == 1
    return rgb, truth.astype(np.float32), bodies


def _piece_at(person: np.ndarray, point_xy) -> np.ndarray:
    _, labels = cv2.connectedComponents((person >= 0.5).astype(np.uint8), connectivity=8)
    x, y = np.round(point_xy).astype(int)
    assert labels[y, x] > 0
    return labels == labels[y, x]


def test_a_hand_cut_off_from_its_arm_stays_and_the_same_piece_away_from_the_body_goes(posed):
    rgb, person, bodies = posed
    hw = rgb.shape[:2]
    (body,) = bodies
    elbow, wrist = body.landmarks[13], body.landmarks[15]
    middle, along = (elbow + wrist) / 2, (wrist - elbow) / np.linalg.norm(wrist - elbow)
    across = np.array([-along[1], along[0]]) * 40
    cut = person.copy()     # the forearm cut through: the hand is a piece of its own
    ends = [tuple(np.round(middle + side * across).astype(int)) for side in (-1, 1)]
    cv2.line(cut, ends[0], ends[1], 0.0, 6)
    hand = _piece_at(cut, wrist)
    assert 0 < hand.sum() < blobs.SHARE * (cut >= 0.5).sum() and not hand[_piece_at(cut, elbow)].any()
    assert blobs.stray(cut, bodies, hw) is None

    ys, xs = np.nonzero(hand)       # the same piece moved to the sky's corner, away from every bone
    moved = cut.copy()
    moved[hand] = 0.0
    moved[ys - ys.min() + 5, xs - xs.min() + 5] = 1.0
    cleared = blobs.stray(moved, bodies, hw)
    assert cleared is not None and cleared.sum() == hand.sum()
    assert cleared[ys - ys.min() + 5, xs - xs.min() + 5].all()
    assert blobs.stray(moved, (), hw) is None       # no tracked body (a close-up): nothing cleared

    at_border = cut.copy()  # the same piece at the picture's left border: someone reaching in
    at_border[hand] = 0.0
    at_border[ys - ys.min() + 5, xs - xs.min()] = 1.0
    assert blobs.stray(at_border, bodies, hw) is None
