"""Stray blobs: pieces of the selfie model's person away from every tracked body (issue 12, part 2).

While whole bodies are tracked (pose.py), their landmarks say where people are: a piece
of the selfie model's person (8-connected, at the grid's resolution) that no bone of any
tracked skeleton crosses, and that is smaller than SHARE of its largest piece, is no
one's: a ball in flight, a blob on a bed. It takes the bodies' own segmentation there
(0 outside their regions). A raised hand or a foot cut off from its body is crossed by
the bones to it and stays; a second person the tracker does not follow stays if they
are at least SHARE of the largest piece (a person about a third as tall), and so does
a piece at the picture's border (someone reaching or walking in). Without a
tracked body (a close-up, bodies off) nothing is cleared: size alone cannot tell a
hand from a blob (benchmarks/RESULTS.md, "Stray blobs: measured, not shipped").
"""

from typing import Optional, Sequence

import cv2
import numpy as np

SHARE = 0.1
BONE_WIDTH = 3          # grid cells
# MediaPipe Pose's 33 body landmarks joined as its own drawing of the skeleton does
# (face to shoulders, arms and hands, torso, legs and feet).
BONES = ((0, 11), (0, 12), (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21),
         (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (11, 23), (12, 24), (23, 24),
         (23, 25), (25, 27), (27, 29), (27, 31), (29, 31),
         (24, 26), (26, 28), (28, 30), (28, 32), (30, 32))


def skeletons(bodies: Sequence, frame_hw, grid_hw) -> np.ndarray:
    """The tracked bodies' bones drawn on the grid (uint8, 1 on a bone)."""
    gh, gw = grid_hw
    scale = np.array([gw / frame_hw[1], gh / frame_hw[0]])
    drawn = np.zeros((gh, gw), np.uint8)
    for body in bodies:
        points = np.round(body.landmarks[:33] * scale).astype(np.int32)
        lines = [np.stack([points[a], points[b]]) for a, b in BONES]
        cv2.polylines(drawn, lines, False, 1, BONE_WIDTH)
    return drawn


def stray(selfie_f32: np.ndarray, bodies: Sequence, frame_hw) -> Optional[np.ndarray]:
    """The cells of the selfie model's stray pieces (bool at its grid), or None (none)."""
    if not bodies:
        return None
    person = (selfie_f32 >= 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(person, connectivity=8)
    if count <= 2:
        return None
    crossed = np.zeros(count, bool)
    crossed[labels[(skeletons(bodies, frame_hw, person.shape) > 0) & (person > 0)]] = True
    area = stats[:, cv2.CC_STAT_AREA]
    x, y, w, h = (stats[:, k] for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
    at_border = (x == 0) | (y == 0) | (x + w == person.shape[1]) | (y + h == person.shape[0])
    cleared = ~crossed & ~at_border & (area < SHARE * area[1:].max())
    cleared[0] = False
    return cleared[labels] if cleared.any() else None
