"""Registers the `vbg_filter` source type once per OBS process, reload-proof.

libobs can never unregister a source type, and keeps calling the C function pointers
it was given. So the `obs_source_info`, its CFUNCTYPE trampolines and every buffer
they point to live in one `Persistent` object stored in `sys.modules` (it survives
script reloads, which re-import this package). The trampolines look up
`persistent.impl` on every call: a reload swaps only that Python implementation.
While no implementation is loaded (between unload and load), the filter passes its
source's video through and every other callback does nothing.
"""

import sys
import traceback
from ctypes import addressof, byref, create_string_buffer, sizeof

from . import libobs

KIND = b"vbg_filter"
DISPLAY_NAME = b"Virtual Background"
_STATE_KEY = "_obs_vbg_persistent_state"


class Persistent:
    """Everything libobs points into; created once per process."""

    def __init__(self):
        self.lib = libobs.load()
        self.impl = None
        self.sources = {}           # handle -> obs_source_t * of each live filter
        self.next_handle = 1
        self.reported = set()
        self.name_buf = create_string_buffer(DISPLAY_NAME)
        self.id_buf = create_string_buffer(KIND)
        self._make_callbacks()

    def call(self, method: str, default, *args):
        impl = self.impl
        if impl is None:
            return default
        try:
            return getattr(impl, method)(*args)
        except BaseException:        # never let an exception unwind into libobs
            self.report(method)
            return default

    def report(self, where: str) -> None:
        if where not in self.reported:
            self.reported.add(where)
            libobs.log(self.lib, libobs.LOG_WARNING, f"{where} failed:\n{traceback.format_exc()}")

    def _create(self, settings, source):
        handle = self.next_handle
        self.next_handle += 1
        self.sources[handle] = source
        self.call("create", None, handle, source, settings)
        return handle

    def _destroy(self, handle):
        self.call("destroy", None, handle)
        self.sources.pop(handle, None)

    def _render(self, handle, effect):
        if self.impl is None or not self.call("video_render", False, handle):
            source = self.sources.get(handle)
            if source:
                self.lib.obs_source_skip_video_filter(source)

    def _make_callbacks(self):
        L = libobs
        self.callbacks = dict(
            get_name=L.GET_NAME(lambda type_data: self._name_address()),
            create=L.CREATE(self._create),
            destroy=L.DATA_FN(self._destroy),
            get_defaults=L.GET_DEFAULTS(lambda data: self.call("get_defaults", None, data)),
            get_properties=L.GET_PROPERTIES(lambda h: self.call("get_properties", None, h)),
            update=L.UPDATE(lambda h, data: self.call("update", None, h, data)),
            video_tick=L.VIDEO_TICK(lambda h, seconds: self.call("video_tick", None, h, seconds)),
            video_render=L.VIDEO_RENDER(self._render),
        )
        self.modified = L.PROPERTY_MODIFIED(
            lambda props, prop, data: bool(self.call("on_modified", False, props, prop, data)))
        self.clicked = L.PROPERTY_CLICKED(
            lambda props, prop, data: bool(self.call("on_clicked", False, props, prop, data)))
        self.info = L.SourceInfo(id=self.id_buf.value, type=L.OBS_SOURCE_TYPE_FILTER,
                                 output_flags=L.OBS_SOURCE_VIDEO, **self.callbacks)

    def _name_address(self):
        return addressof(self.name_buf)

    def register(self) -> bool:
        """Register the source type unless this process already has it."""
        if self.lib.obs_source_get_display_name(KIND):
            return False
        self.lib.obs_register_source_s(byref(self.info), sizeof(self.info))
        return True


def persistent() -> Persistent:
    state = sys.modules.get(_STATE_KEY)
    if state is None:
        state = Persistent()
        sys.modules[_STATE_KEY] = state
    return state
