"""The mask's regions (vbg_core/engine/regions.py) on the GPU: one dynamic vertex buffer of
unit-square rectangles, grouped by class, reloaded with every mask and drawn scaled
to the frame. Inside OBS's graphics context only."""

import ctypes
from typing import Tuple

from ..shared.messages import MAX_RECTS, REGION_CLASSES, REGION_HEADER, REGION_VERTEX_BYTES, REGION_VERTICES
from . import libobs as L


class RegionBuffer:
    """The vertex buffer, made once with room for MAX_RECTS rectangles."""
    CAPACITY = MAX_RECTS * REGION_VERTICES

    def __init__(self, lib):
        self.lib = lib
        self.ranges = None              # class -> (first vertex, vertex count); None: no regions
        data = ctypes.cast(self._alloc(ctypes.sizeof(L.VbData)), ctypes.POINTER(L.VbData))
        data.contents.num = self.CAPACITY
        data.contents.points = self._alloc(self.CAPACITY * 16)
        data.contents.num_tex = 1
        data.contents.tvarray = ctypes.cast(self._alloc(ctypes.sizeof(L.TVertArray)),
                                            ctypes.POINTER(L.TVertArray))
        data.contents.tvarray[0].width = 2
        data.contents.tvarray[0].array = self._alloc(self.CAPACITY * 8)
        # the buffer owns `data` and its arrays from here on, and frees them with itself
        self.vb = lib.gs_vertexbuffer_create(data, L.GS_DYNAMIC)

    def _alloc(self, size: int) -> int:
        memory = self.lib.bmalloc(size)
        ctypes.memset(memory, 0, size)
        return memory

    def load(self, payload: bytes) -> None:
        """One mask's regions (the channel's format); an empty or malformed list
        means "no regions": the composite then covers the frame in one draw."""
        self.ranges = None
        if len(payload) < REGION_HEADER.size:
            return
        counts = [c * REGION_VERTICES for c in REGION_HEADER.unpack_from(payload)]
        total = sum(counts)
        if not total or total > self.CAPACITY or \
                len(payload) != REGION_HEADER.size + total * REGION_VERTEX_BYTES:
            return
        data = self.lib.gs_vertexbuffer_get_data(self.vb).contents
        points_at = REGION_HEADER.size
        uvs_at = points_at + total * 16
        ctypes.memmove(data.points, payload[points_at:uvs_at], total * 16)
        ctypes.memmove(data.tvarray[0].array, payload[uvs_at:], total * 8)
        self.lib.gs_vertexbuffer_flush(self.vb)
        starts = [sum(counts[:i]) for i in range(len(counts))]
        self.ranges = dict(zip(REGION_CLASSES, zip(starts, counts)))

    def draw(self, name: str, size: Tuple[int, int]) -> None:
        """Draw class `name`'s rectangles over a frame of `size` (inside an effect pass)."""
        lib, (start, count) = self.lib, self.ranges[name]
        lib.gs_matrix_push()
        lib.gs_matrix_scale3f(float(size[0]), float(size[1]), 1.0)
        lib.gs_load_vertexbuffer(self.vb)
        lib.gs_load_indexbuffer(None)
        lib.gs_draw(L.GS_TRIS, start, count)
        lib.gs_load_vertexbuffer(None)
        lib.gs_matrix_pop()

    def free(self) -> None:
        self.lib.gs_vertexbuffer_destroy(self.vb)
        self.ranges = None
