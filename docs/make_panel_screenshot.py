#!/usr/bin/env python3
"""Screenshot of the filter's properties panel in real OBS, for the README.

Dev-only docs tool (not a runtime dependency of the project). It needs:
  - `obs` (OBS Studio, e.g. Debian's obs-studio), `Xvfb`, `xwininfo` (x11-utils) and
    `xdotool` on PATH (`apt-get install obs-studio xvfb x11-utils xdotool`);
  - the dev venv's Python with obsws-python and Pillow (Pillow built with XCB, as the
    PyPI wheels are), and the engine installed there (the filter's worker runs in it).

    .venv/bin/python docs/make_panel_screenshot.py     # -> docs/pictures/obs_panel.png (mode blur)
                                                       #    and obs_panel_color.png (mode colour)

What it does: starts headless OBS with tests/obs/harness.py (its own Xvfb, its own
config, our script loaded) holding an image source of samples/tfjs_portrait.jpg with a
"Virtual Background" filter, waits until the filter's status says the worker is
running inference, opens that source's Filters dialog through obs-websocket
(OpenInputFiltersDialog; OBS selects the only filter itself), and, as there is no window
manager under Xvfb, moves and sizes the dialog with xdotool and drags the splitter under
its preview up so the whole panel shows without scrolling; then it grabs the X screen
(Pillow's ImageGrab) and crops it to the dialog's window.
OBS is stopped cleanly (SIGINT) afterwards.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageGrab  # noqa: E402

from tests.obs.harness import ObsInstance, image_source, missing_tools, vbg_filter  # noqa: E402

PHOTO = ROOT / "samples" / "tfjs_portrait.jpg"
OUT = ROOT / "docs" / "pictures"
SOURCE = "Webcam"
FILTER = "Virtual Background"
RUNNING = f"'{FILTER}': status: inference on"       # the plugin logs each status change
MAX_BYTES = 300_000
DIALOG = (900, 1010)                                  # the harness's Xvfb screen is 1280x1024
SPLITTER_Y = 260                                      # where the preview ends, from the dialog's top


def display_of(pid: int) -> str:
    """The DISPLAY the harness gave OBS (read from the OBS process's environment)."""
    environ = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
    for entry in environ:
        if entry.startswith(b"DISPLAY="):
            return entry.split(b"=", 1)[1].decode()
    raise RuntimeError("OBS has no DISPLAY in its environment")


def find_window(display: str, title: str):
    """-> (id, x, y, width, height) of the mapped top-level window called `title`, or None."""
    try:
        tree = subprocess.run(["xwininfo", "-display", display, "-root", "-children"],
                              capture_output=True, text=True, timeout=10).stdout
    except subprocess.SubprocessError:
        return None
    for line in tree.splitlines():
        match = re.match(r'\s*(0x[0-9a-f]+) "(.*)":', line)
        if not match or match.group(2) != title:
            continue
        info = subprocess.run(["xwininfo", "-display", display, "-id", match.group(1)],
                              capture_output=True, text=True, timeout=10).stdout
        fields = dict(re.findall(r"^\s*(Absolute upper-left [XY]|Width|Height|Map State):\s*(\S+)",
                                 info, re.M))
        if fields.get("Map State") != "IsViewable":
            continue
        return (match.group(1), int(fields["Absolute upper-left X"]), int(fields["Absolute upper-left Y"]),
                int(fields["Width"]), int(fields["Height"]))
    return None


def splitter_row(window: Image.Image) -> int:
    """Row of the splitter between the Filters dialog's preview and the properties:
    where the preview's background ends, just left of the (centred) picture."""
    window = window.convert("RGB")
    column = window.width * 33 // 100           # the right pane starts at about 30 %
    preview = window.getpixel((column, 40))
    for row in range(41, window.height - 40):
        if window.getpixel((column, row)) != preview:
            return row + 2
    raise RuntimeError("could not find the splitter under the Filters dialog's preview")


def wait_for(what: str, check, timeout: float, obs: ObsInstance):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}; OBS log tail:\n{obs.log_text()[-3000:]}")
        time.sleep(0.5)


def save_png(image: Image.Image, path: Path) -> None:
    image = image.convert("RGB")
    image.save(path, optimize=True)
    if path.stat().st_size > MAX_BYTES:     # the dialog's live preview is a photo: use a palette
        image.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    print(f"wrote {path.relative_to(ROOT)} ({image.width}x{image.height}, {path.stat().st_size // 1024} KB)")


def shoot(mode: str, path: Path, python: str, settle: float) -> None:
    settings = {"mode": mode}
    if mode == "color":
        settings["color"] = 0xFF327D2E      # #2E7D32 as OBS's 0xAABBGGRR, as in make_pictures.sh
    sources = [image_source(SOURCE, str(PHOTO), filters=[vbg_filter(FILTER, **settings)])]
    with tempfile.TemporaryDirectory(prefix="vbg-panel-") as home:
        with ObsInstance(Path(home) / "home", scripts=[str(ROOT / "obs_vbg.py")], sources=sources,
                         env={"VBG_PYTHON": python}) as obs:
            wait_for("the worker to run inference", lambda: RUNNING in obs.log_text(), 90, obs)
            display = display_of(obs.pid)
            obs.client.open_input_filters_dialog(SOURCE)
            title = f"Filters for '{SOURCE}'"
            window = wait_for(f"the window {title!r}", lambda: find_window(display, title), 30, obs)[0]
            # No window manager under Xvfb: place and size the dialog ourselves, tall
            # enough for the whole panel without a scroll bar.
            subprocess.run(["xdotool", "windowmove", window, "0", "0", "windowsize", window,
                            str(DIALOG[0]), str(DIALOG[1])], env=dict(os.environ, DISPLAY=display),
                           check=True, timeout=10)
            time.sleep(settle)              # let the panel and the preview draw (llvmpipe is slow)
            _, x, y, width, height = find_window(display, title)
            # The preview takes the extra height: drag the splitter under it up.
            handle = splitter_row(ImageGrab.grab(xdisplay=display).crop((x, y, x + width, y + height)))
            grip_x = str(x + width * 2 // 3)
            subprocess.run(["xdotool", "mousemove", grip_x, str(y + handle), "mousedown", "1", "sleep", "0.3",
                            "mousemove", grip_x, str(y + handle - 20), "sleep", "0.3",
                            "mousemove", grip_x, str(y + SPLITTER_Y), "sleep", "0.3", "mouseup", "1",
                            "mousemove", "1279", "1023"],     # off the dialog: nothing hovered
                           env=dict(os.environ, DISPLAY=display), check=True, timeout=10)
            time.sleep(settle)
            screen = ImageGrab.grab(xdisplay=display)
            save_png(screen.crop((x, y, x + width, y + height)), path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--blur-only", action="store_true", help="skip obs_panel_color.png")
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"),
                        help="the worker's interpreter (VBG_PYTHON); default .venv/bin/python")
    parser.add_argument("--settle", type=float, default=4.0, help="seconds to let the dialog draw")
    args = parser.parse_args()
    missing = missing_tools() + [tool for tool in ("xwininfo", "xdotool") if shutil.which(tool) is None]
    if missing:
        print(f"missing: {', '.join(missing)} (apt-get install obs-studio xvfb x11-utils xdotool)",
              file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    shoot("blur", OUT / "obs_panel.png", args.python, args.settle)
    if not args.blur_only:
        shoot("color", OUT / "obs_panel_color.png", args.python, args.settle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
