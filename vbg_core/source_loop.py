"""One filtered source in the worker process (vbg_core/worker.py runs one per source).

`SourceLoop`: the newest frame from the source's channel -> the engine
(pipeline.followed: the model on the crop around the person the filter read back, with
whole bodies tracked in what was read back (pose.py), as `vbg` runs it; a recurrent
model (RVM) on the whole frame with its state) -> the mask
into the channel, and the crop to read back next (latest frame wins; stale frames are
skipped); in video mode the clip's frames too (video_backdrop.py). Each source has its
own settings, temporal state, recurrent model state (RVM's r1..r4, reset on a cut, a new
frame size, frames resuming after a pause and new settings), clip and stats.
`Segmenters`: one inference session per (model, provider, threads) and one whole-body
tracker per (provider, threads), shared by the sources, never a state.
"""

import time
from typing import Optional

import cv2
import numpy as np

from .engine import motion, regions, roi
from .engine.compose import blurred_small
from .engine.imaging import Pyramid
from .engine.pipeline import followed, grid_size, tracking, with_bodies
from .engine.pose import PoseTracker
from .shared.channel import Channel
from .shared.messages import CROP, pack_mask, split_frame
from .video_backdrop import VideoBackdrop
from .shared.maths import fit_box
from .shared.errors import VbgError
from .engine.refine import for_model, frames_to_settle, guided_coefficients, refine_lowres
from .engine.segment import Segmenter, open_segmenter
from .shared.settings import WORKER_KEYS, Settings

IDLE_AFTER_S = 0.5             # no frame for this long: the source is idle (and a recurrent state is stale)
STATS_EVERY_S = 0.5
FRAME_RATE_WINDOW_S = 3.0      # OBS's frame rate is judged over this long (a slow model reads few frames)
# While the picture is still the last mask is kept and no inference runs: after the
# temporal smoothing has settled (refine.frames_to_settle: 15 segmented frames without
# movement, motion.moved, at the default smoothing), and at least this many.
SETTLE_FRAMES = 8
# The modes whose background the worker blurs (video mode shows the blur while its
# clip has no frame); the filter sends the mode it draws (blur for a missing file).
BLURRED_MODES = ("blur", "video")


def pad_rows(mask_u8: np.ndarray) -> np.ndarray:
    """Pad rows to a multiple of 4 bytes (replicating the last column) so the OBS
    side can upload the mask with any texture row alignment."""
    pad = -mask_u8.shape[1] % 4
    return np.pad(mask_u8, ((0, 0), (0, pad)), mode="edge") if pad else mask_u8


