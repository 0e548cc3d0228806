"""Frame -> person probabilities, with an onnxruntime session per model.

Provider choice with an honest fallback: `Segmenter.active_provider` is what the
session really runs on (read back from onnxruntime, not what was asked for), and
`fallback_note` says in words why it differs from the request.
"""

from typing import List, Optional, Tuple

import numpy as np

from ..shared.errors import ModelError
from .imaging import paste, shrink
from ..shared.maths import fit_box
from ..shared.models import ModelSpec, get_model, usable

EP_NAMES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "directml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
}
AUTO_ORDER = ("directml", "cuda", "coreml", "cpu")
SHORT_NAMES = {ep: short for short, ep in EP_NAMES.items()}


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelError(
            f"onnxruntime is not installed ({exc}): run install/install.sh "
            "(or pip install 'obs-vbg[cpu]')") from None
    return onnxruntime


def available_providers() -> List[str]:
    """Short names of the execution providers this onnxruntime build offers."""
    return [SHORT_NAMES[ep] for ep in _onnxruntime().get_available_providers() if ep in SHORT_NAMES]


def _candidates(requested: str) -> Tuple[List[str], str]:
    available = available_providers()
    if requested == "auto":
        return [p for p in AUTO_ORDER if p in available], ""
    if requested in available:
        return [requested, "cpu"], ""
    return ["cpu"], f"{requested} is not available in this onnxruntime build ({', '.join(available)}); using cpu"


def _session(ort, spec: ModelSpec, provider: str, threads: int):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    providers = [EP_NAMES[provider]] + ([] if provider == "cpu" else [EP_NAMES["cpu"]])
    return ort.InferenceSession(str(spec.path), sess_options=options, providers=providers)


