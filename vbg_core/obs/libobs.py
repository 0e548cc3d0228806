"""ctypes bindings to libobs: every C symbol we use, declared once in one table.

Standard library only. Struct layouts follow libobs 29 headers (obs-source.h,
graphics/graphics.h, graphics/image-file.h). `load()` opens the library already
loaded in the OBS process and applies the table. The table says, per call, what a
NULL/false return means; where it is a failure, `declare` makes the call raise
ObsCallError naming it (ctypes' errcheck), so no call site checks by hand.
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
GS_R8, GS_RGBA, GS_RG16F = 2, 3, 11
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


class ParamInfo(Structure):
    """`struct gs_effect_param_info`."""
    _fields_ = [("name", c_char_p), ("type", c_int)]


# enum gs_shader_param_type (graphics.h), the types vbg.effect uses
GS_SHADER_PARAM_FLOAT, GS_SHADER_PARAM_INT, GS_SHADER_PARAM_VEC2 = 2, 3, 5
GS_SHADER_PARAM_VEC3, GS_SHADER_PARAM_VEC4, GS_SHADER_PARAM_MATRIX4X4, GS_SHADER_PARAM_TEXTURE = 6, 7, 11, 12

IMAGE_FILE_BYTES = 1 << 16       # sizeof(struct gs_image_file) is 41312 bytes in libobs 29 (x86-64)

P = c_void_p
# A NULL/false answer is either a failure (the third column says, in words, what failed;
# `declare` turns it into ObsCallError naming the call) or a real answer the caller
# reads (None; the comment says what it means). Calls returning nothing or a count
# have None too.
NOT_REGISTERED = None       # obs_source_get_display_name: NULL = no such source type yet
NO_SOURCE = None            # obs_filter_get_target/parent, obs_source_get_name: NULL is possible
NOT_READY = None            # gs_stagesurface_map: false = the GPU has not finished it yet
# name: (argtypes, restype, what a NULL/false return means)
SIGNATURES = {
    "obs_register_source_s": ([POINTER(SourceInfo), c_size_t], None, None),
    "obs_source_get_display_name": ([c_char_p], c_char_p, NOT_REGISTERED),
    "obs_source_get_name": ([P], c_char_p, NO_SOURCE),
    "obs_source_get_settings": ([P], P, "reading the source's settings"),
    "obs_source_get_output_flags": ([P], c_uint32, None),
    "obs_source_get_base_width": ([P], c_uint32, None),      # 0 = no video yet
    "obs_source_get_base_height": ([P], c_uint32, None),
    "obs_source_video_render": ([P], None, None),
    "obs_source_skip_video_filter": ([P], None, None),
    # false = nothing to draw this frame (libobs then skips the filter itself)
    "obs_source_process_filter_begin": ([P, c_int, c_int], c_bool, None),
    "obs_source_process_filter_end": ([P, P, c_uint32, c_uint32], None, None),
    "obs_filter_get_target": ([P], P, NO_SOURCE),
    "obs_filter_get_parent": ([P], P, NO_SOURCE),
    "obs_get_base_effect": ([c_int], P, "no such OBS base effect"),
    "obs_enter_graphics": ([], None, None),
    "obs_leave_graphics": ([], None, None),
    "obs_data_release": ([P], None, None),
    "obs_data_get_string": ([P, c_char_p], c_char_p, None),    # NULL read as the default
    "obs_data_get_int": ([P, c_char_p], c_int64, None),
    "obs_data_get_double": ([P, c_char_p], c_double, None),
    "obs_data_get_bool": ([P, c_char_p], c_bool, None),
    "obs_data_set_default_string": ([P, c_char_p, c_char_p], None, None),
    "obs_data_set_default_int": ([P, c_char_p, c_int64], None, None),
    "obs_data_set_default_double": ([P, c_char_p, c_double], None, None),
    "obs_data_set_default_bool": ([P, c_char_p, c_bool], None, None),
    "obs_properties_create": ([], P, "creating a properties panel"),
    "obs_properties_get": ([P, c_char_p], P, None),            # NULL = no such property
    "obs_properties_add_group": ([P, c_char_p, c_char_p, c_int, P], P, "adding a group (name taken?)"),
    "obs_properties_add_list": ([P, c_char_p, c_char_p, c_int, c_int], P, "adding a list (name taken?)"),
    "obs_property_list_add_string": ([P, c_char_p, c_char_p], c_size_t, None),
    "obs_properties_add_color": ([P, c_char_p, c_char_p], P, "adding a colour (name taken?)"),
    "obs_properties_add_path": ([P, c_char_p, c_char_p, c_int, c_char_p, c_char_p], P,
                                "adding a path (name taken?)"),
    "obs_properties_add_bool": ([P, c_char_p, c_char_p], P, "adding a checkbox (name taken?)"),
    "obs_properties_add_int": ([P, c_char_p, c_char_p, c_int, c_int, c_int], P, "adding a number (name taken?)"),
    "obs_properties_add_float_slider": ([P, c_char_p, c_char_p, c_double, c_double, c_double], P,
                                        "adding a slider (name taken?)"),
    "obs_properties_add_text": ([P, c_char_p, c_char_p, c_int], P, "adding a text (name taken?)"),
    # callbacks go as void *: their CFUNCTYPE objects outlive reloads of this module
    "obs_properties_add_button": ([P, c_char_p, c_char_p, P], P, "adding a button (name taken?)"),
    "obs_property_set_visible": ([P, c_bool], None, None),
    "obs_property_set_long_description": ([P, c_char_p], None, None),
    "obs_property_set_modified_callback": ([P, P], None, None),
    "gs_texrender_create": ([c_int, c_int], P, "creating a render target"),
    "gs_texrender_destroy": ([P], None, None),
    "gs_texrender_reset": ([P], None, None),
    "gs_texrender_begin": ([P, c_uint32, c_uint32], c_bool, "rendering into a texture"),
    "gs_texrender_end": ([P], None, None),
    "gs_texrender_get_texture": ([P], P, "a render target without its texture"),
    "gs_stagesurface_create": ([c_uint32, c_uint32, c_int], P, "creating a stage surface"),
    "gs_stagesurface_destroy": ([P], None, None),
    "gs_stage_texture": ([P, P], None, None),
    "gs_stagesurface_map": ([P, POINTER(c_void_p), POINTER(c_uint32)], c_bool, NOT_READY),
    "gs_stagesurface_unmap": ([P], None, None),
    "gs_texture_create": ([c_uint32, c_uint32, c_int, c_uint32, P, c_uint32], P, "creating a texture"),
    "gs_texture_destroy": ([P], None, None),
    "gs_texture_set_image": ([P, P, c_uint32, c_bool], None, None),
    # the compiler's messages come back in the char ** (see `declare`)
    "gs_effect_create": ([c_char_p, c_char_p, POINTER(c_char_p)], P, "compiling the effect"),
    "gs_effect_destroy": ([P], None, None),
    "gs_effect_get_param_by_name": ([P, c_char_p], P, "no such parameter in the effect"),
    "gs_effect_get_param_info": ([P, POINTER(ParamInfo)], None, None),
    "gs_effect_get_technique": ([P, c_char_p], P, "no such technique in the effect"),
    "gs_technique_begin": ([P], c_size_t, None),              # -> number of passes
    "gs_technique_begin_pass": ([P, c_size_t], c_bool, "beginning a technique's pass"),
    "gs_technique_end_pass": ([P], None, None),
    "gs_technique_end": ([P], None, None),
    "gs_effect_set_texture": ([P, P], None, None),
    "gs_effect_set_float": ([P, c_float], None, None),
    "gs_effect_set_int": ([P, c_int], None, None),
    "gs_effect_set_vec2": ([P, POINTER(Vec2)], None, None),
    "gs_effect_set_vec3": ([P, POINTER(Vec4)], None, None),   # struct vec3 is 16 bytes too
    "gs_effect_set_vec4": ([P, POINTER(Vec4)], None, None),
    "gs_draw_sprite": ([P, c_uint32, c_uint32, c_uint32], None, None),
    "bmalloc": ([c_size_t], P, "allocating memory"),
    "bfree": ([P], None, None),
    "gs_vertexbuffer_create": ([P, c_uint32], P, "creating a vertex buffer"),
    "gs_vertexbuffer_destroy": ([P], None, None),
    "gs_vertexbuffer_flush": ([P], None, None),
    "gs_vertexbuffer_get_data": ([P], POINTER(VbData), "a vertex buffer without data"),
    "gs_load_vertexbuffer": ([P], None, None),
    "gs_load_indexbuffer": ([P], None, None),
    "gs_draw": ([c_int, c_uint32, c_uint32], None, None),
    "gs_matrix_push": ([], None, None),
    "gs_matrix_pop": ([], None, None),
    "gs_matrix_scale3f": ([c_float, c_float, c_float], None, None),
    "gs_clear": ([c_uint32, POINTER(Vec4), c_float, c_uint8], None, None),
    "gs_ortho": ([c_float] * 6, None, None),
    "gs_blend_state_push": ([], None, None),
    "gs_blend_state_pop": ([], None, None),
    "gs_blend_function": ([c_int, c_int], None, None),
    "gs_image_file_init": ([P, c_char_p], None, None),        # failure: head.loaded stays false
    "gs_image_file_init_texture": ([P], None, None),
    "gs_image_file_free": ([P], None, None),
}

class ObsCallError(RuntimeError):
    """A libobs call returned NULL/false where it must not."""


_NUMBERS = (c_int, c_uint32, c_size_t, c_int64, c_float, c_double, c_bool, c_uint8)


def _shown(argtypes, args) -> str:
    """A call's arguments for a message: strings and numbers; pointers as '…'."""
    words = []
    for kind, value in zip(argtypes, args):
        if kind is c_char_p and isinstance(value, bytes):
            words.append(repr(value.decode("utf-8", "replace")))
        elif kind in _NUMBERS and isinstance(value, (int, float)):
            words.append(str(value))
        else:
            words.append("…")
    return ", ".join(words)


