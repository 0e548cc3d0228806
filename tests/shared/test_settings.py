from dataclasses import fields

import pytest

from vbg_core.shared.errors import SettingsError
from vbg_core.shared.models import SEGMENTATION_MODELS
from vbg_core.shared.settings import (BLUR_LEVELS, TABLE, WORKER_KEYS, Settings, allowed, color_from_obs,
                                      color_to_obs, parse_blur, parse_color)


@pytest.mark.parametrize("value, rgb", [(0x00FF00, (0, 255, 0)), ("#FF8000", (255, 128, 0)),
                                        ("#00ff7f", (0, 255, 127)), (0, (0, 0, 0))])
def test_colours_parse(value, rgb):
    assert parse_color(value) == rgb


@pytest.mark.parametrize("bad", ["red", "#12345", "#GG0000", "00FF00", 0x1000000, -1, True, ""])
def test_invalid_colour_names_the_value(bad):
    with pytest.raises(SettingsError, match="invalid colour") as info:
        parse_color(bad)
    assert repr(bad) in str(info.value) or f"{bad:#x}" in str(info.value)


def test_obs_colour_is_abgr():
    assert color_from_obs(0xFF0000FF) == (255, 0, 0)
    assert color_from_obs(0xFFFF0000) == (0, 0, 255)
    assert color_to_obs((18, 52, 86)) == 0xFF563412
    assert color_from_obs(color_to_obs((18, 52, 86))) == (18, 52, 86)


def test_from_obs_uses_the_contract_keys():
    s = Settings.from_obs({"mode": "color", "color": 0xFF00FF00, "blur_level": "high", "image_fit": "contain",
                           "edge_refine": False, "smoothing": 0.2, "threads": 2, "provider": "cpu"})
    assert (s.mode, s.color, s.blur, s.image_fit, s.edges, s.smoothing, s.threads, s.provider) == \
        ("color", (0, 255, 0), BLUR_LEVELS["high"], "contain", False, 0.2, 2, "cpu")


def test_defaults_match_the_obs_contract():
    s = Settings.from_obs({})
    assert (s.mode, s.color, s.image_fit, s.blur, s.provider, s.threads) == \
        ("blur", (255, 255, 255), "cover", BLUR_LEVELS["medium"], "auto", 1)


@pytest.mark.parametrize("field, value, words", [
    ("mode", "sepia", "invalid mode"), ("image_fit", "zoom", "invalid image fit"),
    ("video_fit", "zoom", "invalid video fit"),
    ("model", "huge", "invalid model"), ("provider", "tpu", "invalid provider"),
    ("threads", 0, "invalid threads"), ("smoothing", 1.5, "invalid smoothing"),
    ("threshold", -0.1, "invalid threshold"), ("blur", "extreme", "invalid blur")])
def test_invalid_settings_say_which(field, value, words):
    with pytest.raises(SettingsError, match=words):
        Settings(**{field: value})


def test_image_mode_needs_a_path():
    with pytest.raises(SettingsError, match="needs a background image"):
        Settings(mode="image")


def test_video_mode_needs_a_path():
    with pytest.raises(SettingsError, match="needs a background video"):
        Settings(mode="video")
    assert Settings.from_obs({"mode": "video", "video_path": "a.mp4", "video_loop": False}).video_loop is False


def test_blur_number_bounds():
    assert parse_blur(5) == 5.0
    with pytest.raises(SettingsError):
        parse_blur(0)


# ---- the one table of keys ----

STABLE_KEYS = ["mode", "color", "image_path", "image_fit", "blur_level", "video_path", "video_fit", "video_loop",
               "model", "edge_refine", "whole_bodies", "smoothing",
               "threshold", "softness", "provider", "threads", "pause_when_still"]  # saved scene collections rely on these


def test_the_table_holds_the_stable_keys_and_fills_every_field():
    assert [key.key for key in TABLE] == STABLE_KEYS
    assert sorted(key.field for key in TABLE) == sorted(f.name for f in fields(Settings))
    assert Settings.from_obs({key.key: key.default for key in TABLE}) == Settings()


@pytest.mark.parametrize("key", [key for key in TABLE if key.choices], ids=lambda key: key.key)
def test_every_listed_choice_is_accepted_and_nothing_else(key):
    for value in allowed(key.key):
        assert Settings.from_obs({key.key: value, "image_path": "x.jpg", "video_path": "x.mp4"})
    with pytest.raises(SettingsError):
        Settings.from_obs({key.key: "no-such-choice"})


def test_the_model_choices_are_the_registry():
    assert allowed("model") == SEGMENTATION_MODELS


def test_the_worker_reads_the_quality_and_performance_keys():
    assert WORKER_KEYS == tuple(key.key for key in TABLE if key.group in ("quality", "performance"))
