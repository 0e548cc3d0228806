"""Reading small textures back to the CPU without stalling OBS's graphics thread (inside
its graphics context only): each texture is staged at one frame's render and mapped at
the next tick, when the GPU has long finished it."""

import ctypes
from ctypes import byref, c_uint32, c_void_p
from typing import Tuple

from . import libobs as L


class Readback:
    """Two stage surfaces of one size, used in turn: a texture staged at one frame's
    render is mapped at the next tick."""

    def __init__(self, lib):
        self.lib = lib
        self.stages, self.staged, self.size, self.current = [None, None], [None, None], None, 0

    def stage(self, texture, size: Tuple[int, int], tag) -> None:
        if self.size != size:
            self.free()
            self.stages = [self.lib.gs_stagesurface_create(size[0], size[1], L.GS_RGBA) for _ in range(2)]
            self.size = size
        self.lib.gs_stage_texture(self.stages[self.current], texture)
        self.staged[self.current] = (tag,) + tuple(size)
        self.current ^= 1

    def collect(self):
        """-> (RGBA rows, w, h, tag) of the texture staged last, or None."""
        lib, index = self.lib, self.current ^ 1
        if self.staged[index] is None:
            return None
        (tag, w, h), self.staged[index] = self.staged[index], None
        data, linesize = c_void_p(), c_uint32()
        if not lib.gs_stagesurface_map(self.stages[index], byref(data), byref(linesize)):
            return None
        try:
            raw = ctypes.string_at(data.value, linesize.value * h)
        finally:
            lib.gs_stagesurface_unmap(self.stages[index])
        if linesize.value != w * 4:
            raw = b"".join(raw[y * linesize.value:y * linesize.value + w * 4] for y in range(h))
        return raw, w, h, tag

    def free(self) -> None:
        for stage in self.stages:
            if stage:
                self.lib.gs_stagesurface_destroy(stage)
        self.stages, self.staged, self.size = [None, None], [None, None], None
