"""Test helper script loaded into OBS next to obs_vbg.py: when the file named by the
environment variable VBG_TEST_RELOAD_TRIGGER appears, it reloads obs_vbg.py the way
OBS's Tools > Scripts > Reload does (script_unload, re-import the module,
script_load) and deletes the file. Test-only; standard library + obspython."""

import importlib
import os
import sys

import obspython as obs

TRIGGER = os.environ.get("VBG_TEST_RELOAD_TRIGGER", "")


def check():
    if not TRIGGER or not os.path.exists(TRIGGER):
        return
    module = sys.modules.get("obs_vbg")
    if module is not None:
        module.script_unload()
        module = importlib.reload(module)
        module.script_load(None)
        print("reload_helper: reloaded obs_vbg")
    os.remove(TRIGGER)


def script_load(settings):
    obs.timer_add(check, 200)


def script_unload():
    obs.timer_remove(check)
