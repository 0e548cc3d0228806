"""vbg.effect, compiled and checked once per filter (inside OBS's graphics context).

The effect is compiled from its text with the shared constants' `#define`s before it
(vbg_core/shared/maths.py). Then every parameter below is looked up by name and its
type compared with the one the compiled effect declares, and every technique is
looked up: a misspelt or missing name raises ObsCallError naming it here, at load,
instead of a draw that silently does nothing. Each parameter keeps its handle and a
setter chosen by its declared type, so a Python int given to a float uniform is sent
as a float, never as an int's bit pattern. (OBS's `sharpness-filter.c` does the same
in C: look up at create, typed setters at render.)
"""

import operator
import os
from ctypes import byref, c_char_p
from typing import Callable, Dict, Iterable, Tuple

from ..shared.maths import shader_defines
from . import libobs as L

EFFECT_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vbg.effect")

# every uniform of vbg.effect and its declared type (tests/obs/test_effect.py reads
# the file and checks this table against it)
PARAMS = {
    "ViewProj": "float4x4",     # set by libobs
    "image": "texture2d", "mask": "texture2d", "coef": "texture2d",
    "bg": "texture2d", "src_texel": "float2", "footprint": "float2", "taps": "int",
    "mask_u_scale": "float", "color": "float4", "bg_xform": "float4",
}
TECHNIQUES = (
    "Downsample",
    "ColorGuided", "ColorPlain", "ImageGuided", "ImagePlain", "BlurGuided", "BlurPlain",
    "TransparentGuided", "TransparentPlain",
    "Person", "ColorBack", "ImageBack", "BlurBack", "TransparentBack",
)
# OBS's default effect: what the filter draws a frame with when it passes it through
BASE_PARAMS = {"ViewProj": "float4x4", "image": "texture2d"}
BASE_TECHNIQUES = ("Draw",)

TYPE_CODES = {"float": L.GS_SHADER_PARAM_FLOAT, "int": L.GS_SHADER_PARAM_INT,
              "float2": L.GS_SHADER_PARAM_VEC2, "float3": L.GS_SHADER_PARAM_VEC3,
              "float4": L.GS_SHADER_PARAM_VEC4, "float4x4": L.GS_SHADER_PARAM_MATRIX4X4,
              "texture2d": L.GS_SHADER_PARAM_TEXTURE}


def _vec4(value) -> L.Vec4:
    return L.Vec4(*(tuple(map(float, value)) + (0.0,) * (4 - len(value))))


def setter(lib, kind: str) -> Callable:
    """-> set(handle, value) for a uniform declared as `kind`."""
    return {
        "float": lambda handle, value: lib.gs_effect_set_float(handle, float(value)),
        "int": lambda handle, value: lib.gs_effect_set_int(handle, operator.index(value)),
        "float2": lambda handle, value: lib.gs_effect_set_vec2(handle, byref(L.Vec2(*map(float, value)))),
        "float3": lambda handle, value: lib.gs_effect_set_vec3(handle, byref(_vec4(value))),
        "float4": lambda handle, value: lib.gs_effect_set_vec4(handle, byref(_vec4(value))),
        "texture2d": lambda handle, value: lib.gs_effect_set_texture(handle, value),
    }.get(kind, _set_by_libobs)


def _set_by_libobs(handle, value) -> None:
    raise TypeError("libobs sets this parameter itself")


def source(path: str = EFFECT_PATH) -> str:
    """The text that is compiled: the shared constants, then the effect file."""
    with open(path, encoding="utf-8") as handle:
        return shader_defines() + handle.read()


class Effect:
    """One compiled effect: its parameters as {name: (handle, setter)} and its
    techniques as {name: handle}, all resolved when it is made."""

    def __init__(self, lib, handle, label: str, params: Dict[str, str], techniques: Iterable[str],
                 owned: bool):
        self.lib, self.handle, self.label, self.owned = lib, handle, label, owned
        try:
            self.params = {name: self._param(name, kind) for name, kind in params.items()}
            self.techniques = {name: lib.gs_effect_get_technique(handle, name.encode())
                               for name in techniques}
        except L.ObsCallError as exc:
            self.free()
            raise L.ObsCallError(f"{label}: {exc}") from None

    def _param(self, name: str, kind: str) -> Tuple[int, Callable]:
        handle = self.lib.gs_effect_get_param_by_name(self.handle, name.encode())
        info = L.ParamInfo()
        self.lib.gs_effect_get_param_info(handle, byref(info))
        if info.type != TYPE_CODES[kind]:
            declared = {code: word for word, code in TYPE_CODES.items()}.get(info.type, f"type {info.type}")
            raise L.ObsCallError(f"parameter {name!r} is {declared} in the effect, "
                                 f"set as {kind} by obs-vbg")
        return handle, setter(self.lib, kind)

    def set(self, name: str, value) -> None:
        handle, set_value = self.params[name]
        set_value(handle, value)

    def draw(self, technique: str, draw: Callable[[], None]) -> None:
        """Run `draw()` once per pass of `technique` (with the parameters set since
        the last draw; libobs clears them all when a technique ends)."""
        lib, handle = self.lib, self.techniques[technique]
        passes = lib.gs_technique_begin(handle)
        try:
            for index in range(passes):
                lib.gs_technique_begin_pass(handle, index)
                try:
                    draw()
                finally:
                    lib.gs_technique_end_pass(handle)
        finally:
            lib.gs_technique_end(handle)

    def free(self) -> None:
        if self.owned and self.handle:
            self.lib.gs_effect_destroy(self.handle)
        self.handle = None


def load(lib, path: str = EFFECT_PATH, params: Dict[str, str] = PARAMS,
         techniques: Iterable[str] = TECHNIQUES) -> Effect:
    """Compile vbg.effect (with the shared constants) and resolve every name."""
    errors = c_char_p()
    try:
        handle = lib.gs_effect_create(source(path).encode(), path.encode(), errors)
    except L.ObsCallError as exc:
        raise L.ObsCallError(f"{os.path.basename(path)}: {exc}") from None
    return Effect(lib, handle, os.path.basename(path), params, techniques, owned=True)


def base(lib) -> Effect:
    """OBS's default effect (owned by libobs), resolved the same way."""
    handle = lib.obs_get_base_effect(L.OBS_EFFECT_DEFAULT)
    return Effect(lib, handle, "OBS's default effect", BASE_PARAMS, BASE_TECHNIQUES, owned=False)
