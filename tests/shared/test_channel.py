"""The shared-memory mailbox across real processes, and the worker as a real
subprocess with the real model: frame ids round-trip, errors arrive as words,
and the worker leaves when its parent dies."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest

from vbg_core.shared.channel import ALIGN, BLOCK_SIZE, VERSION, Channel, Slot
from vbg_core.shared.messages import CROP, FRAME_CAP, Mask, pack_frame, pack_mask, split_frame, split_mask
from vbg_core.cli import media
from vbg_core.engine import compose, refine, roi
from vbg_core.engine.pipeline import Pipeline
from vbg_core.shared.settings import Settings
from vbg_core.source_loop import SETTLE_FRAMES

ROOT = Path(__file__).resolve().parents[2]
WORKER_SETTINGS = {"model": "landscape", "provider": "cpu", "threads": 1, "edge_refine": True,
                   "smoothing": 0.0, "threshold": 0.5, "softness": 0.25, "pause_when_still": False}


@pytest.fixture
def channel():
    block = Channel.create(f"vbg_test_{os.getpid()}_{time.monotonic_ns()}", os.getpid())
    yield block
    block.close()


def test_json_and_frames_round_trip_in_one_process(channel):
    Channel.put_json(channel.settings, {"mode": "blur"}, 7)
    assert Channel.get_json(channel.settings) == (7, {"mode": "blur"})
    assert Channel.get_json(channel.settings, newer_than=7) is None
    channel.frames.write(b"\x01\x02\x03\x04", 1, 1, 5)
    slot = channel.frames.read()
    assert (slot.frame_id, slot.width, slot.height, slot.data) == (5, 1, 1, b"\x01\x02\x03\x04")
    assert channel.frames.read(newer_than=5) is None
    with pytest.raises(ValueError):
        channel.frames.write(bytes(FRAME_CAP + 1), 1, 1, 6)


def test_a_new_block_is_empty_and_made_without_a_block_sized_copy():
    """Inside OBS a block-sized temporary (9 MB) raised glibc's mmap threshold for the
    whole process (issue 14's soak); the new block is zero-filled by the system."""
    tracemalloc.start()
    try:
        block = Channel.create(f"vbg_test_{os.getpid()}_{time.monotonic_ns()}", os.getpid())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    try:
        assert peak < BLOCK_SIZE // 10, f"{peak} bytes allocated to make a {BLOCK_SIZE}-byte block"
        assert not block.shm.buf[ALIGN:BLOCK_SIZE].tobytes().strip(b"\0"), "the block starts all zeros"
        assert all(box.read() is None for box in (block.settings, block.frames, block.stats, block.masks, block.crops))
    finally:
        block.close()


def test_attach_checks_magic_version_and_the_obs_that_made_it(channel):
    other = Channel.attach(channel.name, os.getpid())
    assert other.obs_pid == os.getpid()
    other.close()
    with pytest.raises(ValueError, match="obs-vbg channel of OBS process 1$"):
        Channel.attach(channel.name, 1)         # a block another process made under that name
    channel.shm.buf[0:4] = b"NOPE"
    with pytest.raises(ValueError, match=f"not a version-{VERSION} obs-vbg channel"):
        Channel.attach(channel.name, os.getpid())


def test_a_squatted_name_is_passed_over(monkeypatch):
    """Someone holds the name the filter would pick: it takes another, it does not fail."""
    squatter = Channel.create(f"vbg_{os.getpid()}_squatted", 1)
    names = iter(["squatted", "free0000"])
    monkeypatch.setattr("vbg_core.shared.channel.secrets.token_hex", lambda n: next(names))
    try:
        channel = Channel.create_new(os.getpid())
        assert channel.name == f"vbg_{os.getpid()}_free0000" and channel.obs_pid == os.getpid()
        assert squatter.obs_pid == 1                    # the squatter's block is untouched
        channel.close()
    finally:
        squatter.close()


WRITER = textwrap.dedent("""
    import sys, time
    from vbg_core.shared.channel import Channel
    channel = Channel.attach(sys.argv[1], int(sys.argv[3]))
    for frame_id in range(1, int(sys.argv[2]) + 1):
        size = 1000 + frame_id % 5000
        channel.frames.write(bytes([frame_id % 251]) * size, size, 1, frame_id)
        if frame_id % 1000 == 0:        # let the reader catch up once per thousand (deadline 30 s)
            deadline = time.monotonic() + 30
            while (Channel.get_json(channel.stats) or (0,))[0] < frame_id:
                if time.monotonic() > deadline:
                    sys.exit("the reader never read frame %d" % frame_id)
                time.sleep(0.001)
    channel.close()
""")


def test_a_reader_in_another_process_never_sees_a_torn_or_older_slot(channel):
    """A writer process publishes 20000 frames as fast as it can while this process
    reads: every copy is whole (all bytes = frame id mod 251, right length), ids
    never go back, and the last one read is the last one written. The writer waits
    for the reader once per thousand frames, so however busy the machine, the reader
    reads at least 20 frames (racing the writer in between)."""
    count = 20000
    writer = subprocess.Popen([sys.executable, "-c", WRITER, channel.name, str(count), str(os.getpid())], cwd=ROOT)
    seen, last = 0, 0
    while writer.poll() is None or last < count:
        slot = channel.frames.read(newer_than=last)
        if slot is None:
            if writer.poll() is not None and channel.frames.peek_id() == last:
                break
            continue
        assert slot.frame_id > last
        assert len(slot.data) == slot.width == 1000 + slot.frame_id % 5000
        assert slot.data == bytes([slot.frame_id % 251]) * slot.width
        last, seen = slot.frame_id, seen + 1
        Channel.put_json(channel.stats, {}, last)       # what the writer waits for
    assert writer.wait() == 0
    assert last == count and seen >= count // 1000


def start_worker(channel, env=None, parent_pid=None):
    return subprocess.Popen([sys.executable, "-m", "vbg_core.worker", "--channel", channel.name,
                             "--parent-pid", str(parent_pid or os.getpid())],
                            cwd=ROOT, env=dict(os.environ, **(env or {})))


def wait_json(box, test, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = Channel.get_json(box)
        if message and test(message[1]):
            return message[1]
        time.sleep(0.02)
    raise AssertionError(f"no matching message; last: {Channel.get_json(box)}")


def next_mask(channel, after: int, timeout: float = 10.0):
    """The first mask newer than frame `after`, or None when none came within `timeout`."""
    deadline = time.monotonic() + timeout
    while (slot := channel.masks.read(after)) is None and time.monotonic() < deadline:
        time.sleep(0.001)
    return slot


def small_rgba(rgb, size=(115, 144)):
    small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.dstack([small, np.full(small.shape[:2], 255, np.uint8)])


SOURCE = (820, 1024)        # the (w, h) of the source the 115x144 frames are read back from


def send(channel, rgba, frame_id, crop=None, source=SOURCE):
    """One frames-mailbox message, as the filter sends it: the frame read back at
    115x144 and, if given, (its rectangle in the unit square, the crop read back)."""
    if crop is None:
        message = pack_frame(source, rgba.tobytes())
    else:
        rect, pixels = crop
        message = pack_frame(source, rgba.tobytes(), pixels.shape[1::-1], rect, pixels.tobytes())
    channel.frames.write(message, rgba.shape[1], rgba.shape[0], frame_id)


def test_frame_messages_carry_the_crop_they_hold():
    full, crop = bytes(range(8)) * 2, bytes(range(16)) * 2
    message = pack_frame((1280, 720), full, (4, 2), (0.25, 0.0, 0.75, 1.0), crop)
    frame = split_frame(Slot(1, 0.0, 2, 2, message))
    assert (frame.source_size, frame.full, frame.crop_size, frame.crop_rect, frame.crop) == \
        ((1280, 720), full, (4, 2), (0.25, 0.0, 0.75, 1.0), crop)
    frame = split_frame(Slot(1, 0.0, 2, 2, pack_frame((1280, 720), full)))
    assert (frame.full, frame.crop_size, frame.crop) == (full, (0, 0), b"")


def test_mask_messages_carry_their_coefficients_background_and_regions():
    mask, coefficients, regions = bytes(range(8)) * 2, bytes(range(4)) * 16, b"regions"
    background = bytes(range(3 * 2 * 4))
    message = pack_mask(mask, coefficients, regions, background, (3, 2))
    assert split_mask(Slot(1, 0.0, 8, 2, message)) == Mask(mask, coefficients, background, (3, 2), regions)
    assert split_mask(Slot(1, 0.0, 8, 2, pack_mask(mask, b"", b""))) == Mask(mask, b"", b"", (0, 0), b"")


def test_worker_round_trip_on_a_real_photo(channel, portrait):
    """Frames with ids in, masks with the same ids out; the mask covers the person
    (who fills most of this portrait: no crop is asked for, roi.MAX_SHARE). The mask
    is the model's 256x144, stretched over the 115x144 frame, as `vbg`'s is."""
    rgb, truth = portrait
    rgba = small_rgba(rgb)
    Channel.put_json(channel.settings, WORKER_SETTINGS, 1)
    channel.beat_obs()
    worker = start_worker(channel)
    try:
        wait_json(channel.stats, lambda stats: stats["state"] == "running")
        latencies = []
        for frame_id in range(1, 31):
            channel.beat_obs()
            sent = time.monotonic()
            send(channel, rgba, frame_id, source=rgb.shape[1::-1])
            slot = next_mask(channel, frame_id - 1)
            assert slot is not None, f"no mask for frame {frame_id} within 10 s"
            latencies.append(time.monotonic() - sent)
            assert slot.frame_id == frame_id and (slot.width, slot.height) == (256, 144)
        stats = wait_json(channel.stats, lambda stats: stats["mask_rate"] > 0)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    assert channel.crops.read() is not None and not channel.crops.read().data, "no crop asked for"
    message = split_mask(slot)
    assert message.regions, "the mask carries its regions"
    alpha = np.frombuffer(message.rows, np.uint8).reshape(144, 256) / 255.0
    mask = alpha > 0.5
    # the guided filter's coefficients, as the filter draws them: a * luma + b at the
    # mask's own size gives back about the mask (edges on by default)
    a, b = np.moveaxis(np.frombuffer(message.coefficients, np.float16).reshape(144, 256, 2).astype(np.float32), 2, 0)
    guided = np.clip(a * refine.luma_f32(rgba[:, :, :3].copy(), (144, 256)) + b, 0, 1)
    assert np.abs(guided - alpha).mean() < 0.03 and np.abs(guided - alpha)[mask].mean() < 0.03
    # blur mode (the default): the background blurred as `vbg` blurs it, from the
    # frame sent, weighted by the mask (its own alpha, before 8 bits: within 1 level)
    w, h = message.background_size
    blurred = compose.blurred_small(rgba[:, :, :3].copy(), alpha.astype(np.float32), Settings().blur)
    assert (h, w) == blurred.shape[:2]
    received = np.frombuffer(message.background, np.uint8).reshape(h, w, 4)
    assert np.abs(received[:, :, :3].astype(int) - blurred).mean() < 1.0 and (received[:, :, 3] == 255).all()
    truth_small = cv2.resize(truth.astype(np.uint8), (256, 144), interpolation=cv2.INTER_NEAREST) > 0
    iou = (mask & truth_small).sum() / (mask | truth_small).sum()
    print(f"\nworker round trip: median {1000 * np.median(latencies):.1f} ms, IoU {iou:.3f}, {stats}")
    assert iou > 0.85
    assert stats["provider"] == "cpu" and not stats["error"]


def crop_asked(channel, rgb):
    """What the filter does with the worker's newest request: the rectangle (unit
    square) and the frame's pixels there at the model's size (256x144), or None."""
    slot = channel.crops.read()
    if slot is None or not slot.data:
        return None
    rect = CROP.unpack(slot.data)
    h, w = rgb.shape[:2]
    x0, y0, x1, y1 = (round(v * s) for v, s in zip(rect, (w, h, w, h)))
    pixels = cv2.resize(rgb[y0:y1, x0:x1], (256, 144), interpolation=cv2.INTER_AREA)
    return rect, np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])


