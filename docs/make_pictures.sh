#!/usr/bin/env bash
# Regenerates the README's before/after pictures with the project's own `vbg render`.
#   docs/make_pictures.sh            (after ./install/install.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
VBG="${VBG:-.venv/bin/vbg}"
IN=samples/tfjs_portrait.jpg
OUT=docs/pictures
mkdir -p "$OUT"
"$VBG" render "$IN" -o "$OUT/portrait_blur.jpg" --background blur
"$VBG" render "$IN" -o "$OUT/portrait_color.jpg" --background "#2E7D32"
"$VBG" render "$IN" -o "$OUT/portrait_image.jpg" --background samples/rocket.jpg
# video mode: the juggling clip over the bundled background video; the README shows one real
# frame of the output (1.5 s in), taken with PyAV from the project's environment
PY="${PY:-.venv/bin/python}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$VBG" render samples/sam2_juggle.mp4 -o "$TMP/juggle_video.mp4" --background samples/sam2_bedroom_wall.mp4
"$PY" - "$TMP/juggle_video.mp4" "$OUT/juggle_video.jpg" <<'PYTHON'
import sys
import cv2
from vbg_core.cli.media import VideoReader
from vbg_core.engine.images import write_image
reader = VideoReader(sys.argv[1])
frame = next(rgb for index, rgb in enumerate(reader) if index == int(1.5 * reader.rate))
write_image(sys.argv[2], cv2.resize(frame, (960, 540), interpolation=cv2.INTER_AREA))
PYTHON
