"""The settings: one table of keys, and one validated `Settings` object built from it.

Standard library only: the OBS side imports this module inside OBS's embedded Python.
Every setting is named once, in `TABLE`: its OBS key (stable: saved scene collections
and obs-websocket use it), the `Settings` field it fills, its type, default, allowed
values, label and `vbg` flag. The properties panel, the filter's defaults and parsing
(`Settings.from_obs`), the keys the worker reads and the command line's flags are all
made from it.
"""

from dataclasses import dataclass, replace
from typing import Tuple, Union

from .errors import SettingsError

# Gaussian sigma of the background blur, in pixels of a 720-line frame (scaled with
# the frame's height so a level looks the same at every resolution).
BLUR_LEVELS = {"low": 6.0, "medium": 12.0, "high": 24.0}

# the file types a background picker offers (the command line reads the same ones)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
VIDEO_EXTENSIONS = (".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi")

Rgb = Tuple[int, int, int]
Choices = Tuple[Tuple[str, str], ...]
FIT_CHOICES: Choices = (("cover", "Cover (fill, crop the edges)"), ("contain", "Contain (fit inside, black bars)"),
                        ("stretch", "Stretch"))


@dataclass(frozen=True)
class Key:
    """One setting, as OBS stores it."""
    key: str                    # the OBS settings key
    field: str                  # the Settings field it fills
    kind: str                   # string | path | color (0xAABBGGRR) | bool | int | double
    default: object             # in OBS's form
    label: str                  # in the properties panel
    group: str                  # background | quality | performance: the panel's group
    choices: Choices = ()       # (value, label) of a list
    bounds: Tuple[float, float, float] = ()     # (min, max, step) of a number's control
    flag: str = ""              # its `vbg` flag ("" = only through --background)
    mode: str = ""              # shown only in this mode ("" = always)
    worker: bool = False        # the worker needs it (the model and the mask's quality)
    obs_only: bool = False      # a setting of the OBS filter alone (no `vbg` flag)
    obs_default: object = None  # the OBS filter's default where it is not `default` (None: the same)
    help: str = ""              # the flag's help, where the label is not enough
    files: Tuple[str, Tuple[str, ...]] = ()     # a path's file picker: (what, extensions)


