"""The trained detector: the fine-tuned network read through ``decode``, with calibrated confidences.

Weights are the fine-tuned encoder layers and heads (float16 safetensors, ``propscan/weights``);
the embeddings and tokenizer come unchanged from the pretrained package. The encoder runs in int8
under ONNX Runtime, from the graph training wrote beside the weights (``detect.runtime``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from propscan.detect.base import DetectInput, Detection, Region, TechniqueSpan, release_freed_memory
from propscan.detect.calibration import Calibrator, SpanContext, span_repeats
from propscan.detect.calibration import span_features as calibration_features
from propscan.detect.decode import (
    DecodeSettings,
    NetworkOutputs,
    decode,
    network_outputs,
    rank_techniques,
    span_probs,
    tc_probs,
)
from propscan.detect.encoder import load_base_encoder, load_tokenizer, pretrained_word_embeddings
from propscan.detect.network import PropagandaNet, repeat_count
from propscan.detect.prepare import Prepared, prepare
from propscan.detect.runtime import ENCODER_FILE, OnnxEncoder
from propscan.errors import PropscanError
from propscan.taxonomy import TECHNIQUE_IDS

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
WEIGHTS_FILE = "propaganda.safetensors"
CONFIG_FILE = "propaganda.json"


def shipped_model_exists(directory: Path = WEIGHTS_DIR) -> bool:
    return all((directory / name).exists() for name in (WEIGHTS_FILE, CONFIG_FILE, ENCODER_FILE))


# Each window's activations are freed once its states are joined, but the C allocator keeps the
# freed pages in the encoding threads' heaps: after a million-character article's encoding the
# process held 650 MB more than before it, for 325 MB of states. Past this many windows (about
# 75,000 characters) the freed pages are handed back, so the span head's work starts from the states.
TRIM_AFTER_WINDOWS = 64




class TrainedDetector:
    name = "propscan-minilm"

    def __init__(self, net: PropagandaNet, tokenizer, settings: DecodeSettings, name: str | None = None,
                 calibrator: Calibrator | None = None) -> None:
        self.net = net.eval()
        self.tokenizer = tokenizer
        self.settings = settings
        # Without a calibrator, confidences are the decoder's raw span scores (used to fit one).
        self.calibrator = calibrator
        if name:
            self.name = name
        self._lock = threading.Lock()

    @classmethod
    def load(cls, directory: Path = WEIGHTS_DIR, quantize: bool = True) -> TrainedDetector:
        from safetensors.torch import load_file

        config = json.loads((directory / CONFIG_FILE).read_text())
        # Settings first: a configuration with an unknown or mistyped setting is refused before the weights load.
        settings = DecodeSettings.from_config(config["decode"])
        verifier = int(config.get("verifier", 0))
        if settings.si_verifier_weight > 0 and not verifier:
            raise PropscanError("invalid decode settings (si_verifier_weight: the network has no verifier)")
        net = PropagandaNet(load_base_encoder(config["layers"]),
                            token_techniques=config.get("token_techniques", False), verifier=verifier)
        state = {k: v.float() for k, v in load_file(str(directory / WEIGHTS_FILE)).items()}
        missing, unexpected = net.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("encoder.embeddings") for k in missing):
            raise RuntimeError(f"model files do not match the network: {unexpected or missing}")
        net.eval()
        if quantize:
            # int8, as training tuned and calibrated it: the graph beside the weights (the float
            # layers stay for ``quantize=False``, the float32 network training measures against).
            encoder_file = directory / ENCODER_FILE
            if not encoder_file.is_file():
                raise FileNotFoundError(f"model folder {directory} has no {ENCODER_FILE}")
            net.encoder = OnnxEncoder(encoder_file, pretrained_word_embeddings(), net.encoder.config)
        calibrator = Calibrator.from_config(config["calibration"]) if "calibration" in config else None
        return cls(net, load_tokenizer(), settings, config.get("name"), calibrator)

    @property
    def default_min_confidence(self) -> float:
        """The confidence from which reports show spans (chosen for precision when fitting the calibration)."""
        return self.calibrator.default_min_confidence if self.calibrator else 0.0

    def encode(self, docs: Sequence[DetectInput],
               also: Sequence[tuple[int, int]] = ()) -> tuple[list[Prepared], list[torch.Tensor]]:
        """Each document prepared (with the spans in ``also``, see ``prepare``) and its token states."""
        preps = [prepare(self.tokenizer, d, also) for d in docs]
        with self._lock, torch.inference_mode():
            states = self.net.encode_windows([p.enc for p in preps])
        if sum(len(p.enc.windows) for p in preps) > TRIM_AFTER_WINDOWS:
            release_freed_memory()
        return preps, states

    def network_outputs(self, docs: Sequence[DetectInput]) -> list[tuple[Prepared, NetworkOutputs]]:
        """Each document prepared, with the network's outputs on it (what ``decode`` reads)."""
        preps, states = self.encode(docs)
        return [(prep, network_outputs(self.net, prep, h, self._lock)) for prep, h in zip(preps, states, strict=True)]

    def span_probs(self, prep: Prepared, states: torch.Tensor, spans: Sequence[tuple[int, int]],
                   voter: str = "span") -> np.ndarray:
        """(n_spans, 14): the span head's probabilities of each span's technique (or the verifier's)."""
        with self._lock:
            return span_probs(self.net, prep, states, spans, voter)

    def detect(self, docs: Sequence[DetectInput]) -> list[Detection]:
        results = []
        for prep, outputs in self.network_outputs(docs):
            decoded = decode(prep, outputs, self.settings)
            spans = self.calibrated(prep, decoded.spans, decoded.regions, decoded.sentence_scores)
            results.append(Detection(regions=decoded.regions, spans=spans, sentence_scores=decoded.sentence_scores))
        return results

    def calibrated(self, prep: Prepared, spans: list[TechniqueSpan], regions: list[Region],
                   sentence_scores: list[float]) -> list[TechniqueSpan]:
        """The spans with their confidence as the calibrated probability of being right (if calibrated)."""
        if self.calibrator is None or not spans:
            return spans
        context = SpanContext(prep.doc.text, prep.normalized, prep.doc.title,
                              [(r.start, r.end, r.confidence) for r in regions], prep.doc.sentences, sentence_scores)
        repeats = span_repeats(context, [(x.start, x.end) for x in spans])
        return [TechniqueSpan(x.start, x.end, x.technique, round(self.calibrator.probability(
                    calibration_features(context, x.start, x.end, x.technique, x.confidence, n)), 4))
                for x, n in zip(spans, repeats, strict=True)]

    def classify(self, doc: DetectInput, spans: Sequence[tuple[int, int]]) -> list[list[tuple[str, float]]]:
        (prep,), (states,) = self.encode([doc], spans)
        verifier = (self.span_probs(prep, states, spans, "verifier")
                    if self.settings.tc_verifier_weight > 0 and self.net.verifiers is not None else None)
        probs = tc_probs(self.span_probs(prep, states, spans), verifier, self.settings)
        ranked = []
        for (start, end), p in zip(spans, probs, strict=True):
            order = rank_techniques(p, repeat_count(doc.text[start:end], prep.normalized), self.settings)
            ranked.append([(TECHNIQUE_IDS[k], float(p[k])) for k in order])
        return ranked
