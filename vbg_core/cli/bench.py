"""`vbg bench`: per-stage timings of the engine at 720p and 1080p on a real video.

Frames are decoded beforehand (decode/encode excluded). For each frame, the Pipeline's
own stages: pre-process, inference, refine (temporal + soft threshold + guided
upsampling, while the background is made beside it), compose (waiting for the
background, then the blend). The naive
pipeline (stretch, bilinearly upsampled float mask, full-resolution float32
compositing and full-resolution blur) is timed in the same run for a ratio.
"""

import time
from pathlib import Path
from statistics import median
from typing import Dict, List

import cv2
import numpy as np

from .media import VideoReader
from ..engine.pipeline import Pipeline
from ..engine.segment import Segmenter, open_segmenter
from ..shared.maths import blur_sigma_px
from ..shared.settings import Settings

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sam2_coffee.mp4"
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
WARMUP = 5
STAGES = ("pre-process", "inference", "refine", "compose", "total")


def load_frames(path: Path, count: int) -> List[np.ndarray]:
    reader = VideoReader(str(path))
    try:
        frames = []
        for rgb_u8 in reader:
            frames.append(rgb_u8)
            if len(frames) == count:
                break
        return frames
    finally:
        reader.close()


def time_ours(frames, settings: Settings, segmenter: Segmenter) -> Dict[str, List[float]]:
    """The Pipeline itself, timed by its stage clock."""
    pipeline = Pipeline(settings, segmenter)
    stages = {name: [] for name in STAGES}
    for index, rgb_u8 in enumerate(frames):
        marks = [("start", time.perf_counter())]
        pipeline(rgb_u8, clock=lambda stage: marks.append((stage, time.perf_counter())))
        if index >= WARMUP:
            for (_, t0), (stage, t1) in zip(marks, marks[1:]):
                stages[stage].append((t1 - t0) * 1000)
            stages["total"].append((marks[-1][1] - marks[0][1]) * 1000)
    return stages


def naive_alpha(rgb_u8: np.ndarray, segmenter: Segmenter) -> np.ndarray:
    """The raw model as usually deployed: stretch-resize, infer, bilinear upsampling
    of the probabilities to the frame (float32 0..1)."""
    h, w = rgb_u8.shape[:2]
    mh, mw = segmenter.spec.input_hw
    small = cv2.resize(rgb_u8, (mw, mh), interpolation=cv2.INTER_LINEAR)
    probs = segmenter.infer(small.astype(np.float32)[None] / 255.0)[0, :, :, 0]
    return cv2.resize(probs, (w, h), interpolation=cv2.INTER_LINEAR)


def naive_frame(rgb_u8: np.ndarray, segmenter: Segmenter, sigma_720: float) -> np.ndarray:
    """The straightforward pipeline we compare against: float32 full-resolution
    compositing with a full-resolution blur."""
    h = rgb_u8.shape[0]
    alpha = naive_alpha(rgb_u8, segmenter)[:, :, None]
    frame = rgb_u8.astype(np.float32)
    background = cv2.GaussianBlur(frame, (0, 0), blur_sigma_px(sigma_720, h))
    return (frame * alpha + background * (1.0 - alpha)).astype(np.uint8)


def time_naive(frames, settings: Settings, segmenter: Segmenter) -> List[float]:
    times = []
    for index, rgb_u8 in enumerate(frames):
        t0 = time.perf_counter()
        naive_frame(rgb_u8, segmenter, settings.blur)
        if index >= WARMUP:
            times.append((time.perf_counter() - t0) * 1000)
    return times


def run_bench(settings: Settings, frames: int = 100, naive: bool = True, video: Path = SAMPLE) -> int:
    segmenter = open_segmenter(settings.model, settings.provider, settings.threads)
    source = load_frames(video, frames + WARMUP)
    print(f"vbg bench: {len(source) - WARMUP} frames of {video.name}, model {settings.model}, "
          f"provider {segmenter.active_provider}, threads {settings.threads}, mode {settings.mode}, "
          f"whole bodies {'on' if settings.bodies else 'off'}; median ms per frame (mean: the pose detector "
          "runs every few frames)")
    header = ["size", *STAGES, "mean total"] + (["naive total", "naive / ours"] if naive else [])
    print(" | ".join(f"{h:>11}" for h in header))
    for label, size in SIZES.items():
        frames_at = [f if f.shape[1::-1] == size else cv2.resize(f, size, interpolation=cv2.INTER_LINEAR)
                     for f in source]
        timed = time_ours(frames_at, settings, segmenter)
        stages = {k: median(v) for k, v in timed.items()}
        row = [label] + [f"{v:.2f}" for v in stages.values()] + [f"{np.mean(timed['total']):.2f}"]
        if naive:
            naive_ms = median(time_naive(frames_at, settings, segmenter))
            row += [f"{naive_ms:.2f}", f"{naive_ms / stages['total']:.2f}x"]
        print(" | ".join(f"{c:>11}" for c in row))
    return 0
