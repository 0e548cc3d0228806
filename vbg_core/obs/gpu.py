"""GPU work of one filter instance. Every method runs inside OBS's graphics context
(video_render, or between obs_enter_graphics/obs_leave_graphics).

Resources are made once and reused: texrenders by name, two stage surfaces per
readback (one-frame-late), dynamic textures for what the worker sends. Full-resolution
pixels never reach Python: per frame Python reads back the frame at the model's size
(RGBA), and while the worker follows a person the crop it asked for at the model's
size too, and uploads one R8 alpha (up to twice the model's size), its guided filter's
coefficients (RG16F, the same size) and in blur and video modes the blurred background
(RGBA, at most the model's size); in video mode, the clip's frame the worker decoded
(RGBA, at most 1280x720) each time it moves on.
"""

import ctypes
import math
from ctypes import byref
from typing import Callable, Optional, Tuple

from ..shared.messages import REGION_CLASSES, Mask
from ..shared.maths import fit_box
from . import effect, libobs as L
from .readback import Readback
from .region_buffer import RegionBuffer

MAX_TAPS = 8            # per axis, in the area average (Downsample)


class ImageFile:
    """A background image via libobs' gs_image_file (decoded off the graphics thread,
    uploaded on it)."""

    def __init__(self, lib, path: str):
        self.lib, self.path = lib, path
        self.buffer = ctypes.create_string_buffer(L.IMAGE_FILE_BYTES)
        self.head = L.ImageFileHead.from_buffer(self.buffer)
        lib.gs_image_file_init(self.buffer, path.encode())
        self.uploaded = False

    @property
    def loaded(self) -> bool:
        return bool(self.head.loaded)

    def texture(self):
        if not self.uploaded:
            self.lib.gs_image_file_init_texture(self.buffer)
            self.uploaded = True
        return self.head.texture

    def free(self) -> None:
        self.lib.gs_image_file_free(self.buffer)


