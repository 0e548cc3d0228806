"""The CPU engine and the OBS shader read the same numbers (vbg_core/shared/maths.py).

The shader's side is read from the very text OBS compiles (effect.source(): the
generated #defines, then vbg.effect); the CPU's side from what its code really does
(its luma, its guided filter's defaults and coefficients, its fit)."""

import inspect
import re

import numpy as np
import pytest

from vbg_core.engine import compose, refine, regions
from vbg_core.obs import effect
from vbg_core.shared import maths


def compiled_defines() -> dict:
    """The #defines of the text the filter compiles -> {name: int, float or tuple}."""
    found = {}
    for name, value in re.findall(r"^#define (\w+) (.+)$", effect.source(), re.M):
        vector = re.fullmatch(r"float\d\((.*)\)", value)
        if vector:
            found[name] = tuple(float(v) for v in vector.group(1).split(","))
        else:
            found[name] = int(value) if re.fullmatch(r"-?\d+", value) else float(value)
    return found


def effect_body() -> str:
    """vbg.effect as written, comments removed."""
    with open(effect.EFFECT_PATH, encoding="utf-8") as handle:
        text = handle.read()
    return re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)


def test_the_shader_is_compiled_with_the_cpus_constants():
    shader = compiled_defines()
    assert set(shader) == {"LUMA"}
    # luma: the CPU's own function on pure red, green and blue
    cpu_luma = refine.luma_f32(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8))[0]
    assert cpu_luma == pytest.approx(shader["LUMA"], abs=1e-6)
    # the regions are certain only as far as the guided filter (the worker's) reaches
    defaults = inspect.signature(refine.guided_coefficients).parameters
    assert regions.MARGIN == 2 * defaults["radius"].default + 1


def test_the_effect_takes_the_shared_constants_only_from_maths():
    body = effect_body()
    assert "#define" not in body, "vbg.effect must not define constants of its own"
    for name in maths.SHADER_DEFINES:
        assert re.search(rf"\b{name}\b", body), f"vbg.effect does not use {name}: a copied number?"
        assert not re.search(rf"\b(uniform|const)\b[^;]*\b{name}\b", body), f"vbg.effect redeclares {name}"
    for number in ("0.299", "0.587", "0.114"):
        assert number not in body, f"a luma weight ({number}) written into vbg.effect"


@pytest.mark.parametrize("image_wh, frame_wh", [((640, 480), (1280, 720)), ((1920, 800), (1280, 720)),
                                                ((333, 517), (640, 360)), ((100, 100), (101, 37))])
def test_cpu_and_shader_place_a_contained_image_alike(image_wh, frame_wh):
    """The CPU's fit_image and the shader's bg_xform (maths.fit_uv) put the image on
    the same pixels; the black bars around it match too."""
    (w, h), white = frame_wh, np.full(image_wh[::-1] + (3,), 255, np.uint8)
    cpu = compose.fit_image(white, frame_wh, "contain").max(axis=2) > 0
    su, sv, ou, ov = maths.fit_uv(frame_wh, image_wh, "contain")
    u = (np.arange(w) + 0.5) / w * su + ou
    v = (np.arange(h) + 0.5) / h * sv + ov
    gpu = ((v >= 0) & (v <= 1))[:, None] & ((u >= 0) & (u <= 1))[None, :]
    assert np.array_equal(cpu, gpu)
    assert maths.fit_uv(frame_wh, image_wh, "stretch") == (1.0, 1.0, 0.0, 0.0)
