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
    frames   mailbox   OBS -> worker   the frame read back, and the crop (messages.py)
    stats    mailbox   worker -> OBS   JSON: provider, inference ms, mask rate, error
    masks    mailbox   worker -> OBS   the mask, its coefficients and regions (messages.py)
    crops    mailbox   worker -> OBS   the rectangle to read back next (messages.CROP),
                                    or no data: none
    backdrops mailbox  worker -> OBS   video mode's background, the clip's current frame
                                    (messages.py)

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
from typing import Optional

from .messages import BACKDROP_CAP, CROP, FRAME_CAP, MASK_CAP

MAGIC = b"VBGC"
VERSION = 7     # 2: masks carry their regions; 3: one worker, a hub lists the sources;
                # 4: crops, and frames and masks up to 640x360 (RVM's input);
                # 5: masks carry the guided filter's coefficients; 6: and, in blur and
                # video modes, the blurred background; 7: backdrops (the worker plays
                # video mode's clip)
ALIGN = 64
SLOTS = 3
JSON_CAP = 4096

_HEADER = struct.Struct("<4sIIIdd")          # magic, version, obs pid, worker pid, beats
_SLOT = struct.Struct("<QQdIII")             # seq, frame id, stamp, w, h, nbytes
_INDEX = struct.Struct("<Q")
_POSIX = shared_memory._USE_POSIX


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


CAPACITIES = (JSON_CAP, FRAME_CAP, JSON_CAP, MASK_CAP, CROP.size, BACKDROP_CAP)
# settings, frames, stats, masks, crops, backdrops
BLOCK_SIZE = ALIGN + sum(_box_size(cap) for cap in CAPACITIES)


class Channel:
    """The whole block: header fields plus the six mailboxes."""

    def __init__(self, shm: shared_memory.SharedMemory, owner: bool):
        self.shm, self.owner, self.name = shm, owner, shm.name.lstrip("/")
        offset, boxes = ALIGN, []
        for capacity in CAPACITIES:
            boxes.append(Mailbox(shm.buf, offset, capacity))
            offset += boxes[-1].size
        self.settings, self.frames, self.stats, self.masks, self.crops, self.backdrops = boxes

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
