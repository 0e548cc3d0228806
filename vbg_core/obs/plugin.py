"""The Python implementation behind the registered trampolines (one per script load).

`load()` registers the source type (once per process), adopts filter instances that
outlived a previous load of the script, and starts the worker supervisor.
`unload()` frees every instance's GPU resources and workers; until the next load
the trampolines pass video through.
"""

import os
import threading
import time

from . import libobs as L
from .filter import VbgFilter
from .panel import Panel, set_defaults
from .registry import persistent
from .supervisor import Supervisor

STATS_INTERVAL_S = float(os.environ.get("VBG_STATS_INTERVAL", "60"))


class Filters:
    """The live filter instances by handle. OBS's UI thread adds and removes them, the
    graphics thread adopts them after a script reload, every thread looks them up."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = {}

    def put(self, handle: int, item: VbgFilter) -> None:
        with self.lock:
            self.items[handle] = item

    def pop(self, handle: int):
        with self.lock:
            return self.items.pop(handle, None)

    def get(self, handle: int):
        with self.lock:
            return self.items.get(handle)

    def take_all(self):
        with self.lock:
            items, self.items = list(self.items.values()), {}
        return items

    def all(self):
        with self.lock:
            return list(self.items.values())


class Plugin:
    """Threads: the callbacks come on OBS's UI thread (create, destroy, update,
    properties), the graphics thread (video_tick, video_render) and, for load and
    unload, the script thread; `report_status` runs on the supervisor's thread and
    alone owns `logged` and `stats_at`. No show/hide callbacks: OBS does not render a
    hidden source, so nothing is read back and its worker idles."""

    def __init__(self, script_dir: str):
        self.persistent = persistent()
        self.lib = L.declare(self.persistent.lib)
        self.script_dir = script_dir
        self.repo_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.filters = Filters()
        self.panel = Panel(self.lib, self.persistent)
        self.supervisor = Supervisor(self.log, self.report_status, self.repo_dir, script_dir)
        self.logged = {}
        self.stats_at = time.monotonic()

    def log(self, message: str, level: int = L.LOG_INFO) -> None:
        L.log(self.lib, level, message)

    # ---- lifecycle ----
    def load(self) -> None:
        newly = self.persistent.register()
        self.log("registered the 'Virtual Background' filter (vbg_filter)" if newly
                 else "reloaded; 'Virtual Background' (vbg_filter) was already registered")
        for handle, source in list(self.persistent.sources.items()):
            self.adopt(handle, source)
        self.persistent.impl = self
        self.supervisor.start()

    def adopt(self, handle: int, source) -> None:
        data = self.lib.obs_source_get_settings(source)
        try:
            self.filters.put(handle, VbgFilter(self, source, data))
        finally:
            self.lib.obs_data_release(data)

    def unload(self) -> None:
        self.persistent.impl = None
        filters = self.filters.take_all()
        self.lib.obs_enter_graphics()
        try:
            for item in filters:
                item.free_gpu()
        finally:
            self.lib.obs_leave_graphics()
        self.supervisor.stop()
        for item in filters:
            item.channel.close()

    # ---- callbacks (names match registry.Persistent's trampolines) ----
    def create(self, handle: int, source, data) -> None:
        self.filters.put(handle, VbgFilter(self, source, data))

    def destroy(self, handle: int) -> None:
        item = self.filters.pop(handle)
        if item is None:
            return
        item.log(f"removed; {item.frame_stats.summary()}; worker restarts {item.worker.restarts}")
        self.lib.obs_enter_graphics()
        try:
            item.free_gpu()
        finally:
            self.lib.obs_leave_graphics()
        item.close()

    def get_defaults(self, data) -> None:
        set_defaults(self.lib, data)

    def get_properties(self, handle):
        item = self.filters.get(handle)
        return self.panel.build(str(item.status()) if item else "add the filter to a source to see its status")

    def update(self, handle: int, data) -> None:
        item = self.filters.get(handle)
        if item is not None:
            item.update(data)

    def video_tick(self, handle: int, seconds: float) -> None:
        item = self.filters.get(handle)
        if item is not None:
            item.collect_frame()

    def video_render(self, handle: int) -> bool:
        item = self.filters.get(handle)
        if item is None:
            source = self.persistent.sources.get(handle)
            if source is None:
                return False
            self.adopt(handle, source)
            item = self.filters.get(handle)
        try:
            return item.render()
        except Exception:
            self.persistent.report("video_render")
            return False

    def on_modified(self, props, prop, data) -> bool:
        return self.panel.on_mode_modified(props, data)

    def on_clicked(self, props, prop, data) -> bool:
        return True         # "Refresh status": rebuild the panel

    # ---- supervisor thread ----
    def report_status(self, now: float) -> None:
        """Log each filter's status when its words change, and stats now and then."""
        periodic = now - self.stats_at >= STATS_INTERVAL_S
        if periodic:
            self.stats_at = now
        logged, self.logged = self.logged, {}      # only live filters stay in it
        for item in self.filters.all():
            status = self.logged[item] = item.status()
            if status.news_after(logged.get(item)):
                item.log(f"status: {status}")
            if periodic:
                item.log(f"stats: {status}; {item.frame_stats.summary()}; worker restarts {item.worker.restarts}")
