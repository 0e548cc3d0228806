"""obs-vbg: the "Virtual Background" filter for OBS Studio.

Add this file in OBS (Tools > Scripts > +), then add the "Virtual Background" filter
to a camera or any video source. The heavy work runs in a separate worker process
with the project's own Python (recorded by the installer in obs_vbg_python.txt next
to this file; the environment variable VBG_PYTHON overrides it), so OBS's own Python
needs only its standard library.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_plugin = None


def script_description():
    return ("<b>Virtual Background</b><br>Adds the <i>Virtual Background</i> video filter: "
            "keeps the person and replaces the background with a blur, a colour, an image, "
            "or transparency. Add it to a source from the source's Filters.")


def _fresh_import():
    """Drop modules of a previous load so a reload runs the current code."""
    for name in [name for name in sys.modules if name == "vbg_core" or name.startswith("vbg_core.")]:
        del sys.modules[name]
    if _HERE not in sys.path:
        sys.path.insert(0, _HERE)
    from vbg_core.obs.plugin import Plugin
    return Plugin


def script_load(settings):
    global _plugin
    _plugin = _fresh_import()(_HERE)
    _plugin.load()


def script_unload():
    global _plugin
    if _plugin is not None:
        _plugin.unload()
        _plugin = None
