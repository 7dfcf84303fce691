"""The int8 ONNX encoder a model folder ships beside its weights (``detect.runtime`` runs it).

Made from the folder's own weights (the float16 that ships, read back as the detector reads them),
so a folder's ONNX encoder always matches its safetensors: the layers after the word embeddings,
exported from torch, then their matrix products with a constant weight quantized to int8 by ONNX
Runtime (a scale per output channel, activations scaled per call), except ``FLOAT_LAYERS``.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

import torch

from propscan.detect.runtime import EMBEDDINGS_INPUT, ENCODER_FILE, FLOAT_LAYERS

log = logging.getLogger("propscan.train")

OPSET = 17


class _AfterWordEmbeddings(torch.nn.Module):
    """The encoder from its word embeddings on: positions, layer norm and the transformer layers."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        return self.encoder(inputs_embeds=embeddings).last_hidden_state


def write_int8_encoder(directory: Path) -> Path:
    """Write ``directory``'s int8 ONNX encoder from its weights and configuration; return its path.

    Written through a temporary file and a rename, so a killed run leaves no half file behind."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from propscan.detect.detector import TrainedDetector

    encoder = TrainedDetector.load(directory, quantize=False).net.encoder.eval()
    example = torch.zeros((1, 12, encoder.config.hidden_size))
    target = directory / ENCODER_FILE
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "encoder.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the exporter's notes on traced control flow
            torch.onnx.export(_AfterWordEmbeddings(encoder), (example,), str(plain), dynamo=False,
                              input_names=[EMBEDDINGS_INPUT], output_names=["states"],
                              dynamic_axes={EMBEDDINGS_INPUT: {1: "tokens"}, "states": {1: "tokens"}},
                              opset_version=OPSET)
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
        partial = target.with_suffix(".onnx.partial")
        partial.write_bytes(quantized.read_bytes())
        os.replace(partial, target)
    log.info("wrote %s (%.1f MB)", target, target.stat().st_size / 1e6)
    return target


def ensure_int8_encoder(directory: Path) -> Path:
    """``directory``'s int8 ONNX encoder, written first when the folder has none (a folder trained
    before the detector ran ONNX Runtime)."""
    path = directory / ENCODER_FILE
    return path if path.is_file() else write_int8_encoder(directory)
