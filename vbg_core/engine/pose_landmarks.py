"""One person's body in a region: MediaPipe's pose landmark model ("full",
`pose_landmark_full.onnx`) on the rotated 256x256 crop of a `pose_geometry.Rect`.

Outputs used (MediaPipe's pose_landmark_by_roi graph): 39 landmarks (33 body points and
the 2 alignment points 33/34 that give the next frame's region), the pose presence
score (already a probability), and the person segmentation of the crop (logits, a
sigmoid makes them probabilities), which `pose_geometry.paste_back` warps to the frame.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from . import pose_geometry as geometry
from .pose_detect import sigmoid, source_level
from .segment import open_session
from ..shared.errors import ModelError
from ..shared.models import get_model

SIZE = 256
ALIGN_CENTRE, ALIGN_SCALE = 33, 34      # the auxiliary landmarks that give the next region
SHOULDERS, HIPS, KNEES = (11, 12), (23, 24), (25, 26)
WHOLE_BODY = HIPS + KNEES               # visible = a whole body, not a close-up
MIN_VISIBILITY = 0.5
# A whole body's landmarks reach at least this share of the frame's height to start
# tracking (a little less to keep it): a smaller one is a phantom, such as a hand
# holding a mug at a table read as a tiny whole body (sam2_coffee). Measured
# (benchmarks/RESULTS.md): the children on the bed and the juggler reach 0.30 and up;
# a person that small in the picture is far from the camera and left to the selfie model.
MIN_EXTENT, MIN_EXTENT_KEPT = 0.3, 0.25
# To start tracking, the torso (shoulders' midpoint to hips') points down the frame within
# this many degrees of upright. The phantom whole bodies the model puts on a torso at a
# table (an arm read as a body) lie at 53-176 degrees (sam2_coffee: 37 of 38 beyond 60);
# real ones seen afresh on every frame of the juggling and bed clips at 0-42, but for 3
# of 290 (a child tumbling: then taken at a later look). Measured: benchmarks/RESULTS.md,
# "Phantom bodies at a table".
MAX_TILT = 60.0


@dataclass(frozen=True)
class Body:
    presence: float             # the model's pose presence probability
    landmarks: np.ndarray       # 39 x 2, frame pixels
    in_view: np.ndarray         # 39 x float: each landmark's visibility (in the picture, not hidden)
    seg_f32: np.ndarray         # person probability over the crop (model-aligned square)
    matrix: np.ndarray          # frame -> model input (SIZE square) affine
    rect: geometry.Rect         # the region it was run on

    def next_rect(self) -> geometry.Rect:
        return geometry.from_alignment(self.landmarks[ALIGN_CENTRE], self.landmarks[ALIGN_SCALE])

    def whole(self, frame_hw, admitting: bool = True) -> bool:
        """A whole body is in the frame (the selfie model is for close-ups): to start
        tracking, both hips and a knee visible inside the frame (a jumping child's other
        knee is often hidden or blurred); to keep tracking, its hips inside the frame.
        (Measured: also asking for both knees, or for the nose, loses the second child
        on the bed; a torso at a table still shows phantom hips and knees now and then.)
        And its landmarks reach MIN_EXTENT of the frame's height (MIN_EXTENT_KEPT to keep);
        to start, an upright torso (within MAX_TILT)."""
        h, w = frame_hw
        body = self.landmarks[:33]
        if max(np.ptp(body[:, 0]), np.ptp(body[:, 1])) < h * (MIN_EXTENT if admitting else MIN_EXTENT_KEPT):
            return False
        points, seen = self.landmarks[list(WHOLE_BODY)], self.in_view[list(WHOLE_BODY)] >= MIN_VISIBILITY
        inside = (points[:, 0] >= 0) & (points[:, 0] < w) & (points[:, 1] >= 0) & (points[:, 1] < h)
        seen &= inside
        if not admitting:
            return bool(inside[:2].all())
        return bool(seen[:2].all() and seen[2:].any()) and self.tilt() <= MAX_TILT

    def tilt(self) -> float:
        """The torso's angle from upright in the picture, in degrees (0: shoulders
        straight above the hips, 90: lying, 180: upside down)."""
        dx, dy = self.landmarks[list(HIPS)].mean(0) - self.landmarks[list(SHOULDERS)].mean(0)
        return float(np.degrees(np.arctan2(abs(dx), dy)))

    def probs(self, frame_hw, grid_hw) -> np.ndarray:
        """The segmentation over the frame at grid_hw (< 0 outside the region)."""
        return geometry.paste_back(self.seg_f32, self.matrix, SIZE, frame_hw, grid_hw)


class LandmarkModel:
    def __init__(self, provider: str = "cpu", threads: int = 1):
        self.spec = get_model("pose_landmark_full")
        self.session, _, _ = open_session(self.spec, provider, threads)
        self._input = self.session.get_inputs()[0].name
        # landmarks [1, 195], presence [1, 1], segmentation [1, 256, 256, 1]; not the
        # heatmaps and world landmarks (asking for fewer outputs saves ~4 %)
        used = ([1, 195], [1, 1], [1, SIZE, SIZE, 1])
        self._names = [o.name for o in self.session.get_outputs() if list(o.shape) in map(list, used)]
        if len(self._names) != len(used):
            raise ModelError(f"{self.spec.path} does not have the pose landmark model's outputs: "
                             "restore models/ (git checkout -- models/ or reinstall obs-vbg)")

    def __call__(self, frame, rect: geometry.Rect) -> Body:
        """`frame`: an imaging.Pyramid of the RGB frame (a halving is the source when
        the region is large)."""
        level = source_level(rect.size, SIZE)
        patch, m = geometry.crop(frame.level(level), rect, SIZE, cv2.BORDER_REPLICATE, level)
        tensor = (patch.astype(np.float32) * np.float32(1 / 255))[None]
        outputs = self.session.run(self._names, {self._input: tensor})
        return self._body(dict(zip(self._names, outputs)), m, rect)

    @staticmethod
    def _body(outputs: dict, m: np.ndarray, rect: geometry.Rect) -> Body:
        by_size = {v.size: v for v in outputs.values()}
        raw = by_size[39 * 5].reshape(39, 5)
        presence = float(by_size[1].reshape(()))
        seg_f32 = sigmoid(by_size[SIZE * SIZE].reshape(SIZE, SIZE))
        return Body(presence, geometry.to_frame(raw[:, :2].astype(np.float64), m), sigmoid(raw[:, 3]),
                    seg_f32.astype(np.float32), m, rect)
