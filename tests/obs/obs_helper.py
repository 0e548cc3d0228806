"""Test helper script loaded into OBS next to obs_vbg.py (test-only; standard library
and obspython). It watches the folder named by VBG_TEST_TRIGGER_DIR:

- `reload`: reloads obs_vbg.py the way Tools > Scripts > Reload does (script_unload,
  re-import the module, script_load), then deletes the file.
- `panel` (JSON {"source": ..., "filter": ..., "mode": ...}): builds that filter's
  properties panel through libobs, applies the mode to run its modified callback,
  and writes what a user would see to `panel.json` (then deletes the trigger).
"""

import importlib
import json
import os
import sys

import obspython as obs

FOLDER = os.environ.get("VBG_TEST_TRIGGER_DIR", "")
GROUPS = {"background": ("mode", "color", "image_path", "image_fit", "blur_level"),
          "quality": ("model", "edge_refine", "smoothing", "threshold", "softness"),
          "performance": ("provider", "threads")}


def reload_vbg():
    module = sys.modules.get("obs_vbg")
    if module is not None:
        module.script_unload()
        module = importlib.reload(module)
        module.script_load(None)
        print("obs_helper: reloaded obs_vbg")


def describe(props, names):
    seen = {}
    for name in names:
        prop = obs.obs_properties_get(props, name)
        if prop:
            seen[name] = {"visible": obs.obs_property_visible(prop),
                          "label": obs.obs_property_description(prop)}
    return seen


def dump_panel(request):
    source = obs.obs_get_source_by_name(request["source"])
    vbg = obs.obs_source_get_filter_by_name(source, request["filter"])
    props = obs.obs_source_properties(vbg)
    settings = obs.obs_data_create()
    obs.obs_data_set_string(settings, "mode", request["mode"])
    result = {"top": describe(props, ("status", "refresh_status", "background", "quality", "performance"))}
    background = obs.obs_property_group_content(obs.obs_properties_get(props, "background"))
    obs.obs_property_modified(obs.obs_properties_get(background, "mode"), settings)
    for group, names in GROUPS.items():
        content = obs.obs_property_group_content(obs.obs_properties_get(props, group))
        result[group] = describe(content, names)
    obs.obs_data_release(settings)
    obs.obs_properties_destroy(props)
    obs.obs_source_release(vbg)
    obs.obs_source_release(source)
    with open(os.path.join(FOLDER, "panel.json"), "w") as handle:
        json.dump(result, handle)


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
        os.remove(trigger)
        dump_panel(request)


def script_load(settings):
    obs.timer_add(check, 200)


def script_unload():
    obs.timer_remove(check)
