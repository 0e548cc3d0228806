"""`vbg --background`: every accepted form, and a clear refusal of the rest."""

import pytest

from vbg_core.cli.background import parse_background
from vbg_core.shared.errors import SettingsError
from vbg_core.shared.settings import BLUR_LEVELS
from realdata import DATA


@pytest.mark.parametrize("text, fields", [
    ("blur", {"mode": "blur"}), ("blur:low", {"mode": "blur", "blur": BLUR_LEVELS["low"]}),
    ("blur:30", {"mode": "blur", "blur": 30.0}), ("#0000FF", {"mode": "color", "color": (0, 0, 255)}),
    ("red", {"mode": "color", "color": (255, 0, 0)}), ("DarkSlateGray", {"mode": "color", "color": (47, 79, 79)}),
    ("transparent", {"mode": "transparent"}), ("beach.jpg", {"mode": "image", "image_path": "beach.jpg"}),
    ("photos/beach", {"mode": "image", "image_path": "photos/beach"}),
    ("clip.mp4", {"mode": "video", "video_path": "clip.mp4"}), ("Park.MOV", {"mode": "video", "video_path": "Park.MOV"}),
    ("a/b.webm", {"mode": "video", "video_path": "a/b.webm"})])
def test_accepted_forms(text, fields):
    assert parse_background(text) == fields


def test_an_existing_file_without_extension_is_an_image(tmp_path):
    image = tmp_path / "backdrop"
    image.write_bytes((DATA / "tfjs_portrait.jpg").read_bytes())
    assert parse_background(str(image)) == {"mode": "image", "image_path": str(image)}


@pytest.mark.parametrize("bad", ["reddish", "", "blurry"])
def test_neither_colour_nor_file_names_the_accepted_forms(bad):
    with pytest.raises(SettingsError, match="use blur, blur:low.*colour name.*#RRGGBB, transparent, or an image or video file"):
        parse_background(bad)
