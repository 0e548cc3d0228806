"""Videos (and folders of frames) for the command line; still images are in
vbg_core/engine/images.py.

Videos go through PyAV (FFmpeg's libraries, shipped inside its wheels on Windows,
macOS and Linux, so users need no separate ffmpeg install): frames are decoded to
RGB, re-encoded with the source's resolution and frame timing, and the audio track
is copied packet for packet (no re-encode, no loss).

Frame timing: every frame keeps its source timestamp (the writer uses the source's time
base), so variable-frame-rate clips from phones and screen recorders keep their timing;
nothing is resampled. Rotation metadata (a phone held upright) is applied to the
decoded frames, so segmentation sees the person upright and the output is upright.
Any size up to 4K (4096 pixels a side) is accepted, odd ones too; larger videos are refused.
"""

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List

import numpy as np

from ..shared.errors import MediaError

# Containers that keep an alpha channel, and the codec used for them.
ALPHA_VIDEO = {".webm": ("libvpx-vp9", "yuva420p"), ".mov": ("qtrle", "argb"),
               ".mkv": ("ffv1", "bgra")}
MAX_SIDE = 4096     # 4K: 3840x2160 and 4096x2160, upright too; 8K is refused


def frame_files(directory: str) -> List[Path]:
    """A directory of frames (*.jpg / *.png), sorted by name."""
    files = sorted(p for p in Path(directory).iterdir()
                   if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    if not files:
        raise MediaError(f"no .jpg or .png frames in directory {directory}")
    return files


def _av():
    import av
    return av


def _open_input(path: str):
    if not os.path.isfile(path):
        raise MediaError(f"input not found: {path}")
    av = _av()
    try:
        container = av.open(path)
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot read video {path}: {exc.strerror or exc}") from None
    if not container.streams.video:
        container.close()
        raise MediaError(f"cannot read video {path}: it has no video stream")
    return container


class VideoReader:
    """Iterate RGB frames of a video; knows its size, rate, frame count and audio."""

    def __init__(self, path: str):
        self.path = path
        self.container = _open_input(path)
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        self.audio = self.container.streams.audio[0] if self.container.streams.audio else None
        self.turns = _quarter_turns(path)
        width, height = self.stream.codec_context.width, self.stream.codec_context.height
        self.width, self.height = (height, width) if self.turns % 2 else (width, height)
        _check_size(path, self.width, self.height)
        self.rate = self.stream.average_rate or self.stream.guessed_rate or 30
        self.frames = self.stream.frames or None

    def rgb(self, frame) -> np.ndarray:
        """A decoded frame as upright RGB uint8 (its rotation metadata applied)."""
        rgb_u8 = frame.to_ndarray(format="rgb24")
        return np.ascontiguousarray(np.rot90(rgb_u8, self.turns)) if self.turns else rgb_u8

    def packets(self):
        """Demuxed packets of the video and (if any) audio stream, in file order."""
        streams = [s for s in (self.stream, self.audio) if s is not None]
        with self._errors():
            yield from self.container.demux(*streams)

    def decode(self, packet):
        with self._errors():
            return packet.decode()

    def __iter__(self) -> Iterator[np.ndarray]:
        for frame in self.decoded():
            yield self.rgb(frame)

    def decoded(self):
        """Decoded video frames (PyAV VideoFrame), in presentation order."""
        for packet in self.packets():
            if packet.stream is self.stream:
                yield from self.decode(packet)

    @contextmanager
    def _errors(self):
        av = _av()
        try:
            yield
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot decode video {self.path}: {exc.strerror or exc}") from None

    def close(self):
        self.container.close()


def _quarter_turns(path: str) -> int:
    """Counter-clockwise quarter turns that make the video upright, from the display
    matrix FFmpeg attaches to decoded frames (a phone held upright records one)."""
    av = _av()
    try:
        with av.open(path) as container:
            frame = next(container.decode(video=0), None)
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot decode video {path}: {exc.strerror or exc}") from None
    return round((getattr(frame, "rotation", 0) or 0) / 90) % 4


def _check_size(path: str, width: int, height: int) -> None:
    if max(width, height) > MAX_SIDE:
        raise MediaError(f"video {path} is {width}x{height}, larger than 4K (at most {MAX_SIDE} pixels "
                         "a side): scale it down first, e.g. ffmpeg -i IN -vf scale=-2:2160 OUT")

class VideoWriter:
    """Encode RGB(A) frames with a reader's size and timestamps, copying its audio.
    `path` is the file written (a temporary one); `name` the output a user sees in errors."""

    def __init__(self, path: str, reader: VideoReader, alpha: bool, name: str = ""):
        av = _av()
        self.name, self.frames, self.last_pts = name or path, 0, None
        suffix = Path(self.name).suffix.lower()
        if alpha and suffix not in ALPHA_VIDEO:
            raise MediaError(f"{self.name}: a transparent video needs a .webm, .mov or .mkv name")
        codec, self.pix_fmt = ALPHA_VIDEO[suffix] if alpha else ("libx264", _x264_format(reader))
        try:
            self.container = av.open(str(path), "w")
            self.stream = self.container.add_stream(codec, rate=reader.rate)
        except (av.error.FFmpegError, ValueError) as exc:
            raise MediaError(f"cannot write video {self.name}: {exc}") from None
        self.stream.width, self.stream.height = reader.width, reader.height
        self.stream.pix_fmt = self.pix_fmt
        self.stream.codec_context.time_base = reader.stream.time_base   # source timestamps kept
        self.step = max(1, round(1 / (reader.rate * reader.stream.time_base)))
        if codec == "libx264":
            self.stream.options = {"crf": "18", "preset": "veryfast"}
        self.in_format = "rgba" if alpha else "rgb24"
        self.audio = self._audio_stream(reader)

    def _audio_stream(self, reader: VideoReader):
        if reader.audio is None:
            return None
        try:
            return self.container.add_stream_from_template(reader.audio)
        except (ValueError, _av().error.FFmpegError):
            return None  # container cannot hold this audio codec; video still written

    def write(self, image_u8: np.ndarray, source_frame) -> None:
        frame = _av().VideoFrame.from_ndarray(np.ascontiguousarray(image_u8), format=self.in_format)
        frame.pts, frame.time_base = self._pts(source_frame), source_frame.time_base
        with self._errors():
            for packet in self.stream.encode(frame):
                self.container.mux(packet)
        self.frames += 1

    def _pts(self, source_frame) -> int:
        """The source's timestamp; made up (one frame on) only where it is missing or repeats."""
        pts = source_frame.pts
        if pts is None or (self.last_pts is not None and pts <= self.last_pts):
            pts = 0 if self.last_pts is None else self.last_pts + self.step
        self.last_pts = pts
        return pts

    def copy_audio(self, packet) -> None:
        if self.audio is not None and packet.dts is not None:
            packet.stream = self.audio
            with self._errors():
                self.container.mux(packet)

    def close(self) -> None:
        with self._errors():
            for packet in self.stream.encode():
                self.container.mux(packet)
            self.container.close()

    def abort(self) -> None:
        """Close after a failure; errors here would only hide the first one."""
        try:
            self.container.close()
        except Exception:   # noqa: BLE001 - the file is discarded anyway
            pass

    @contextmanager
    def _errors(self):
        """Write errors (disk full, file too large, ...) as they happen, naming the output."""
        av = _av()
        try:
            yield
        except (OSError, av.error.FFmpegError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise MediaError(f"cannot write video {self.name}: {reason} "
                             f"(stopped after {self.frames} frames)") from None


def _x264_format(reader: VideoReader) -> str:
    """4:2:0 needs even sides; odd-sized videos keep their exact size in 4:4:4."""
    return "yuv420p" if reader.width % 2 == 0 and reader.height % 2 == 0 else "yuv444p"
