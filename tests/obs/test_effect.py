"""vbg.effect's names are checked when it loads (vbg_core/obs/effect.py).

Fast: the Python table of parameters (with their types) and techniques is exactly
what vbg.effect declares. Real OBS: a copy of the project whose vbg.effect misspells
a parameter passes the video through, and its log and status line name the
parameter."""

import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.obs.harness import ObsInstance, image_source, vbg_filter
from vbg_core.engine import images
from vbg_core.obs import effect

ROOT = Path(__file__).resolve().parents[2]
PHOTO = ROOT / "samples" / "tfjs_portrait.jpg"


def declared():
    """vbg.effect's uniforms {name: type} and techniques, in file order."""
    text = Path(effect.EFFECT_PATH).read_text()
    uniforms = dict((name, kind) for kind, name in re.findall(r"^uniform (\w+) (\w+);", text, re.M))
    return uniforms, re.findall(r"^technique (\w+)", text, re.M)


def test_python_names_are_exactly_the_effects():
    uniforms, techniques = declared()
    assert effect.PARAMS == uniforms
    assert effect.TECHNIQUES == tuple(techniques)
    assert set(effect.PARAMS.values()) <= set(effect.TYPE_CODES)


class Calls:
    """Records libobs calls by name (only to see which setter a type picks)."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name, args))


def test_setters_follow_the_declared_type_not_the_python_value():
    lib = Calls()
    effect.setter(lib, "float")(1, 2)               # an int for a float uniform
    effect.setter(lib, "float2")(2, (3, 4))
    [(name, (handle, value)), (name2, (_, vec))] = lib.calls
    assert (name, handle, value, type(value)) == ("gs_effect_set_float", 1, 2.0, float)
    assert name2 == "gs_effect_set_vec2" and (vec._obj.x, vec._obj.y) == (3.0, 4.0)
    with pytest.raises(TypeError):
        effect.setter(lib, "int")(1, 2.5)           # never truncated silently


def misspelt_copy(tmp_path: Path, right: str, wrong: str) -> Path:
    """The project's OBS side copied, with `right` renamed `wrong` throughout vbg.effect
    (so it still compiles), and the real models linked in."""
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "vbg_core", copy / "vbg_core", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "obs_vbg.py", copy / "obs_vbg.py")
    (copy / "models").symlink_to(ROOT / "models")
    path = copy / "vbg_core" / "obs" / "vbg.effect"
    text = path.read_text()
    assert re.search(rf"\b{right}\b", text)
    path.write_text(re.sub(rf"\b{right}\b", wrong, text))
    return copy


def test_a_misspelt_parameter_passes_video_through_and_says_which(tmp_path):
    copy = misspelt_copy(tmp_path, "bg_xform", "bg_xfrom")
    photo = images.read_image(str(PHOTO))
    expected = "vbg.effect: gs_effect_get_param_by_name(…, 'bg_xform') returned NULL: " \
               "no such parameter in the effect — video passes through"
    sources = [image_source("Person", PHOTO, [vbg_filter("VBG", mode="color", color=0xFF00FF00)])]
    with ObsInstance(tmp_path / "home", scripts=[str(copy / "obs_vbg.py")], sources=sources,
                     env={"VBG_PYTHON": sys.executable, "VBG_STATS_INTERVAL": "1"}) as obs:
        # wait until a worker runs, then for two more stats lines (one a second): the
        # status says the one failure and no frame was drawn with a mask
        deadline = time.monotonic() + 60
        while not obs.worker_pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        seen = obs.log_text().count("'VBG': stats: ")
        while obs.log_text().count("'VBG': stats: ") < seen + 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        log = obs.log_text()
        stats = [line for line in log.splitlines() if "'VBG': stats: " in line]
        assert obs.worker_pids() and len(stats) >= seen + 2, "a worker and two stats lines within 60 s"
        assert f"'VBG': {expected}" in log, "the error names the parameter in the log"
        assert f"'VBG': status: {expected}" in log, "and in the status line"
        assert all(f"stats: {expected}; no masks drawn yet" in line for line in stats), stats[-1]
        rgba = obs.screenshot("Person")
    error = np.abs(rgba[:, :, :3].astype(np.float32) - photo).mean()
    assert error < 3, f"the video passes through (MAD {error:.1f} vs the photo)"
