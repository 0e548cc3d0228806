"""Video mode's background, played by the worker for one filtered source.

The filter draws the clip's frame the worker last put in the source's `backdrops`
mailbox (shared/messages.py) behind the person, fitted as the settings say; the clip is
decoded here with `vbg render`'s player (cli/backdrop.py: PyAV, the frame due at a time,
looping or holding its last frame), at the time since the source was last shown. It
plays while OBS sends frames, and starts again from its beginning when frames come
again after a pause (the source was hidden: OBS's media sources restart on activation
likewise); while no frame comes nothing is decoded. A frame is sent at the clip's own
size, scaled down (area average) to what the frame can show and to at most
BACKDROP_PIXELS, only when the clip has moved on.

Why the worker and not an OBS media source drawn by the filter (what video mode did
until the twelfth session): OBS then uploaded, converted and drew each frame of the
clip in passes of their own, which cost as much as a whole mode (benchmarks/
RESULTS-obs.md, "Video mode played by the worker"); an upload of the frame the worker
decoded costs about as much as blur mode's.
"""

import math
from typing import Optional, Tuple

import cv2
import numpy as np

from .cli.backdrop import BackgroundVideo
from .shared.errors import MediaError
from .shared.messages import BACKDROP_PIXELS

UNREADABLE = ("cannot read video", "cannot decode video")    # FFmpeg's own failures (cli/media.py)


def unplayable(path: str, exc: MediaError) -> str:
    """Why the clip is not shown, in words."""
    text = str(exc)
    reason = "not a video file, or corrupt" if text.startswith(UNREADABLE) else text
    return f"cannot play background video {path} ({reason}) — showing blur instead"


def backdrop_size(clip_wh: Tuple[int, int], frame_hw: Tuple[int, int]) -> Tuple[int, int]:
    """The size a clip's frame is sent at: its own, scaled down to the most the frame
    can show of it (the larger of the two axes' scales, so cover, contain and stretch
    all draw it without enlarging it more than its own pixels allow) and to at most
    BACKDROP_PIXELS."""
    (w, h), (fh, fw) = clip_wh, frame_hw
    scale = min(1.0, max(fw / w, fh / h), math.sqrt(BACKDROP_PIXELS / (w * h)))
    return max(1, math.floor(w * scale)), max(1, math.floor(h * scale))


class VideoBackdrop:
    """One source's clip: `frame(now, frame_hw)` -> the frame to send, or None."""

    def __init__(self, path: str, loop: bool):
        self.path, self.loop = path, loop
        self.video: Optional[BackgroundVideo] = None
        self.problem = ""               # why the clip is not (or no longer) played, in words
        self.started: Optional[float] = None
        self.shown = None               # the player's frame sent last (compared by identity)
        self.restart()

    def restart(self) -> None:
        """From the clip's start at the next frame (opened again: the player decodes forward only)."""
        self.close()
        self.started, self.shown = None, None
        try:
            self.video = BackgroundVideo(self.path, self.loop)
            self.problem = ""
        except MediaError as exc:
            self.problem = unplayable(self.path, exc)

    @property
    def playing(self) -> bool:
        """The filter has (or is about to get) one of the clip's frames to draw."""
        return self.shown is not None

    def frame(self, now: float, frame_hw: Tuple[int, int]) -> Optional[Tuple[bytes, Tuple[int, int]]]:
        """The clip's frame due `now` -> (RGBA bytes, (w, h)) if it is not the one sent
        last, else None. A clip that fails to decode part way keeps its last frame sent."""
        if self.video is None:
            return None
        if self.started is None:
            self.started = now
        try:
            rgb = self.video.at(now - self.started)
        except MediaError as exc:
            self.problem = unplayable(self.path, exc).replace("showing blur instead", "its last frame stays")
            self.close()
            return None
        if rgb is self.shown:
            return None
        self.shown = rgb
        size = backdrop_size((rgb.shape[1], rgb.shape[0]), frame_hw)
        if size != (rgb.shape[1], rgb.shape[0]):
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2RGBA).tobytes(), size

    def close(self) -> None:
        if self.video is not None:
            self.video.close()
            self.video = None
