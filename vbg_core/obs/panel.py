"""The filter's properties panel and its defaults, both made from the settings table
(vbg_core/shared/settings.py: TABLE); the one key it names, the mode, is looked up there.

Groups as a user thinks: Background (mode, then only the controls that mode uses),
Quality (what the default path does, in words; model, edges, smoothing, threshold,
softness), Performance (provider,
threads), and a status line saying what is really happening.
"""

from ..shared.settings import KEYS, TABLE, Key
from . import libobs as L

GROUPS = (("background", "Background"), ("quality", "Quality"), ("performance", "Performance"))
# A group's first line, in plain words (an info text named "<group>_note")
GROUP_NOTES = {"quality": "The default model looks at a crop that follows the person (the whole frame is "
                          "checked every half second, and at once when the person is lost); the mask is "
                          "steadied over time where the picture is still, and its edges follow the "
                          "picture's own detail. For people standing or moving in view, tick Track whole "
                          "bodies: a second model made for them (up to three people; stray blobs away "
                          "from them are cleared), costing most of a CPU core while one is in view."}
# the obs_data_* type of each kind of setting
MODE = KEYS["mode"]           # its list shows and hides the other controls
DATA_TYPES = {"string": "string", "path": "string", "color": "int", "bool": "bool", "int": "int", "double": "double"}


def file_filter(key: Key) -> bytes:
    """A path key's file picker filter, from its `files` (Qt's "What (*.a *.b);;..." form)."""
    what, extensions = key.files or ("Files", ())
    patterns = " ".join(f"*{extension}" for extension in extensions)
    return (f"{what} ({patterns});;" if patterns else "").encode() + b"All files (*.*)"


def set_defaults(lib, data) -> None:
    for key in TABLE:
        setter = getattr(lib, f"obs_data_set_default_{DATA_TYPES[key.kind]}")
        default = key.default if key.obs_default is None else key.obs_default
        setter(data, key.key.encode(), default.encode() if isinstance(default, str) else default)


def read_settings(lib, data) -> dict:
    """obs_data_t * -> {OBS key: value} for every key of the table."""
    values = {}
    for key in TABLE:
        value = getattr(lib, f"obs_data_get_{DATA_TYPES[key.kind]}")(data, key.key.encode())
        values[key.key] = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return values


class Panel:
    """Builds the properties for one filter (or for the type, with no filter).
    Runs on OBS's UI thread."""

    def __init__(self, lib, persistent):
        self.lib, self.persistent = lib, persistent

    def build(self, status: str):
        lib = self.lib
        props = lib.obs_properties_create()
        lib.obs_properties_add_text(props, b"status", f"Status: {status}".encode(), L.OBS_TEXT_INFO)
        lib.obs_properties_add_button(props, b"refresh_status", b"Refresh status",
                                      L.address(self.persistent.clicked))
        for group, label in GROUPS:
            content = lib.obs_properties_create()
            lib.obs_properties_add_group(props, group.encode(), label.encode(), L.OBS_GROUP_NORMAL, content)
            if group in GROUP_NOTES:
                lib.obs_properties_add_text(content, f"{group}_note".encode(), GROUP_NOTES[group].encode(),
                                            L.OBS_TEXT_INFO)
            for key in TABLE:
                if key.group == group:
                    self._add(content, key)
        return props

    def _add(self, props, key: Key) -> None:
        lib, name, label = self.lib, key.key.encode(), key.label.encode()
        if key.choices:
            prop = lib.obs_properties_add_list(props, name, label, L.OBS_COMBO_TYPE_LIST, L.OBS_COMBO_FORMAT_STRING)
            for value, text in key.choices:
                lib.obs_property_list_add_string(prop, text.encode(), value.encode())
            if key is MODE:
                lib.obs_property_set_modified_callback(prop, L.address(self.persistent.modified))
        elif key.kind == "color":
            lib.obs_properties_add_color(props, name, label)
        elif key.kind == "path":
            lib.obs_properties_add_path(props, name, label, L.OBS_PATH_FILE, file_filter(key), None)
        elif key.kind == "bool":
            lib.obs_properties_add_bool(props, name, label)
        elif key.kind == "double":
            lib.obs_properties_add_float_slider(props, name, label, *key.bounds)
        else:
            lib.obs_properties_add_int(props, name, label, *key.bounds)

    def on_mode_modified(self, props, data) -> bool:
        """Show only the controls of the chosen mode; True = redraw the panel."""
        mode = (self.lib.obs_data_get_string(data, MODE.key.encode()) or MODE.default.encode()).decode()
        for key in TABLE:
            if key.mode:
                prop = self.lib.obs_properties_get(props, key.key.encode())
                if prop:
                    self.lib.obs_property_set_visible(prop, key.mode == mode)
        return True
