"""`vbg camera`: webcam -> virtual background -> virtual camera and/or preview window.
A background video plays in real time: each camera frame gets the background's frame
at the moment it was read."""

import time
from typing import Optional

import cv2

from ..shared.errors import MediaError, SettingsError, VbgError
from ..engine.pipeline import Pipeline
from .backdrop import BackgroundVideo

PREVIEW_TITLE = "obs-vbg preview (q to quit)"


def open_camera(device: int):
    capture = cv2.VideoCapture(device)
    if not capture.isOpened():
        raise MediaError(f"no camera at device {device}: check it is connected and not in use "
                         "by another program (`vbg doctor` lists the cameras it sees)")
    return capture


def open_virtual_camera(width: int, height: int, fps: float):
    try:
        import pyvirtualcam
    except ImportError:
        raise VbgError("pyvirtualcam is not installed: pip install 'obs-vbg[camera]'") from None
    try:
        return pyvirtualcam.Camera(width=width, height=height, fps=fps)
    except RuntimeError as exc:
        raise VbgError(f"no virtual-camera device ({exc}): on Linux load v4l2loopback "
                       "(sudo modprobe v4l2loopback); on Windows or macOS install OBS Studio "
                       "and start its virtual camera once") from None


def _show(image_rgb) -> bool:
    """Show a preview frame; -> False when the user asked to quit."""
    try:
        cv2.imshow(PREVIEW_TITLE, cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR))
        return (cv2.waitKey(1) & 0xFF) != ord("q")
    except cv2.error:
        raise VbgError("cannot open a preview window (no display?): use --virtual-camera only") from None


def run_camera(pipeline: Pipeline, device: int, virtual: bool, preview: bool,
               backdrop: Optional[BackgroundVideo] = None) -> int:
    if not (virtual or preview):
        raise SettingsError("nothing to send the video to: add --virtual-camera and/or --preview")
    if pipeline.settings.mode == "transparent":
        raise SettingsError("a camera cannot show transparency: use blur, a colour or an image")
    capture = open_camera(device)
    ok, frame_bgr = capture.read()
    if not ok:
        raise MediaError(f"camera {device} opened but gives no frames: is another program using it?")
    height, width = frame_bgr.shape[:2]
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    camera = open_virtual_camera(width, height, fps) if virtual else None
    start = time.monotonic()
    try:
        while ok:
            background = backdrop.at(time.monotonic() - start) if backdrop is not None else None
            out_rgb = pipeline(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB), backdrop=background)
            if camera is not None:
                camera.send(out_rgb)
            if preview and not _show(out_rgb):
                break
            ok, frame_bgr = capture.read()
    finally:
        capture.release()
        if camera is not None:
            camera.close()
        if preview:
            cv2.destroyAllWindows()
    return 0
