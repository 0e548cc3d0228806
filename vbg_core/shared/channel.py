"""The shared-memory mailboxes between the OBS filters and their worker process.

Standard library only: OBS's embedded Python imports this module.

One block per filtered source, and one more, the hub, for the worker process that
serves them all; each named `vbg_<obs pid>_<random>`, created (owner-only) by the OBS
side. The hub is a block of the same layout whose header carries the two processes'
heartbeats and whose settings mailbox carries `{"channels": [names]}`, the sources'
blocks the worker should serve (the others' headers' beats are unused). Layout
(little-endian, every region 64-byte aligned):

    header   64 B   magic "VBGC", version, obs pid, worker pid,
                    obs heartbeat, worker heartbeat (time.monotonic(), f64)
    settings mailbox   OBS -> worker   JSON of the filter's settings
    frames   mailbox   OBS -> worker   FRAME_HEAD (the source's size, the crop's size
                                    and rectangle), then the whole frame, RGBA uint8
                                    at about the model's size (the slot's width and
                                    height), then the crop, RGBA at the model's size
                                    (none when the crop's size is 0 x 0)
    stats    mailbox   worker -> OBS   JSON: provider, inference ms, mask rate, error
    masks    mailbox   worker -> OBS   MASK_HEAD (the coefficients' byte count), then
                                    uint8 alpha (255 = person) covering the frame,
                                    rows padded to 4 bytes (at most MAX_PIXELS; the grid of
                                    engine/pipeline.py is 512x288, RVM 640x360); then,
                                    with edge refinement on, the guided filter's
                                    coefficients at the mask's size (float16 pairs
                                    mean_a, mean_b per pixel: engine/refine.py's
                                    guided_coefficients; none when off); then the mask's
                                    regions (REGIONS below, made by
                                    vbg_core/engine/regions.py)
    crops    mailbox   worker -> OBS   the rectangle to read back next (CROP: x0, y0,
                                    x1, y1 in the frame's unit square), or no data: none

Following the person (vbg_core/engine/roi.py): the worker asks for a crop around the
person; the filter keeps reading back the whole frame at the model's size (the full
looks every roi.FULL_EVERY frames and at once when the crop is lost, motion
detection and the temporal filter's guide read it, as `vbg` does) and, while a crop is
asked for, that rectangle too, stretched to the model's size. The crop arrives a frame
or two after it was asked for: each frame says which rectangle it holds.

A mailbox is `SLOTS` slots plus the index of the newest one. Each slot is a 64-byte
slot header (sequence, frame id, timestamp, width, height, byte count) then its data.
One process writes a mailbox (seqlock): it picks the slot after the newest, makes the
sequence odd, writes, makes it even again, then publishes the slot as newest.
A reader copies the newest slot and keeps the copy only if the sequence was even and
unchanged across the copy; latest wins in both directions, stale slots are skipped.
"""

import json
import secrets
import struct
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import shared_memory
from typing import Optional, Tuple

MAGIC = b"VBGC"
VERSION = 5     # 2: masks carry their regions; 3: one worker, a hub lists the sources;
                # 4: crops, and frames and masks up to 640x360 (RVM's input);
                # 5: masks carry the guided filter's coefficients
ALIGN = 64
SLOTS = 3
MAX_SIDE = 640                      # the long side of frames and masks
MAX_PIXELS = 640 * 360              # frames, crops and masks are model-sized: the largest input is RVM's
FRAME_HEAD = struct.Struct("<IIIIdddd")     # source w, h; crop w, h; crop x0, y0, x1, y1
FRAME_CAP = ALIGN + 2 * MAX_PIXELS * 4      # the head, the whole frame and a crop
CROP = struct.Struct("<dddd")
JSON_CAP = 4096

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
MASK_HEAD = struct.Struct("<I")     # bytes of coefficients after the mask (0: none)
COEF_BYTES = 4                      # per mask pixel: two float16
MASK_CAP = (MASK_HEAD.size + MAX_PIXELS + 3 * MAX_SIDE + MAX_PIXELS * COEF_BYTES
            + REGION_HEADER.size + MAX_RECTS * REGION_VERTICES * REGION_VERTEX_BYTES)

_HEADER = struct.Struct("<4sIIIdd")          # magic, version, obs pid, worker pid, beats
_SLOT = struct.Struct("<QQdIII")             # seq, frame id, stamp, w, h, nbytes
_INDEX = struct.Struct("<Q")
_POSIX = shared_memory._USE_POSIX


