"""ctypes bindings to libobs: every C symbol we use, declared once in one table.

Standard library only. Struct layouts follow libobs 29 headers (obs-source.h,
graphics/graphics.h, graphics/image-file.h). `load()` opens the library already
loaded in the OBS process and applies the table; `check()` turns a NULL from a
creating call into an exception, so callers handle C failures in one way.
"""

import ctypes
import sys
from ctypes import (CFUNCTYPE, POINTER, Structure, c_bool, c_char_p, c_double, c_float, c_int,
                    c_int64, c_size_t, c_uint8, c_uint32, c_void_p)

# enums and flags (libobs 29)
OBS_SOURCE_TYPE_FILTER = 1
OBS_SOURCE_VIDEO = 1 << 0
OBS_SOURCE_ASYNC = 1 << 2
OBS_SOURCE_CUSTOM_DRAW = 1 << 3
OBS_NO_DIRECT_RENDERING, OBS_ALLOW_DIRECT_RENDERING = 0, 1
OBS_EFFECT_DEFAULT = 0
GS_R8, GS_RGBA, GS_RGBA16F, GS_RGBA32F = 2, 3, 9, 10
GS_ZS_NONE = 0
GS_TRIS = 3
GS_DYNAMIC = 1 << 1
GS_CLEAR_COLOR = 1 << 0
GS_BLEND_ZERO, GS_BLEND_ONE = 0, 1
LOG_ERROR, LOG_WARNING, LOG_INFO = 100, 200, 300
OBS_COMBO_TYPE_LIST = 2
OBS_COMBO_FORMAT_STRING = 3
OBS_PATH_FILE = 0
OBS_TEXT_INFO = 3
OBS_GROUP_NORMAL = 1

# callback types of obs_source_info and the properties panel
GET_NAME = CFUNCTYPE(c_void_p, c_void_p)            # returns const char *
CREATE = CFUNCTYPE(c_void_p, c_void_p, c_void_p)
DATA_FN = CFUNCTYPE(None, c_void_p)                 # destroy, show, hide, (de)activate
GET_DEFAULTS = CFUNCTYPE(None, c_void_p)
GET_PROPERTIES = CFUNCTYPE(c_void_p, c_void_p)
UPDATE = CFUNCTYPE(None, c_void_p, c_void_p)
VIDEO_TICK = CFUNCTYPE(None, c_void_p, c_float)
VIDEO_RENDER = CFUNCTYPE(None, c_void_p, c_void_p)
PROPERTY_MODIFIED = CFUNCTYPE(c_bool, c_void_p, c_void_p, c_void_p)
PROPERTY_CLICKED = CFUNCTYPE(c_bool, c_void_p, c_void_p, c_void_p)


class SourceInfo(Structure):
    """Prefix of `struct obs_source_info` up to video_render; libobs copies `size`
    bytes and zero-fills the rest."""
    _fields_ = [
        ("id", c_char_p), ("type", c_int), ("output_flags", c_uint32),
        ("get_name", GET_NAME), ("create", CREATE), ("destroy", DATA_FN),
        ("get_width", c_void_p), ("get_height", c_void_p),
        ("get_defaults", GET_DEFAULTS), ("get_properties", GET_PROPERTIES),
        ("update", UPDATE), ("activate", DATA_FN), ("deactivate", DATA_FN),
        ("show", DATA_FN), ("hide", DATA_FN),
        ("video_tick", VIDEO_TICK), ("video_render", VIDEO_RENDER),
    ]


class Vec4(Structure):
    _fields_ = [("x", c_float), ("y", c_float), ("z", c_float), ("w", c_float)]


class Vec2(Structure):
    _fields_ = [("x", c_float), ("y", c_float)]


class ImageFileHead(Structure):
    """Leading fields of `struct gs_image_file`; the struct lives in a larger buffer."""
    _fields_ = [("texture", c_void_p), ("format", c_int), ("cx", c_uint32), ("cy", c_uint32),
                ("is_animated_gif", c_bool), ("frame_updated", c_bool), ("loaded", c_bool)]


class TVertArray(Structure):
    _fields_ = [("width", c_size_t), ("array", c_void_p)]