def open_session(spec: ModelSpec, requested: str = "auto", threads: int = 1):
    """-> (session, active provider short name, fallback note)."""
    ort = _onnxruntime()
    if not spec.path.is_file():
        raise ModelError(f"model file not found: {spec.path}: reinstall obs-vbg or restore models/")
    candidates, note = _candidates(requested)
    errors = []
    for provider in candidates:
        try:
            session = _session(ort, spec, provider, threads)
        except Exception as exc:  # onnxruntime raises several unrelated types
            errors.append(f"{provider}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            continue
        active = SHORT_NAMES.get(session.get_providers()[0], "cpu")
        if active != provider:
            errors.append(f"{provider} accepted but onnxruntime runs on {active}")
        if requested not in ("auto", active) and not note:
            note = f"{requested} failed ({'; '.join(errors)}); using {active}"
        return session, active, note
    raise ModelError(f"cannot load model {spec.path} ({'; '.join(errors)}): the file is corrupt "
                     "or not an ONNX model; reinstall obs-vbg or restore models/")


# A recurrent model's state between frames (RVM: r1..r4); None = a new stream.
Memory = Optional[Tuple[np.ndarray, ...]]


def open_segmenter(model: str = "landscape", provider: str = "auto", threads: int = 1) -> "Segmenter":
    """The segmenter for a model name; an optional model that is not installed gives the
    default model, and `model_note` says how to install it."""
    spec, note = usable(model)
    segmenter = (RecurrentSegmenter if spec.recurrent else Segmenter)(spec.name, provider, threads)
    segmenter.model_note = note
    return segmenter


class Segmenter:
    """Runs one model on frames of any size and aspect ratio."""

    model_note = ""     # why another model runs than the one asked for ("" = the one asked for)

    def __init__(self, model: str = "landscape", provider: str = "auto", threads: int = 1,
                 fit: str = "stretch"):
        self.spec = get_model(model)
        self.fit = fit
        self.session, self.active_provider, self.fallback_note = open_session(
            self.spec, provider, threads)
        self._input = self.session.get_inputs()[0].name
        self._output = self.session.get_outputs()[self.spec.output_index].name

    @property
    def plain(self) -> bool:
        """A model that stretches the frame into it and keeps no state (the selfie
        models): the one that follows the person, with whole bodies beside it."""
        return self.fit == "stretch" and not self.spec.recurrent

    def predict(self, rgb_u8: np.ndarray, mirrored: bool = False) -> np.ndarray:
        """HxWx3 uint8 RGB -> float32 person probability (h, w) covering the whole
        frame with its aspect ratio, at about the model's resolution. `mirrored`:
        averaged with the probabilities of the mirror image, mirrored back (a second
        look: steadier masks for twice the inference)."""
        probs = self.postprocess(self.infer(self.preprocess(rgb_u8)), rgb_u8.shape[:2])
        if mirrored:
            other = self.predict(np.ascontiguousarray(rgb_u8[:, ::-1]))
            probs = (probs + other[:, ::-1]) * np.float32(0.5)
        return probs

    def preprocess(self, rgb_u8: np.ndarray) -> np.ndarray:
        if rgb_u8.ndim != 3 or rgb_u8.shape[2] != 3 or rgb_u8.dtype != np.uint8:
            raise ValueError(f"expected an HxWx3 uint8 RGB frame, got {rgb_u8.shape} {rgb_u8.dtype}")
        canvas = fit_to_model(rgb_u8, self.input_hw_for(rgb_u8.shape[:2]), self.fit)
        if self.spec.channels == "BGR":
            canvas = canvas[:, :, ::-1]
        tensor = canvas.astype(np.float32)
        tensor *= 1.0 / (255.0 * self.spec.std)
        tensor -= self.spec.mean / self.spec.std
        tensor = tensor[None]
        if self.spec.layout == "NCHW":
            tensor = tensor.transpose(0, 3, 1, 2)
        return np.ascontiguousarray(tensor)

    def input_hw_for(self, frame_hw) -> Tuple[int, int]:
        """The (height, width) a frame of this size is given to the model at."""
        return self.spec.input_hw

    def infer(self, tensor: np.ndarray) -> np.ndarray:
        return self.session.run([self._output], {self._input: tensor})[0]

    def infer_step(self, tensor: np.ndarray, memory: Memory) -> Tuple[np.ndarray, Memory]:
        """-> (output, the next state): the state of a stateless model stays None."""
        return self.infer(tensor), None

    def step(self, rgb_u8: np.ndarray, memory: Memory) -> Tuple[np.ndarray, Memory]:
        """`predict` carrying a recurrent model's state from frame to frame."""
        output, memory = self.infer_step(self.preprocess(rgb_u8), memory)
        return self.postprocess(output, rgb_u8.shape[:2]), memory

    def postprocess(self, output: np.ndarray, frame_hw) -> np.ndarray:
        probs = output[0, :, :, self.spec.person_channel] if self.spec.layout == "NHWC" \
            else output[0, self.spec.person_channel]
        return unfit(np.asarray(probs, np.float32), frame_hw, self.fit)


class RecurrentSegmenter(Segmenter):
    """Robust Video Matting: inputs src (1x3xHxW RGB 0..1), r1i..r4i (the state) and
    downsample_ratio; outputs fgr, pha (alpha), r1o..r4o. The state is explicit: the
    caller keeps it per stream (`step`); one session serves any number of streams."""

    STATES = ("r1", "r2", "r3", "r4")
    START = tuple(np.zeros((1, 1, 1, 1), np.float32) for _ in STATES)   # RVM's documented first state

    def __init__(self, model: str, provider: str = "auto", threads: int = 1, fit: str = "stretch"):
        super().__init__(model, provider, threads, fit)
        self._ratio = np.array([self.spec.downsample_ratio], np.float32)
        self._outputs = [self._output] + [f"{name}o" for name in self.STATES]

    def input_hw_for(self, frame_hw) -> Tuple[int, int]:
        """RVM takes any size: the frame's aspect at the spec's number of pixels (even
        sides), so a portrait photo is not squeezed into a 16:9 input."""
        (h, w), (mh, mw) = frame_hw, self.spec.input_hw
        scale = (mh * mw / (h * w)) ** 0.5
        return max(2, round(h * scale / 2) * 2), max(2, round(w * scale / 2) * 2)

    def infer(self, tensor: np.ndarray) -> np.ndarray:
        return self.infer_step(tensor, None)[0]

    def infer_step(self, tensor: np.ndarray, memory: Memory) -> Tuple[np.ndarray, Memory]:
        """A stream's first frame (memory None) is run 1 + spec.warmup times: the state
        settles on it first, as RVM's own first frames would."""
        passes = 1 + (self.spec.warmup if memory is None else 0)
        for _ in range(passes):
            feed = dict(zip((f"{name}i" for name in self.STATES), memory or self.START))
            feed.update({self._input: tensor, "downsample_ratio": self._ratio})
            alpha, *memory = self.session.run(self._outputs, feed)
        return alpha, tuple(memory)


def zero_feed(session, spec: ModelSpec) -> dict:
    """Zeros for every input of a session on `spec`'s file (`vbg doctor`'s one inference)."""
    feed = {}
    for index, node in enumerate(session.get_inputs()):
        shape = [d if isinstance(d, int) else 1 for d in node.shape]
        if index == 0 and len(shape) == 4:
            mh, mw = spec.input_hw
            shape[1:] = [3, mh, mw] if spec.layout == "NCHW" else [mh, mw, 3]
        feed[node.name] = np.full(shape, spec.downsample_ratio if node.name == "downsample_ratio" else 0,
                                  np.float32)
    return feed


# How a frame is put into the model's input when the aspect ratios differ. Measured on
# real photos (benchmarks/aspect.py, RESULTS.md "Aspect ratio"): stretch is the default.
MODEL_FITS = ("stretch", "letterbox", "crop", "balanced")


def _placement(frame_hw, model_hw, fit: str):
    """-> (width, height) of the frame resized for the model, and its offset (y0, x0)
    in the model's input (negative when the frame is cropped). 'balanced' stretches
    by the square root of the aspect change and letterboxes the rest."""
    (h, w), (mh, mw) = frame_hw, model_hw
    if fit == "balanced":
        w = w * ((mw / mh) / (w / h)) ** 0.5      # widen (or narrow) half the way
    return fit_box((h, w), model_hw, fill=fit == "crop")


def fit_to_model(rgb_u8: np.ndarray, model_hw, fit: str) -> np.ndarray:
    """Resize a frame into the model's input: 'stretch' (distorts when the aspects
    differ), 'letterbox' (keeps the aspect, pads with black) or 'crop' (keeps the
    aspect, cuts the frame's ends, which then get probability 0)."""
    mh, mw = model_hw
    if fit == "stretch":
        return shrink(rgb_u8, mw, mh)
    if fit not in MODEL_FITS:
        raise ValueError(f"unknown fit {fit!r}: choose one of {', '.join(MODEL_FITS)}")
    cw, ch, y0, x0 = _placement(rgb_u8.shape[:2], model_hw, fit)
    resized = shrink(rgb_u8, cw, ch)
    canvas = np.zeros((mh, mw, 3), np.uint8)
    paste(canvas, resized, y0, x0)
    return canvas


def unfit(probs: np.ndarray, frame_hw, fit: str) -> np.ndarray:
    """Model output -> probabilities over the whole frame (only 'letterbox' and
    'crop' keep the frame's aspect; the others keep the distortion, which the
    upsampling to the frame's size undoes)."""
    if fit == "stretch":
        return np.ascontiguousarray(probs)
    cw, ch, y0, x0 = _placement(frame_hw, probs.shape, fit)
    out = np.zeros((ch, cw), np.float32)
    paste(out, probs, -y0, -x0)
    return out
