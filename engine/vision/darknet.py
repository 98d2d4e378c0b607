"""Converting a Darknet YOLOv3-tiny model (``.cfg`` + ``.weights``) to ONNX.

OpenCV 5 has no Darknet reader, so setup converts the pretrained YOLOv3-tiny (COCO; the
Darknet weights are public domain) into an ONNX graph that :class:`OnnxPersonDetector` runs
with onnxruntime. The graph ends in the YOLOv5 layout ``[1, N, 5 + classes]``: box centre
and size in input pixels, objectness, class scores, so one adapter serves both.

Decoding follows Darknet's ``yolo_layer.c``: ``x = (sigmoid(tx) + column) * stride``,
``w = exp(tw) * anchor_w`` with the anchors in input pixels (they are *not* multiplied by
the stride: doing so, or dividing them by it, gives boxes of the wrong size), objectness
and classes through a sigmoid. Batch normalisation is folded into the convolutions as
Darknet computes it: ``(x - mean) / (sqrt(var) + 1e-6) * scale + bias``.

Needs the ``onnx`` package (a setup-time dependency, imported here only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

LEAKY_SLOPE = 0.1  # Darknet's "leaky" activation
BN_EPSILON = 1e-6  # Darknet adds this to the standard deviation, not to the variance

Array = npt.NDArray[np.float32]


class DarknetError(ValueError):
    """The cfg or weights cannot be converted; the message says which file and why."""


@dataclass
class _Section:
    kind: str
    options: dict[str, str] = field(default_factory=dict)

    def int(self, key: str, default: int | None = None) -> int:
        if key not in self.options:
            if default is None:
                raise DarknetError(f"[{self.kind}] needs {key}")
            return default
        return int(self.options[key])


def parse_cfg(text: str) -> list[_Section]:
    """The sections of a Darknet cfg file, in order (``[net]`` first)."""
    sections: list[_Section] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            sections.append(_Section(line[1:-1].strip()))
        elif "=" in line and sections:
            key, value = line.split("=", 1)
            sections[-1].options[key.strip()] = value.strip()
    if not sections or sections[0].kind != "net":
        raise DarknetError("a Darknet cfg starts with [net]")
    return sections


class _Weights:
    """Reads the float32 arrays of a ``.weights`` file in order."""

    def __init__(self, data: bytes) -> None:
        major, minor, _revision = np.frombuffer(data[:12], "<i4")
        seen_bytes = 8 if major * 10 + minor >= 2 else 4
        self._values = np.frombuffer(data[12 + seen_bytes :], "<f4")
        self._at = 0

    def take(self, count: int) -> Array:
        end = self._at + count
        if end > self._values.size:
            raise DarknetError("the weights file is shorter than the cfg needs")
        chunk = self._values[self._at : end].astype(np.float32)
        self._at = end
        return chunk

    @property
    def left(self) -> int:
        return int(self._values.size - self._at)


# pjreddie's pretrained yolov3-tiny.weights were trained with the second [yolo] head on
# anchors 1,2,3, although cfg files in circulation say 0,1,2 (darknet issues: pjreddie #851,
# AlexeyAB #1341). With 0,1,2 every box of that head, the one that finds distant people,
# comes out about half as wide and tall as the person.
YOLOV3_TINY_MASKS: dict[int, tuple[int, ...]] = {1: (1, 2, 3)}


def convert_darknet_to_onnx(
    cfg_path: Path,
    weights_path: Path,
    out_path: Path,
    *,
    masks: dict[int, tuple[int, ...]] | None = None,
    input_size: tuple[int, int] | None = None,
) -> None:
    """Write the ONNX form of a YOLOv3-tiny style Darknet model to ``out_path`` (written to
    a temporary name first, then renamed). ``masks`` replaces the anchor mask of [yolo]
    head N (0 = the first in the cfg), for weights trained with other masks than their cfg
    says (:data:`YOLOV3_TINY_MASKS`). ``input_size`` (width, height; multiples of 32)
    replaces the cfg's input size: the network is fully convolutional, so the same weights
    run on a rectangle that fits the camera's aspect ratio. Raises :class:`DarknetError`."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    sections = parse_cfg(cfg_path.read_text(encoding="utf-8"))
    net = sections[0]
    width, height, channels = net.int("width"), net.int("height"), net.int("channels", 3)
    if input_size is not None:
        width, height = input_size
    if width <= 0 or height <= 0 or width % 32 or height % 32:
        raise DarknetError(f"input size {width}x{height} is not a positive multiple of 32")
    weights = _Weights(weights_path.read_bytes())

    nodes: list[Any] = []
    initializers: list[Any] = []
    outputs: list[str] = []  # one tensor name per layer, as Darknet numbers them
    shapes: list[tuple[int, int, int]] = []  # (channels, height, width) per layer
    yolo_heads: list[str] = []
    current, shape = "images", (channels, height, width)

    def constant(name: str, value: npt.NDArray[Any]) -> str:
        initializers.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    for index, section in enumerate(sections[1:]):
        prefix = f"l{index}"
        if section.kind == "convolutional":
            filters, size = section.int("filters"), section.int("size")
            stride = section.int("stride", 1)
            pad = size // 2 if section.int("pad", 0) else 0
            in_channels = shape[0]
            if section.int("batch_normalize", 0):
                beta, gamma = weights.take(filters), weights.take(filters)
                mean, var = weights.take(filters), weights.take(filters)
                kernel = weights.take(filters * in_channels * size * size)
                scale = gamma / (np.sqrt(var) + BN_EPSILON)
                kernel = (
                    kernel.reshape(filters, in_channels, size, size) * scale[:, None, None, None]
                ).astype(np.float32)
                bias = (beta - mean * scale).astype(np.float32)
            else:
                bias = weights.take(filters)
                kernel = weights.take(filters * in_channels * size * size).reshape(
                    filters, in_channels, size, size
                )
            nodes.append(
                helper.make_node(
                    "Conv",
                    [current, constant(f"{prefix}_w", kernel), constant(f"{prefix}_b", bias)],
                    [f"{prefix}_conv"],
                    kernel_shape=[size, size],
                    strides=[stride, stride],
                    pads=[pad, pad, pad, pad],
                )
            )
            current = f"{prefix}_conv"
            activation = section.options.get("activation", "linear")
            if activation == "leaky":
                nodes.append(
                    helper.make_node("LeakyRelu", [current], [f"{prefix}_act"], alpha=LEAKY_SLOPE)
                )
                current = f"{prefix}_act"
            elif activation != "linear":
                raise DarknetError(f"layer {index}: activation {activation} is not supported")
            out_h = (shape[1] + 2 * pad - size) // stride + 1
            out_w = (shape[2] + 2 * pad - size) // stride + 1
            shape = (filters, out_h, out_w)
        elif section.kind == "maxpool":
            size, stride = section.int("size"), section.int("stride", 1)
            # Darknet pads size-1 in total, on the bottom/right, so stride 1 keeps the size.
            extra = size - 1 if stride == 1 else 0
            nodes.append(
                helper.make_node(
                    "MaxPool",
                    [current],
                    [f"{prefix}_pool"],
                    kernel_shape=[size, size],
                    strides=[stride, stride],
                    pads=[0, 0, extra, extra],
                )
            )
            current = f"{prefix}_pool"
            shape = (
                shape[0],
                (shape[1] + extra - size) // stride + 1,
                (shape[2] + extra - size) // stride + 1,
            )
        elif section.kind == "upsample":
            stride = section.int("stride", 2)
            scales = constant(f"{prefix}_scales", np.array([1, 1, stride, stride], np.float32))
            nodes.append(
                helper.make_node("Resize", [current, "", scales], [f"{prefix}_up"], mode="nearest")
            )
            current = f"{prefix}_up"
            shape = (shape[0], shape[1] * stride, shape[2] * stride)
        elif section.kind == "route":
            sources = [int(v) for v in section.options["layers"].split(",")]
            sources = [s if s >= 0 else index + s for s in sources]
            if len(sources) == 1:
                current, shape = outputs[sources[0]], shapes[sources[0]]
            else:
                nodes.append(
                    helper.make_node(
                        "Concat", [outputs[s] for s in sources], [f"{prefix}_route"], axis=1
                    )
                )
                current = f"{prefix}_route"
                shape = (
                    sum(shapes[s][0] for s in sources),
                    shapes[sources[0]][1],
                    shapes[sources[0]][2],
                )
        elif section.kind == "yolo":
            override = (masks or {}).get(len(yolo_heads))
            if override is not None:
                section.options["mask"] = ",".join(str(m) for m in override)
            yolo_heads.append(
                _decode_yolo(nodes, constant, prefix, current, shape, section, (width, height))
            )
        else:
            raise DarknetError(f"layer {index}: [{section.kind}] is not supported")
        outputs.append(current)
        shapes.append(shape)

    if weights.left:
        raise DarknetError(f"{weights_path}: {weights.left} values left over: not this cfg")
    if not yolo_heads:
        raise DarknetError(f"{cfg_path} has no [yolo] layer")
    nodes.append(helper.make_node("Concat", yolo_heads, ["detections"], axis=1))
    classes = sections[-1].int("classes") if sections[-1].kind == "yolo" else 80
    graph = helper.make_graph(
        nodes,
        "yolov3_tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, channels, height, width])],
        [helper.make_tensor_value_info("detections", TensorProto.FLOAT, [1, None, 5 + classes])],
        initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="watchfloor"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    temp = out_path.with_name(out_path.name + ".partial")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(temp))
    temp.replace(out_path)