TABLE: Tuple[Key, ...] = (
    Key("mode", "mode", "string", "blur", "Replace with", "background", choices=(
        ("blur", "Blur"), ("color", "Colour"), ("image", "Image"), ("video", "Video"),
        ("transparent", "Transparent (keep the person, see through the rest)"))),
    Key("color", "color", "color", 0xFFFFFFFF, "Colour", "background", mode="color"),
    Key("image_path", "image_path", "path", "", "Image", "background", mode="image",
        files=("Images", IMAGE_EXTENSIONS)),
    Key("image_fit", "image_fit", "string", "cover", "Image fit", "background", mode="image", flag="--fit",
        choices=FIT_CHOICES, help="how a background image or video fills the frame"),
    Key("blur_level", "blur", "string", "medium", "Blur strength", "background", mode="blur",
        choices=tuple((level, level.capitalize()) for level in BLUR_LEVELS)),
    # --fit serves the video too (`vbg` sets both fits from it); --no-loop is video_loop off
    Key("video_path", "video_path", "path", "", "Video", "background", mode="video",
        files=("Videos", VIDEO_EXTENSIONS)),
    Key("video_fit", "video_fit", "string", "cover", "Video fit", "background", mode="video", flag="--fit",
        choices=FIT_CHOICES),
    Key("video_loop", "video_loop", "bool", True, "Loop the video (off: its last frame stays)", "background",
        mode="video", flag="--no-loop", help="hold a background video's last frame instead of looping it"),
    Key("model", "model", "string", "landscape", "Model", "quality", flag="--model", worker=True, choices=(
        ("landscape", "Landscape (fast, for 16:9 cameras)"),
        ("general", "General (square: better on people standing; more CPU and GPU)"),
        ("rvm", "Robust Video Matting, balanced (hair-level edges; about 60x Landscape's CPU; optional install)"),
        ("rvm_best", "Robust Video Matting, best (about 3x balanced's cost: for a GPU; optional install)")),
        help="landscape (144x256, for 16:9 cameras), general (256x256), rvm or rvm_best (Robust Video Matting "
             "at 512x288 or 640x360: the best edges at many times the CPU; installed by install.sh --with-rvm)"),
    Key("edge_refine", "edges", "bool", True, "Refine edges (follow hair and shoulders)", "quality",
        flag="--no-edges", worker=True, help="plain bilinear mask upsampling"),
    # off in OBS by default: with a body in view the worker takes most of a core, which on
    # a machine whose GPU is emulated on the CPU made OBS skip frames (benchmarks/RESULTS-obs.md)
    Key("whole_bodies", "bodies", "bool", True,
        "Track whole bodies (people standing or moving; most of a CPU core while one is in view)", "quality",
        flag="--no-bodies", worker=True, obs_default=False,
        help="the selfie model alone, no whole-body tracking (less CPU)"),
    Key("smoothing", "smoothing", "double", 0.9, "Temporal smoothing", "quality", bounds=(0.0, 1.0, 0.05),
        flag="--smoothing", worker=True, help="temporal smoothing 0..1"),
    Key("threshold", "threshold", "double", 0.5, "Person threshold", "quality", bounds=(0.05, 0.95, 0.05),
        flag="--threshold", worker=True, help="person probability cut 0..1"),
    Key("softness", "softness", "double", 0.25, "Edge softness", "quality", bounds=(0.0, 1.0, 0.05),
        flag="--softness", worker=True, help="soft edge width 0..1"),
    Key("provider", "provider", "string", "auto", "Inference on", "performance", flag="--provider", worker=True,
        choices=(("auto", "Automatic (best available)"), ("cpu", "CPU"), ("directml", "DirectML (Windows GPU)"),
                 ("cuda", "CUDA (NVIDIA)"), ("coreml", "Core ML (macOS)")),
        help="onnxruntime execution provider (auto: the best one present)"),
    Key("threads", "threads", "int", 1, "Inference threads", "performance", bounds=(1, 16, 1),
        flag="--threads", worker=True, help="inference threads"),
    Key("pause_when_still", "pause_when_still", "bool", True, "Pause inference while the picture is still",
        "performance", worker=True, obs_only=True),
)
KEYS = {k.key: k for k in TABLE}
WORKER_KEYS = tuple(k.key for k in TABLE if k.worker)


def allowed(key: str) -> Tuple[str, ...]:
    """The values a list setting accepts."""
    return tuple(value for value, _ in KEYS[key].choices)


def parse_color(value: Union[int, str]) -> Rgb:
    """0xRRGGBB integer or '#RRGGBB' string -> (r, g, b)."""
    if isinstance(value, bool):
        raise SettingsError(f"invalid colour {value!r}: use #RRGGBB or an integer 0xRRGGBB")
    if isinstance(value, int):
        if not 0 <= value <= 0xFFFFFF:
            raise SettingsError(f"invalid colour {value:#x}: an integer colour must be 0xRRGGBB (0 to 0xFFFFFF)")
        return (value >> 16) & 255, (value >> 8) & 255, value & 255
    text = str(value).strip()
    digits = text[1:] if text.startswith("#") else ""
    if len(digits) != 6 or any(c not in "0123456789abcdefABCDEF" for c in digits):
        raise SettingsError(f"invalid colour {value!r}: use #RRGGBB, for example #00FF00")
    return parse_color(int(digits, 16))


def color_from_obs(abgr: int) -> Rgb:
    """OBS colour property 0xAABBGGRR -> (r, g, b); alpha is ignored."""
    abgr = int(abgr) & 0xFFFFFFFF
    return abgr & 255, (abgr >> 8) & 255, (abgr >> 16) & 255


def color_to_obs(rgb: Rgb) -> int:
    """(r, g, b) -> opaque OBS colour 0xFFBBGGRR."""
    r, g, b = rgb
    return 0xFF000000 | (b << 16) | (g << 8) | r


