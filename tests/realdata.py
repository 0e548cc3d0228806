"""Paths to the real media the tests use, and a loader for photos with reference masks.
(A plain module, not conftest: tests/obs has a conftest of its own.)"""

from pathlib import Path

from vbg_core.engine import images

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SAMPLE_VIDEO = ROOT / "samples" / "sam2_coffee.mp4"
PHOTOS = ("tfjs_portrait", "tfjs_pose", "tfjs_three_people")


def sample_frames(name: str, count: int, step: int = 1, start: int = 0):
    """count frames of samples/<name> from frame `start` (every step-th frame), RGB uint8."""
    from vbg_core.cli import media
    reader = media.VideoReader(str(ROOT / "samples" / name))
    frames = [rgb for i, rgb in zip(range(start + count * step), reader) if i >= start and (i - start) % step == 0]
    reader.close()
    return frames


def load_photo(name: str):
    """-> (RGB uint8, reference person mask as bool)."""
    rgb = images.read_image(str(DATA / f"{name}.jpg"))
    truth = images.read_image(str(DATA / f"{name}_mask.png"))[:, :, 0] > 127
    return rgb, truth


def rvm_missing() -> str:
    """Why the optional RVM model cannot be tested here ("" = it is installed). It is
    GPL-3.0 and never in the repository: install.sh --with-rvm puts it in models/optional/,
    and CI (.ci/run) installs it that way, so its tests run there."""
    from vbg_core.shared.models import get_model
    spec = get_model("rvm")
    if spec.path.is_file():
        return ""
    return f"RVM is not installed ({spec.path} missing): {spec.install}"