class Gpu:
    def __init__(self, lib):
        self.lib = lib
        self.base = effect.base(lib)        # every name looked up and checked now
        self.effect = effect.load(lib)
        self.targets = {}
        self.readbacks = {"full": Readback(lib), "crop": Readback(lib)}
        self.textures = {}                  # uploaded by name: (texture, (w, h))
        self.mask_tex = None
        self.coef_tex = None                # the guided filter's coefficients (the worker's)
        self.blurred_tex = None             # the blurred background (the worker's, in blur and video modes)
        self.backdrop = None                # (texture, (w, h)): video mode's clip frame (the worker's)
        self.mask_size = None               # (padded width, height) of mask_tex
        self.mask_width = 0                 # real mask width
        self.regions = None                 # RegionBuffer of the mask, made with it
        self.common = {}
        self.fitted_for = None              # (picture, frame size, fit) the "fitted" texture holds

    # ---- drawing ----
    def _texrender(self, name: str, fmt: int):
        if name not in self.targets:
            self.targets[name] = self.lib.gs_texrender_create(fmt, L.GS_ZS_NONE)
        return self.targets[name]

    def into(self, name: str, fmt: int, size: Tuple[int, int], draw: Callable[[], None], view=None):
        """Render `draw()` into the reused texrender `name` of `size`, seeing the
        rectangle `view` (x0, y0, x1, y1; default the target's own); -> its texture."""
        lib, (w, h) = self.lib, size
        x0, y0, x1, y1 = view or (0.0, 0.0, float(w), float(h))
        target = self._texrender(name, fmt)
        lib.gs_texrender_reset(target)
        lib.gs_texrender_begin(target, w, h)
        lib.gs_clear(L.GS_CLEAR_COLOR, byref(L.Vec4(0, 0, 0, 0)), 0.0, 0)
        lib.gs_ortho(float(x0), float(x1), float(y0), float(y1), -100.0, 100.0)
        lib.gs_blend_state_push()
        lib.gs_blend_function(L.GS_BLEND_ONE, L.GS_BLEND_ZERO)
        try:
            draw()
        finally:
            lib.gs_blend_state_pop()
            lib.gs_texrender_end(target)
        return lib.gs_texrender_get_texture(target)

    def technique(self, name: str, size: Tuple[int, int], params: dict, texture=None,
                  draw: Optional[Callable[[], None]] = None) -> None:
        """Draw a w x h sprite (or `draw()`) with one technique of vbg.effect and these
        parameters (plus `self.common`, the mask's parameters of this frame); libobs
        clears every value when a technique ends, so all are set before each draw."""
        for key, value in dict(self.common, **params).items():
            self.effect.set(key, value)
        self.effect.draw(name, draw or (lambda: self.lib.gs_draw_sprite(texture, 0, size[0], size[1])))

    def draw_plain(self, texture, size: Tuple[int, int]) -> None:
        """Draw a texture as it is (pass-through)."""
        self.base.set("image", texture)
        self.base.draw("Draw", lambda: self.lib.gs_draw_sprite(texture, 0, size[0], size[1]))

    # ---- the stages of a frame ----
    def render_input(self, source, size: Tuple[int, int]):
        """The filter's input at full resolution -> texture (one full-size pass)."""
        lib = self.lib

        def draw():
            target, parent = lib.obs_filter_get_target(source), lib.obs_filter_get_parent(source)
            flags = lib.obs_source_get_output_flags(parent)
            if target == parent and not flags & (L.OBS_SOURCE_ASYNC | L.OBS_SOURCE_CUSTOM_DRAW):
                # plain sources (images) draw only inside an effect loop: let libobs do it
                if lib.obs_source_process_filter_begin(source, L.GS_RGBA, L.OBS_ALLOW_DIRECT_RENDERING):
                    lib.obs_source_process_filter_end(source, self.base.handle, size[0], size[1])
            else:
                # async (media, camera), custom-draw and chained sources draw themselves,
                # as process_filter_begin does internally; this saves its extra copy
                lib.obs_source_video_render(target)
        return self.into("input", L.GS_RGBA, size, draw)

    def downsample(self, name: str, frame, frame_size, size, region=None):
        """Area average of `frame` (or of the rectangle `region`, x0, y0, x1, y1 in
        frame pixels, stretched) into `size`: taps x taps bilinear samples per output
        pixel, evenly spread over its footprint, each averaging about 2x2 texels (an
        exact box for even integer footprints). A region is read by drawing the whole
        frame with an orthographic view of only that rectangle."""
        x0, y0, x1, y1 = region = region or (0.0, 0.0, float(frame_size[0]), float(frame_size[1]))
        params = area_params(frame, frame_size, (x1 - x0, y1 - y0), size)
        return self.into(name, L.GS_RGBA, size, lambda: self.technique("Downsample", frame_size, params),
                         view=region)

    def stage(self, which: str, texture, size: Tuple[int, int], tag) -> None:
        """Queue a small texture for readback ("full" or "crop", with a tag saying
        what it is); `collect` maps it at the next tick, when the GPU has long
        finished it (no stall)."""
        self.readbacks[which].stage(texture, size, tag)

    def collect(self, sink: Callable) -> None:
        """Map the frame staged last (inside the graphics context) and hand its RGBA
        rows to `sink((data, w, h, tag), crop)`; crop: the same of the crop staged
        with it (its tag's first item is the frame's), or None."""
        full = self.readbacks["full"].collect()
        if full is None:
            return
        crop = self.readbacks["crop"].collect()
        sink(full, crop if crop is not None and crop[3][0] == full[3][0] else None)

    def upload_mask(self, mask: Mask, width: int, height: int) -> None:
        """One R8 mask (rows padded to a multiple of 4 bytes), the guided filter's
        coefficients made with it (float16 pairs) and the blurred background (RGBA) if
        they came with it into reused textures, and its regions (channel format) into
        the reused vertex buffer."""
        if self.regions is None:
            self.regions = RegionBuffer(self.lib)
        self.regions.load(mask.regions)
        stride = len(mask.rows) // height
        self.mask_tex = self._upload("mask", L.GS_R8, (stride, height), mask.rows, stride)
        self.mask_size, self.mask_width = (stride, height), width
        self.coef_tex = self._upload("coef", L.GS_RG16F, (width, height), mask.coefficients, width * 4) \
            if mask.coefficients else None
        bw, bh = mask.background_size
        self.blurred_tex = self._upload("blurred", L.GS_RGBA, (bw, bh), mask.background, bw * 4) \
            if mask.background else None

    def upload_backdrop(self, data: bytes, size: Tuple[int, int]) -> None:
        """Video mode's clip frame (RGBA rows) into its reused texture."""
        texture = self._upload("backdrop", L.GS_RGBA, size, data, size[0] * 4)
        self.backdrop = (texture, size) if texture else None

    def _upload(self, name: str, fmt: int, size: Tuple[int, int], data: bytes, linesize: int):
        """`data` into the reused dynamic texture `name`, made anew when its size
        changes -> the texture (None if the GPU cannot make one of `fmt`)."""
        lib = self.lib
        texture, made = self.textures.get(name, (None, None))
        if made != size:
            if texture:
                lib.gs_texture_destroy(texture)
            texture = lib.gs_texture_create(size[0], size[1], fmt, 1, None, L.GS_DYNAMIC)
            self.textures[name] = (texture, size)
        if texture:
            lib.gs_texture_set_image(texture, data, linesize, False)       # bytes pass as a pointer, uncopied
        return texture

    def begin_frame(self) -> None:
        self.common = {}

    def use_mask(self) -> None:
        """Parameters of this frame's mask, set with every later draw."""
        self.common = {"mask": self.mask_tex, "mask_u_scale": self.mask_width / self.mask_size[0]}
        if self.coef_tex is not None:
            self.common["coef"] = self.coef_tex

    def composite(self, mode: str, guided: bool, size: Tuple[int, int], params: dict, frame) -> bool:
        """The full-resolution pass of `mode` (colour, image, blur, transparent). With
        the mask's regions: the person's and the background's rectangles with the
        techniques that skip the alpha, the edges' with the full one. -> whether the
        regions were used."""
        edges = mode.capitalize() + ("Guided" if guided else "Plain")
        regions = self.regions
        if regions is None or regions.ranges is None:
            self.technique(edges, size, params, frame)
            return False
        for name, technique in zip(REGION_CLASSES, (mode.capitalize() + "Back", "Person", edges)):
            if regions.ranges[name][1]:
                self.technique(technique, size, params, draw=lambda name=name: regions.draw(name, size))
        return True

    def fitted(self, picture, texture, frame_size: Tuple[int, int], xform) -> object:
        """A background picture fitted to the frame (`xform`: maths' fit_uv), drawn once
        into a frame-sized texture and kept while the picture, the frame's size and the
        fit stay: the composite then reads one texel per pixel (drawn as blur mode is,
        with it as the background) instead of filtering the picture anew every frame.
        `picture`: the object owning `texture`, compared by identity (held here, so a
        new one cannot reuse its id)."""
        key = (frame_size, tuple(xform))
        if self.fitted_for is None or self.fitted_for[0] is not picture or self.fitted_for[1:] != key:
            params = {"image": texture, "bg": texture, "bg_xform": xform}
            self.into("fitted", L.GS_RGBA, frame_size, lambda: self.technique("ImageBack", frame_size, params))
            self.fitted_for = (picture,) + key
        return self.lib.gs_texrender_get_texture(self._texrender("fitted", L.GS_RGBA))

    # ---- teardown ----
    def free(self) -> None:
        for readback in self.readbacks.values():
            readback.free()
        for target in self.targets.values():
            self.lib.gs_texrender_destroy(target)
        self.targets, self.fitted_for = {}, None
        for texture, _ in self.textures.values():
            if texture:
                self.lib.gs_texture_destroy(texture)
        self.textures, self.mask_tex, self.coef_tex, self.blurred_tex, self.backdrop = {}, None, None, None, None
        if self.regions is not None:
            self.regions.free()
            self.regions = None
        self.effect.free()


def area_params(frame, frame_size, extent, size) -> dict:
    """The area average's parameters (Downsample): `extent` (w, h) of the
    frame's pixels shrunk into `size`, read with at most MAX_TAPS taps per axis."""
    footprint = (extent[0] / size[0], extent[1] / size[1])
    taps = max(1, min(MAX_TAPS, math.ceil(max(footprint) / 2 - 1e-6)))
    return {"image": frame, "src_texel": (1.0 / frame_size[0], 1.0 / frame_size[1]),
            "footprint": footprint, "taps": taps}


def readback_size(frame_size: Tuple[int, int], model_hw: Tuple[int, int]) -> Tuple[int, int]:
    """The frame's size fitted inside the model's input with its aspect kept (for a
    16:9 source exactly the model's 256x144). The worker's Segmenter stretches it
    into the model as `vbg render` does, and the mask comes back at this size (at
    twice it while the worker follows a person: pipeline.grid_size)."""
    (w, h) = frame_size
    return fit_box((h, w), model_hw, fill=False)[:2]
