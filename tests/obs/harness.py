"""Real OBS Studio, headless, for end-to-end tests (and anyone else who needs one).

    from tests.obs.harness import ObsInstance, image_source, media_source, vbg_filter

    sources = [image_source("Person", "/abs/photo.jpg", filters=[vbg_filter("VBG", mode="color")])]
    with ObsInstance(tmp_path / "home", scripts=["/abs/obs_vbg.py"], sources=sources,
                     env={"VBG_PYTHON": sys.executable}) as obs:
        obs.client.get_version()                  # an obsws_python.ReqClient
        rgba = obs.screenshot("Person")           # HxWx4 uint8 RGBA, the source after filters
        print(obs.log_text())

What it does: starts its own Xvfb (`-displayfd` picks a free display), writes a
fresh OBS config under `home` (global.ini with the first-run wizard and the preview
off, a profile with the canvas size, a scene collection holding the sources, their
filters and the scripts, and obs-websocket settings for OBS 29 *and* 30+), launches
`obs` with its own HOME and XDG_RUNTIME_DIR, software GL and the xcb Qt platform,
connects obsws-python, and on exit stops OBS with SIGINT (a clean shutdown) and
keeps its log. `home` may also be an existing OBS home (pass `write_config=False`)
to test an installer's registration. Where VBG_EXPECT_OBS_VERSION is set (the newest
OBS run, tests/obs/newest_obs.sh), an OBS reporting another version over the
websocket is refused.
"""

import base64
import configparser
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from tests.obs.processes import child_pids, cmdline, processes_matching  # noqa: F401 (tests import them from here)
from vbg_core.shared.settings import KEYS

COLLECTION = "vbg"
EXPECT_VERSION = "VBG_EXPECT_OBS_VERSION"
RENDER_FAILED = 702      # obs-websocket's RequestProcessingFailed: "Failed to render screenshot."
PROFILE = "vbg"
SCENE = "Scene"


class ScreenshotFailed(RuntimeError):
    """GetSourceScreenshot kept failing until its deadline."""

    def __init__(self, source: str, tries: int, seconds: float, last: Exception):
        super().__init__(f"no screenshot of {source!r} after {tries} tries in {seconds:.1f} s: {last}")
        self.tries = tries


def missing_tools() -> List[str]:
    """Programs a run needs that are not on PATH."""
    return [tool for tool in ("obs", "Xvfb") if shutil.which(tool) is None]


def known_settings(settings: dict) -> dict:
    """`settings`, after checking each key is one of the settings table's (OBS would
    silently keep a misspelt key and the filter would never read it)."""
    unknown = set(settings) - set(KEYS)
    assert not unknown, f"not settings keys of the filter: {sorted(unknown)}"
    return settings


def vbg_filter(name: str = "Virtual Background", **settings) -> dict:
    known_settings(settings)
    return {"name": name, "id": "vbg_filter", "versioned_id": "vbg_filter", "settings": settings}


def image_source(name: str, path: str, filters: Sequence[dict] = ()) -> dict:
    return {"name": name, "id": "image_source", "versioned_id": "image_source",
            "settings": {"file": str(path)}, "filters": list(filters)}


