"""Which decoder runtime the static lesson ships: the small JavaScript forward pass, or onnxruntime-web.

``dashboard/live/tiny_onnx.mjs`` (about 20 KB) runs the operators Latent Lab's decoders are made of;
onnxruntime-web (``dashboard/static/vendor/onnxruntime-web``, 14 MB of WebAssembly) runs any graph.
A lesson's decoders are read once at export: when every operator they use is one tiny_onnx runs and
one decode of them all costs at most :data:`TINY_MAX_MACS` multiply-adds, the lesson ships tiny_onnx;
otherwise onnxruntime-web, which decodes larger models faster.

Measured on digits with the test zoo (tests/test_static_lesson.py, headless Chromium on a loaded 2-core
machine): the folder is 1.91 MB with tiny_onnx and 16.2 MB with onnxruntime-web; the first decode is
painted 0.6-0.9 s after opening the page against 2.4-3.3 s (14 MB of wasm to fetch and compile). One
decode costs more in plain JavaScript than in SIMD wasm, but little: CPU time per decode in node 20,
2-D conv decoder on 8x8 digits 1.0 ms, on 28x28 images 11.6 ms; 2-D dense decoder on 28x28 0.4 ms.
That is about 300 million multiply-adds a second (the 28x28 conv decoder holds 3.5 million); in
Chromium onnxruntime-web's SIMD wasm was 10 to 50 times faster per decode (bench/static_lesson.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[1]
TINY_SOURCE = DASHBOARD / "live" / "tiny_onnx.mjs"
ORT_DIR = DASHBOARD / "static" / "vendor" / "onnxruntime-web"
ORT_FILES = ("ort.wasm.bundle.min.mjs", "ort-wasm-simd-threaded.wasm", "LICENSE", "VERSION")


@dataclass(frozen=True)
class Runtime:
    """A decoder runtime as the static lesson ships it.

    Attributes
    ----------
    name : str
        'tiny_onnx' or 'onnxruntime-web'.
    folder : str
        Where its files go, relative to the lesson's folder (``live.js`` fetches them from there).
    files : dict of str to Path
        File name in ``folder`` -> the source file in the repository.
    js, wasm : str, str or None
        The module and the WebAssembly binary ``live.js`` loads (``data.runtime_files``).
    """

    name: str
    folder: str
    files: dict[str, Path]
    js: str
    wasm: str | None

    def data(self) -> dict:
        """What ``live.js`` reads to load this runtime (``runtime_url`` and ``runtime_files``)."""
        return {"runtime_url": f"./{self.folder}/", "runtime_files": {"js": self.js, "wasm": self.wasm}}


TINY = Runtime("tiny_onnx", "vendor/tiny-onnx", {"tiny_onnx.mjs": TINY_SOURCE}, "tiny_onnx.mjs", None)
ORT = Runtime("onnxruntime-web", "vendor/onnxruntime-web", {name: ORT_DIR / name for name in ORT_FILES},
              ORT_FILES[0], ORT_FILES[1])


#: the most multiply-adds one decode of a lesson's decoders (main and side together) may cost in tiny_onnx:
#: about 16 ms at 300 million a second, two frames of a 60 Hz drag
TINY_MAX_MACS = 5_000_000


def tiny_operators() -> frozenset[str]:
    """The operators tiny_onnx runs: the keys of its ``OPS`` table, read from the module itself (one list)."""
    source = TINY_SOURCE.read_text()
    block = source[source.index("const OPS = {"):]
    block = block[:block.index("\n};")]
    return frozenset(re.findall(r"^  (\w+):", block, flags=re.MULTILINE))


def graph_operators(model_onnx: bytes) -> set[str]:
    """The operator types of an ONNX graph (default domain only; another domain counts as unknown)."""
    import onnx

    model = onnx.load_from_string(model_onnx)
    return {node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
            for node in model.graph.node}


def decode_macs(model_onnx: bytes) -> int:
    """Multiply-adds of one decode (batch 1) in a graph's Gemm / MatMul / Conv / ConvTranspose nodes,
    from ONNX shape inference (the element-wise rest is small beside them)."""
    import numpy as np
    import onnx

    model = onnx.shape_inference.infer_shapes(onnx.load_from_string(model_onnx))
    graph = model.graph
    shapes = {t.name: list(t.dims) for t in graph.initializer}
    for info in [*graph.input, *graph.value_info, *graph.output]:
        dims = info.type.tensor_type.shape.dim
        shapes[info.name] = [d.dim_value if d.HasField("dim_value") else 1 for d in dims]  # batch: 1
    total = 0
    for node in graph.node:
        out = shapes.get(node.output[0])
        weight = shapes.get(node.input[1]) if len(node.input) > 1 else None
        if out is None or weight is None:
            continue
        if node.op_type == "Conv":  # every output element: c_in / groups x kh x kw
            total += int(np.prod(out)) * int(np.prod(weight[1:]))
        elif node.op_type == "ConvTranspose":  # every input element: c_out / groups x kh x kw
            total += int(np.prod(shapes.get(node.input[0], [0]))) * int(np.prod(weight[1:]))
        elif node.op_type in ("Gemm", "MatMul"):
            a = shapes.get(node.input[0], [])
            trans_a = any(att.name == "transA" and att.i for att in node.attribute)
            k = (a[-2] if trans_a else a[-1]) if a else 0
            total += int(np.prod(out)) * int(k)
    return total


def choose(decoders: Iterable[bytes], prefer: str = "auto") -> Runtime:
    """The runtime for these decoders.

    Parameters
    ----------
    decoders : iterable of bytes
        The ONNX graphs the lesson decodes with.
    prefer : {'auto', 'tiny', 'ort'}
        'auto': tiny_onnx when it runs every operator and all the decoders together cost at most
        :data:`TINY_MAX_MACS` multiply-adds a decode, else onnxruntime-web; 'tiny' raises when tiny_onnx
        lacks an operator (never for the cost alone).

    Returns
    -------
    Runtime
    """
    if prefer not in ("auto", "tiny", "ort"):
        raise ValueError(f"prefer must be 'auto', 'tiny' or 'ort', got {prefer!r}")
    if prefer == "ort":
        return ORT
    decoders = list(decoders)
    missing = set().union(*(graph_operators(d) for d in decoders)) - tiny_operators()
    if missing and prefer == "tiny":
        raise ValueError(f"tiny_onnx does not run these operators: {', '.join(sorted(missing))}")
    if prefer == "tiny" or (not missing and sum(decode_macs(d) for d in decoders) <= TINY_MAX_MACS):
        return TINY
    return ORT