def test_worker_follows_the_person_through_the_crops_it_asks_for(channel):
    """The test plays the filter on a full-body clip's frame: after the first mask the
    worker asks for a crop around the person, gets it, and its masks then cover the
    frame at twice the model's resolution (engine/pipeline.py GRID_SCALE) and agree
    with what `vbg` (Pipeline, the same frames) makes."""
    reader = media.VideoReader(str(ROOT / "samples" / "sam2_juggle.mp4"))
    rgb = next(iter(reader))
    reader.close()
    rgba, source = small_rgba(rgb, (256, 144)), rgb.shape[1::-1]
    Channel.put_json(channel.settings, WORKER_SETTINGS, 1)
    channel.beat_obs()
    worker = start_worker(channel)
    try:
        wait_json(channel.stats, lambda stats: stats["state"] == "running")
        sizes, rects = [], []
        for frame_id in range(1, 11):
            channel.beat_obs()
            crop = crop_asked(channel, rgb)
            rects.append(crop and crop[0])
            send(channel, rgba, frame_id, crop, source)
            slot = next_mask(channel, frame_id - 1)
            assert slot is not None and slot.frame_id == frame_id, f"no mask for frame {frame_id} within 10 s"
            sizes.append((slot.width, slot.height))
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    pipeline = Pipeline(Settings.from_obs(WORKER_SETTINGS))
    for _ in range(10):
        expected = pipeline.alpha(rgb) >= 128
    assert rects[0] is None and all(rects[1:]), "a crop is asked for after the first mask"
    assert sizes[0] == (256, 144) and set(sizes[1:]) == {(512, 288)}, sizes
    x0, y0, x1, y1 = (round(v * s) for v, s in zip(rects[-1], source * 2))
    assert expected[y0:y1, x0:x1].sum() >= 0.98 * expected.sum(), "the crop holds the person"
    assert rects[-1] == pytest.approx(roi.unit_rect(roi.plan(pipeline.roi, rgb.shape[:2]), rgb.shape[:2]), abs=0.01)
    mask = np.frombuffer(split_mask(slot).rows, np.uint8).reshape(288, 512) > 127
    expected = cv2.resize(expected.astype(np.uint8), (512, 288), interpolation=cv2.INTER_NEAREST) > 0
    iou = (mask & expected).sum() / (mask | expected).sum()
    print(f"\nworker following: crop {rects[-1]}, IoU with vbg's mask {iou:.3f}")
    assert iou > 0.9