def pack_mask(mask_rows: bytes, coefficients: bytes, regions: bytes) -> bytes:
    return MASK_HEAD.pack(len(coefficients)) + mask_rows + coefficients + regions


def split_mask(slot: "Slot") -> Tuple[bytes, bytes, bytes]:
    """A masks-mailbox message -> (the mask, rows padded to 4 bytes; its guided
    filter's coefficients, or b""; its regions)."""
    (coefficients,), start = MASK_HEAD.unpack_from(slot.data), MASK_HEAD.size
    end = start + (slot.width + 3) // 4 * 4 * slot.height
    return slot.data[start:end], slot.data[end:end + coefficients], slot.data[end + coefficients:]


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
    return head + bytes(ALIGN - len(head)) + full + crop


def split_frame(slot: "Slot") -> Frame:
    values = FRAME_HEAD.unpack_from(slot.data)
    end = ALIGN + slot.width * slot.height * 4
    return Frame(values[:2], slot.data[ALIGN:end], values[2:4], values[4:], slot.data[end:])


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass(frozen=True)
class Slot:
    """One message copied out of a mailbox."""
    frame_id: int
    stamp: float
    width: int
    height: int
    data: bytes


class Mailbox:
    """`SLOTS` seqlocked slots in a shared buffer; one writer process, any readers."""

    def __init__(self, buf: memoryview, offset: int, capacity: int):
        self.buf, self.offset, self.capacity = buf, offset, capacity
        self.stride = _align(_SLOT.size) + _align(capacity)
        self.size = _box_size(capacity)

    def _slot_at(self, index: int) -> int:
        return self.offset + ALIGN + index * self.stride

    def newest_index(self) -> int:
        return _INDEX.unpack_from(self.buf, self.offset)[0] % SLOTS

    def write(self, data, width: int, height: int, frame_id: int) -> None:
        """Publish one message (data: bytes-like of at most `capacity` bytes)."""
        nbytes = len(data)
        if nbytes > self.capacity:
            raise ValueError(f"message of {nbytes} bytes exceeds the slot's {self.capacity}")
        index = (self.newest_index() + 1) % SLOTS
        at = self._slot_at(index)
        seq = _SLOT.unpack_from(self.buf, at)[0]
        start = seq + 1 if seq % 2 == 0 else seq + 2       # odd: being written
        _SLOT.pack_into(self.buf, at, start, frame_id, time.monotonic(), width, height, nbytes)
        data_at = at + _align(_SLOT.size)
        self.buf[data_at:data_at + nbytes] = data
        struct.pack_into("<Q", self.buf, at, start + 1)     # even: complete
        _INDEX.pack_into(self.buf, self.offset, index)

    def peek_id(self) -> Optional[int]:
        """Frame id of the newest complete slot, without copying its data."""
        seq, frame_id = _SLOT.unpack_from(self.buf, self._slot_at(self.newest_index()))[:2]
        return frame_id if seq and seq % 2 == 0 else None

    def read(self, newer_than: int = -1) -> Optional[Slot]:
        """Copy the newest complete slot whose frame id is > newer_than, else None."""
        for _ in range(3):
            at = self._slot_at(self.newest_index())
            seq, frame_id, stamp, width, height, nbytes = _SLOT.unpack_from(self.buf, at)
            if seq == 0 or frame_id <= newer_than:
                return None
            if seq % 2 or nbytes > self.capacity:
                continue
            data_at = at + _align(_SLOT.size)
            data = bytes(self.buf[data_at:data_at + nbytes])
            if _SLOT.unpack_from(self.buf, at)[0] == seq:
                return Slot(frame_id, stamp, width, height, data)
        return None


@contextmanager
def _untracked():
    """Keep multiprocessing's resource tracker out (Python < 3.13 has no track=False):
    the tracker would spawn `sys.executable` (not a usable Python inside OBS) and
    unlink the block when either process exits. The OBS side unlinks it itself."""
    tracker = shared_memory.resource_tracker
    saved = tracker.register, tracker.unregister
    tracker.register = tracker.unregister = lambda *args, **kwargs: None
    try:
        yield
    finally:
        tracker.register, tracker.unregister = saved


def _open_shm(name: str, create: bool, size: int = 0) -> shared_memory.SharedMemory:
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name, create=create, size=size, track=False)
    with _untracked():
        return shared_memory.SharedMemory(name, create=create, size=size)


def _box_size(capacity: int) -> int:
    return ALIGN + SLOTS * (_align(_SLOT.size) + _align(capacity))


