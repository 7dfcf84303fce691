"""The ONNX graphs the models run in: the detector's int8 encoder and the stance reader.

The detector's encoder (``detect.runtime`` runs it) is made from the folder's own weights (the
float16 that ships, read back as the detector reads them), so a folder's ONNX encoder always matches
its safetensors: the layers after the word embeddings, exported from torch, then their matrix
products with a constant weight quantized to int8 by ONNX Runtime (a scale per output channel,
activations scaled per call), except ``FLOAT_LAYERS``.

The stance reader (``stance.reader``) stays float32: its graph runs from the embedded words to the
logits, and stores in float16 each weight that float16 holds exactly (the fine-tuned ones, rounded in
training), cast back to float32 as the session starts.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

import torch

from propscan.detect.runtime import EMBEDDINGS_INPUT, ENCODER_FILE, FLOAT_LAYERS
from propscan.stance.reader import INPUTS as READER_INPUTS

log = logging.getLogger("propscan.train")

OPSET = 17


def _export(module: torch.nn.Module, example: tuple, path: Path, inputs: dict[str, dict[int, str]],
            outputs: dict[str, dict[int, str]]) -> None:
    """``module`` traced on ``example`` into an ONNX graph at ``path``; ``inputs`` and ``outputs`` name
    each tensor with its variable axes."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporter's notes on traced control flow
        torch.onnx.export(module.eval(), example, str(path), dynamo=False, input_names=list(inputs),
                          output_names=list(outputs), dynamic_axes={**inputs, **outputs}, opset_version=OPSET)


def _replace(target: Path, data: bytes) -> Path:
    """Write ``target`` through a temporary file and a rename, so a killed run leaves no half file."""
    partial = target.with_suffix(".onnx.partial")
    partial.write_bytes(data)
    os.replace(partial, target)
    log.info("wrote %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target


class _AfterWordEmbeddings(torch.nn.Module):
    """The encoder from its word embeddings on: positions, layer norm and the transformer layers."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.encoder(inputs_embeds=embeddings).last_hidden_state


def write_int8_encoder(directory: Path) -> Path:
    """Write ``directory``'s int8 ONNX encoder from its weights and configuration; return its path."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from propscan.detect.detector import TrainedDetector

    encoder = TrainedDetector.load(directory, quantize=False).net.encoder.eval()
    example = torch.zeros((1, 12, encoder.config.hidden_size))
    target = directory / ENCODER_FILE
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "encoder.onnx"
        _export(_AfterWordEmbeddings(encoder), (example,), plain, {EMBEDDINGS_INPUT: {1: "tokens"}},
                {"states": {1: "tokens"}})
        # ONNX names a node by its module path ("/encoder/encoder/layer.0/output/dense/MatMul").
        keep = [node.name for node in onnx.load(str(plain)).graph.node if node.op_type == "MatMul"
                and any(f".{name}." in node.name.replace("/", ".") for name in FLOAT_LAYERS)]
        if len(keep) != len(FLOAT_LAYERS):
            raise RuntimeError(f"the float32 layers were not found among the exported nodes: {keep}")
        quantized = Path(tmp) / ENCODER_FILE
        previous = logging.root.manager.disable
        logging.disable(logging.WARNING)  # the quantizer's advice on pre-processing, logged at the root
        try:
            quantize_dynamic(str(plain), str(quantized), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"], nodes_to_exclude=keep)
        finally:
            logging.disable(previous)
        return _replace(target, quantized.read_bytes())


def ensure_int8_encoder(directory: Path) -> Path:
    """``directory``'s int8 ONNX encoder, written first when the folder has none (a folder trained
    before the detector ran ONNX Runtime)."""
    path = directory / ENCODER_FILE
    return path if path.is_file() else write_int8_encoder(directory)


class _ReaderFromEmbeddings(torch.nn.Module):
    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, embeddings: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        return self.net.from_embeddings(embeddings, attention_mask, token_type_ids)


def write_stance_reader(net: torch.nn.Module, target: Path) -> Path:
    """Write the stance reader network ``net`` (a ``ReaderNet`` in eval mode) as its float32 ONNX graph."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    # A padded example: transformers may skip the masking for a batch without padding, and a trace
    # keeps only the path its example took.
    mask = torch.ones((2, 8), dtype=torch.long)
    mask[1, 5:] = 0
    example = (torch.zeros((2, 8, net.encoder.config.hidden_size)), mask, torch.zeros((2, 8), dtype=torch.long))
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "reader.onnx"
        _export(_ReaderFromEmbeddings(net), example, plain,
                {name: {0: "batch", 1: "tokens"} for name in READER_INPUTS}, {"logits": {0: "batch"}})
        model = onnx.load(str(plain))
    casts = []
    for initializer in model.graph.initializer:
        values = numpy_helper.to_array(initializer)
        halved = values.astype(np.float16)
        if values.dtype == np.float32 and values.size > 1 and np.array_equal(halved.astype(np.float32), values):
            name = initializer.name
            initializer.CopyFrom(numpy_helper.from_array(halved, f"{name}/float16"))
            casts.append(helper.make_node("Cast", [f"{name}/float16"], [name], to=TensorProto.FLOAT,
                                          name=f"{name}/cast"))
    for node in reversed(casts):
        model.graph.node.insert(0, node)
    return _replace(target, model.SerializeToString())