class VbData(Structure):
    """`struct gs_vb_data`: a vertex buffer's arrays (allocated with bmalloc; the
    buffer owns and frees them)."""
    _fields_ = [("num", c_size_t), ("points", c_void_p), ("normals", c_void_p),
                ("tangents", c_void_p), ("colors", c_void_p),
                ("num_tex", c_size_t), ("tvarray", POINTER(TVertArray))]


IMAGE_FILE_BYTES = 1 << 16       # sizeof(struct gs_image_file) is 41312 bytes in libobs 29 (x86-64)

P = c_void_p
# name: (argtypes, restype)
SIGNATURES = {
    "obs_register_source_s": ([POINTER(SourceInfo), c_size_t], None),
    "obs_source_get_display_name": ([c_char_p], c_char_p),
    "obs_source_get_name": ([P], c_char_p),
    "obs_source_get_settings": ([P], P),
    "obs_source_get_output_flags": ([P], c_uint32),
    "obs_source_get_base_width": ([P], c_uint32),
    "obs_source_get_base_height": ([P], c_uint32),
    "obs_source_video_render": ([P], None),
    "obs_source_skip_video_filter": ([P], None),
    "obs_source_process_filter_begin": ([P, c_int, c_int], c_bool),
    "obs_source_process_filter_end": ([P, P, c_uint32, c_uint32], None),
    "obs_filter_get_target": ([P], P),
    "obs_filter_get_parent": ([P], P),
    "obs_get_base_effect": ([c_int], P),
    "obs_enter_graphics": ([], None),
    "obs_leave_graphics": ([], None),
    "obs_data_release": ([P], None),
    "obs_data_get_string": ([P, c_char_p], c_char_p),
    "obs_data_get_int": ([P, c_char_p], c_int64),
    "obs_data_get_double": ([P, c_char_p], c_double),
    "obs_data_get_bool": ([P, c_char_p], c_bool),
    "obs_data_set_default_string": ([P, c_char_p, c_char_p], None),
    "obs_data_set_default_int": ([P, c_char_p, c_int64], None),
    "obs_data_set_default_double": ([P, c_char_p, c_double], None),
    "obs_data_set_default_bool": ([P, c_char_p, c_bool], None),
    "obs_properties_create": ([], P),
    "obs_properties_get": ([P, c_char_p], P),
    "obs_properties_add_group": ([P, c_char_p, c_char_p, c_int, P], P),
    "obs_properties_add_list": ([P, c_char_p, c_char_p, c_int, c_int], P),
    "obs_property_list_add_string": ([P, c_char_p, c_char_p], c_size_t),
    "obs_properties_add_color": ([P, c_char_p, c_char_p], P),
    "obs_properties_add_path": ([P, c_char_p, c_char_p, c_int, c_char_p, c_char_p], P),
    "obs_properties_add_bool": ([P, c_char_p, c_char_p], P),
    "obs_properties_add_int": ([P, c_char_p, c_char_p, c_int, c_int, c_int], P),
    "obs_properties_add_float_slider": ([P, c_char_p, c_char_p, c_double, c_double, c_double], P),
    "obs_properties_add_text": ([P, c_char_p, c_char_p, c_int], P),
    # callbacks go as void *: their CFUNCTYPE objects outlive reloads of this module
    "obs_properties_add_button": ([P, c_char_p, c_char_p, P], P),
    "obs_property_set_visible": ([P, c_bool], None),
    "obs_property_set_long_description": ([P, c_char_p], None),
    "obs_property_set_modified_callback": ([P, P], None),
    "gs_texrender_create": ([c_int, c_int], P),
    "gs_texrender_destroy": ([P], None),
    "gs_texrender_reset": ([P], None),
    "gs_texrender_begin": ([P, c_uint32, c_uint32], c_bool),
    "gs_texrender_end": ([P], None),
    "gs_texrender_get_texture": ([P], P),
    "gs_stagesurface_create": ([c_uint32, c_uint32, c_int], P),
    "gs_stagesurface_destroy": ([P], None),
    "gs_stage_texture": ([P, P], None),
    "gs_stagesurface_map": ([P, POINTER(c_void_p), POINTER(c_uint32)], c_bool),
    "gs_stagesurface_unmap": ([P], None),
    "gs_texture_create": ([c_uint32, c_uint32, c_int, c_uint32, P, c_uint32], P),
    "gs_texture_destroy": ([P], None),
    "gs_texture_set_image": ([P, P, c_uint32, c_bool], None),
    "gs_effect_create_from_file": ([c_char_p, POINTER(c_char_p)], P),
    "gs_effect_destroy": ([P], None),
    "gs_effect_get_param_by_name": ([P, c_char_p], P),
    "gs_effect_set_texture": ([P, P], None),
    "gs_effect_set_float": ([P, c_float], None),
    "gs_effect_set_int": ([P, c_int], None),
    "gs_effect_set_vec2": ([P, POINTER(Vec2)], None),
    "gs_effect_set_vec3": ([P, POINTER(Vec4)], None),   # struct vec3 is 16 bytes too
    "gs_effect_set_vec4": ([P, POINTER(Vec4)], None),
    "gs_effect_loop": ([P, c_char_p], c_bool),
    "gs_draw_sprite": ([P, c_uint32, c_uint32, c_uint32], None),
    "bmalloc": ([c_size_t], P),
    "gs_vertexbuffer_create": ([P, c_uint32], P),
    "gs_vertexbuffer_destroy": ([P], None),
    "gs_vertexbuffer_flush": ([P], None),
    "gs_vertexbuffer_get_data": ([P], POINTER(VbData)),
    "gs_load_vertexbuffer": ([P], None),
    "gs_load_indexbuffer": ([P], None),
    "gs_draw": ([c_int, c_uint32, c_uint32], None),
    "gs_matrix_push": ([], None),
    "gs_matrix_pop": ([], None),
    "gs_matrix_scale3f": ([c_float, c_float, c_float], None),
    "gs_clear": ([c_uint32, POINTER(Vec4), c_float, c_uint8], None),
    "gs_ortho": ([c_float] * 6, None),
    "gs_blend_state_push": ([], None),
    "gs_blend_state_pop": ([], None),
    "gs_blend_function": ([c_int, c_int], None),
    "gs_image_file_init": ([P, c_char_p], None),
    "gs_image_file_init_texture": ([P], None),
    "gs_image_file_free": ([P], None),
}


