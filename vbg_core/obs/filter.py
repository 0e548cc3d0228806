"""One "Virtual Background" filter instance: settings, its worker, its frame.

Threads: `update` runs on OBS's UI thread and publishes an immutable `View`;
`render` runs on the graphics thread, reads that view once per frame and never
waits (the newest mask is whatever the mailbox holds). Any failure passes the
frame through; the status line says why.
"""

import os
import queue
import threading
from dataclasses import dataclass
from typing import Optional

from ..shared.channel import Channel
from ..shared.messages import CROP, MalformedMask, pack_frame, split_mask
from ..shared.errors import SettingsError
from ..shared.maths import fit_uv
from ..shared.models import get_model
from ..shared.settings import Settings
from . import libobs as L
from .frame_stats import FrameStats
from .status import Facts, State, Status, status
from .gpu import Gpu, ImageFile, readback_size
from .panel import read_settings
from .supervisor import WorkerProcess


@dataclass(frozen=True)
class View:
    """What render needs from the settings, swapped as one object."""
    settings: Settings
    mode: str                       # effective mode (image and video fall back to blur)
    image: Optional[ImageFile]
    notice: str                     # a settings problem, in words ("" if none)


def _video_problem(path: str) -> str:
    """What OBS can tell of video mode's file before the worker opens it ("" = none)."""
    if not os.path.isfile(path):
        return f"background video not found: {path} — showing blur instead"
    if not os.access(path, os.R_OK):
        return f"cannot read background video {path} (permission denied) — showing blur instead"
    return ""


def _fallback(values: dict) -> Settings:
    """What to draw with while the settings are invalid: blur, with every key that is
    valid on its own kept."""
    valid = {}
    for key, value in values.items():
        try:
            Settings.from_obs({key: value})
            valid[key] = value
        except SettingsError:
            pass
    return Settings.from_obs(valid).with_(mode="blur")