def _messages(lib, argtypes, args) -> str:
    """What the call wrote into a `char **` argument (compiler errors), freed here."""
    text = ""
    for kind, value in zip(argtypes, args):
        if kind is POINTER(c_char_p) and isinstance(value, c_char_p) and value.value:
            text += ":\n" + value.value.decode("utf-8", "replace").strip()
            lib.bfree(ctypes.cast(value, c_void_p))
    return text


def _failure_check(lib, name: str, argtypes, restype, what: str):
    """ctypes errcheck: a NULL/false return raises ObsCallError naming the call."""
    empty = "false" if restype is c_bool else "NULL"

    def errcheck(result, function, args):
        if result:
            return result
        raise ObsCallError(f"{name}({_shown(argtypes, args)}) returned {empty}: {what}"
                           f"{_messages(lib, argtypes, args)}")
    return errcheck


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
    for name, (argtypes, restype, failure) in SIGNATURES.items():
        function = getattr(lib, name)
        function.argtypes, function.restype = argtypes, restype
        if failure is not None:
            function.errcheck = _failure_check(lib, name, argtypes, restype, failure)
        elif getattr(function, "errcheck", None) is not None:
            del function.errcheck
    return lib


def address(callback) -> int:
    """A CFUNCTYPE object as the void * the table declares for callbacks."""
    return ctypes.cast(callback, c_void_p).value


def log(lib, level: int, message: str) -> None:
    """blog() from any thread (variadic: message passed through "%s")."""
    lib.blog(c_int(level), b"[obs-vbg] %s", message.encode("utf-8", "replace"))
