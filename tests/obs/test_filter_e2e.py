"""The "Virtual Background" filter in real headless OBS, driven over obs-websocket,
with the real models, on a real photo (image source) and the real video (media
source) at once. One OBS for the whole module; tests run in file order and the last
one shuts OBS down.

Regions are judged against the mask the real engine makes for the photo (not a
hard-coded box): "person" = refined alpha >= 250, "background" = alpha <= 5, both
eroded by 8 px so edge pixels are left out.
"""

import json
import os
import re
import signal
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.obs.harness import (SCENE, ObsInstance, ScreenshotFailed, image_source, known_settings,
                               media_source, processes_matching, vbg_filter)
from vbg_core.cli import media
from vbg_core.cli.background import parse_background
from vbg_core.engine import images
from vbg_core.engine.compose import blur_background, fit_image
from vbg_core.engine.pipeline import Pipeline
from vbg_core.obs.panel import GROUP_NOTES
from vbg_core.shared.settings import BLUR_LEVELS, TABLE, Settings

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PHOTO = ROOT / "samples" / "tfjs_portrait.jpg"
VIDEO = ROOT / "samples" / "sam2_coffee.mp4"
GREEN, RED, BLUE = 0xFF00FF00, 0xFF0000FF, 0xFFFF0000       # OBS colours are 0xAABBGGRR
# Mean absolute difference (0-255) allowed between OBS's output and `vbg render` of
# the same photo. Measured here: about 1.7 (colour) and 2.2 (blur). They differ
# where the arithmetic differs, not the method: the GPU's area resampling at the
# photo's non-integer scale (7.13) vs OpenCV's INTER_AREA, luma kept in 8 bits, float
# textures, bilinear-pair Gaussian taps. A wrong mask, edge filter, blend or blur
# costs 10 or more.
AGREEMENT_MAD = 4.0


@pytest.fixture(scope="module")
def photo():
    return images.read_image(str(PHOTO))


@pytest.fixture(scope="module")
def regions(photo):
    return photo_regions(photo)


def photo_regions(photo):
    """-> (person, background, alpha) of a photo, from the real engine's mask."""
    alpha = Pipeline(Settings()).alpha(photo)
    kernel = np.ones((17, 17), np.uint8)
    person = cv2.erode((alpha >= 250).astype(np.uint8), kernel).astype(bool)
    background = cv2.erode((alpha <= 5).astype(np.uint8), kernel).astype(bool)
    assert person.mean() > 0.2 and background.mean() > 0.1, "the engine must find the person"
    return person, background, alpha


@pytest.fixture(scope="module")
def backdrop(tmp_path_factory):
    """A real image for image mode: the first frame of the bundled video."""
    reader = media.VideoReader(str(VIDEO))
    rgb = next(iter(reader))
    reader.close()
    path = tmp_path_factory.mktemp("backdrop") / "backdrop.png"
    images.write_image(str(path), rgb)
    return path, rgb


@pytest.fixture(scope="module")
def obs(tmp_path_factory):
    home = tmp_path_factory.mktemp("obs-home")
    triggers = home / "triggers"
    triggers.mkdir()
    sources = [image_source("Person", PHOTO, [vbg_filter("VBG", mode="color", color=GREEN)]),
               media_source("Video", VIDEO, [vbg_filter("VBG video", mode="blur")])]
    env = {"VBG_PYTHON": sys.executable, "VBG_TEST_TRIGGER_DIR": str(triggers),
           "VBG_STATS_INTERVAL": "5"}
    with ObsInstance(home, scripts=[str(ROOT / "obs_vbg.py"), str(HERE / "obs_helper.py")],
                     sources=sources, env=env) as instance:
        instance.triggers = triggers
        yield instance


def ask_helper(obs, name: str, content: str = "", timeout: float = 15.0) -> None:
    """Drop a trigger for obs_helper.py (running inside OBS) and wait until it is done."""
    trigger = obs.triggers / name
    trigger.write_text(content)
    deadline = time.monotonic() + timeout
    while trigger.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not trigger.exists(), f"obs_helper.py did not handle {name!r}"


