"""The stance reader: a small cross-encoder that reads a headline together with the body sentences
most like it, and gives P(agree), P(disagree), P(discuss) given that the body is related.

The word features of ``model`` cannot tell "Russia will help" from "they beg Russia to stop helping";
a transformer that attends across headline and body can. The reader is the first ``layers`` layers of
the pretrained MiniLM encoder (the same package the propaganda detector starts from), fine-tuned on
FNC-1's related pairs, with a linear head over the mean of its token states (``ReaderNet``, which
only training runs).

Its input is the headline as the first segment and, as the second, the body's sentences in order of
TF-IDF similarity to the headline, cut to ``max_tokens`` tokens in all: what the headline is about
comes first, so the cut drops the least relevant text. An evidence sentence is read the same way, as
a body of one sentence.

Inference (``StanceReader``) runs the trained network in float32 under ONNX Runtime, from
``stance-reader.onnx``: the graph from the embedded words to the three logits, with the fine-tuned
weights stored in float16 and cast to float32 when the session starts (the pretrained embedding
tables, whose values float16 cannot hold, stay float32). The words are looked up in torch from the
pretrained package, which the reader never changes. In int8 the reader took about half the time with
FNC-1 figures within 0.004 of float32's, but turned close verdicts (the shipped sample's went from
discuss to agree), so it stays float32. ``stance.json`` records ``layers``, ``max_tokens`` and the
file under ``reader``. Written only by ``propscan.training.stance``.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from propscan.detect.encoder import load_base_encoder, load_tokenizer, pretrained_word_embeddings

READER_FILE = "stance-reader.onnx"
INPUTS = ("embeddings", "attention_mask", "token_type_ids")  # the graph's inputs, in this order
BATCH = 32


class ReaderNet(nn.Module):
    """Encoder layers, then a linear head over the mean of the non-padding token states."""

    def __init__(self, encoder: nn.Module, classes: int = 3) -> None:
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(0.1)
        self.head = nn.Linear(encoder.config.hidden_size, classes)

    @classmethod
    def untrained(cls, layers: int) -> ReaderNet:
        return cls(load_base_encoder(layers))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: torch.Tensor) -> torch.Tensor:
        return self.from_embeddings(self.encoder.embeddings.word_embeddings(input_ids), attention_mask,
                                    token_type_ids)

    def from_embeddings(self, embeddings: torch.Tensor, attention_mask: torch.Tensor,
                        token_type_ids: torch.Tensor) -> torch.Tensor:
        """The logits from the words' embeddings on (what the ONNX graph holds)."""
        states = self.encoder(inputs_embeds=embeddings, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(states.dtype)
        return self.head(self.dropout((states * mask).sum(1) / mask.sum(1).clamp(min=1.0)))


def encode_pairs(tokenizer, headlines: Sequence[str], excerpts: Sequence[str],
                 max_tokens: int) -> dict[str, torch.Tensor]:
    """A padded batch of (headline, excerpt) pairs, the excerpt cut so each pair fits ``max_tokens``."""
    return tokenizer(list(headlines), list(excerpts), truncation="only_second", max_length=max_tokens,
                     padding=True, return_tensors="pt")


class StanceReader:
    """(headline, excerpt) pairs → rows of P(agree), P(disagree), P(discuss) | related."""

    def __init__(self, path: Path, session, word_embeddings: nn.Embedding, tokenizer, layers: int,
                 max_tokens: int) -> None:
        self.path = path
        self.sessions = {_threads(bulk=False): session}
        self.word_embeddings = word_embeddings
        self.tokenizer = tokenizer
        self.layers = layers
        self.max_tokens = max_tokens
        self._lock = threading.Lock()  # one batch at a time: the server shares the model across threads

    @classmethod
    def load(cls, directory: Path, settings: dict) -> StanceReader:
        """The reader in ``directory``. Its file is read here, so a corrupt one fails at loading."""
        path = directory / READER_FILE
        session = _session(path, _threads(bulk=False))
        if [i.name for i in session.get_inputs()] != list(INPUTS):
            raise RuntimeError(f"the stance reader's graph takes {[i.name for i in session.get_inputs()]}, "
                               f"not {list(INPUTS)}")
        return cls(path, session, pretrained_word_embeddings(), load_tokenizer(), int(settings["layers"]),
                   int(settings["max_tokens"]))

    def save(self, directory: Path) -> dict:
        """Copy the reader's file into ``directory``; return its settings for ``stance.json``."""
        if (directory / READER_FILE).resolve() != self.path.resolve():
            (directory / READER_FILE).write_bytes(self.path.read_bytes())
        return {"layers": self.layers, "max_tokens": self.max_tokens, "file": READER_FILE}

    def logits(self, headlines: Sequence[str], excerpts: Sequence[str], *, bulk: bool = False) -> np.ndarray:
        batch = encode_pairs(self.tokenizer, headlines, excerpts, self.max_tokens)
        with torch.inference_mode():
            embedded = self.word_embeddings(batch["input_ids"]).numpy()
        threads = _threads(bulk)
        if threads not in self.sessions:
            self.sessions[threads] = _session(self.path, threads)
        return self.sessions[threads].run(None, {INPUTS[0]: embedded, INPUTS[1]: batch["attention_mask"].numpy(),
                                                 INPUTS[2]: batch["token_type_ids"].numpy()})[0]

    def probabilities(self, headlines: Sequence[str], excerpts: Sequence[str], *, bulk: bool = False) -> np.ndarray:
        """Rows of P(agree), P(disagree), P(discuss) given related, one per (headline, excerpt).

        ``bulk``: many pairs with nothing else running (an FNC-1 file), read on all of torch's threads;
        otherwise on half of them, beside the detector (``_threads``). Both give the same numbers."""
        if not headlines:
            return np.zeros((0, 3))
        # Similar lengths batched together: padding is most of the cost otherwise.
        order = sorted(range(len(headlines)), key=lambda i: len(headlines[i]) + len(excerpts[i]))
        out = np.zeros((len(headlines), 3))
        with self._lock:
            for a in range(0, len(order), BATCH):
                rows = order[a:a + BATCH]
                logits = self.logits([headlines[i] for i in rows], [excerpts[i] for i in rows],
                                     bulk=bulk).astype(np.float64)
                logits -= logits.max(axis=1, keepdims=True)
                exp = np.exp(logits)
                out[rows] = exp / exp.sum(axis=1, keepdims=True)
        return out


def _threads(bulk: bool) -> int:
    """Threads of a reader session: torch's share of the cores (a batch worker's thread count, or the
    machine's) for bulk reading, half of it for the headline check, which an analysis runs beside the
    detector, itself on every thread (on 2 cores a reader on both made the full analysis about 15%
    slower than one on one, and an FNC-1 file of 8,000 pairs about 40% faster)."""
    threads = torch.get_num_threads()
    return threads if bulk else max(1, threads // 2)


def _session(path: Path, threads: int):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # its own notices are not the user's business
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