def quantize(alpha_f32: np.ndarray) -> np.ndarray:
    """Alpha 0..1 -> the uint8 mask the worker sends (255 = person), rounded."""
    return np.clip(alpha_f32 * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _rgb(rgba: bytes, width: int, height: int) -> np.ndarray:
    return np.ascontiguousarray(np.frombuffer(rgba, np.uint8).reshape(height, width, 4)[:, :, :3])


class Segmenters:
    """One inference session per (model, provider, threads) and one whole-body tracker
    per (provider, threads), shared by the sources."""

    def __init__(self):
        self.sessions = {}
        self.trackers = {}

    def get(self, key) -> Segmenter:
        if key not in self.sessions:
            self.sessions[key] = open_segmenter(*key)
        return self.sessions[key]

    def tracker(self, provider: str, threads: int) -> PoseTracker:
        if (provider, threads) not in self.trackers:
            self.trackers[provider, threads] = PoseTracker(provider, threads)
        return self.trackers[provider, threads]


class SourceLoop:
    """One filtered source's side of the worker: its channel, settings, temporal state,
    a recurrent model's state (`memory`, with the frame size it belongs to) and stats
    (all on the worker's one thread)."""

    def __init__(self, channel: Channel, segmenters: Segmenters):
        self.channel, self.segmenters = channel, segmenters
        self.settings: Optional[Settings] = None
        self.blurs = False              # the filter draws (or may draw) the blurred background
        self.backdrop: Optional[VideoBackdrop] = None   # video mode's clip
        self.backdrop_id = 0            # the id of its frame sent last
        self.segmenter = None
        self.engine_key = None
        self.state = None
        self.roi = None                 # following the person (engine/roi.py)
        self.tracker: Optional[PoseTracker] = None  # whole bodies (engine/pose.py), for the plain models
        self.pose_state = None          # its state for this source
        self.frame_hw = None            # the source's (h, w) the states are of
        self.refining: Optional[Settings] = None    # the settings refining this model's output
        self.settle_frames = SETTLE_FRAMES         # still segmented frames before the last mask is kept
        self.memory = None              # a recurrent model's state for this source only
        self.memory_size = None         # the frame size it was made at
        self.resets = 0                 # how often the recurrent state was started afresh
        self.frame_ids = []             # (time, frame id) of the frames read in FRAME_RATE_WINDOW_S
        self.waiting_since = None       # when a poll last found no new frame after one was read
        self.error = ""
        self.settings_id = -1
        self.last_frame_id = -1
        self.last_frame_at = 0.0
        self.infer_ms = 0.0
        self.mask_times = []
        self.skip_times = []            # frames not segmented because nothing moved
        self.still = None               # motion.signature of the frame segmented last
        self.still_frames = 0           # segmented frames in a row without movement
        self.resting = False            # the last frame kept the last mask: poll slowly
        self.stats_at = 0.0

    def step(self) -> bool:
        """Settings, the newest frame if there is one, stats; -> whether frames are
        flowing (poll again soon)."""
        self.poll_settings()
        slot = self.channel.frames.read(self.last_frame_id) if self.segmenter else None
        if slot is not None:
            self.process(slot)
        elif self.waiting_since is None:
            self.waiting_since = time.monotonic()
        flowing = time.monotonic() - self.last_frame_at < IDLE_AFTER_S
        if flowing and self.backdrop is not None and self.frame_hw is not None:
            self.play()
        self.publish_stats()
        return flowing and (not self.resting or self.backdrop is not None)

    def poll_settings(self) -> None:
        message = Channel.get_json(self.channel.settings, self.settings_id)
        if message is None:
            return
        self.settings_id, values = message
        self.still, self.still_frames = None, 0         # new settings: segment the next frame
        self.memory = None
        self.blurs = values.get("mode", "blur") in BLURRED_MODES
        self.follow_video(values)
        try:
            worker_values = {key: values[key] for key in WORKER_KEYS + ("blur_level",) if key in values}
            self.settings = Settings.from_obs(worker_values)
            self.load_engine()
            self.refining = for_model(self.settings, self.segmenter.spec)
            self.settle_frames = max(SETTLE_FRAMES, frames_to_settle(self.refining.smoothing))
            self.track_bodies()
        except VbgError as exc:
            self.fail(str(exc))
        except Exception as exc:        # onnxruntime raises several unrelated types
            self.fail(f"cannot start inference: {exc}")

    def follow_video(self, values: dict) -> None:
        """Open video mode's clip (another file or looping: opened anew), or close it."""
        wanted = (values.get("video_path", ""), bool(values.get("video_loop", True))) \
            if values.get("mode") == "video" else None
        backdrop = self.backdrop
        if wanted == (backdrop and (backdrop.path, backdrop.loop)):
            return
        if backdrop is not None:
            backdrop.close()
        self.backdrop = VideoBackdrop(*wanted) if wanted else None

    def play(self) -> None:
        """Send the clip's frame due now, if it moved on. Its id is the clock in
        microseconds (time.monotonic() is system-wide), and always above the last, so ids
        grow across clips and across worker restarts (a coarse clock too), and the filter
        reads each new frame once."""
        now = time.monotonic()
        sent = self.backdrop.frame(now, self.frame_hw)
        if sent is not None:
            data, (width, height) = sent
            self.backdrop_id = max(self.backdrop_id + 1, int(now * 1e6))
            self.channel.backdrops.write(data, width, height, self.backdrop_id)

    def load_engine(self) -> None:
        key = (self.settings.model, self.settings.provider, self.settings.threads)
        if key == self.engine_key and self.segmenter is not None:
            return
        self.segmenter, self.engine_key, self.state, self.roi, self.pose_state = None, key, None, None, None
        self.publish_stats(force=True, state="loading")
        self.segmenter = self.segmenters.get(key)
        self.error = ""

    def track_bodies(self) -> None:
        """Whole bodies are tracked with the plain models (as `vbg` does) when the
        settings ask for it; a tracker that starts or stops starts its state afresh."""
        settings = self.settings
        tracker = self.segmenters.tracker(settings.provider, settings.threads) \
            if self.segmenter.plain and settings.bodies else None
        if tracker is not self.tracker:
            self.tracker, self.pose_state = tracker, None

    def fail(self, message: str) -> None:
        self.error = message
        self.segmenter, self.engine_key = None, None
        self.publish_stats(force=True)

    def process(self, slot) -> None:
        now = time.monotonic()
        frame = split_frame(slot)
        rgb = _rgb(frame.full, slot.width, slot.height)
        signature = motion.signature(rgb)
        waited, self.waiting_since = now - (self.waiting_since or now), None
        if self.new_scene(slot, signature, waited):
            self.memory, self.resets = None, self.resets + 1
        if waited > IDLE_AFTER_S and self.backdrop is not None:     # shown again
            self.backdrop.restart()
        if self.memory is None:
            self.memory_size = (slot.width, slot.height)
        self.last_frame_id, self.last_frame_at = slot.frame_id, now
        self.frame_ids.append((now, slot.frame_id))
        self.resting = self.nothing_moved(signature)
        if self.resting:
            self.skip_times.append(self.last_frame_at)
            return
        frame_hw = frame.source_size[::-1]
        if frame_hw != self.frame_hw:           # a new source size: a new stream
            self.frame_hw, self.state, self.roi, self.pose_state = frame_hw, None, None, None
        started = time.perf_counter()
        try:
            alpha = self.segment(frame, rgb)
        except Exception as exc:        # onnxruntime raises several unrelated types
            self.fail(f"inference failed: {exc}")
            return
        self.infer_ms = 0.8 * self.infer_ms + 0.2 * (time.perf_counter() - started) * 1000 \
            if self.infer_ms else (time.perf_counter() - started) * 1000
        mask = quantize(alpha)
        background, background_size = self.background(rgb, alpha)
        message = pack_mask(pad_rows(mask).tobytes(), self.coefficients(alpha), regions.pack(mask),
                            background, background_size)
        self.channel.masks.write(message, mask.shape[1], mask.shape[0], slot.frame_id)
        self.mask_times.append(time.monotonic())
        self.ask_crop(slot.frame_id)

    def segment(self, frame, rgb: np.ndarray) -> np.ndarray:
        """-> this frame's alpha (float32, 0..1): a recurrent model on the whole frame
        with this source's state; the others following the person, as `vbg` does."""
        if not self.segmenter.spec.recurrent:
            views = self.views(frame, rgb)
            alpha, self.state, self.roi = followed(views, self.segmenter, self.roi, self.state, self.refining,
                                                   lambda probs: self.with_bodies(views, probs), self.looks())
            return alpha
        probs, self.memory = self.segmenter.step(rgb, self.memory)
        if probs.shape != rgb.shape[:2]:
            probs = cv2.resize(probs, (rgb.shape[1], rgb.shape[0]), interpolation=cv2.INTER_LINEAR)
        alpha, self.state = refine_lowres(probs, rgb, self.state, self.refining)
        return alpha

    def looks(self):
        """While whole bodies are tracked, the source's model looks at the picture and at
        its mirror image (`vbg` takes the general model for that, in time it has spare;
        the worker runs in turn, and the general model's two looks made its step 5 ms
        longer than the landscape model's two: RESULTS.md) -> the look, or None."""
        if not tracking(self.pose_state):
            return None
        return lambda rgb: self.segmenter.predict(rgb, mirrored=True)

    def with_bodies(self, views: roi.ReadbackViews, probs: np.ndarray) -> np.ndarray:
        """The whole bodies tracked in what the filter read back laid into the selfie
        model's probabilities, as `vbg` does on the frame itself: the tracker sees the
        frame within the grid's size at the frame's own aspect (the full view scaled up,
        the crop over its box): a body squeezed into the general model's square grid
        loses its landmarks."""
        if self.tracker is None:
            return probs
        width, height, _, _ = fit_box(self.frame_hw, grid_size(self.frame_hw, self.segmenter.spec.input_hw),
                                     fill=False)
        picture = Pyramid(views.picture((height, width)))
        probs, self.pose_state = with_bodies(self.tracker, picture, self.pose_state, probs)
        return probs

    def coefficients(self, alpha: np.ndarray) -> bytes:
        """With edge refinement on, the guided filter's coefficients at the mask's size
        (the filter draws alpha = a * luma + b from them), made from the same alpha and
        guide as `vbg`'s (refine.upsample); float16 pairs. Made here, on about 1 ms of
        the worker's CPU, rather than in four float passes on the GPU: at 512x288 while
        following they cost OBS 12 ms a frame in llvmpipe (benchmarks/RESULTS-obs.md)."""
        if not self.settings.edges:
            return b""
        mean_a, mean_b = guided_coefficients(alpha, self.state.luma_f32)
        return cv2.merge((mean_a, mean_b)).astype(np.float16).tobytes()

    def background(self, rgb: np.ndarray, alpha: np.ndarray):
        """In the blurred modes, the mask-weighted blur of this frame's background at
        its reduced size (compose.blurred_small on the frame read back: the blur's
        sigma is in lines of the frame, so the same look as from the full frame), RGBA
        for the filter to scale up as it draws -> (bytes, (w, h)); else (b"", (0, 0)).
        Made here on under 1 ms of the worker's CPU (0.85 ms at the default strength)
        rather than in three passes on the GPU (benchmarks/RESULTS-obs.md)."""
        if not self.blurs or (self.backdrop is not None and self.backdrop.playing):
            return b"", (0, 0)
        blurred = blurred_small(rgb, alpha, self.settings.blur)
        return cv2.cvtColor(blurred, cv2.COLOR_RGB2RGBA).tobytes(), (blurred.shape[1], blurred.shape[0])

    def views(self, frame, rgb: np.ndarray) -> roi.ReadbackViews:
        """The frame and the crop the filter read back (if any), for roi.look."""
        held = None
        if frame.crop_size[0] and self.segmenter.fit == "stretch":
            (w, h), box = frame.crop_size, roi.pixel_box(frame.crop_rect, self.frame_hw)
            held = box, _rgb(frame.crop, w, h)
        return roi.ReadbackViews(self.frame_hw, rgb, held)

    def ask_crop(self, frame_id: int) -> None:
        """Tell the filter which rectangle to read back next (none: the whole frame only)."""
        box = roi.plan(self.roi, self.frame_hw) if self.segmenter.fit == "stretch" else None
        data = b"" if box is None else CROP.pack(*roi.unit_rect(box, self.frame_hw))
        self.channel.crops.write(data, 0, 0, frame_id)

    def new_scene(self, slot, signature: np.ndarray, waited_s: float) -> bool:
        """Whether a recurrent model's state must start afresh before this frame: a cut
        (motion.cut), another frame size, or frames resuming after the worker waited
        IDLE_AFTER_S for one (the source was hidden, or switched; a slow model never
        waits, so its frames do not count as resumed). New settings reset it in
        poll_settings."""
        return self.memory is not None and (
            (slot.width, slot.height) != self.memory_size or waited_s > IDLE_AFTER_S
            or (self.still is not None and motion.cut(self.still, signature)))

    def nothing_moved(self, signature: np.ndarray) -> bool:
        """Whether this frame can keep the last mask (the picture has been still for
        `settle_frames` segmented frames and still is); counts still frames otherwise."""
        still = self.still is not None and not motion.moved(self.still, signature)
        if still and self.settings.pause_when_still and self.still_frames >= self.settle_frames:
            return True
        self.still, self.still_frames = signature, self.still_frames + 1 if still else 0
        return False

    def publish_stats(self, force: bool = False, state: str = "") -> None:
        now = time.monotonic()
        if not force and now - self.stats_at < STATS_EVERY_S:
            return
        self.stats_at = now
        self.mask_times = [t for t in self.mask_times if now - t <= 1.0]
        self.skip_times = [t for t in self.skip_times if now - t <= 1.0]
        recent = [entry for entry in self.frame_ids if now - entry[0] <= FRAME_RATE_WINDOW_S]
        self.frame_ids = recent if len(recent) >= 2 else self.frame_ids[-2:]   # a model slower than the window
        segmenter = self.segmenter
        notes = [segmenter.model_note, segmenter.fallback_note] if segmenter else []
        Channel.put_json(self.channel.stats, {
            "state": state or ("error" if self.error else "running" if segmenter else "waiting"),
            "provider": segmenter.active_provider if segmenter else "",
            "model": (segmenter.spec.label or segmenter.spec.name) if segmenter else "",
            "note": "; ".join(note for note in notes if note),
            "infer_ms": round(self.infer_ms, 2),
            "mask_rate": float(len(self.mask_times)),
            "still_rate": float(len(self.skip_times)),      # frames/s that kept the last mask
            "frame_rate": self.frame_rate(),
            "resets": self.resets,
            "error": self.error,
            "backdrop_problem": self.backdrop.problem if self.backdrop is not None else "",
        }, int(now * 1000))

    def close(self) -> None:
        """The source is no longer served: its clip and its channel let go."""
        if self.backdrop is not None:
            self.backdrop.close()
        self.channel.close()

    def frame_rate(self) -> float:
        """Frames/s OBS draws, over the last FRAME_RATE_WINDOW_S (from the ids of the
        frames read: the worker reads only the newest, so ids, not reads, are counted);
        0 while no frame comes (the source is hidden)."""
        waiting = self.waiting_since is not None and time.monotonic() - self.waiting_since > IDLE_AFTER_S
        if waiting or len(self.frame_ids) < 2:
            return 0.0
        (t0, first), (t1, last) = self.frame_ids[0], self.frame_ids[-1]
        return round((last - first) / max(t1 - t0, 1e-3), 1)
