"""The Python implementation behind the registered trampolines (one per script load).

`load()` registers the source type (once per process), adopts filter instances that
outlived a previous load of the script, and starts the worker supervisor.
`unload()` frees every instance's GPU resources and workers; until the next load
the trampolines pass video through.
"""

import os
import time

from . import libobs as L
from .filter import VbgFilter
from .panel import Panel, set_defaults
from .registry import persistent
from .supervisor import Supervisor

STATS_INTERVAL_S = float(os.environ.get("VBG_STATS_INTERVAL", "60"))


class Plugin:
    def __init__(self, script_dir: str):
        self.persistent = persistent()
        self.lib = L.declare(self.persistent.lib)
        self.script_dir = script_dir
        self.repo_dir = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.filters = {}
        self.panel = Panel(self.lib, self.persistent)
        self.supervisor = Supervisor(self.log)
        self.supervisor.ticks.append(self.tick)
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
            self.filters[handle] = VbgFilter(self, handle, source, data)
        finally:
            self.lib.obs_data_release(data)

    def unload(self) -> None:
        self.persistent.impl = None
        filters, self.filters = list(self.filters.values()), {}
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
        self.filters[handle] = VbgFilter(self, handle, source, data)

    def destroy(self, handle: int) -> None:
        item = self.filters.pop(handle, None)
        if item is None:
            return
        item.log(f"removed; {item.age_summary()}; worker restarts {item.worker.restarts}")
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
        return self.panel.build(item.status() if item else "add the filter to a source to see its status")

    def update(self, handle: int, data) -> None:
        item = self.filters.get(handle)
        if item is not None:
            item.update(data)

    def set_active(self, handle: int, active: bool) -> None:
        pass                # inactive sources are not rendered: no readback, worker idles

    def set_shown(self, handle: int, shown: bool) -> None:
        pass

    def video_tick(self, handle: int, seconds: float) -> None:
        item = self.filters.get(handle)
        if item is not None:
            item.tick()

    def video_render(self, handle: int) -> bool:
        item = self.filters.get(handle)
        if item is None:
            source = self.persistent.sources.get(handle)
            if source is None:
                return False
            self.adopt(handle, source)
            item = self.filters[handle]
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
    def tick(self, now: float) -> None:
        """Log each filter's status when its words change, and stats now and then."""
        periodic = now - self.stats_at >= STATS_INTERVAL_S
        if periodic:
            self.stats_at = now
        for item in list(self.filters.values()):
            status = item.status()
            key = status.split(",")[0]
            if self.logged.get(item) != key:
                self.logged[item] = key
                item.log(f"status: {status}")
            if periodic:
                item.log(f"stats: {status}; {item.age_summary()}; worker restarts {item.worker.restarts}")
