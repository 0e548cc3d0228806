"""Video -> video through a Pipeline, with decode, processing and encode overlapped.

Three threads joined by small bounded queues: the reader demuxes and decodes, the
caller's thread segments and composites, the writer encodes and muxes (audio
packets pass through untouched, in file order). PyAV, onnxruntime and OpenCV
release the GIL in their C code, so on two cores the stages really overlap.

The video is written to a temporary file beside the target and renamed over it only
when complete (shared/files.py): a failure or Ctrl-C leaves the target as it was.
With a background video (cli/backdrop.py) the reader also takes, for each frame, the
background's frame at that frame's time, so the output keeps the input's length and
timing whatever the background's rate and length.
"""

import queue
import threading
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Optional

from .backdrop import BackgroundVideo, frame_seconds
from .media import VideoReader, VideoWriter
from ..engine.pipeline import Pipeline
from ..shared.files import AtomicOutput

_END = object()
QUEUE_FRAMES = 4


class _Stage(threading.Thread):
    """Runs `work(put)` in a thread; the first exception is kept for the caller."""

    def __init__(self, work: Callable, out: Optional[queue.Queue]):
        super().__init__(daemon=True)
        self.work, self.out, self.error = work, out, None

    def run(self):
        try:
            self.work()
        except BaseException as exc:  # handed to the main thread, raised there
            self.error = exc
        finally:
            if self.out is not None:
                self.out.put(_END)


def render_video(pipeline: Pipeline, source: str, target: str,
                 progress: Optional[Callable] = None, backdrop: Optional[BackgroundVideo] = None) -> int:
    """-> number of video frames written. Keeps resolution, frame timing and audio.
    `progress(total_frames, label)`: makes a tqdm-like bar (context manager, update());
    `backdrop`: the background video (video mode)."""
    reader = VideoReader(source)
    try:
        with (progress or _no_progress)(reader.frames, Path(source).name) as bar, AtomicOutput(target) as out:
            alpha = pipeline.settings.mode == "transparent"
            writer = VideoWriter(str(out.path), reader, alpha, name=target)
            return _render(pipeline, reader, writer, bar, backdrop)
    finally:
        reader.close()


def _render(pipeline: Pipeline, reader: VideoReader, writer: VideoWriter, bar,
            backdrop: Optional[BackgroundVideo]) -> int:
    decoded, processed = queue.Queue(QUEUE_FRAMES), queue.Queue(QUEUE_FRAMES)
    stop = threading.Event()
    start, count = None, 0      # the first frame's time (the background starts with it), frames so far

    def background_at(frame):
        nonlocal start, count
        if backdrop is None:
            return None
        seconds = frame_seconds(frame, count, reader.rate)
        start, count = seconds if start is None else start, count + 1
        return backdrop.at(seconds - start)

    def read():
        for packet in reader.packets():
            if stop.is_set():
                return
            if packet.stream.type == "audio":
                decoded.put(("audio", packet, None))
            else:
                for frame in reader.decode(packet):
                    decoded.put(("video", frame, background_at(frame)))

    def write():
        items = iter(processed.get, _END)
        try:
            for kind, item, frame in items:
                if kind == "audio":
                    writer.copy_audio(item)
                else:
                    writer.write(item, frame)
        finally:
            for _ in items:     # after an error, keep the queue moving until the end
                pass

    reader_stage, writer_stage = _Stage(read, decoded), _Stage(write, None)
    reader_stage.start(), writer_stage.start()
    count, finished = 0, False
    try:
        for kind, item, background in iter(decoded.get, _END):
            if kind == "audio":
                processed.put(("audio", item, None))
                continue
            processed.put(("video", pipeline(reader.rgb(item), backdrop=background), item))
            count += 1
            bar.update()
            if writer_stage.error is not None:
                break
        finished = True
    finally:
        stop.set()
        _drain(decoded, reader_stage)
        processed.put(_END)
        writer_stage.join()
        if finished and reader_stage.error is None and writer_stage.error is None:
            writer.close()
        else:
            writer.abort()      # the temporary file is discarded: no need to finish it
    for stage in (reader_stage, writer_stage):
        if stage.error is not None:
            raise stage.error
    return count


@contextmanager
def _no_progress(total, label):
    yield SimpleNamespace(update=lambda: None)


def _drain(q: queue.Queue, stage: threading.Thread) -> None:
    """Empty a queue so its producer can notice `stop` and finish."""
    while stage.is_alive():
        try:
            q.get(timeout=0.1)
        except queue.Empty:
            pass
