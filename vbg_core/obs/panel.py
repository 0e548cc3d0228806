"""The filter's properties panel and its settings keys (defaults, reading obs_data).

Groups as a user thinks: Background (mode, then only the control that mode uses),
Quality (model, edges, smoothing, threshold, softness), Performance (provider,
threads), and a status line saying what is really happening.
"""

from ..shared.settings import Settings, color_to_obs
from . import libobs as L

MODE_LABELS = (("blur", "Blur"), ("color", "Colour"), ("image", "Image"),
               ("transparent", "Transparent (keep the person, see through the rest)"))
FIT_LABELS = (("cover", "Cover (fill, crop the edges)"), ("contain", "Contain (fit inside, black bars)"),
              ("stretch", "Stretch"))
BLUR_LABELS = (("low", "Low"), ("medium", "Medium"), ("high", "High"))
MODEL_LABELS = (("landscape", "Landscape (fast, for 16:9 cameras)"), ("general", "General (square)"))
PROVIDER_LABELS = (("auto", "Automatic (best available)"), ("cpu", "CPU"),
                   ("directml", "DirectML (Windows GPU)"), ("cuda", "CUDA (NVIDIA)"),
                   ("coreml", "Core ML (macOS)"))
IMAGE_FILTER = b"Images (*.jpg *.jpeg *.png *.webp *.bmp);;All files (*.*)"
# Which setting each mode shows; the others are hidden.
MODE_ONLY = {"color": ("color",), "image": ("image_path", "image_fit"), "blur": ("blur_level",)}

_DEFAULT = Settings()
DEFAULTS = {
    "mode": _DEFAULT.mode, "color": color_to_obs(_DEFAULT.color), "image_path": "",
    "image_fit": _DEFAULT.image_fit, "blur_level": "medium", "model": _DEFAULT.model,
    "provider": _DEFAULT.provider, "threads": _DEFAULT.threads, "edge_refine": _DEFAULT.edges,
    "smoothing": _DEFAULT.smoothing, "threshold": _DEFAULT.threshold, "softness": _DEFAULT.softness,
}


def _kind(value) -> str:
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "double", str: "string"}[type(value)]


def set_defaults(lib, data) -> None:
    for key, value in DEFAULTS.items():
        setter = getattr(lib, f"obs_data_set_default_{_kind(value)}")
        setter(data, key.encode(), value.encode() if isinstance(value, str) else value)


def read_settings(lib, data) -> dict:
    """obs_data_t * -> {OBS key: value} for every key of the contract."""
    values = {}
    for key, default in DEFAULTS.items():
        value = getattr(lib, f"obs_data_get_{_kind(default)}")(data, key.encode())
        values[key] = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return values


class Panel:
    """Builds the properties for one filter (or for the type, with no filter)."""

    def __init__(self, lib, persistent):
        self.lib, self.persistent = lib, persistent

    def _list(self, props, key: str, label: str, choices):
        prop = self.lib.obs_properties_add_list(props, key.encode(), label.encode(),
                                                L.OBS_COMBO_TYPE_LIST, L.OBS_COMBO_FORMAT_STRING)
        for value, text in choices:
            self.lib.obs_property_list_add_string(prop, text.encode(), value.encode())
        return prop

    def _group(self, props, key: str, label: str):
        group = self.lib.obs_properties_create()
        self.lib.obs_properties_add_group(props, key.encode(), label.encode(), L.OBS_GROUP_NORMAL, group)
        return group

    def build(self, status: str):
        lib = self.lib
        props = lib.obs_properties_create()
        lib.obs_properties_add_text(props, b"status", f"Status: {status}".encode(), L.OBS_TEXT_INFO)
        lib.obs_properties_add_button(props, b"refresh_status", b"Refresh status",
                                      L.address(self.persistent.clicked))
        self._background(self._group(props, "background", "Background"))
        self._quality(self._group(props, "quality", "Quality"))
        self._performance(self._group(props, "performance", "Performance"))
        return props

    def _background(self, group) -> None:
        lib = self.lib
        mode = self._list(group, "mode", "Replace with", MODE_LABELS)
        lib.obs_property_set_modified_callback(mode, L.address(self.persistent.modified))
        lib.obs_properties_add_color(group, b"color", b"Colour")
        lib.obs_properties_add_path(group, b"image_path", b"Image", L.OBS_PATH_FILE, IMAGE_FILTER, None)
        self._list(group, "image_fit", "Image fit", FIT_LABELS)
        self._list(group, "blur_level", "Blur strength", BLUR_LABELS)

    def _quality(self, group) -> None:
        lib = self.lib
        self._list(group, "model", "Model", MODEL_LABELS)
        lib.obs_properties_add_bool(group, b"edge_refine", b"Refine edges (follow hair and shoulders)")
        lib.obs_properties_add_float_slider(group, b"smoothing", b"Temporal smoothing", 0.0, 1.0, 0.05)
        lib.obs_properties_add_float_slider(group, b"threshold", b"Person threshold", 0.05, 0.95, 0.05)
        lib.obs_properties_add_float_slider(group, b"softness", b"Edge softness", 0.0, 1.0, 0.05)

    def _performance(self, group) -> None:
        self._list(group, "provider", "Inference on", PROVIDER_LABELS)
        self.lib.obs_properties_add_int(group, b"threads", b"Inference threads", 1, 16, 1)

    def on_mode_modified(self, props, data) -> bool:
        """Show only the controls of the chosen mode; True = redraw the panel."""
        mode = (self.lib.obs_data_get_string(data, b"mode") or b"blur").decode()
        for owner, keys in MODE_ONLY.items():
            for key in keys:
                prop = self.lib.obs_properties_get(props, key.encode())
                if prop:
                    self.lib.obs_property_set_visible(prop, owner == mode)
        return True
