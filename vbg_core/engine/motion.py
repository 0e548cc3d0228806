"""Has the picture moved? A cheap test on the model-size frame the worker already has,
so a still scene need not be segmented again (the worker keeps its last mask).

The frame is reduced to the mean colour of each 16x16 block; it has moved when any
block's mean changed by more than MOVED_LEVELS since the frame last segmented.
Block means average sensor noise away (a camera's noise of 3 levels per pixel is
0.2 levels in a block's mean) while a hand, a head turning or a person entering
changes a block by tens of levels. Compared with the last *segmented* frame, a slow
movement adds up until it counts. The same signatures tell a cut (`cut`): then a
recurrent model's state starts afresh.
"""

import cv2
import numpy as np

BLOCK = 16              # pixels of the model-size frame per block side
MOVED_LEVELS = 2.0      # change of a block's mean colour (0..255) that counts as movement


def signature(rgb_u8: np.ndarray) -> np.ndarray:
    """Mean colour per block, float32 (rows, cols, 3)."""
    h, w = rgb_u8.shape[:2]
    size = (max(1, w // BLOCK), max(1, h // BLOCK))
    return cv2.resize(rgb_u8, size, interpolation=cv2.INTER_AREA).astype(np.float32)


def moved(before: np.ndarray, after: np.ndarray, levels: float = MOVED_LEVELS) -> bool:
    """Whether any block changed by more than `levels` (a new size always counts)."""
    return before.shape != after.shape or float(np.abs(after - before).max()) > levels


# A cut (another scene, another camera): most blocks change by far more than any
# movement of a person in front of a fixed camera changes them.
CUT_LEVELS = 40.0       # a block's mean colour change (0..255) that counts toward a cut
CUT_SHARE = 0.5         # ... in at least this share of the blocks


def cut(before: np.ndarray, after: np.ndarray) -> bool:
    """Whether the picture cut to another scene between two signatures (a new size counts)."""
    if before.shape != after.shape:
        return True
    changed = np.abs(after - before).max(axis=2) > CUT_LEVELS
    return float(changed.mean()) >= CUT_SHARE