def _decode_yolo(
    nodes: list[Any],
    constant: Any,
    prefix: str,
    source: str,
    shape: tuple[int, int, int],
    section: _Section,
    input_size: tuple[int, int],
) -> str:
    """Nodes turning one head's raw ``[1, A*(5+C), H, W]`` into ``[1, A*H*W, 5+C]`` rows
    of (cx, cy, w, h) in input pixels, objectness and class scores."""
    from onnx import helper

    mask = [int(v) for v in section.options["mask"].split(",")]
    anchor_values = [float(v) for v in section.options["anchors"].split(",")]
    anchors = [(anchor_values[2 * m], anchor_values[2 * m + 1]) for m in mask]
    classes = section.int("classes")
    per_anchor = 5 + classes
    _, grid_h, grid_w = shape
    if shape[0] != len(mask) * per_anchor:
        raise DarknetError(f"[yolo] after {shape[0]} channels; expected {len(mask) * per_anchor}")
    stride_x, stride_y = input_size[0] / grid_w, input_size[1] / grid_h
    rows = len(mask) * grid_h * grid_w
    # Per row (anchor-major, then y, then x, as reshaped below): the cell and the anchor.
    ys, xs = np.meshgrid(np.arange(grid_h), np.arange(grid_w), indexing="ij")
    cells = np.stack([xs, ys], axis=-1).reshape(1, grid_h * grid_w, 2).astype(np.float32)
    cells = np.tile(cells, (1, len(mask), 1))
    sizes = np.repeat(np.array(anchors, np.float32), grid_h * grid_w, axis=0)[None]
    strides = np.array([stride_x, stride_y], np.float32)

    def node(op: str, inputs: list[str], name: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [f"{prefix}_{name}"], **attrs))
        return f"{prefix}_{name}"

    shaped = node(
        "Reshape",
        [source, constant(f"{prefix}_s1", np.array([1, len(mask), per_anchor, -1], np.int64))],
        "r1",
    )
    rows_t = node("Transpose", [shaped], "t", perm=[0, 1, 3, 2])  # [1, A, H*W, 5+C]
    flat = node(
        "Reshape",
        [rows_t, constant(f"{prefix}_s2", np.array([1, rows, per_anchor], np.int64))],
        "r2",
    )

    def part(start: int, end: int, name: str) -> str:
        return node(
            "Slice",
            [
                flat,
                constant(f"{prefix}_{name}_a", np.array([start], np.int64)),
                constant(f"{prefix}_{name}_b", np.array([end], np.int64)),
                constant(f"{prefix}_{name}_x", np.array([2], np.int64)),
            ],
            name,
        )

    xy = node(
        "Mul",
        [
            node(
                "Add",
                [node("Sigmoid", [part(0, 2, "txy")], "sxy"), constant(f"{prefix}_cells", cells)],
                "gxy",
            ),
            constant(f"{prefix}_strides", strides),
        ],
        "xy",
    )
    wh = node(
        "Mul",
        [node("Exp", [part(2, 4, "twh")], "ewh"), constant(f"{prefix}_anchors", sizes)],
        "wh",
    )
    scores = node("Sigmoid", [part(4, per_anchor, "tsc")], "scores")
    return node("Concat", [xy, wh, scores], "out", axis=2)