# ---- helpers ----
def set_filter(obs, **values):
    obs.client.set_source_filter_settings("Person", "VBG", known_settings(values), True)


def mad(a, b, where=None) -> float:
    diff = np.abs(a.astype(np.float32) - b.astype(np.float32))
    return float(diff[where].mean() if where is not None else diff.mean())


def wait_for(obs, check, timeout=15.0, source="Person"):
    """Screenshots until check(rgba) -> (ok, words) is ok; -> (rgba, seconds)."""
    start = time.monotonic()
    while True:
        rgba = obs.screenshot(source)
        ok, words = check(rgba)
        elapsed = time.monotonic() - start
        if ok:
            return rgba, elapsed
        if elapsed > timeout:
            raise AssertionError(f"after {elapsed:.1f} s: {words}")
        time.sleep(0.05)


def near_colour(rgb_colour, regions, photo):
    person, background, _ = regions

    def check(rgba):
        if rgba.shape[:2] != background.shape:
            return False, f"size {rgba.shape[:2]}, not the photo's"
        share = (np.abs(rgba[:, :, :3].astype(int) - rgb_colour).max(axis=2) < 30)[background].mean()
        kept = mad(rgba[:, :, :3], photo, person)
        return share > 0.97 and kept < 6, f"background {share:.1%} colour {rgb_colour}, person MAD {kept:.1f}"
    return check


def passthrough(regions, photo):
    def check(rgba):
        error = mad(rgba[:, :, :3], photo)
        return error < 3, f"whole-frame MAD vs the photo {error:.1f}"
    return check


# ---- tests, in order ----
def test_script_loads_and_filter_is_listed(obs):
    log = obs.log_text()
    assert "Loaded python script: obs_vbg.py" in log
    assert "registered the 'Virtual Background' filter (vbg_filter)" in log
    kinds = {f["filterName"]: f["filterKind"] for f in obs.client.get_source_filter_list("Person").filters}
    assert kinds == {"VBG": "vbg_filter"}


@pytest.mark.parametrize("mode", ["color", "image", "blur", "transparent"])
def test_each_mode_on_a_real_person(obs, mode, photo, regions, backdrop):
    person, background, alpha = regions
    if mode == "color":
        set_filter(obs, mode="color", color=GREEN)
        wait_for(obs, near_colour((0, 255, 0), regions, photo))
        return
    if mode == "transparent":
        set_filter(obs, mode="transparent")

        def check(rgba):
            clear = (rgba[:, :, 3] <= 10)[background].mean()
            opaque = (rgba[:, :, 3] >= 245)[person].mean()
            kept = mad(rgba[:, :, :3], photo, person)
            return clear > 0.97 and opaque > 0.97 and kept < 6, \
                f"background transparent {clear:.1%}, person opaque {opaque:.1%}, person MAD {kept:.1f}"
        wait_for(obs, check)
        return
    if mode == "image":
        path, backdrop_rgb = backdrop
        set_filter(obs, mode="image", image_path=str(path), image_fit="cover")
        expected = fit_image(backdrop_rgb, (photo.shape[1], photo.shape[0]), "cover")
    else:
        set_filter(obs, mode="blur", blur_level="high")
        expected = blur_background(photo, alpha, BLUR_LEVELS["high"])
    unchanged = mad(expected, photo, background)
    assert unchanged > 8, "the expected background must differ from the photo's"

    def check(rgba):
        error, kept = mad(rgba[:, :, :3], expected, background), mad(rgba[:, :, :3], photo, person)
        return error < unchanged / 3 and kept < 6, \
            f"background MAD vs expected {error:.1f} (vs photo {unchanged:.1f}), person MAD {kept:.1f}"
    wait_for(obs, check)


