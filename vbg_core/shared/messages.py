"""The messages in the channel's mailboxes (shared/channel.py carries them; its VERSION
covers these layouts too). Standard library only: OBS's embedded Python imports this.

    frames   OBS -> worker   FRAME_HEAD (the source's size, the crop's size and
                             rectangle, padded to FRAME_HEAD_BYTES), then the whole
                             frame, RGBA uint8 at about the model's size (the slot's
                             width and height), then the crop, RGBA at the model's size
                             (none when the crop's size is 0 x 0)
    masks    worker -> OBS   MASK_HEAD (the coefficients' byte count, the blurred
                             background's width and height), then uint8 alpha
                             (255 = person) covering the frame, rows padded to 4 bytes
                             (at most MAX_PIXELS; the grid of engine/pipeline.py is
                             512x288, RVM 640x360); then, with edge refinement on, the
                             guided filter's coefficients at the mask's size (float16
                             pairs mean_a, mean_b per pixel: engine/refine.py's
                             guided_coefficients; none when off); then, in blur and
                             video modes, the blurred background (RGBA uint8, at
                             engine/compose.py's blurred_small size of the frame read
                             back; none in the other modes); then the mask's regions
                             (below, made by vbg_core/engine/regions.py)
    crops    worker -> OBS   the rectangle to read back next (CROP: x0, y0, x1, y1 in
                             the frame's unit square), or no data: none
    backdrops worker -> OBS  video mode's background: the clip's current frame, RGBA
                             uint8 rows (the slot's width and height: the clip's own
                             size, scaled down to what the frame shows and to at most
                             BACKDROP_PIXELS), a new slot each time the clip moves on;
                             the filter fits it to the frame as it draws

Following the person (vbg_core/engine/roi.py): the worker asks for a crop around the
person; the filter keeps reading back the whole frame at the model's size (the full
looks every roi.FULL_EVERY frames and at once when the person reaches past the crop,
motion detection and the temporal filter's guide read it, as `vbg` does) and, while a
crop is asked for, that rectangle too, stretched to the model's size. The crop arrives
a frame or two after it was asked for: each frame says which rectangle it holds.
"""

import struct
from dataclasses import dataclass
from typing import Tuple

MAX_SIDE = 640                      # the long side of frames and masks
MAX_PIXELS = 640 * 360              # frames, crops and masks are model-sized: the largest input is RVM's
FRAME_HEAD = struct.Struct("<IIIIdddd")     # source w, h; crop w, h; crop x0, y0, x1, y1
FRAME_HEAD_BYTES = 64                       # FRAME_HEAD, padded
FRAME_CAP = FRAME_HEAD_BYTES + 2 * MAX_PIXELS * 4      # the head, the whole frame and a crop
CROP = struct.Struct("<dddd")
BACKDROP_PIXELS = 1280 * 720        # video mode's background: a larger clip is sent scaled down
BACKDROP_CAP = BACKDROP_PIXELS * 4

# The regions after a mask: where its full-resolution alpha is certainly 0
# (background), certainly 1 (person), or must be computed (edge), as rectangles in
# the frame's unit square, each two triangles ready for a vertex buffer. A header of
# rectangle counts per class, then every vertex's position (x, y, 0, 0: libobs'
# 16-byte vec3) and then every vertex's uv (x, y), classes in REGION_CLASSES order.
# An empty region list (too many rectangles, or none made) means "compute everywhere".
REGION_CLASSES = ("background", "person", "edge")
REGION_HEADER = struct.Struct("<III")
REGION_VERTICES = 6                 # per rectangle
REGION_VERTEX_BYTES = 16 + 8        # position + uv
MAX_RECTS = 512
MASK_HEAD = struct.Struct("<IHH")   # bytes of coefficients after the mask (0: none); background w, h (0: none)
COEF_BYTES = 4                      # per mask pixel: two float16
MASK_CAP = (MASK_HEAD.size + MAX_PIXELS + 3 * MAX_SIDE + MAX_PIXELS * COEF_BYTES + MAX_PIXELS * 4
            + REGION_HEADER.size + MAX_RECTS * REGION_VERTICES * REGION_VERTEX_BYTES)


@dataclass(frozen=True)
class Mask:
    rows: bytes                     # uint8 alpha, rows padded to 4 bytes
    coefficients: bytes             # the guided filter's, or b""
    background: bytes               # the blurred background, RGBA, or b""
    background_size: Tuple[int, int]    # its (w, h), (0, 0) with none
    regions: bytes


def pack_mask(mask_rows: bytes, coefficients: bytes, regions: bytes, background: bytes = b"",
              background_size: Tuple[int, int] = (0, 0)) -> bytes:
    return MASK_HEAD.pack(len(coefficients), *background_size) + mask_rows + coefficients + background + regions


class MalformedMask(ValueError):
    """A masks-mailbox message whose parts do not fit its own sizes."""


def split_mask(slot) -> Mask:
    """A masks-mailbox message -> its parts; MalformedMask when the sizes it states do
    not fit its length or its mask (the filter would have the GPU read past them)."""
    data = slot.data
    if len(data) < MASK_HEAD.size:
        raise MalformedMask(f"a mask message of {len(data)} bytes has no head")
    coefficients, bw, bh = MASK_HEAD.unpack_from(data)
    if coefficients not in (0, slot.width * slot.height * COEF_BYTES):
        raise MalformedMask(f"{coefficients} bytes of coefficients for a {slot.width}x{slot.height} mask")
    marks = [MASK_HEAD.size]
    for length in ((slot.width + 3) // 4 * 4 * slot.height, coefficients, bw * bh * 4):
        marks.append(marks[-1] + length)
    if len(data) < marks[3]:
        raise MalformedMask(f"a {slot.width}x{slot.height} mask message ({bw}x{bh} background) "
                            f"of {len(data)} bytes, not {marks[3]} or more")
    return Mask(data[marks[0]:marks[1]], data[marks[1]:marks[2]], data[marks[2]:marks[3]], (bw, bh),
                data[marks[3]:])


@dataclass(frozen=True)
class Frame:
    """A frames-mailbox message, taken apart."""
    source_size: Tuple[int, int]    # (w, h) of the filter's input
    full: bytes                     # RGBA rows of the whole frame (the slot's w x h)
    crop_size: Tuple[int, int]      # (w, h), (0, 0) = no crop
    crop_rect: Tuple[float, float, float, float]    # x0, y0, x1, y1 in the unit square
    crop: bytes


def pack_frame(source_size, full: bytes, crop_size=(0, 0), crop_rect=(0.0,) * 4, crop: bytes = b"") -> bytes:
    head = FRAME_HEAD.pack(*source_size, *crop_size, *crop_rect)
    return head + bytes(FRAME_HEAD_BYTES - len(head)) + full + crop


def split_frame(slot) -> Frame:
    values = FRAME_HEAD.unpack_from(slot.data)
    end = FRAME_HEAD_BYTES + slot.width * slot.height * 4
    return Frame(values[:2], slot.data[FRAME_HEAD_BYTES:end], values[2:4], values[4:], slot.data[end:])