class ObsCallError(RuntimeError):
    """A libobs call returned NULL/false where it must not."""


def check(value, what: str):
    if not value:
        raise ObsCallError(f"{what} failed")
    return value


def _library_names():
    """Candidates; the last, None, is the running program itself (dlopen(NULL)), which
    sees libobs wherever OBS loaded it from (Linux, macOS)."""
    if sys.platform.startswith("win"):
        return ["obs.dll", "obs"]
    if sys.platform == "darwin":
        return ["@rpath/libobs.framework/Versions/A/libobs", "libobs.framework/libobs", None]
    return ["libobs.so.0", "libobs.so", None]


def load() -> ctypes.CDLL:
    """Open libobs (already loaded in this process) and declare every symbol."""
    errors = []
    for name in _library_names():
        try:
            lib = ctypes.CDLL(name)
            lib.obs_register_source_s       # the right library exports it
            break
        except (OSError, AttributeError) as exc:
            errors.append(str(exc))
    else:
        raise ObsCallError("cannot open libobs: " + "; ".join(errors))
    return declare(lib)


def declare(lib: ctypes.CDLL) -> ctypes.CDLL:
    """Apply the signature table. Run again after a script reload: the table's
    Structure classes are re-created with this module, and ctypes checks identity."""
    for name, (argtypes, restype) in SIGNATURES.items():
        function = getattr(lib, name)
        function.argtypes, function.restype = argtypes, restype
    return lib


def address(callback) -> int:
    """A CFUNCTYPE object as the void * the table declares for callbacks."""
    return ctypes.cast(callback, c_void_p).value


def log(lib, level: int, message: str) -> None:
    """blog() from any thread (variadic: message passed through "%s")."""
    lib.blog(c_int(level), b"[obs-vbg] %s", message.encode("utf-8", "replace"))
