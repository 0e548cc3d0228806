"""RVM in int8 (static QDQ quantization, onnxruntime.quantization), for measurement only:

    python benchmarks/rvm_int8.py OUT.onnx [--frames 40]

Calibrates on the bundled clips (samples/sam2_coffee.mp4, sam2_juggle.mp4) run through the
fp32 model as streams (so the recurrent inputs are real states), at the registry's input
size and downsample ratio; per-channel weight scales (the file is converted from opset 12
to 13 for them). Needs the `onnx` package (not a dependency of obs-vbg). The int8 file is GPL-3.0 like its source: it is written where
asked (never into the repository). Figures: benchmarks/RESULTS.md, "RVM"."""

import argparse
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vbg_core.cli import media  # noqa: E402
from vbg_core.engine.segment import open_segmenter  # noqa: E402

CLIPS = ("sam2_coffee.mp4", "sam2_juggle.mp4")


def feeds(count: int) -> list:
    """Inputs the fp32 model really sees: each clip's frames with the state it carries."""
    rvm, out = open_segmenter("rvm"), []
    for clip in CLIPS:
        reader, memory = media.VideoReader(str(ROOT / "samples" / clip)), None
        for _, rgb in zip(range(count // len(CLIPS)), reader):
            tensor = rvm.preprocess(rgb)
            states = memory or rvm.START
            out.append({"src": tensor, "downsample_ratio": rvm._ratio,
                        **{f"{name}i": state for name, state in zip(rvm.STATES, states)}})
            _, memory = rvm.infer_step(tensor, memory)
        reader.close()
    return out


class Reader:
    def __init__(self, items):
        self.items = iter(items)

    def get_next(self):
        return next(self.items, None)


def main() -> int:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args()
    import onnx
    from onnx import version_converter
    source = open_segmenter("rvm").spec.path
    opset13 = args.out.with_suffix(".opset13.onnx")     # per-channel scales need opset 13 (the file is 12)
    onnx.save(version_converter.convert_version(onnx.load(str(source)), 13), str(opset13))
    prepared = args.out.with_suffix(".pre.onnx")
    quant_pre_process(str(opset13), str(prepared), skip_symbolic_shape=True)
    quantize_static(str(prepared), str(args.out), Reader(feeds(args.frames)), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
