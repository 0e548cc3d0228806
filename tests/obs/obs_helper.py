"""Test helper script loaded into OBS next to obs_vbg.py (test-only; standard library
and obspython). It watches the folder named by VBG_TEST_TRIGGER_DIR:

- `reload`: reloads obs_vbg.py the way Tools > Scripts > Reload does (script_unload,
  re-import the module, script_load), then deletes the file.
- `panel` (JSON {"source": ..., "filter": ..., "mode": ...}): builds that filter's
  properties panel through libobs, applies the mode to run its modified callback,
  and writes what a user would see to `panel.json` (every property of every group,
  with a list's item labels, and the filter type's defaults as OBS holds them; then deletes the trigger).
- `memory`: writes what OBS's process holds to `memory.json`: libobs' outstanding
  allocations (`bnum_allocs`, the count OBS logs as leaks at exit) and Python's objects
  after a full collection; then deletes the trigger.
"""

import ctypes
import gc
import importlib
import json
import os
import sys

import obspython as obs

FOLDER = os.environ.get("VBG_TEST_TRIGGER_DIR", "")
GROUPS = ("background", "quality", "performance")


def reload_vbg():
    module = sys.modules.get("obs_vbg")
    if module is not None:
        module.script_unload()
        module = importlib.reload(module)
        module.script_load(None)
        print("obs_helper: reloaded obs_vbg")


def _libobs():
    """libobs through ctypes, for the one call obspython cannot make (obs_property_next
    takes an obs_property_t **)."""
    lib = ctypes.CDLL("libobs.so.0")
    lib.obs_properties_first.argtypes, lib.obs_properties_first.restype = [ctypes.c_void_p], ctypes.c_void_p
    lib.obs_property_next.argtypes, lib.obs_property_next.restype = [ctypes.POINTER(ctypes.c_void_p)], ctypes.c_bool
    lib.obs_property_name.argtypes, lib.obs_property_name.restype = [ctypes.c_void_p], ctypes.c_char_p
    lib.obs_property_description.argtypes, lib.obs_property_description.restype = [ctypes.c_void_p], ctypes.c_char_p
    lib.obs_property_visible.argtypes, lib.obs_property_visible.restype = [ctypes.c_void_p], ctypes.c_bool
    lib.obs_property_get_type.argtypes, lib.obs_property_get_type.restype = [ctypes.c_void_p], ctypes.c_int
    lib.obs_property_list_item_count.argtypes = [ctypes.c_void_p]
    lib.obs_property_list_item_count.restype = ctypes.c_size_t
    lib.obs_property_list_item_name.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.obs_property_list_item_name.restype = ctypes.c_char_p
    return lib


OBS_PROPERTY_LIST = 6       # enum obs_property_type


def list_items(lib, prop) -> list:
    """The labels a list property offers, in order."""
    if lib.obs_property_get_type(prop) != OBS_PROPERTY_LIST:
        return []
    return [(lib.obs_property_list_item_name(prop, index) or b"").decode()
            for index in range(lib.obs_property_list_item_count(prop))]


def describe(props):
    """Every property of `props` (obspython's obs_properties_t *), in order: name -> what
    a user sees of it."""
    lib, seen = _libobs(), {}
    prop = ctypes.c_void_p(lib.obs_properties_first(int(props)))
    while prop.value:
        seen[lib.obs_property_name(prop).decode()] = {
            "visible": lib.obs_property_visible(prop),
            "label": (lib.obs_property_description(prop) or b"").decode(),
            "items": list_items(lib, prop)}
        if not lib.obs_property_next(ctypes.byref(prop)):
            break
    return seen


def dump_panel(request):
    source = obs.obs_get_source_by_name(request["source"])
    vbg = obs.obs_source_get_filter_by_name(source, request["filter"])
    props = obs.obs_source_properties(vbg)
    settings = obs.obs_data_create()
    obs.obs_data_set_string(settings, "mode", request["mode"])
    result = {"top": describe(props)}
    background = obs.obs_property_group_content(obs.obs_properties_get(props, "background"))
    obs.obs_property_modified(obs.obs_properties_get(background, "mode"), settings)
    for group in GROUPS:
        result[group] = describe(obs.obs_property_group_content(obs.obs_properties_get(props, group)))
    current = obs.obs_source_get_settings(vbg)
    defaults = obs.obs_data_get_defaults(current)       # the defaults as plain values, for JSON
    result["defaults"] = json.loads(obs.obs_data_get_json(defaults))
    obs.obs_data_release(defaults)
    obs.obs_data_release(current)
    obs.obs_data_release(settings)
    obs.obs_properties_destroy(props)
    obs.obs_source_release(vbg)
    obs.obs_source_release(source)
    with open(os.path.join(FOLDER, "panel.json"), "w") as handle:
        json.dump(result, handle)


def dump_memory():
    libobs = ctypes.CDLL("libobs.so.0")
    libobs.bnum_allocs.restype = ctypes.c_long
    gc.collect()
    with open(os.path.join(FOLDER, "memory.json"), "w") as handle:
        json.dump({"libobs_allocations": libobs.bnum_allocs(), "python_objects": len(gc.get_objects())}, handle)


def check():
    if not FOLDER:
        return
    trigger = os.path.join(FOLDER, "reload")
    if os.path.exists(trigger):
        reload_vbg()
        os.remove(trigger)
    trigger = os.path.join(FOLDER, "panel")
    if os.path.exists(trigger):
        with open(trigger) as handle:
            request = json.load(handle)
        dump_panel(request)
        os.remove(trigger)          # only now: the test reads panel.json once this is gone
    trigger = os.path.join(FOLDER, "memory")
    if os.path.exists(trigger):
        dump_memory()
        os.remove(trigger)


def script_load(settings):
    obs.timer_add(check, 200)


def script_unload():
    obs.timer_remove(check)
