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
