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

Decoding and scaling run on a thread of their own (one per clip; FFmpeg and swscale let
go of Python's lock), so a large clip never holds up the masks of any source: the
worker's loop takes each frame when it is ready and asks for the next. The frame is
scaled and turned into RGBA by one swscale call from the decoded picture (a 4K clip:
6 ms a frame where RGB at full size, then OpenCV's area average, took 19).

Why the worker and not an OBS media source drawn by the filter (what video mode did
until the twelfth session): OBS then uploaded, converted and drew each frame of the
clip in passes of their own, which cost as much as a whole mode (benchmarks/
RESULTS-obs.md, "Video mode played by the worker"); an upload of the frame the worker
decoded costs about as much as blur mode's.
"""

import math
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Optional, Tuple

import numpy as np

from .cli.backdrop import BackgroundVideo
from .shared.errors import MediaError
from .shared.messages import BACKDROP_PIXELS

UNREADABLE = ("cannot read video", "cannot decode video")    # FFmpeg's own failures (cli/media.py)


def unplayable(path: str, exc: MediaError) -> str:
    """Why the clip is not shown, in words (the player's own words when they already
    name the clip, e.g. a file removed after OBS checked it)."""
    text = str(exc)
    if text.startswith(UNREADABLE):
        return f"cannot play background video {path} (not a video file, or corrupt) — showing blur instead"
    return f"{text} — showing blur instead" if path in text else \
        f"cannot play background video {path} ({text}) — showing blur instead"


def backdrop_size(clip_wh: Tuple[int, int], frame_hw: Tuple[int, int]) -> Tuple[int, int]:
    """The size a clip's frame is sent at: its own, scaled down to the most the frame
    can show of it (the larger of the two axes' scales, so cover, contain and stretch
    all draw it without enlarging it more than its own pixels allow) and to at most
    BACKDROP_PIXELS."""
    (w, h), (fh, fw) = clip_wh, frame_hw
    scale = min(1.0, max(fw / w, fh / h), math.sqrt(BACKDROP_PIXELS / (w * h)))
    return max(1, math.floor(w * scale)), max(1, math.floor(h * scale))


class VideoBackdrop:
    """One source's clip. The worker's loop calls `frame(now, frame_hw)`: -> a new frame
    to send, or None; `decode` is the same work done at once (the thread's, and tests')."""

    def __init__(self, path: str, loop: bool):
        self.path, self.loop = path, loop
        self.video: Optional[BackgroundVideo] = None
        self.pool: Optional[ThreadPoolExecutor] = None
        self.job: Optional[Future] = None     # the decoding under way
        self.problem = ""               # why the clip is not (or no longer) played, in words
        self.started: Optional[float] = None
        self.shown = None               # the decoded frame sent last (compared by identity)
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
            return
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="vbg-backdrop")

    @property
    def playing(self) -> bool:
        """The filter has (or is about to get) one of the clip's frames to draw."""
        return self.shown is not None

    def frame(self, now: float, frame_hw: Tuple[int, int]) -> Optional[Tuple[bytes, Tuple[int, int]]]:
        """The newest frame the thread made, if it made one since the last call (else
        None); then, if one is due, the thread is asked for the frame due `now`. Never
        waits."""
        if self.video is None:
            return None
        if self.started is None:
            self.started = now
        job = self.job
        if job is not None and not job.done():
            return None
        self.job = None
        try:
            made = job.result() if job is not None else None
        except MediaError as exc:
            self.problem = unplayable(self.path, exc).replace("showing blur instead", "its last frame stays")
            self.close()
            return None
        seconds = now - self.started
        if self.shown is None or self.video.due(seconds):     # no thread at work between frames
            self.job = self.pool.submit(self.decode, seconds, frame_hw)
        return made

    def decode(self, seconds: float, frame_hw: Tuple[int, int]) -> Optional[Tuple[bytes, Tuple[int, int]]]:
        """The clip's frame due `seconds` after it started -> (RGBA bytes, (w, h)) if it
        is not the one made last, else None. Raises MediaError if the clip cannot be
        decoded further."""
        decoded = self.video.decoded_at(seconds)
        if decoded is self.shown:
            return None
        self.shown = decoded
        turns = self.video.reader.turns
        upright = (decoded.height, decoded.width) if turns % 2 else (decoded.width, decoded.height)
        size = backdrop_size(upright, frame_hw)
        scaled = size[::-1] if turns % 2 else size
        rgba = decoded.reformat(width=scaled[0], height=scaled[1], format="rgba", interpolation="AREA").to_ndarray()
        if turns:
            rgba = np.rot90(rgba, turns)
        return np.ascontiguousarray(rgba).tobytes(), size

    def close(self) -> None:
        """Stop the thread (after the decoding under way) and close the clip."""
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool, self.job = None, None
        if self.video is not None:
            self.video.close()
            self.video = None
