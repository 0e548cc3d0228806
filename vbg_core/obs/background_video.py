"""A background video inside OBS, decoded by OBS's own media source.

The filter makes a *private* `ffmpeg_source` for the file: in no scene and no source
list, muted and in no audio mix, so nothing of it is heard or listed. libobs ticks it
like any source. No frame reaches Python.

Drawing: each tick's decoded frame is borrowed (`obs_source_get_frame`, as the media
source's own drawing does) and its planes are uploaded as they are, 8-bit Y, U and V
(I420, I422, I444: what FFmpeg decodes almost every SDR video to); the composite
turns them into RGB with the frame's own colour matrix and ranges, as OBS's
format_conversion.effect does, in its one full-resolution pass. Any other frame (NV12,
10-bit, HDR, packed RGB, flipped) switches this video to OBS drawing its frame into a
texture of the video's size, which costs two more passes a frame (`texture`).

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
the filter renders; `show` runs in the video tick too; `picture` in render. Teardown
releases outside the graphics context: libobs 29 ticks sources holding its sources
lock, and a source's destruction takes that lock, so releasing while holding the
graphics context could deadlock against a tick that waits for it.
"""

import os
import threading
import time
from typing import NamedTuple, Optional, Tuple

from ..shared.settings import Settings
from . import libobs as L

START_SECONDS = 5.0     # shown this long without a frame: the file cannot be played
# 8-bit planar YUV formats drawn from their planes: name, chroma's subsampling (x, y)
PLANAR = {L.VIDEO_FORMAT_I420: ("I420", 2, 2), L.VIDEO_FORMAT_I422: ("I422", 2, 1),
          L.VIDEO_FORMAT_I444: ("I444", 1, 1)}
PLANES = ("video_y", "video_u", "video_v")      # their textures (Gpu.textures)
MEDIA_SETTINGS = {"is_local_file": True, "restart_on_activate": True, "clear_on_media_end": False,
                  "close_when_inactive": False, "hw_decode": False}


class Colour(NamedTuple):
    """How the composite reads one frame's planes: the textures are as wide as the
    planes' rows in bytes, so u is scaled by width / row and clamped half a texel inside
    the last column (`u`: Y's scale and limit, then U's and V's); then YUV -> RGB with
    the frame's matrix rows and ranges."""
    size: Tuple[int, int]
    u: Tuple[float, float, float, float]
    rows: Tuple[Tuple[float, ...], ...]
    low: Tuple[float, float, float]
    high: Tuple[float, float, float]


def planar_colour(frame: L.SourceFrame) -> Tuple[Optional[Colour], str]:
    """-> (how to draw this frame from its planes, "") or (None, why it cannot be)."""
    if frame.format not in PLANAR:
        return None, f"its frames are in OBS video format {frame.format}, not 8-bit planar YUV"
    if frame.trc not in (L.VIDEO_TRC_DEFAULT, L.VIDEO_TRC_SRGB) or frame.flip:
        return None, "its frames are HDR or upside down"
    _, sx, sy = PLANAR[frame.format]
    w, h = frame.width, frame.height
    cw = (w + sx - 1) // sx
    y_row, c_row = frame.linesize[0], frame.linesize[1]
    if not w or not h or y_row < w or c_row < cw or frame.linesize[2] != c_row or y_row % 4 or c_row % 4:
        return None, f"its planes' rows ({y_row}, {c_row}, {frame.linesize[2]} bytes) do not fit {w}x{h}"
    matrix = tuple(frame.color_matrix)
    return Colour((w, h), (w / y_row, (w - 0.5) / y_row, cw / c_row, (cw - 0.5) / c_row),
                  tuple(matrix[4 * i:4 * i + 4] for i in range(3)),
                  tuple(frame.color_range_min), tuple(frame.color_range_max)), ""


def plane_sizes(frame: L.SourceFrame) -> Tuple[Tuple[int, int], ...]:
    """The three planes' textures: (row bytes, rows) each."""
    _, sx, sy = PLANAR[frame.format]
    ch = (frame.height + sy - 1) // sy
    return ((frame.linesize[0], frame.height), (frame.linesize[1], ch), (frame.linesize[2], ch))


class BackgroundVideo:
    def __init__(self, lib, path: str, loop: bool, name: str):
        self.lib, self.path, self.loop = lib, path, loop
        self.lock = threading.Lock()            # `source` and `shown` change together
        self.shown = False
        self.shown_at: Optional[float] = None
        self.seen_frame = False
        self.reported = False                   # its problem was logged (video tick)
        self.colour: Optional[Colour] = None    # the last frame's, while drawn from its planes
        self.by_obs = ""                        # why OBS draws its frames instead ("": it does not)
        self.name = name
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

    def picture(self, gpu):
        """Render: the current frame -> ("video", parameters of the composite's Video
        techniques, (w, h)) from its planes, ("image", {"bg": texture}, (w, h)) drawn by
        OBS, or None before the first frame."""
        source = self.source
        if source is None:
            return None
        if self.by_obs:
            return self.texture(gpu)
        lib = self.lib
        address = lib.obs_source_get_frame(source)
        if address:
            try:
                frame = L.SourceFrame.from_address(address)
                colour, why = planar_colour(frame)
                if colour is None:
                    self.by_obs, self.colour = why, None
                    L.log(lib, L.LOG_INFO, f"{self.name} {self.path}: {why}; OBS draws them (two passes more a frame)")
                    return None
                for name, size, index in zip(PLANES, plane_sizes(frame), range(3)):
                    gpu.upload(name, L.GS_R8, size, frame.data[index], size[0])
                if self.colour is None:
                    L.log(lib, L.LOG_INFO, f"{self.name} {self.path}: its {PLANAR[frame.format][0]} frames "
                                           "drawn from their planes")
                self.colour, self.seen_frame = colour, True
            finally:
                lib.obs_source_release_frame(source, address)
        textures = [gpu.textures.get(name, (None,))[0] for name in PLANES]
        colour = self.colour
        if colour is None or not all(textures):
            return None
        params = {"bg": textures[0], "bg_u": textures[1], "bg_v": textures[2], "yuv_u": colour.u,
                  "yuv_r": colour.rows[0], "yuv_g": colour.rows[1], "yuv_b": colour.rows[2],
                  "yuv_min": colour.low, "yuv_max": colour.high}
        return "video", params, colour.size

    def texture(self, gpu):
        """Render: the current frame drawn by OBS into a texture of the video's size
        -> ("image", {"bg": texture}, (w, h)), or None before its first frame."""
        size = self.size()
        if not size[0] or not size[1]:
            return None
        self.seen_frame = True
        source = self.source
        return "image", {"bg": gpu.into("video_bg", L.GS_RGBA, size,
                                        lambda: self.lib.obs_source_video_render(source))}, size

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
