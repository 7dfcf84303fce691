"""The encoder as the detector runs it: its transformer layers in int8 under ONNX Runtime.

Training writes the fine-tuned encoder's layers, after the word embeddings, as an ONNX graph with
its matrix products quantized to int8 (``ENCODER_FILE`` beside the weights; ``training.export`` makes
it). The detector looks the words up in torch, from the same float weights it was trained with, and
hands the embedded window to an ONNX Runtime session, which adds the positions and runs the layers.
The word embeddings stay out of the graph: in float32 they would weigh 47 MB, and in int8 (one scale
for the whole table) they would read differently from what training taught.

ONNX Runtime replaces torch's eager dynamic quantization (``torch.ao.quantization``), which torch has
deprecated. Each window is one ``run`` on one thread; the network spreads windows over threads, and
a session runs calls from several threads at once.
"""

from __future__ import annotations

from pathlib import Path

import torch

ENCODER_FILE = "propaganda-encoder.onnx"
EMBEDDINGS_INPUT = "embeddings"  # the graph's input: (1, tokens, hidden) word embeddings of one window
# The first layer's feed-forward output reads activations whose largest value is about 150 times
# their mean, the widest range in the encoder; with one int8 scale per call they lose most of their
# precision, so that layer stays in float32 (names within the BertModel).
FLOAT_LAYERS = frozenset({"encoder.layer.0.output.dense"})


class EncoderOutput:
    """What the network reads of an encoder call (the shape of a transformers model's output)."""

    def __init__(self, last_hidden_state: torch.Tensor) -> None:
        self.last_hidden_state = last_hidden_state


class OnnxEncoder(torch.nn.Module):
    """Stands where the network's encoder stood: token ids in, states out, run by ONNX Runtime.

    ``word_embeddings`` are the pretrained ones, which no shipped file changes; ``config`` is the
    encoder's configuration (the network reads the hidden size). Only whole windows are encoded, one
    at a time, so no attention mask is taken."""

    def __init__(self, path: Path, word_embeddings: torch.nn.Embedding, config) -> None:
        import onnxruntime

        super().__init__()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # its own notices are not the user's business
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.word_embeddings = word_embeddings
        self.config = config

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> EncoderOutput:
        if attention_mask is not None and not bool(attention_mask.all()):
            raise ValueError("the ONNX encoder encodes whole windows: padded batches are not supported")
        with torch.inference_mode():
            embedded = self.word_embeddings(input_ids).float().numpy()
        states = self.session.run(None, {EMBEDDINGS_INPUT: embedded})[0]
        return EncoderOutput(torch.from_numpy(states))