def test_worker_keeps_the_last_mask_while_the_picture_is_still(channel, portrait):
    """With pause_when_still, a repeated frame is segmented until the smoothing settled
    (15 more at smoothing 0.9: refine.frames_to_settle; fails with a fixed 8), then
    kept (the stats count it, no mask comes); a frame that moved is segmented at once."""
    rgb, _ = portrait
    still, moved = small_rgba(rgb), small_rgba(np.ascontiguousarray(rgb[:, ::-1]))
    Channel.put_json(channel.settings, dict(WORKER_SETTINGS, pause_when_still=True, smoothing=0.9), 1)
    channel.beat_obs()
    worker = start_worker(channel)
    try:
        wait_json(channel.stats, lambda stats: stats["state"] == "running")
        settle = max(SETTLE_FRAMES, refine.frames_to_settle(0.9)) + 1
        assert settle == 16
        for frame_id in range(1, settle + 1):
            channel.beat_obs()
            send(channel, still, frame_id)
            slot = next_mask(channel, frame_id - 1)
            assert slot is not None and slot.frame_id == frame_id, f"frame {frame_id} was not segmented"
        send(channel, still, settle + 1)
        stats = wait_json(channel.stats, lambda stats: stats["still_rate"] > 0)
        assert channel.masks.read(settle) is None, "a still frame was segmented"
        send(channel, moved, settle + 2)
        slot = next_mask(channel, settle)
        assert slot is not None and slot.frame_id == settle + 2, "a frame that moved was not segmented"
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    print(f"\nframes segmented until still: {settle}; stats while still: {stats}")


