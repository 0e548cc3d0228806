"""Still images in and out: the engine's background pictures and the command line's
image inputs and outputs. RGB uint8 arrays; errors name the file and the problem."""

import os
from pathlib import Path

import cv2
import numpy as np

from ..shared.errors import MediaError
from ..shared.files import AtomicOutput
from ..shared.settings import IMAGE_EXTENSIONS


def is_image(path: str) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def read_image(path: str, what: str = "input image") -> np.ndarray:
    """Image file -> RGB uint8, or MediaError naming `what`, the path and the problem."""
    if not os.path.isfile(path):
        raise MediaError(f"{what} not found: {path}")
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None or bgr.size == 0:
        raise MediaError(f"cannot read {what} {path}: not a JPG, PNG or WebP file, or corrupt")
    if is_truncated(path):
        raise MediaError(f"cannot read {what} {path}: the file is cut short (incomplete download?)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def is_truncated(path: str) -> bool:
    """JPEG and PNG files that end before their end marker. OpenCV decodes those
    with a warning and grey filler; we refuse them instead."""
    with open(path, "rb") as handle:
        head = handle.read(8)
        handle.seek(max(0, os.path.getsize(path) - 64))
        tail = handle.read()
    if head[:2] == b"\xff\xd8":
        return b"\xff\xd9" not in tail
    if head == b"\x89PNG\r\n\x1a\n":
        return b"IEND" not in tail
    return False


def write_image(path: str, image_u8: np.ndarray) -> None:
    """RGB, RGBA or single-channel uint8 -> image file (the extension picks the format)."""
    if image_u8.ndim == 3:
        code = cv2.COLOR_RGBA2BGRA if image_u8.shape[2] == 4 else cv2.COLOR_RGB2BGR
        image_u8 = cv2.cvtColor(image_u8, code)
    if image_u8.ndim == 3 and image_u8.shape[2] == 4 and Path(path).suffix.lower() in {".jpg", ".jpeg"}:
        raise MediaError(f"{path}: JPEG cannot hold transparency; write a .png instead")
    with AtomicOutput(path) as out:     # the target is replaced only by a complete file
        try:
            ok = cv2.imwrite(str(out.path), image_u8)
        except cv2.error:
            ok = False
        if not ok:
            raise MediaError(f"cannot write image {path}: use a .png, .jpg or .webp name in a writable "
                             "folder with free space")