def test_an_invalid_blur_strength_still_blurs_and_says_why(obs, photo, regions):
    """A value no panel offers (a script or the websocket can send one): the filter says
    which and draws the default blur. The worker, which blurs the background, gets the
    strength the filter draws with, never the invalid value (it would stop segmenting and
    the video would pass through)."""
    person, background, alpha = regions
    set_filter(obs, mode="blur", blur_level="extreme")
    expected = blur_background(photo, alpha, BLUR_LEVELS["medium"])
    wait_for(obs, lambda rgba: (mad(rgba[:, :, :3], expected, background) < 4, "not blurred"))
    assert "invalid blur 'extreme'" in obs.log_text() and "showing blur instead" in obs.log_text()


def test_missing_background_image_shows_blur_and_says_why(obs, photo, regions):
    person, background, alpha = regions
    set_filter(obs, mode="image", image_path="/nonexistent/beach.jpg", blur_level="medium")
    expected = blur_background(photo, alpha, BLUR_LEVELS["medium"])
    wait_for(obs, lambda rgba: (mad(rgba[:, :, :3], expected, background) < 4, "not blurred"))
    assert "background image not found: /nonexistent/beach.jpg — showing blur instead" in obs.log_text()


def rendered_as_video(background: str, frames: int = 30) -> np.ndarray:
    """What `vbg render` makes of the photo as a video's frame (its engine, in this
    process). OBS shows an image source as a stream of frames; `vbg render` of an image
    FILE gives it engine/still.py's four looks and colour-guided edges, which OBS does
    not run, so that is not the reference here. 30 frames: temporal smoothing settles."""
    pipeline = Pipeline(Settings(**parse_background(background)))
    rgb = images.read_image(str(PHOTO))
    for _ in range(frames):
        out = pipeline(rgb)
    return out


@pytest.mark.parametrize("background", ["#00FF00", "blur"])
def test_obs_output_agrees_with_vbg_render(obs, background, photo, regions):
    cpu = rendered_as_video(background)
    if background == "blur":
        set_filter(obs, mode="blur", blur_level="medium")
        wait_for(obs, lambda rgba: (mad(rgba[:, :, :3], cpu) < 2 * AGREEMENT_MAD, "blur not there yet"))
    else:
        set_filter(obs, mode="color", color=GREEN)
        wait_for(obs, near_colour((0, 255, 0), regions, photo))
    time.sleep(1.0)                         # temporal smoothing settles on a still photo
    gpu = obs.screenshot("Person")[:, :, :3]
    error = mad(gpu, cpu)
    print(f"\nOBS vs vbg render ({background}): mean absolute difference {error:.2f} / 255, "
          f"99th percentile {np.percentile(np.abs(gpu.astype(int) - cpu), 99):.0f}")
    assert error < AGREEMENT_MAD


def test_settings_change_over_websocket_changes_the_output(obs, photo, regions):
    for name, obs_colour, rgb in (("red", RED, (255, 0, 0)), ("blue", BLUE, (0, 0, 255))):
        set_filter(obs, mode="color", color=obs_colour)
        _, seconds = wait_for(obs, near_colour(rgb, regions, photo), timeout=5)
        print(f"\n{name}: output changed {seconds:.2f} s after the websocket request")


def test_media_source_with_the_filter_renders_without_errors(obs):
    wait_for(obs, lambda rgba: ("'VBG video': status: inference on" in obs.log_text(), "no masks yet"),
             source="Video")
    first = obs.screenshot("Video")
    time.sleep(1.0)
    second = obs.screenshot("Video")
    assert first.shape == (720, 1280, 4) and first[:, :, :3].mean() > 20, "an image, not black"
    assert mad(first, second) > 0.5, "the video plays"
    assert len(obs.worker_pids()) == 1, "one worker serves every filtered source"
    assert_no_errors(obs.log_text())
    # the composite skipped the alpha where the mask decides it (vbg_core/engine/regions.py)
    wait_for(obs, lambda rgba: (re.search(r"'VBG video': stats: .*drawn by regions in ([1-9]\d*) %",
                                          obs.log_text()), "no stats with regions yet"), source="Video")
    shares = re.findall(r"'VBG video': stats: .*drawn by regions in (\d+) %", obs.log_text())
    print(f"\nmedia source: frames drawn by regions {shares[-1]} %")


