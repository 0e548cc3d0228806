"""A background video inside OBS, decoded by OBS's own media source.

The filter makes a *private* `ffmpeg_source` for the file: in no scene and no source
list, muted and in no audio mix, so nothing of it is heard or listed. libobs ticks it
like any source; the filter draws its current frame into a texture of the video's own
size (`texture`) and composites it like a background image. No frame reaches Python.

Playing: the media source is made active (`obs_source_inc_active`) while the filter's
source is shown and the filter enabled, and inactive otherwise. It is created with
OBS's usual media behaviour, "restart playback when the source becomes active"
(`restart_on_activate`), so hiding stops the decoder and showing again plays the
video from its start. Looping is the media source's own; without it the last frame
stays (`clear_on_media_end` off).

A file OBS cannot play gives no frame: `problem` says so once the video has been
shown for START_SECONDS without one (the filter then draws blur).

Threads (and why releasing is safe): the filter makes and releases these objects in
`update`, which libobs runs in the filter's video tick for video filters, never while
the filter renders; `show` runs in the video tick too; `texture` in render. Teardown
releases outside the graphics context: libobs 29 ticks sources holding its sources
lock, and a source's destruction takes that lock, so releasing while holding the
graphics context could deadlock against a tick that waits for it.
"""

import os
import threading
import time
from typing import Optional, Tuple

from ..shared.settings import Settings
from . import libobs as L

START_SECONDS = 5.0     # shown this long without a frame: the file cannot be played
MEDIA_SETTINGS = {"is_local_file": True, "restart_on_activate": True, "clear_on_media_end": False,
                  "close_when_inactive": False, "hw_decode": False}


class BackgroundVideo:
    def __init__(self, lib, path: str, loop: bool, name: str):
        self.lib, self.path, self.loop = lib, path, loop
        self.lock = threading.Lock()            # `source` and `shown` change together
        self.shown = False
        self.shown_at: Optional[float] = None
        self.seen_frame = False
        self.reported = False                   # its problem was logged (video tick)
        data = lib.obs_data_create()
        try:
            lib.obs_data_set_string(data, b"local_file", path.encode())
            lib.obs_data_set_bool(data, b"looping", loop)
            for key, value in MEDIA_SETTINGS.items():
                lib.obs_data_set_bool(data, key.encode(), value)
            self.source = lib.obs_source_create_private(b"ffmpeg_source", name.encode(), data)
        finally:
            lib.obs_data_release(data)
        lib.obs_source_set_muted(self.source, True)
        lib.obs_source_set_audio_mixers(self.source, 0)

    def tick(self, shown: bool) -> str:
        """Video tick: play while `shown` (the media source restarts when activated).
        -> the problem, the first time there is one (for the log), else ""."""
        with self.lock:
            if self.source is not None and shown != self.shown:
                (self.lib.obs_source_inc_active if shown else self.lib.obs_source_dec_active)(self.source)
                self.shown, self.shown_at = shown, time.monotonic() if shown else None
        problem = self.problem
        if problem and not self.reported:
            self.reported = True
            return problem
        return ""

    def size(self) -> Tuple[int, int]:
        return self.lib.obs_source_get_width(self.source), self.lib.obs_source_get_height(self.source)

    def texture(self, gpu):
        """Render: the current frame as a texture of the video's size -> (texture,
        (w, h)), or None before its first frame."""
        size = self.size() if self.source is not None else (0, 0)
        if not size[0] or not size[1]:
            return None
        self.seen_frame = True
        source = self.source
        return gpu.into("video_bg", L.GS_RGBA, size, lambda: self.lib.obs_source_video_render(source)), size

    @property
    def problem(self) -> str:
        """Why no video is drawn, in words ("" while it plays or may still start)."""
        shown_at = self.shown_at
        if self.seen_frame or shown_at is None or time.monotonic() - shown_at < START_SECONDS:
            return ""
        return (f"cannot play background video {self.path} (not a video file, or corrupt: "
                f"no frame after {START_SECONDS:.0f} s) — showing blur instead")

    def release(self) -> None:
        """Deactivate and release the media source (never inside the graphics context)."""
        with self.lock:
            source, shown, self.source, self.shown = self.source, self.shown, None, False
        if source is not None:
            if shown:
                self.lib.obs_source_dec_active(source)
            self.lib.obs_source_release(source)


def open_video(lib, settings: Settings, current: Optional[BackgroundVideo], name: str):
    """Video mode's background for these settings -> (BackgroundVideo or None, the
    problem in words or ""). The current one is kept while its file and looping are."""
    path = settings.video_path
    if current is not None and (current.path, current.loop) == (path, settings.video_loop):
        return current, ""
    if not os.path.isfile(path):
        return None, f"background video not found: {path} — showing blur instead"
    if not os.access(path, os.R_OK):
        return None, f"cannot read background video {path} (permission denied) — showing blur instead"
    try:
        return BackgroundVideo(lib, path, settings.video_loop, name), ""
    except L.ObsCallError as exc:
        return None, f"cannot play background video {path}: {exc} — showing blur instead"
