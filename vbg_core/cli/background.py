"""The `--background` value of the `vbg` command -> Settings fields.

    blur | blur:low|medium|high|SIGMA | a CSS colour name | #RRGGBB | transparent | IMAGE | VIDEO

Colour names are CSS3's 147 (the `webcolors` library's table, so none is typed here).
A value that is none of these and does not look like a file is refused with the forms
that are accepted, instead of being taken for a missing image. A file is a video by
its extension (settings.VIDEO_EXTENSIONS: .mp4, .mov, .mkv, .webm, ...), else an image.
"""

import os
from pathlib import Path

import webcolors

from ..shared.errors import SettingsError
from ..shared.settings import VIDEO_EXTENSIONS, parse_blur, parse_color

FORMS = ("blur, blur:low|medium|high|SIGMA, a colour name (red) or #RRGGBB, transparent, "
         "or an image or video file")


def parse_background(value: str) -> dict:
    text = value.strip()
    lowered = text.lower()
    if lowered == "transparent":
        return {"mode": "transparent"}
    if lowered == "blur":
        return {"mode": "blur"}
    if lowered.startswith("blur:"):
        return {"mode": "blur", "blur": parse_blur(text[5:])}
    if text.startswith("#"):
        return {"mode": "color", "color": parse_color(text)}
    if lowered in webcolors.names("css3"):
        return {"mode": "color", "color": tuple(webcolors.name_to_rgb(lowered, spec="css3"))}
    if Path(text).suffix.lower() in VIDEO_EXTENSIONS:
        return {"mode": "video", "video_path": text}
    if text and (os.path.exists(text) or Path(text).suffix or os.sep in text or "/" in text):
        return {"mode": "image", "image_path": text}
    raise SettingsError(f"invalid --background {value!r}: use {FORMS}")