def assert_no_errors(log: str) -> None:
    bad = [line for line in log.splitlines()
           if ("[obs-vbg]" in line and ("failed" in line or "Traceback" in line))
           or "invalid size" in line or "does not match" in line or "GL error" in line
           or "gs_effect" in line]
    assert not bad, "\n".join(bad[:10])


def person_worker(obs):
    """The worker (one serves every filtered source), or None."""
    found = obs.worker_pids()
    assert len(found) <= 1
    return found[0] if found else None


def green_share_small(obs, photo, regions):
    """-> function: share of background pixels that are green, on 1/4-size screenshots
    (fast enough to see a short pass-through)."""
    small = (photo.shape[1] // 4, photo.shape[0] // 4)
    background = cv2.resize(regions[1].astype(np.uint8), small, interpolation=cv2.INTER_NEAREST).astype(bool)

    def share():
        rgba = obs.screenshot("Person", *small)
        return (np.abs(rgba[:, :, :3].astype(int) - (0, 255, 0)).max(axis=2) < 40)[background].mean()
    return share


def test_worker_killed_recovers_within_2_s(obs, photo, regions):
    """SIGKILL the Person source's worker: a new one starts and the filtered output is
    back within 2 s (the filter logs the exact time; screenshots confirm it)."""
    set_filter(obs, mode="color", color=GREEN)
    wait_for(obs, near_colour((0, 255, 0), regions, photo))
    share = green_share_small(obs, photo, regions)
    victim = person_worker(obs)
    killed = time.monotonic()
    os.kill(victim, signal.SIGKILL)
    while person_worker(obs) in (None, victim) and time.monotonic() - killed < 5:
        time.sleep(0.02)
    while share() < 0.97 and time.monotonic() - killed < 30:
        pass
    recovered = time.monotonic() - killed
    back = [float(line.split("filtered output back ")[1].split(" s")[0])
            for line in obs.log_text().splitlines() if "'VBG': filtered output back" in line]
    print(f"\nworker SIGKILL: filtered output back {back[-1] if back else '?'} s after (filter's log); "
          f"screenshot confirmed after {recovered:.2f} s")
    assert "[obs-vbg] worker killed by SIGKILL; restarting in 0.1 s" in obs.log_text()
    assert back, "the filter logs when its output is back"
    assert share() >= 0.97, "the filtered output came back (the time is a benchmark's figure, not a limit here)"
    assert person_worker(obs) not in (None, victim) and len(obs.worker_pids()) == 1


def test_video_passes_through_while_the_worker_is_down(obs, photo, regions):
    """Kill the worker and each replacement at once until the back-off reaches 5 s
    (0.1, 0.5, 1, 2, 5): in that window, however slow the machine, the source shows
    unfiltered; then the filtered output comes back."""
    share = green_share_small(obs, photo, regions)
    wait_for(obs, near_colour((0, 255, 0), regions, photo))
    long_wait = "[obs-vbg] worker killed by SIGKILL; restarting in 5 s, video passes through meanwhile"
    victim = person_worker(obs)
    for _ in range(5):
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while person_worker(obs) in (None, victim) and long_wait not in obs.log_text() \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        if long_wait in obs.log_text():
            break
        assert person_worker(obs) not in (None, victim), "no new worker within 20 s"
        victim = person_worker(obs)
    assert long_wait in obs.log_text()
    shares = [share() for _ in range(3)]
    assert max(shares) < 0.05, f"green shares while the worker is down: {shares}"
    wait_for(obs, near_colour((0, 255, 0), regions, photo), timeout=30)


def test_filter_disable_enable_and_source_resolution_change(obs, photo, regions, backdrop):
    set_filter(obs, mode="color", color=GREEN)
    wait_for(obs, near_colour((0, 255, 0), regions, photo))
    obs.client.set_source_filter_enabled("Person", "VBG", False)
    wait_for(obs, lambda rgba: (mad(rgba[:, :, :3], photo) < 2, "not passed through"))
    obs.client.set_source_filter_enabled("Person", "VBG", True)
    wait_for(obs, near_colour((0, 255, 0), regions, photo))
    path, _ = backdrop                              # 1280x720, a person at a table
    obs.client.set_input_settings("Person", {"file": str(path)}, True)

    def green_part(rgba):
        share = (np.abs(rgba[:, :, :3].astype(int) - (0, 255, 0)).max(axis=2) < 30).mean()
        return rgba.shape == (720, 1280, 4) and 0.2 < share < 0.95, f"{rgba.shape}, green {share:.1%}"
    wait_for(obs, green_part)
    obs.client.set_input_settings("Person", {"file": str(PHOTO)}, True)
    wait_for(obs, near_colour((0, 255, 0), regions, photo))
    assert_no_errors(obs.log_text())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_line(obs) -> str:
    ask_helper(obs, "panel", json.dumps({"source": "Person", "filter": "VBG", "mode": "color"}))
    return json.loads((obs.triggers / "panel.json").read_text())["top"]["status"]["label"]


def test_hidden_source_costs_nothing(obs, photo, regions):
    """Hidden: no readback, so the worker gets no frame of it (0 masks/s, none kept):
    nothing of the worker's time goes to it (the worker, which also serves the playing
    video, cannot be timed per source); shown again: filtered at once. With
    pause_when_still off, so that a shown still photo would be segmented every frame:
    only hiding can explain the silence."""
    set_filter(obs, mode="color", color=GREEN, pause_when_still=False)
    wait_for(obs, near_colour((0, 255, 0), regions, photo))
    item = obs.client.get_scene_item_id("Scene", "Person").scene_item_id
    shown = status_line(obs)
    obs.client.set_scene_item_enabled("Scene", item, False)
    deadline = time.monotonic() + 10
    while " 0 masks/s" not in (hidden := status_line(obs)) and time.monotonic() < deadline:
        time.sleep(0.3)
    time.sleep(2.0)
    still_hidden = status_line(obs)
    obs.client.set_scene_item_enabled("Scene", item, True)
    print(f"\nshown: {shown}\nhidden: {hidden}\n2 s later: {still_hidden}")
    assert "inference on cpu" in shown and " 0 masks/s" not in shown
    assert "inference on cpu" in hidden and " 0 masks/s" in hidden
    assert "inference on cpu" in still_hidden and " 0 masks/s" in still_hidden
    wait_for(obs, near_colour((0, 255, 0), regions, photo))
    set_filter(obs, pause_when_still=True)


def test_script_reload_keeps_the_filter_working(obs, photo, regions):
    old = set(obs.worker_pids())
    ask_helper(obs, "reload")
    log = obs.log_text()
    assert "obs_helper: reloaded obs_vbg" in log
    assert "reloaded; 'Virtual Background' (vbg_filter) was already registered" in log
    set_filter(obs, mode="color", color=BLUE)
    wait_for(obs, near_colour((0, 0, 255), regions, photo))
    assert len(obs.worker_pids()) == 1 and not set(obs.worker_pids()) & old
    assert_no_errors(obs.log_text())


@pytest.mark.parametrize("mode, shown", [("color", {"color"}), ("image", {"image_path", "image_fit"}),
                                         ("video", {"video_path", "video_fit", "video_loop"}),
                                         ("blur", {"blur_level"}), ("transparent", set())])
def test_properties_panel_shows_only_what_the_mode_uses(obs, mode, shown, photo, regions):
    set_filter(obs, mode="color", color=GREEN)
    wait_for(obs, near_colour((0, 255, 0), regions, photo))
    ask_helper(obs, "panel", json.dumps({"source": "Person", "filter": "VBG", "mode": mode}))
    panel = json.loads((obs.triggers / "panel.json").read_text())
    assert set(panel["top"]) == {"status", "refresh_status", "background", "quality", "performance"}
    assert " on cpu" in panel["top"]["status"]["label"], panel["top"]["status"]      # inference or idle
    for group in ("background", "quality", "performance"):       # the settings table, and nothing else
        note = [f"{group}_note"] if group in GROUP_NOTES else []
        assert list(panel[group]) == note + [key.key for key in TABLE if key.group == group]
        assert [p["label"] for p in panel[group].values()] == \
            ([GROUP_NOTES[group]] if note else []) + [key.label for key in TABLE if key.group == group]
    assert panel["defaults"] == {key.key: key.default if key.obs_default is None else key.obs_default
                                 for key in TABLE}
    assert {name for name, prop in panel["background"].items() if prop["visible"]} == {"mode"} | shown


def test_status_line_tells_the_truth_about_the_provider(obs, photo, regions):
    set_filter(obs, provider="cuda")
    deadline, status = time.monotonic() + 20, ""
    while "cuda" not in status and time.monotonic() < deadline:
        time.sleep(0.5)
        ask_helper(obs, "panel", json.dumps({"source": "Person", "filter": "VBG", "mode": "color"}))
        status = json.loads((obs.triggers / "panel.json").read_text())["top"]["status"]["label"]
    print(f"\nstatus line: {status}")
    assert " on cpu" in status and "cuda" in status and "using cpu" in status     # inference or idle
    set_filter(obs, provider="auto")
    wait_for(obs, near_colour((0, 255, 0), regions, photo))


def test_scene_collection_switch_and_back(obs, photo, regions):
    """Away: the script unloads with the collection, its workers stop. Back: the script
    loads again (the type stays registered) and the saved filter works."""
    set_filter(obs, mode="color", color=GREEN)
    wait_for(obs, near_colour((0, 255, 0), regions, photo))
    old = set(obs.worker_pids())
    obs.client.create_scene_collection("Empty")
    deadline = time.monotonic() + 15
    while obs.worker_pids() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not obs.worker_pids(), "leaving the collection stops its workers"
    obs.client.set_current_scene_collection("vbg")
    wait_for(obs, near_colour((0, 255, 0), regions, photo), timeout=20)
    assert len(obs.worker_pids()) == 1 and not set(obs.worker_pids()) & old
    assert_no_errors(obs.log_text())


def test_a_screenshot_that_cannot_render_is_asked_again_until_its_deadline(obs):
    """An image source without a file is 0x0: OBS answers every screenshot of it with
    702, the code a screenshot under heavy load failed with once."""
    obs.client.create_input(SCENE, "Empty", "image_source", {}, True)
    start = time.monotonic()
    try:
        with pytest.raises(ScreenshotFailed, match="code 702") as failed:
            obs.screenshot("Empty", deadline=1.0)
    finally:
        elapsed = time.monotonic() - start
        obs.client.remove_input("Empty")
    assert failed.value.tries > 2 and 1.0 <= elapsed < 5.0
    assert obs.screenshot("Person").shape[:2] == (1024, 820), "other sources answer at once"


def test_clean_exit_leaves_no_worker(obs):
    workers = obs.worker_pids()
    assert workers
    code = obs.stop()
    log = obs.log_text()
    assert code == 0, log[-6000:]
    assert "Unloaded python script: obs_vbg.py" in log and "Freeing OBS context data" in log
    time.sleep(0.5)
    assert not [pid for pid in workers if os.path.exists(f"/proc/{pid}")]
    assert not processes_matching(f"vbg_{obs.pid}_")
    assert not [name for name in os.listdir("/dev/shm") if name.startswith(f"vbg_{obs.pid}_")]
