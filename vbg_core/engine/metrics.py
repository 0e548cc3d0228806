"""Mask quality measures: IoU, boundary F-score, and frame-to-frame flicker."""

import cv2
import numpy as np

BOUNDARY_TOLERANCE = 0.008   # of the image diagonal, as in the bar


def iou(pred: np.ndarray, truth: np.ndarray) -> float:
    """Intersection over union of two boolean masks (1.0 when both are empty)."""
    pred, truth = pred.astype(bool), truth.astype(bool)
    union = np.logical_or(pred, truth).sum()
    return 1.0 if union == 0 else float(np.logical_and(pred, truth).sum() / union)


def _boundary(mask: np.ndarray) -> np.ndarray:
    mask_u8 = mask.astype(np.uint8)
    return (mask_u8 - cv2.erode(mask_u8, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)) > 0


def boundary_f(pred: np.ndarray, truth: np.ndarray, tolerance: float = BOUNDARY_TOLERANCE) -> float:
    """Boundary F-score (DAVIS-style): a boundary pixel counts as matched when the
    other mask's boundary lies within tolerance * diagonal of it."""
    tol = tolerance * float(np.hypot(*truth.shape[:2]))
    pred_b, truth_b = _boundary(pred), _boundary(truth)
    if not pred_b.any() and not truth_b.any():
        return 1.0
    if not pred_b.any() or not truth_b.any():
        return 0.0
    dist_to_truth = cv2.distanceTransform((~truth_b).astype(np.uint8), cv2.DIST_L2, 5)
    dist_to_pred = cv2.distanceTransform((~pred_b).astype(np.uint8), cv2.DIST_L2, 5)
    precision = float((dist_to_truth[pred_b] <= tol).mean())
    recall = float((dist_to_pred[truth_b] <= tol).mean())
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def still_pixels(prev_rgb: np.ndarray, rgb: np.ndarray, level: float = 4.0) -> np.ndarray:
    """Pixels whose (lightly blurred) luma changed by less than `level` of 255."""
    def luma(x):
        return cv2.GaussianBlur(cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(np.float32), (5, 5), 0)
    return np.abs(luma(rgb) - luma(prev_rgb)) < level


def flicker(prev_alpha: np.ndarray, alpha: np.ndarray, still: np.ndarray) -> float:
    """Mean absolute alpha change (0..1) on pixels where the picture did not change."""
    if not still.any():
        return 0.0
    diff = np.abs(alpha.astype(np.float32) - prev_alpha.astype(np.float32)) / 255.0
    return float(diff[still].mean())


def flips(prev_alpha: np.ndarray, alpha: np.ndarray, still: np.ndarray) -> float:
    """Share of still pixels whose person/background decision (alpha >= 50 %) flipped:
    the visible 'popping' at the edges."""
    if not still.any():
        return 0.0
    return float(((prev_alpha >= 128) != (alpha >= 128))[still].mean())
