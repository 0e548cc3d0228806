"""Shared fixtures: real photos of people shipped in tests/data and samples/."""

import numpy as np
import pytest

from realdata import SAMPLE_VIDEO, load_photo
from vbg_core.cli import media


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
