"""Find people: MediaPipe's pose detector (BlazePose, `pose_detection.onnx`) on a frame.

What MediaPipe's pose_detection graph does, in numpy: the frame letterboxed into the
224x224 input (values in [-1, 1]), SSD anchors (SsdAnchorsCalculator: 5 layers, strides
8/16/32/32/32, fixed anchor size), the raw boxes and 4 keypoints decoded against them
(TensorsToDetectionsCalculator, sigmoid scores, threshold 0.5), and weighted
non-maximum suppression (IoU 0.3). Each detection's keypoints 0 and 1 (hip centre,
body scale point) give the landmark model's region (`pose_geometry.from_alignment`).
"""

from dataclasses import dataclass
from typing import List

import cv2
import numpy as np

from . import pose_geometry as geometry
from .segment import open_session
from ..shared.models import get_model

SIZE = 224
STRIDES = (8, 16, 32, 32, 32)
MIN_SCORE = 0.3         # MediaPipe: 0.5; lower here because the landmark model confirms each one
NMS_IOU = 0.3
SCORE_CLIP = 100.0


def sigmoid(x_f32: np.ndarray) -> np.ndarray:
    """Logits -> probabilities (clipped so float32 exp cannot overflow; the result is the same)."""
    return 1.0 / (1.0 + np.exp(-np.clip(x_f32, -80.0, 80.0)))


@dataclass(frozen=True)
class Detection:
    score: float
    box: np.ndarray         # (x0, y0, x1, y1), frame pixels
    keypoints: np.ndarray   # 4 x 2, frame pixels: hip centre, scale point, shoulders, upper body

    def rect(self) -> geometry.Rect:
        return geometry.from_alignment(self.keypoints[0], self.keypoints[1])


def anchors() -> np.ndarray:
    """(2254, 2) anchor centres in [0, 1] (x, y), in MediaPipe's order."""
    centres, layer = [], 0
    while layer < len(STRIDES):
        stride, repeats = STRIDES[layer], STRIDES.count(STRIDES[layer])
        side = SIZE // stride
        ys, xs = np.mgrid[0:side, 0:side]
        grid = np.stack([(xs + 0.5) / side, (ys + 0.5) / side], -1).reshape(-1, 1, 2)
        centres.append(np.repeat(grid, 2 * repeats, axis=1).reshape(-1, 2))
        layer += repeats
    return np.concatenate(centres).astype(np.float32)


ANCHORS = anchors()


def decode(raw_boxes: np.ndarray, raw_scores: np.ndarray):
    """Model outputs (2254 x 12, 2254) -> (scores, boxes x0 y0 x1 y1, keypoints 4x2)
    in the input's [0, 1] coordinates, for the anchors above MIN_SCORE."""
    scores = sigmoid(np.clip(raw_scores, -SCORE_CLIP, SCORE_CLIP))
    keep = scores >= MIN_SCORE
    raw, centres = raw_boxes[keep] / SIZE, ANCHORS[keep]
    xy, wh = raw[:, 0:2] + centres, raw[:, 2:4]
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1)
    keypoints = raw[:, 4:12].reshape(-1, 4, 2) + centres[:, None, :]
    return scores[keep], boxes, keypoints


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    lo, hi = np.maximum(box[:2], boxes[:, :2]), np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    area = np.prod(box[2:] - box[:2])
    areas = np.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(scores, boxes, keypoints) -> list:
    """MediaPipe's WEIGHTED non-max suppression: each cluster (IoU > NMS_IOU with its best)
    becomes one detection, boxes and keypoints averaged by score, the best's score."""
    order = np.argsort(-scores)
    scores, boxes, keypoints = scores[order], boxes[order], keypoints[order]
    out = []
    while len(scores):
        cluster = iou(boxes[0], boxes) > NMS_IOU
        cluster[0] = True
        weights = scores[cluster] / scores[cluster].sum()
        out.append((float(scores[0]), weights @ boxes[cluster],
                    np.tensordot(weights, keypoints[cluster], axes=1)))
        scores, boxes, keypoints = scores[~cluster], boxes[~cluster], keypoints[~cluster]
    return out


def views(frame_hw) -> List[geometry.Rect]:
    """Where the detector looks: the whole frame (letterboxed), and for a wide frame also
    its left and right squares, where people are 1.8x larger at 16:9 (children at the
    side of a wide shot score under the threshold in the whole frame's view)."""
    (h, w), whole = frame_hw, geometry.whole_frame(frame_hw)
    if w < 1.3 * h:
        return [whole]
    return [whole, geometry.Rect(h / 2, h / 2, float(h), 0.0), geometry.Rect(w - h / 2, h / 2, float(h), 0.0)]


def source_level(side: float, size: int = SIZE) -> int:
    """Halvings of the frame that keep a region of this side at least `size` pixels."""
    level = 0
    while side / 2 ** (level + 1) >= size:
        level += 1
    return level


class PoseDetector:
    """Frame (RGB uint8, any size) -> people found, best first."""

    def __init__(self, provider: str = "cpu", threads: int = 1):
        self.spec = get_model("pose_detection")
        self.session, _, _ = open_session(self.spec, provider, threads)
        self._input = self.session.get_inputs()[0].name

    def __call__(self, frame, view: int = 0) -> List[Detection]:
        """`frame`: an imaging.Pyramid of the RGB frame; `view`: which of `views` to look in."""
        rect = views(frame.image.shape[:2])[view]
        level = source_level(rect.size)
        patch, m = geometry.crop(frame.level(level), rect, SIZE, cv2.BORDER_CONSTANT, level)
        tensor = (patch.astype(np.float32) * np.float32(2 / 255) - 1.0)[None]
        raw_boxes, raw_scores = self._run(tensor)
        found = weighted_nms(*decode(raw_boxes, raw_scores))
        return [self._to_frame(score, box, kps, m) for score, box, kps in found]

    def _run(self, tensor: np.ndarray):
        outputs = {o.name: v for o, v in zip(self.session.get_outputs(),
                                             self.session.run(None, {self._input: tensor}))}
        boxes = next(v for v in outputs.values() if v.shape[-1] == 12)
        scores = next(v for v in outputs.values() if v.shape[-1] == 1)
        return boxes[0], scores[0, :, 0]

    @staticmethod
    def _to_frame(score, box, keypoints, m) -> Detection:
        corners = geometry.to_frame(box.reshape(2, 2) * SIZE, m)
        return Detection(score, corners.reshape(4), geometry.to_frame(keypoints * SIZE, m))