def test_worker_reports_a_corrupt_model_in_words_and_keeps_running(channel, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "selfie_segmentation_landscape.onnx").write_bytes(b"this is not an onnx model")
    Channel.put_json(channel.settings, WORKER_SETTINGS, 1)
    channel.beat_obs()
    worker = start_worker(channel, env={"VBG_MODELS_DIR": str(models)})
    try:
        stats = wait_json(channel.stats, lambda stats: stats["error"])
        assert "corrupt" in stats["error"] and "selfie_segmentation_landscape.onnx" in stats["error"]
        time.sleep(0.5)
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=10)


PARENT = textwrap.dedent("""
    import json, os, subprocess, sys, time
    from vbg_core.shared.channel import Channel
    channel = Channel.create(sys.argv[1], os.getpid())      # as OBS does: its block, its worker
    Channel.put_json(channel.settings, json.loads(sys.argv[2]), 1)
    channel.beat_obs()
    worker = subprocess.Popen([sys.executable, "-m", "vbg_core.worker", "--channel", sys.argv[1],
                               "--parent-pid", str(os.getpid())])
    print(worker.pid, flush=True)
    time.sleep(60)
""")


def test_worker_leaves_when_its_parent_dies():
    name = f"vbg_test_parent_{os.getpid()}_{time.monotonic_ns()}"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, name, json.dumps(WORKER_SETTINGS)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    worker_pid = int(parent.stdout.readline())
    channel = Channel.attach(name, parent.pid)
    try:
        wait_json(channel.stats, lambda stats: stats["state"] == "running")
    finally:
        channel.close()
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while running(worker_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(worker_pid), "the worker outlived its parent"
    assert not os.path.exists(f"/dev/shm/{name}"), "the orphaned worker removes the block"


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
