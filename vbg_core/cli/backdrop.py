"""A background video for `vbg render` and `vbg camera`: its picture at any moment.

`BackgroundVideo.at(seconds)` answers with the frame the background shows that many
seconds after the input's first frame: the last one whose presentation time is not
later (sample and hold). That resamples the background to the input's frame timing,
whatever the two rates are; past its end it starts again (loop) or keeps its last
frame (hold). Frames are decoded as they are needed, never the whole clip at once,
so a background of any length costs one decoder. Repeated answers are the same array
object, so the compositor fits it to the frame once.
"""

import os
from fractions import Fraction
from typing import Optional, Tuple

import numpy as np

from .media import VideoReader
from ..shared.errors import MediaError


class BackgroundVideo:
    """Not thread-safe: one caller (render's reader thread, or the camera loop)."""

    def __init__(self, path: str, loop: bool = True):
        if not os.path.isfile(path):
            raise MediaError(f"background video not found: {path}")
        self.path, self.loop = path, loop
        self.offset = 0.0           # seconds added to this pass's frame times (loops so far)
        self._open()
        self.current = self._next()
        if self.current is None:
            raise MediaError(f"cannot read background video {path}: it has no frames")
        self.upcoming = self._next()
        self._rgb = None            # (the decoded frame, its upright RGB) answered last

    def _open(self) -> None:
        self.reader = VideoReader(self.path)
        self.step = 1.0 / float(self.reader.rate or 30)
        self.frames = self.reader.decoded()
        self.origin: Optional[float] = None
        self.index = 0

    def _next(self) -> Optional[Tuple[float, object]]:
        """-> (seconds since the background started, decoded frame) of its next frame."""
        frame = next(self.frames, None)
        if frame is None:
            return None
        seconds = float(frame.pts * frame.time_base) if frame.pts is not None and frame.time_base else \
            self.index * self.step
        self.index += 1
        if self.origin is None:
            self.origin = seconds
        return self.offset + seconds - self.origin, frame

    def _wrap(self) -> bool:
        """At the end of the clip: start it again after its last frame's duration
        (loop); -> whether there is a next frame."""
        if not self.loop:
            return False
        self.reader.close()
        self.offset = self.current[0] + self.step
        self._open()
        self.upcoming = self._next()
        return self.upcoming is not None

    def due(self, seconds: float) -> bool:
        """Whether another frame is due `seconds` after the input's first frame (the
        next one's time has come, or the clip ended and loops)."""
        return self.loop if self.upcoming is None else self.upcoming[0] <= seconds + 1e-6

    def decoded_at(self, seconds: float):
        """The background's decoded frame (PyAV VideoFrame, before its rotation) `seconds`
        after the input's first frame; the same object until the next frame is due."""
        while self.upcoming is not None or self._wrap():
            if self.upcoming[0] > seconds + 1e-6:
                break
            self.current, self.upcoming = self.upcoming, self._next()
        return self.current[1]

    def at(self, seconds: float) -> np.ndarray:
        """The background's RGB uint8 frame `seconds` after the input's first frame."""
        frame = self.decoded_at(seconds)
        if self._rgb is None or self._rgb[0] is not frame:
            self._rgb = frame, self.reader.rgb(frame)
        return self._rgb[1]

    def close(self) -> None:
        self.reader.close()


def frame_seconds(frame, index: int, rate) -> float:
    """A decoded input frame's time in seconds (its timestamp; where it has none, its
    index at the stream's rate)."""
    if frame.pts is not None and frame.time_base:
        return float(frame.pts * frame.time_base)
    return index / float(rate or Fraction(30))