def media_source(name: str, path: str, filters: Sequence[dict] = (), loop: bool = True) -> dict:
    return {"name": name, "id": "ffmpeg_source", "versioned_id": "ffmpeg_source",
            "settings": {"local_file": str(path), "is_local_file": True, "looping": loop,
                         "restart_on_activate": True, "hw_decode": False},
            "filters": list(filters)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_ini(path: Path, sections: Dict[str, Dict[str, object]]) -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    for section, values in sections.items():
        parser[section] = {key: str(value) for key, value in values.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        parser.write(handle, space_around_delimiters=False)


def scene_collection(sources: Sequence[dict], scripts: Sequence[str]) -> dict:
    items = [{"name": source["name"], "id": index + 1, "visible": True, "locked": False,
              "pos": {"x": 0.0, "y": 0.0}, "scale": {"x": 1.0, "y": 1.0}, "rot": 0.0,
              "align": 5, "bounds_type": 0, "bounds": {"x": 0.0, "y": 0.0}}
             for index, source in enumerate(sources)]
    scene = {"name": SCENE, "id": "scene", "versioned_id": "scene",
             "settings": {"items": items, "id_counter": len(items), "custom_size": False}}
    return {"name": COLLECTION, "current_scene": SCENE, "current_program_scene": SCENE,
            "scene_order": [{"name": SCENE}], "sources": [scene] + list(sources),
            "modules": {"scripts-tool": [{"path": str(path), "settings": {}} for path in scripts]},
            "transitions": [], "current_transition": "Fade", "transition_duration": 300}


def write_config(home: Path, sources: Sequence[dict], scripts: Sequence[str], port: int,
                 size=(1280, 720), fps: int = 30) -> Path:
    """A complete, fresh OBS configuration under home/.config/obs-studio."""
    root = home / ".config" / "obs-studio"
    _write_ini(root / "global.ini", {
        "General": {"FirstRun": "true", "EnableAutoUpdates": "false", "ConfirmOnExit": "false"},
        "Basic": {"Profile": PROFILE, "ProfileDir": PROFILE, "SceneCollection": COLLECTION,
                  "SceneCollectionFile": COLLECTION},
        "BasicWindow": {"PreviewEnabled": "false", "SysTrayEnabled": "false"},
        "OBSWebSocket": {"FirstLoad": "false", "ServerEnabled": "true", "ServerPort": port,
                         "AlertsEnabled": "false", "AuthRequired": "false", "ServerPassword": ""},
    })
    _write_ini(root / "basic" / "profiles" / PROFILE / "basic.ini", {
        "General": {"Name": PROFILE},
        "Video": {"BaseCX": size[0], "BaseCY": size[1], "OutputCX": size[0], "OutputCY": size[1],
                  "FPSType": 0, "FPSCommon": fps},
        "Output": {"Mode": "Simple"},
        "SimpleOutput": {"FilePath": str(home), "RecFormat2": "mkv"},
    })
    websocket = root / "plugin_config" / "obs-websocket" / "config.json"     # OBS 30+
    websocket.parent.mkdir(parents=True, exist_ok=True)
    websocket.write_text(json.dumps({"alerts_enabled": False, "auth_required": False,
                                     "first_load": False, "server_enabled": True,
                                     "server_password": "", "server_port": port}))
    scenes = root / "basic" / "scenes" / f"{COLLECTION}.json"
    scenes.parent.mkdir(parents=True, exist_ok=True)
    scenes.write_text(json.dumps(scene_collection(sources, scripts), indent=1))
    return root


def start_xvfb(size=(1280, 1024)):
    """-> (process, ':N') of a private X server."""
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        process.kill()
        raise RuntimeError("Xvfb did not start")
    return process, f":{number}"


class ObsInstance:
    """A running headless OBS; a context manager (see the module docstring)."""

    def __init__(self, home, scripts: Sequence[str] = (), sources: Sequence[dict] = (),
                 size=(1280, 720), fps: int = 30, env: Optional[Dict[str, str]] = None,
                 write_config: bool = True, connect_timeout: float = 90.0):
        self.home = Path(home)
        self.scripts, self.sources, self.size, self.fps = list(scripts), list(sources), size, fps
        self.extra_env = dict(env or {})
        self.write_config, self.connect_timeout = write_config, connect_timeout
        self.port = free_port()
        self.process = self.xvfb = self.client = None
        self.returncode = None
        self.hung_output = ""       # OBS's output after a hung shutdown (stop)

    # ---- start / stop ----
    def __enter__(self) -> "ObsInstance":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        if self.write_config:
            write_config(self.home, self.sources, self.scripts, self.port, self.size, self.fps)
        else:
            self._set_port()
        self.xvfb, display = start_xvfb()
        runtime = self.home / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env = dict(os.environ, HOME=str(self.home), XDG_CONFIG_HOME=str(self.home / ".config"),
                   XDG_RUNTIME_DIR=str(runtime), DISPLAY=display, LIBGL_ALWAYS_SOFTWARE="1",
                   QT_QPA_PLATFORM="xcb", PYTHONFAULTHANDLER="1", **self.extra_env)
        for name in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM_PLUGIN_PATH", "QT_PLUGIN_PATH"):
            env.pop(name, None)         # opencv-python points these at its own Qt
        self.stdout = open(self.home / "obs-stdout.txt", "wb")
        self.process = subprocess.Popen(
            ["obs", "--multi", "--disable-updater", "--disable-missing-files-check",
             "--collection", COLLECTION, "--profile", PROFILE, "--scene", SCENE],
            cwd=str(self.home), env=env, stdout=self.stdout, stderr=subprocess.STDOUT)
        self.client = self._connect()
        self.version = self.client.get_version().obs_version
        expected = os.environ.get(EXPECT_VERSION)
        if expected and self.version != expected:
            raise RuntimeError(f"`obs` on PATH ({shutil.which('obs')}) is OBS {self.version}; "
                               f"{EXPECT_VERSION} asks for {expected}")

    def _set_port(self) -> None:
        """Existing config: only turn the websocket on, on our port."""
        root = self.home / ".config" / "obs-studio"
        parser = configparser.ConfigParser(interpolation=None)
        parser.optionxform = str
        parser.read(root / "global.ini", encoding="utf-8-sig")
        parser["OBSWebSocket"] = {"FirstLoad": "false", "ServerEnabled": "true",
                                  "ServerPort": str(self.port), "AuthRequired": "false",
                                  "AlertsEnabled": "false"}
        if not parser.has_section("BasicWindow"):
            parser["BasicWindow"] = {}
        parser["BasicWindow"]["PreviewEnabled"] = "false"
        with open(root / "global.ini", "w", encoding="utf-8") as handle:
            parser.write(handle, space_around_delimiters=False)

    def _connect(self):
        import obsws_python
        logging.getLogger("obsws_python").setLevel(logging.CRITICAL)   # refusals while OBS starts
        deadline = time.monotonic() + self.connect_timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"OBS exited with {self.process.returncode} before the websocket "
                                   f"answered; log:\n{self.log_text()[-3000:]}")
            try:
                client = obsws_python.ReqClient(host="127.0.0.1", port=self.port, timeout=10)
                client.get_version()
                return client
            except Exception:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"OBS websocket did not answer in {self.connect_timeout:.0f} s; "
                                       f"log:\n{self.log_text()[-3000:]}")
                time.sleep(0.5)

    def stop(self, timeout: float = 60.0) -> Optional[int]:
        """SIGINT (clean shutdown), wait; if it hangs, SIGABRT (Python's faulthandler
        then writes every thread's Python stack to OBS's output: `log_text` shows it),
        SIGKILL if even that does not end it. -> exit code (a string if it hung)."""
        if self.client is not None:
            try:
                self.client.disconnect()
            except Exception:
                pass
            self.client = None
        if self.process is not None and self.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.returncode = self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGABRT)
                try:
                    code = self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    code = self.process.wait()
                self.returncode = f"hung, ended by signal {-code}"
                self.hung_output = (self.home / "obs-stdout.txt").read_text(errors="replace")[-6000:]
            self.stdout.close()
        if self.xvfb is not None:
            self.xvfb.terminate()
            self.xvfb.wait(timeout=10)
            self.xvfb = None
        return self.returncode

    # ---- looking at it ----
    @property
    def pid(self) -> int:
        return self.process.pid

    def log_path(self) -> Optional[Path]:
        logs = sorted((self.home / ".config" / "obs-studio" / "logs").glob("*.txt"),
                      key=lambda path: path.stat().st_mtime)
        return logs[-1] if logs else None

    def log_text(self) -> str:
        """OBS's log; if OBS died of a signal, then the end of its own output, where
        Python's faulthandler (PYTHONFAULTHANDLER, above) wrote every thread's Python
        stack (OBS on Linux keeps no crash report)."""
        path = self.log_path()
        text = path.read_text(errors="replace") if path else ""
        if isinstance(self.returncode, int) and self.returncode < 0:
            output = (self.home / "obs-stdout.txt").read_text(errors="replace")
            text += f"\n---- OBS died of signal {-self.returncode}; the end of its output ----\n{output[-4000:]}"
        elif self.hung_output:
            text += f"\n---- OBS {self.returncode}; the end of its output ----\n{self.hung_output}"
        return text

    def worker_pids(self) -> List[int]:
        return [pid for pid in child_pids(self.pid) if "vbg_core.worker" in cmdline(pid)]

    def screenshot(self, source: str, width: Optional[int] = None, height: Optional[int] = None,
                   deadline: float = 10.0):
        """The source after its filters, as an HxWx4 uint8 RGBA array."""
        import cv2
        import numpy as np
        reply = self._screenshot_reply(source, width, height, deadline)
        data = base64.b64decode(reply.image_data.split(",", 1)[1])
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGRA)
        elif image.shape[2] == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)

    def _screenshot_reply(self, source: str, width, height, deadline: float):
        """GetSourceScreenshot; a render failure (702, seen once under heavy load) is
        asked again until `deadline` seconds have passed, then ScreenshotFailed."""
        from obsws_python.error import OBSSDKRequestError
        start, tries = time.monotonic(), 0
        while True:
            tries += 1
            try:
                return self.client.get_source_screenshot(source, "png", width, height, -1)
            except OBSSDKRequestError as error:
                elapsed = time.monotonic() - start
                if error.code != RENDER_FAILED:
                    raise
                if elapsed >= deadline:
                    raise ScreenshotFailed(source, tries, elapsed, error) from error
            time.sleep(0.1)