CAPACITIES = (JSON_CAP, FRAME_CAP, JSON_CAP, MASK_CAP, CROP.size)   # settings, frames, stats, masks, crops
BLOCK_SIZE = ALIGN + sum(_box_size(cap) for cap in CAPACITIES)


class Channel:
    """The whole block: header fields plus the five mailboxes."""

    def __init__(self, shm: shared_memory.SharedMemory, owner: bool):
        self.shm, self.owner, self.name = shm, owner, shm.name.lstrip("/")
        offset, boxes = ALIGN, []
        for capacity in CAPACITIES:
            boxes.append(Mailbox(shm.buf, offset, capacity))
            offset += boxes[-1].size
        self.settings, self.frames, self.stats, self.masks, self.crops = boxes

    @classmethod
    def create(cls, name: str, obs_pid: int) -> "Channel":
        """A new block; it starts all zeros (a new POSIX shm object or Windows paging-file
        mapping is zero-filled), so it is not written over. Zeroing it from Python made a
        9 MB temporary inside OBS, and freeing it raised glibc's dynamic mmap threshold
        for the whole process from about 1.4 MB to 9 MB: every allocation below 9 MB (OBS's
        1.4 MB video frames among them) then came from malloc's arenas, which keep what is
        freed (benchmarks/RESULTS-obs.md, issue 14)."""
        shm = _open_shm(name, True, BLOCK_SIZE)      # owner-only (0600 on POSIX); fails if the name exists
        _HEADER.pack_into(shm.buf, 0, MAGIC, VERSION, obs_pid, 0, time.monotonic(), 0.0)
        return cls(shm, owner=True)

    @classmethod
    def create_new(cls, obs_pid: int, tries: int = 8) -> "Channel":
        """A block under a fresh, unguessable name `vbg_<obs pid>_<random>` (short enough
        for macOS's 31 characters); a name someone else already holds is passed over."""
        for _ in range(tries):
            try:
                return cls.create(f"vbg_{obs_pid}_{secrets.token_hex(6)}", obs_pid)
            except FileExistsError:
                continue
        raise FileExistsError(f"no free shared-memory name after {tries} tries")

    @classmethod
    def attach(cls, name: str, obs_pid: int) -> "Channel":
        """The worker's side of the block `name`, made by the OBS process `obs_pid`."""
        shm = _open_shm(name, False)
        magic, version, owner_pid = _HEADER.unpack_from(shm.buf, 0)[:3]
        if magic != MAGIC or version != VERSION or owner_pid != obs_pid:
            shm.close()
            raise ValueError(f"shared memory {name!r} is not a version-{VERSION} obs-vbg channel "
                             f"of OBS process {obs_pid}")
        return cls(shm, owner=False)

    # header fields: each is written by one side only
    def _header(self):
        return _HEADER.unpack_from(self.shm.buf, 0)

    @property
    def obs_pid(self) -> int:
        return self._header()[2]

    @property
    def worker_pid(self) -> int:
        return self._header()[3]

    def obs_beat(self) -> float:
        return self._header()[4]

    def worker_beat(self) -> float:
        return self._header()[5]

    def beat_obs(self) -> None:
        struct.pack_into("<d", self.shm.buf, 16, time.monotonic())

    def beat_worker(self, pid: int) -> None:
        struct.pack_into("<I", self.shm.buf, 12, pid)
        struct.pack_into("<d", self.shm.buf, 24, time.monotonic())

    def reset_worker(self) -> None:
        """OBS side, before starting a new worker: forget the old one's pid and beat."""
        struct.pack_into("<I", self.shm.buf, 12, 0)
        struct.pack_into("<d", self.shm.buf, 24, 0.0)

    # JSON mailboxes
    @staticmethod
    def put_json(box: Mailbox, value: dict, counter: int) -> None:
        box.write(json.dumps(value).encode(), 0, 0, counter)

    @staticmethod
    def get_json(box: Mailbox, newer_than: int = -1):
        """-> (counter, dict) of the newest message newer than `newer_than`, or None."""
        slot = box.read(newer_than)
        return None if slot is None else (slot.frame_id, json.loads(slot.data.decode()))

    def close(self) -> None:
        self.settings = self.frames = self.stats = self.masks = self.crops = None
        try:
            self.shm.close()
        except BufferError:
            pass
        if self.owner:
            unlink(self.name)


def unlink(name: str) -> None:
    """Remove a block by name (the OBS side, or a worker whose OBS has died)."""
    if not _POSIX:
        return                      # Windows frees the block with its last handle
    try:
        shm = _open_shm(name, False)
    except FileNotFoundError:
        return
    with _untracked():
        shm.unlink()
    shm.close()
