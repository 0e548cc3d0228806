"""Videos (and folders of frames) for the command line; still images are in
vbg_core/engine/images.py.

Videos go through PyAV (FFmpeg's libraries, shipped inside its wheels on Windows,
macOS and Linux, so users need no separate ffmpeg install): frames are decoded to
RGB, re-encoded with the source's resolution and frame timing, and the audio track
is copied packet for packet (no re-encode, no loss).
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
        self.width, self.height = self.stream.codec_context.width, self.stream.codec_context.height
        self.rate = self.stream.average_rate or self.stream.guessed_rate or 30
        self.frames = self.stream.frames or None

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
            yield frame.to_ndarray(format="rgb24")

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


class VideoWriter:
    """Encode RGB(A) frames with a reader's size and timing, copying its audio."""

    def __init__(self, path: str, reader: VideoReader, alpha: bool):
        av = _av()
        suffix = Path(path).suffix.lower()
        if alpha and suffix not in ALPHA_VIDEO:
            raise MediaError(f"{path}: a transparent video needs a .webm, .mov or .mkv name")
        codec, self.pix_fmt = ALPHA_VIDEO[suffix] if alpha else ("libx264", "yuv420p")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.container = av.open(path, "w")
            self.stream = self.container.add_stream(codec, rate=reader.rate)
        except (av.error.FFmpegError, ValueError) as exc:
            raise MediaError(f"cannot write video {path}: {exc}") from None
        self.stream.width, self.stream.height = reader.width, reader.height
        self.stream.pix_fmt = self.pix_fmt
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
        frame.pts, frame.time_base = source_frame.pts, source_frame.time_base
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def copy_audio(self, packet) -> None:
        if self.audio is not None and packet.dts is not None:
            packet.stream = self.audio
            self.container.mux(packet)

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()