def parse_blur(value: Union[str, float, int]) -> float:
    """'low' | 'medium' | 'high' or a positive number -> blur sigma at 720 lines."""
    if isinstance(value, str) and value.strip().lower() in BLUR_LEVELS:
        return BLUR_LEVELS[value.strip().lower()]
    try:
        sigma = float(value)
    except (TypeError, ValueError):
        sigma = float("nan")
    if not 0 < sigma <= 200:
        raise SettingsError(
            f"invalid blur {value!r}: use low, medium, high or a number between 0 and 200")
    return sigma


def _choice(name: str, value: str, allowed: Tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in allowed:
        raise SettingsError(f"invalid {name} {value!r}: choose one of {', '.join(allowed)}")
    return text


def _fraction(name: str, value: float) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise SettingsError(f"invalid {name} {value!r}: must be between 0 and 1")
    return number


def _default(key: str):
    return KEYS[key].default


@dataclass(frozen=True)
class Settings:
    """Everything that decides how a frame is processed. Validated on construction;
    the defaults are the table's."""

    mode: str = _default("mode")
    color: Rgb = color_from_obs(_default("color"))
    image_path: str = _default("image_path")
    image_fit: str = _default("image_fit")
    blur: float = parse_blur(_default("blur_level"))     # sigma at 720 lines
    video_path: str = _default("video_path")
    video_fit: str = _default("video_fit")
    video_loop: bool = _default("video_loop")   # False: the video's last frame stays
    model: str = _default("model")
    provider: str = _default("provider")
    threads: int = _default("threads")
    edges: bool = _default("edge_refine")       # guided edge refinement at output resolution
    bodies: bool = _default("whole_bodies")     # whole bodies tracked with MediaPipe Pose (engine/pose.py)
    smoothing: float = _default("smoothing")    # temporal smoothing strength, 0 = off (motion-aware)
    threshold: float = _default("threshold")    # probability at which alpha is 50 %
    softness: float = _default("softness")      # width of the soft alpha ramp around the threshold
    pause_when_still: bool = _default("pause_when_still")   # OBS: keep the last mask while nothing moves

    def __post_init__(self):
        object.__setattr__(self, "mode", _choice("mode", self.mode, allowed("mode")))
        object.__setattr__(self, "image_fit", _choice("image fit", self.image_fit, allowed("image_fit")))
        object.__setattr__(self, "video_fit", _choice("video fit", self.video_fit, allowed("video_fit")))
        object.__setattr__(self, "model", _choice("model", self.model, allowed("model")))
        object.__setattr__(self, "provider", _choice("provider", self.provider, allowed("provider")))
        object.__setattr__(self, "color", tuple(parse_color(_rgb_int(self.color))))
        object.__setattr__(self, "blur", parse_blur(self.blur))
        if isinstance(self.threads, bool) or not 1 <= int(self.threads) <= 64:
            raise SettingsError(f"invalid threads {self.threads!r}: must be 1 to 64")
        object.__setattr__(self, "threads", int(self.threads))
        for name in ("smoothing", "threshold", "softness"):
            object.__setattr__(self, name, _fraction(name, getattr(self, name)))
        if self.mode == "image" and not str(self.image_path).strip():
            raise SettingsError("image mode needs a background image: choose a JPG, PNG or WebP file")
        if self.mode == "video" and not str(self.video_path).strip():
            raise SettingsError("video mode needs a background video: choose an MP4, MOV, MKV or WebM file")

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @classmethod
    def from_obs(cls, data: dict) -> "Settings":
        """Build from the OBS filter's settings ({OBS key: value}, colour 0xAABBGGRR);
        a key that is absent keeps its default."""
        values = {}
        for key in TABLE:
            value = data.get(key.key)
            if value is not None:
                values[key.field] = color_from_obs(value) if key.kind == "color" else value
        return cls(**values)


def _rgb_int(color) -> int:
    if isinstance(color, (tuple, list)) and len(color) == 3:
        if all(isinstance(c, int) and 0 <= c <= 255 for c in color):
            return (color[0] << 16) | (color[1] << 8) | color[2]
        raise SettingsError(f"invalid colour {color!r}: components must be integers 0-255")
    return color
