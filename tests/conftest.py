"""Shared fixtures: real photos of people shipped in tests/data and samples/."""

from pathlib import Path

import numpy as np
import pytest

from vbg_core import media

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SAMPLE_VIDEO = ROOT / "samples" / "sam2_coffee.mp4"
PHOTOS = ("tfjs_portrait", "tfjs_pose", "tfjs_three_people")


def load_photo(name: str):
    """-> (RGB uint8, reference person mask as bool)."""
    rgb = media.read_image(str(DATA / f"{name}.jpg"))
    truth = media.read_image(str(DATA / f"{name}_mask.png"))[:, :, 0] > 127
    return rgb, truth


@pytest.fixture(scope="session")
def portrait():
    return load_photo("tfjs_portrait")


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """scikit-image's astronaut (NASA, public domain): a real upper-body photo, RGB."""
    from skimage import data
    return np.ascontiguousarray(data.astronaut())


@pytest.fixture(scope="session")
def sample_frames():
    """The first 90 frames of the bundled real video (a person at a table)."""
    reader = media.VideoReader(str(SAMPLE_VIDEO))
    frames = [rgb for _, rgb in zip(range(90), reader)]
    reader.close()
    return frames