class VbgFilter:
    """Threads and what each owns:
    - OBS's UI thread (create, update, properties, destroy): `view` (an immutable
      View, swapped whole), `settings_sent`, the settings mailbox (under update_lock);
      images it replaces go into `garbage` (a thread-safe queue).
    - the graphics thread (render, video_tick, inside the graphics context): `gpu`,
      `gpu_failed`, the frame and mask counters, the frames mailbox, freeing `garbage`;
      video mode's backdrop (the clip's frame the worker sent last).
    - the supervisor's thread: the worker (WorkerProcess says what it shares) and,
      with the UI thread, reading `status()` and `frame_stats.summary()`."""

    def __init__(self, plugin, source, data):
        self.plugin, self.lib, self.source = plugin, plugin.lib, source
        self.name = (self.lib.obs_source_get_name(source) or b"?").decode("utf-8", "replace")
        self.channel = Channel.create_new(os.getpid())
        self.worker: WorkerProcess = plugin.supervisor.worker     # one for every filter of this OBS
        self.died_logged: Optional[float] = None        # the worker's loss this filter last reported
        self.gpu: Optional[Gpu] = None
        self.gpu_failed = ""
        self.was_behind = False                 # the status said last that the worker lags
        self.view = View(Settings(), "blur", None, "")
        self.garbage = queue.SimpleQueue()      # replaced images, freed on the graphics thread
        self.settings_sent = 0
        self.frame_id = 0
        self.mask_id = -1
        self.mask_stamp = 0.0
        self.mask_size = (0, 0)
        self.mask_problem = ""          # why the worker's newest mask was not drawn ("" = none)
        self.crop_id = -1
        self.backdrop_id = -1
        self.backdrop_clip = None       # (path, looping) of the clip the backdrop texture is of
        self.backdrop_problem = ""      # the worker's word on video mode's clip, logged once
        self.problem_lock = threading.Lock()    # status() runs on the UI and supervisor threads
        self.crop_rect = None           # the rectangle the worker asks to read back (unit square)
        self.model_area = 0
        self.frame_stats = FrameStats()
        self.update_lock = threading.Lock()
        self.update(data)
        plugin.supervisor.attach(self.channel)

    def log(self, message: str, level: int = L.LOG_INFO) -> None:
        L.log(self.lib, level, f"'{self.name}': {message}")

    # ---- settings (UI or websocket thread) ----
    def update(self, data) -> None:
        with self.update_lock:                  # one writer for the settings mailbox
            self._update(read_settings(self.lib, data))

    def _update(self, values: dict) -> None:
        old = self.view
        notice = ""
        try:
            settings = Settings.from_obs(values)
        except SettingsError as exc:
            notice = f"{exc} — showing blur instead"
            settings = _fallback(values)
        image, mode = old.image, settings.mode
        if mode == "image":
            image, notice = self._image(settings.image_path, old.image)
            mode = "image" if image else "blur"
        elif mode == "video":       # the worker plays it (vbg_core/video_backdrop.py)
            notice = _video_problem(settings.video_path)
            mode = "blur" if notice else "video"
        if old.image is not None and image is not old.image:
            self.garbage.put(old.image)
        self.view = View(settings, mode, image, notice)
        if notice and notice != old.notice:
            self.log(notice, L.LOG_WARNING)
        self.settings_sent += 1
        # the worker blurs the background: it gets the mode and strength drawn (blur for
        # a missing image; the default strength for an invalid one), never an invalid value
        Channel.put_json(self.channel.settings, dict(values, mode=mode, blur_level=settings.blur), self.settings_sent)

    def _image(self, path: str, current: Optional[ImageFile]):
        if current is not None and current.path == path:
            return current, ""
        if not os.path.isfile(path):
            return None, f"background image not found: {path} — showing blur instead"
        image = ImageFile(self.lib, path)
        if not image.loaded:
            self.garbage.put(image)
            return None, f"cannot read background image {path} (not a JPG, PNG or WebP file, or corrupt) — showing blur instead"
        return image, ""

    # ---- rendering (graphics thread) ----
    def render(self) -> bool:
        """Draw the filtered frame; False = let the caller pass the frame through."""
        lib = self.lib
        target = lib.obs_filter_get_target(self.source)
        size = (lib.obs_source_get_base_width(target), lib.obs_source_get_base_height(target))
        if not self.worker.wanted:
            self.worker.want()
        if not target or not size[0] or not size[1] or self.worker.alive_since is None:
            return False
        if not self._gpu_ready():
            return False
        view = self.view
        self.free_garbage()
        self.gpu.begin_frame()
        frame = self.gpu.render_input(self.source, size)
        self.frame_id += 1
        model_hw = get_model(view.settings.model).input_hw
        self.model_area = model_hw[0] * model_hw[1]
        lo = readback_size(size, model_hw)
        small = self.gpu.downsample("small", frame, size, lo)
        self.gpu.stage("full", small, lo, (self.frame_id, size))
        self._stage_crop(frame, size, model_hw)
        if not self._take_mask():
            self.gpu.draw_plain(frame, size)
            return True
        self._composite(view, frame, size, small)
        return True

    def _stage_crop(self, frame, size, model_hw) -> None:
        """The rectangle the worker asked for last, read back at the model's size
        (shared/messages.py: following the person)."""
        slot = self.channel.crops.read(self.crop_id)
        if slot is not None:
            self.crop_id = slot.frame_id
            self.crop_rect = CROP.unpack(slot.data) if slot.data else None
        rect = self.crop_rect
        self.frame_stats.crop(rect)
        if rect is None:
            return
        region = (rect[0] * size[0], rect[1] * size[1], rect[2] * size[0], rect[3] * size[1])
        crop_size = (model_hw[1], model_hw[0])
        crop = self.gpu.downsample("crop", frame, size, crop_size, region)
        self.gpu.stage("crop", crop, crop_size, (self.frame_id, rect))

    def collect_frame(self) -> None:
        """Graphics thread (video_tick, before this frame's render): read back the
        frame staged by the last render and send it to the worker."""
        if self.gpu is not None and self.worker.alive_since is not None:
            self.lib.obs_enter_graphics()
            try:
                self.gpu.collect(self._send_frame)
            finally:
                self.lib.obs_leave_graphics()

    def _gpu_ready(self) -> bool:
        if self.gpu is None and not self.gpu_failed:
            try:
                self.gpu = Gpu(self.lib)
            except L.ObsCallError as exc:
                self.gpu_failed = f"{exc} — video passes through"
                self.log(self.gpu_failed, L.LOG_ERROR)
        return self.gpu is not None

    def _send_frame(self, full, crop) -> None:
        data, width, height, (frame_id, source_size) = full
        if crop is None:
            message = pack_frame(source_size, data)
        else:
            message = pack_frame(source_size, data, crop[1:3], crop[3][1], crop[0])
        self.channel.frames.write(message, width, height, frame_id)

    def _take_mask(self) -> bool:
        """Upload the newest mask if there is one; -> whether a mask from the current
        worker is ready to draw with."""
        slot = self.channel.masks.read(self.mask_id)
        if slot is not None and slot.height:
            self.mask_id = slot.frame_id            # a malformed one is not read again
            try:
                mask = split_mask(slot)
            except MalformedMask as exc:            # never let the GPU read past it
                self.mask_problem = f"the worker sent a malformed mask ({exc}) — it is not drawn"
            else:
                self.gpu.upload_mask(mask, slot.width, slot.height)
                self.mask_stamp, self.mask_size, self.mask_problem = slot.stamp, (slot.width, slot.height), ""
        alive_since = self.worker.alive_since
        ready = bool(self.gpu.mask_tex) and alive_since is not None and self.mask_stamp >= alive_since
        died_at = self.worker.died_at
        if ready and died_at is not None and died_at != self.died_logged:
            self.died_logged = died_at
            self.log(f"filtered output back {self.mask_stamp - died_at:.2f} s after the worker was lost")
        return ready

    def _composite(self, view: View, frame, size, small) -> None:
        gpu = self.gpu
        gpu.use_mask()
        guided = view.settings.edges and gpu.coef_tex is not None   # made by the worker
        params, mode = {"image": frame}, view.mode
        if mode == "image":         # a picture: fitted once, then drawn as blur's frame-sized background is
            image = view.image
            xform = fit_uv(size, (image.head.cx, image.head.cy), view.settings.image_fit)
            params["bg"], mode = gpu.fitted(image, image.texture(), size, xform), "blur"
        elif mode == "video":       # the clip's frame the worker sent last; before the first: blur
            clip = self._clip_frame(view)
            if clip is None:
                mode = "blur"
            else:
                texture, clip_size = clip
                params.update(bg=texture, bg_xform=fit_uv(size, clip_size, view.settings.video_fit))
                mode = "image"
        if mode == "blur":          # the worker's blur; the frame read back until its first (a frame or two)
            params.setdefault("bg", gpu.blurred_tex or small)
        elif mode == "color":
            params["color"] = tuple(c / 255.0 for c in view.settings.color) + (1.0,)
        by_regions = gpu.composite(mode, guided, size, params, frame)
        fine = self.mask_size[0] * self.mask_size[1] > self.model_area
        self.frame_stats.add(self.frame_id - self.mask_id, by_regions, fine)

    def _clip_frame(self, view: View):
        """Video mode's background -> (texture, (w, h)): the newest frame of the clip the
        worker sent, kept until another comes (video_backdrop.py); None while this clip
        has none yet."""
        gpu, clip = self.gpu, (view.settings.video_path, view.settings.video_loop)
        if self.backdrop_clip != clip:          # another clip: not the last one's frame
            self.backdrop_clip, gpu.backdrop = clip, None
        slot = self.channel.backdrops.read(self.backdrop_id)
        if slot is not None:
            self.backdrop_id = slot.frame_id
            gpu.upload_backdrop(slot.data, (slot.width, slot.height))
        return gpu.backdrop

    def free_garbage(self) -> None:
        while not self.garbage.empty():
            self.garbage.get_nowait().free()

    # ---- status ----
    def status(self) -> Status:
        """What is really happening, in plain words (UI or supervisor thread)."""
        facts = self.status_facts()
        problem = facts.stats.get("backdrop_problem", "")
        with self.problem_lock:         # one of the two threads logs a new word
            logged, self.backdrop_problem = self.backdrop_problem, problem
        if problem and problem != logged:
            self.log(problem, L.LOG_WARNING)
        said = status(facts, "; ".join(n for n in (self.view.notice, problem, self.mask_problem) if n))
        self.was_behind = said.state is State.BEHIND
        return said

    def status_facts(self) -> Facts:
        message = Channel.get_json(self.channel.stats)
        worker = self.worker
        alive_since = worker.alive_since
        fresh = message and alive_since is not None and message[0] >= alive_since * 1000
        return Facts(gpu_failed=self.gpu_failed, wanted=worker.wanted, alive=alive_since is not None,
                            problem=worker.problem,     # stats' counter: the worker's time.monotonic() in ms
                            stats=message[1] if fresh else {}, was_behind=self.was_behind)

    # ---- teardown ----
    def free_gpu(self) -> None:
        """Inside the graphics context."""
        self.free_garbage()
        if self.view.image is not None:
            self.view.image.free()
        if self.gpu is not None:
            self.gpu.free()
            self.gpu = None

    def close(self) -> None:
        """Stop serving this source and remove the channel (any thread but the graphics
        one may hold the graphics context when this runs)."""
        self.plugin.supervisor.detach(self.channel)
        self.channel.close()

