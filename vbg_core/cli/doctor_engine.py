"""`vbg doctor`'s engine checks: the worker's interpreter and packages, onnxruntime and
each execution provider (a real session on the shipped model, one inference), the
model files against the registry's sha256, cameras and the virtual-camera backend."""

import importlib.metadata
import importlib.util
import json
import platform
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

from ..shared.interpreter import PYTHON_FILE, find_worker_python
from ..shared.models import REGISTRY, ModelSpec, file_sha256

OK, WARN, FAIL = "OK", "WARN", "FAIL"
REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "obs_vbg.py"
ORT_BUILDS = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino")
WORKER_PACKAGES = ("vbg_core", "numpy", "cv2", "onnxruntime", "av")
PROVIDER_FIX = {
    "CUDAExecutionProvider": "install the NVIDIA driver and the CUDA 12 + cuDNN 9 libraries onnxruntime-gpu "
                             "needs (pip install 'onnxruntime-gpu[cuda,cudnn]'), or set provider to cpu",
    "TensorrtExecutionProvider": "install TensorRT for onnxruntime-gpu (vbg's auto choice does not need it)",
    "DmlExecutionProvider": "update the graphics driver (DirectX 12 GPU needed), or set provider to cpu",
    "CoreMLExecutionProvider": "CoreML needs macOS 12 or newer; or set provider to cpu",
}
NATIVE_LIBRARIES = {"libGL.so.1": "libgl1", "libgthread-2.0.so.0": "libglib2.0-0",
                    "libglib-2.0.so.0": "libglib2.0-0"}
_PROBE = """
import importlib, json, sys
out = {"python": sys.version.split()[0]}
for name in %r:
    try:
        module = importlib.import_module(name)
        out[name] = getattr(module, "__version__", "present")
        out[name + ".file"] = getattr(module, "__file__", "")
    except Exception as exc:
        out[name] = None
        out[name + ".error"] = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
print(json.dumps(out))
""" % (WORKER_PACKAGES,)


@dataclass(frozen=True)
class Check:
    name: str
    verdict: str        # OK | WARN | FAIL
    detail: str
    fix: str = ""


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --- the worker's interpreter ---------------------------------------------------------

def probe_interpreter(python: str) -> dict:
    done = subprocess.run([python, "-c", _PROBE], capture_output=True, text=True, timeout=120,
                          cwd=tempfile.gettempdir())     # -c imports from the working directory first
    if done.returncode != 0:
        raise RuntimeError((done.stderr.strip().splitlines() or ["no output"])[-1])
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_worker() -> List[Check]:
    found = find_worker_python(str(REPO))
    python, source = found.path, found.source
    reinstall = f"run install/install.sh (it writes {PYTHON_FILE} next to obs_vbg.py)"
    if found.problem:
        return [Check("worker interpreter", FAIL, found.problem, reinstall)]
    try:
        info = probe_interpreter(python)
    except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as exc:
        return [Check("worker interpreter", FAIL, f"{python} does not run: {exc}", reinstall)]
    checks = [Check("worker interpreter", OK, f"{python} (Python {info['python']}, from {source})")]
    missing = [name for name in WORKER_PACKAGES if info.get(name) is None]
    if missing:
        why = "; ".join(f"{n}: {info.get(n + '.error')}" for n in missing)
        return checks + [Check("worker packages", FAIL, f"missing or broken: {why}", _packages_fix(python, why))]
    versions = ", ".join(f"{n} {info[n]}" for n in WORKER_PACKAGES)
    checks.append(Check("worker packages", OK, versions))
    core = Path(info.get("vbg_core.file") or "").resolve().parent.parent
    if core != REPO:
        checks.append(Check("worker's obs-vbg", WARN, f"the worker imports obs-vbg from {core}, not {REPO}",
                            f"{python} -m pip install -e '{REPO}'"))
    return checks


def _packages_fix(python: str, why: str) -> str:
    """A missing system library (OpenCV's libGL, glib) is not fixed by pip."""
    for library, package in NATIVE_LIBRARIES.items():
        if library in why:
            return f"install the system package that provides {library} (Debian/Ubuntu: sudo apt install {package})"
    return f"{python} -m pip install -e '{REPO}[cpu]' (or run install/install.sh)"


# --- onnxruntime and its execution providers -------------------------------------------

def installed_ort_builds() -> List[str]:
    names = []
    for build in ORT_BUILDS:
        try:
            names.append(f"{build} {importlib.metadata.version(build)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return names


def run_once(ort, spec: ModelSpec, provider: str) -> float:
    """A session on one provider only, one inference; ms. Raises if it runs elsewhere."""
    import numpy as np
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(spec.path), sess_options=options, providers=[provider])
    active = session.get_providers()[0]
    if active != provider:
        raise RuntimeError(f"the session silently runs on {active} instead")
    from ..engine.segment import zero_feed
    feed = zero_feed(session, spec)
    start = time.perf_counter()
    output = session.run(None, feed)[spec.output_index]
    if not np.isfinite(output).all():
        raise RuntimeError("the output is not finite")
    return (time.perf_counter() - start) * 1000


def _provider_check(ort, spec: ModelSpec, provider: str) -> Check:
    name = f"provider {provider.replace('ExecutionProvider', '')}"
    try:
        ms = run_once(ort, spec, provider)
    except Exception as exc:  # onnxruntime raises several unrelated types
        text = first_line(exc)
        verdict = FAIL if provider == "CPUExecutionProvider" else WARN
        return Check(name, verdict, f"listed but does not work: {text}",
                     PROVIDER_FIX.get(provider, "reinstall with install/install.sh"))
    return Check(name, OK, f"works: {spec.name} model, one inference {ms:.1f} ms")


