"""The real `vbg doctor` on this machine, with the real models: its verdicts on the
things known here (Debian 12 with the obs-studio package, CPU onnxruntime, no camera)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import onnxruntime
import pytest

from vbg_core.cli import doctor
from vbg_core.setup import obsconfig
from vbg_core.cli.doctor_engine import FAIL, OK, WARN, linux_video_devices
from vbg_core.shared.models import REGISTRY, file_sha256

REPO = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parents[1] / "fixtures" / "obs29-linux"
linux_only = pytest.mark.skipif(sys.platform != "linux", reason="facts of this Linux machine")


def by_name(checks):
    return {c.name: c for c in checks}


def run_doctor(*args, env=None):
    env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "vbg_core.cli", "doctor", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def obs_home(tmp_path, monkeypatch):
    shutil.copytree(FIXTURE, tmp_path / ".config" / "obs-studio")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    return tmp_path


@linux_only
def test_obs_is_found_with_its_version():
    checks = doctor.check_obs_found()
    found = by_name(checks)["OBS Studio"]
    assert found.verdict == OK and "(native, " in found.detail
    version = subprocess.run(["obs", "--version"], capture_output=True, text=True).stdout
    assert found.detail.split()[0] in version and re.match(r"\d+\.\d+", found.detail)
    assert all(c.verdict != FAIL for c in checks)          # Debian's OBS has Python scripting


@linux_only
def test_obs_python_needs_nothing_on_linux():
    [check] = doctor.check_obs_python()
    assert check.verdict == OK and "Linux" in check.detail


def test_obs_python_on_windows_is_judged_from_global_ini(tmp_path, monkeypatch):
    """Windows as far as this machine allows: OBS's config under %APPDATA%, its Python
    setting naming a folder with a real x86-64 PE file as python313.dll."""
    import pip._vendor.distlib as distlib
    monkeypatch.setattr(doctor.platform, "system", lambda: "Windows")
    monkeypatch.setattr(doctor.platform, "machine", lambda: "AMD64")
    monkeypatch.setenv("APPDATA", str(tmp_path / "AppData"))
    root = tmp_path / "AppData" / "obs-studio"
    shutil.copytree(FIXTURE, root)
    python = tmp_path / "Python313"
    python.mkdir()
    shutil.copy(Path(distlib.__file__).parent / "t64.exe", python / "python313.dll")
    with open(root / "global.ini", "a") as ini:
        ini.write(f"\n[Python]\nPath64bit={python.as_posix()}\n")
    [check] = doctor.check_obs_python()
    assert check.verdict == FAIL and "has 3.13" in check.detail and "Python Install Path" in check.fix
    (python / "python313.dll").rename(python / "python312.dll")
    [check] = doctor.check_obs_python()
    assert check.verdict == OK and "Python 3.12" in check.detail


def test_registration_verdict_follows_the_scene_collection(obs_home):
    [before] = doctor.check_registration()
    assert before.verdict == WARN and "is not in" in before.detail and "Tools > Scripts" in before.fix
    collection = obs_home / ".config" / "obs-studio" / "basic" / "scenes" / "Untitled.json"
    obsconfig.register(collection, REPO / "obs_vbg.py")
    [after] = doctor.check_registration()
    assert after.verdict == OK and str(collection) in after.detail


def test_no_obs_config_is_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    [check] = doctor.check_registration()
    assert check.verdict == WARN and "never started" in check.detail


def test_worker_interpreter_with_its_packages(monkeypatch):
    monkeypatch.setenv("VBG_PYTHON", sys.executable)
    checks = by_name(doctor.GROUPS["worker"]())
    assert checks["worker interpreter"].verdict == OK and "from VBG_PYTHON" in checks["worker interpreter"].detail
    packages = checks["worker packages"]
    assert packages.verdict == OK and f"onnxruntime {onnxruntime.__version__}" in packages.detail


def test_missing_worker_interpreter_fails_with_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("VBG_PYTHON", str(tmp_path / "nope" / "python"))
    [check] = doctor.GROUPS["worker"]()
    assert check.verdict == FAIL and "install/install.sh" in check.fix


def test_worker_without_packages_fails(monkeypatch, tmp_path):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    monkeypatch.setenv("VBG_PYTHON", str(tmp_path / "bare" / "bin" / "python"))
    checks = by_name(doctor.GROUPS["worker"]())
    assert checks["worker interpreter"].verdict == OK
    assert checks["worker packages"].verdict == FAIL and "numpy" in checks["worker packages"].detail
    assert "pip install" in checks["worker packages"].fix


def test_missing_system_library_gets_an_apt_fix_not_pip():
    from vbg_core.cli.doctor_engine import _packages_fix
    assert _packages_fix("/p", "cv2: libGL.so.1: cannot open shared object file") \
        .endswith("sudo apt install libgl1)")
    assert _packages_fix("/p", "numpy: No module named 'numpy'").startswith("/p -m pip install -e")


def test_onnxruntime_providers_really_run():
    checks = doctor.GROUPS["onnxruntime"]()
    assert checks[0].verdict == OK and onnxruntime.__version__ in checks[0].detail
    tested = {c.name for c in checks[1:]}
    listed = {p for p in onnxruntime.get_available_providers() if p != "AzureExecutionProvider"}
    assert tested == {f"provider {p.replace('ExecutionProvider', '')}" for p in listed}
    cpu = by_name(checks)["provider CPU"]
    assert cpu.verdict == OK and re.search(r"one inference \d+\.\d ms", cpu.detail)


def test_models_match_the_registry_and_load():
    files = {}
    for spec in REGISTRY.values():          # one check per file (rvm_best is rvm's file)
        files.setdefault(spec.file, spec)
    checks = doctor.GROUPS["models"]()
    assert len(checks) == len(files)
    for check, spec in zip(checks, files.values()):
        assert check.name == f"model {spec.name}"
        if spec.install and not spec.path.is_file():    # optional, not installed: fine, and how to get it
            assert check.verdict == OK and "not installed (optional" in check.detail and spec.install in check.detail
        elif spec.sha256:
            assert file_sha256(spec.path) == spec.sha256
            assert check.verdict == OK and "sha256 ok, loads and runs" in check.detail
        else:
            assert check.verdict == WARN and "(loads)" in check.detail


@linux_only
def test_cameras_as_the_kernel_lists_them():
    cams, vcam = doctor.GROUPS["cameras"]()[0], doctor.GROUPS["cameras"]()[-1]
    hardware = [d for d, _, virtual in linux_video_devices() if not virtual]
    assert cams.verdict == (OK if hardware else WARN)
    assert vcam.name == "v4l2loopback"
    assert vcam.verdict == (OK if Path("/sys/module/v4l2loopback").exists() or
                            any(v for _, _, v in linux_video_devices()) else WARN)


def test_corrupt_model_fails_and_exits_nonzero(tmp_path):
    for spec in REGISTRY.values():
        if spec.path.is_file():
            (tmp_path / spec.file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(spec.path, tmp_path / spec.file)
    damaged = tmp_path / REGISTRY["landscape"].file
    damaged.write_bytes(damaged.read_bytes()[:1000])
    done = run_doctor("--only", "models", env={"VBG_MODELS_DIR": str(tmp_path)})
    assert done.returncode == 1
    assert re.search(r"\[FAIL\] model landscape: .*(differs|does not load)", done.stdout)
    assert "fix: restore selfie_segmentation_landscape.onnx" in done.stdout
    assert "[FAIL] model general" not in done.stdout


def test_cli_json_and_exit_status(obs_home):
    done = run_doctor("--json", env={"VBG_PYTHON": sys.executable})
    checks = json.loads(done.stdout)
    verdicts = {c["verdict"] for c in checks}
    assert verdicts <= {OK, WARN, FAIL} and all(c["fix"] for c in checks if c["verdict"] != OK)
    assert done.returncode == (1 if FAIL in verdicts else 0)
    names = {c["name"] for c in checks}
    assert {"OBS's Python", "worker interpreter", "onnxruntime", "provider CPU", "model landscape"} <= names


def test_unknown_group_is_refused():
    done = run_doctor("--only", "nonsense")
    assert done.returncode == 2 and "unknown group" in done.stderr