def check_onnxruntime() -> List[Check]:
    builds = installed_ort_builds()
    if not builds:
        return [Check("onnxruntime", FAIL, "not installed", "run install/install.sh (or pip install 'obs-vbg[cpu]')")]
    if len(builds) > 1:
        names = " ".join(b.split()[0] for b in builds)
        return [Check("onnxruntime", FAIL, f"several builds side by side: {', '.join(builds)}",
                      f"pip uninstall -y {names}, then run install/install.sh")]
    import onnxruntime as ort
    providers = [p for p in ort.get_available_providers() if p != "AzureExecutionProvider"]
    checks = [Check("onnxruntime", OK, f"{builds[0]}; providers listed: {', '.join(providers)}")]
    spec = REGISTRY["landscape"]
    if not spec.path.is_file():
        return checks + [Check("providers", FAIL, f"cannot test: {spec.path} is missing", "restore models/")]
    return checks + [_provider_check(ort, spec, p) for p in providers]


# --- models -----------------------------------------------------------------------------

def _model_check(spec: ModelSpec) -> Check:
    name = f"model {spec.name}"
    restore = spec.install or f"restore {spec.path.name} (git checkout -- models/ or reinstall obs-vbg)"
    if not spec.path.is_file() and spec.install:
        return Check(name, OK, f"not installed (optional, {spec.licence}; choosing it runs the default "
                     f"model): to install it, {spec.install}")
    if not spec.path.is_file():
        return Check(name, FAIL, f"{spec.path} is missing", restore)
    digest = file_sha256(spec.path)
    if spec.sha256 and digest != spec.sha256:
        return Check(name, FAIL, f"{spec.path.name} sha256 {digest[:12]}... differs from the registry's "
                     f"{spec.sha256[:12]}... (corrupt or replaced)", restore)
    problem = _load_problem(spec)
    if not spec.sha256:
        return Check(name, WARN, f"{spec.path.name} present ({problem or 'loads'}), no sha256 in the registry",
                     "record the file's sha256 in vbg_core/shared/models.py")
    if problem:
        return Check(name, FAIL, f"{spec.path.name} does not load: {problem}", restore)
    return Check(name, OK, f"{spec.path.name} sha256 ok, loads and runs ({spec.path.stat().st_size // 1024} KB)")


def _load_problem(spec: ModelSpec) -> str:
    try:
        import onnxruntime as ort
        run_once(ort, spec, "CPUExecutionProvider")
    except Exception as exc:  # ImportError or any onnxruntime error
        return first_line(exc)
    return ""


def check_models() -> List[Check]:
    """One check per model file (rvm and rvm_best are two settings of one file)."""
    files = {}
    for spec in REGISTRY.values():
        files.setdefault(spec.file, spec)
    return [_model_check(spec) for spec in files.values()]


# --- cameras and the virtual camera ------------------------------------------------------

def linux_video_devices() -> List[Tuple[str, str, bool]]:
    """(device, name, is_virtual) for each /dev/video*; virtual = no hardware parent."""
    devices = []
    for node in sorted(Path("/sys/class/video4linux").glob("video*")):
        name = (node / "name").read_text().strip() if (node / "name").is_file() else "?"
        devices.append((f"/dev/{node.name}", name, not (node / "device").exists()))
    return devices


def _opencv_camera_opens(index: int) -> bool:
    try:
        import cv2
    except ImportError:
        return False
    capture = cv2.VideoCapture(index)
    try:
        return bool(capture.isOpened())
    finally:
        capture.release()


def check_cameras() -> List[Check]:
    if platform.system() == "Linux":
        cams = [f"{d} ({n})" for d, n, virtual in linux_video_devices() if not virtual]
        found = bool(cams)
    else:
        found, cams = _opencv_camera_opens(0), ["camera 0"]
    if found:
        return [Check("cameras", OK, ", ".join(cams))]
    return [Check("cameras", WARN, "no camera visible (files and OBS sources still work)",
                  "plug a camera in (in a VM or container, pass /dev/video0 through); on macOS allow camera access")]


def check_virtual_camera() -> List[Check]:
    if importlib.util.find_spec("pyvirtualcam") is None:
        checks = [Check("virtual camera", WARN, "pyvirtualcam is not installed (only `vbg camera` needs it)",
                        f"pip install -e '{REPO}[camera]' in the project environment")]
    else:
        checks = [Check("virtual camera", OK, "pyvirtualcam importable")]
    if platform.system() != "Linux":
        return checks + [Check("virtual-camera device", OK, "OBS's own virtual camera is the backend: "
                               "start it once in OBS (Start Virtual Camera)")]
    loopback = [d for d, _, virtual in linux_video_devices() if virtual]
    if loopback or Path("/sys/module/v4l2loopback").exists():
        return checks + [Check("v4l2loopback", OK, ", ".join(loopback) or "module loaded")]
    return checks + [Check("v4l2loopback", WARN, "no v4l2loopback device (needed for a virtual camera)",
                           "sudo apt install v4l2loopback-dkms && sudo modprobe v4l2loopback exclusive_caps=1 "
                           "card_label='OBS Virtual Camera'")]


ENGINE_GROUPS = {
    "worker": check_worker,
    "onnxruntime": check_onnxruntime,
    "models": check_models,
    "cameras": lambda: check_cameras() + check_virtual_camera(),
}
