"""Training of the propaganda network on the Propaganda Techniques Corpus (CPU, fixed seeds).

``train_network`` is the one recipe: the encoder and heads fine-tuned on the gold articles (with
self-training, a first network labels unlabeled news with soft targets and a fresh one learns from
both), then the verifier. The cross-validated run (``training.crossval``) trains it once per fold and
once on every article; ``train_propaganda`` trains that last network alone and gives it the decoding,
calibration and figures the cross-validated run chose and measured out-of-fold.
"""

from __future__ import annotations

import bisect
import copy
import json
import logging
import math
import random
import re
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from propscan.detect.base import DetectInput
from propscan.detect.decode import DecodeSettings, si_regions, technique_runs
from propscan.detect.detector import CONFIG_FILE, WEIGHTS_FILE
from propscan.detect.encoder import load_base_encoder, load_tokenizer
from propscan.detect.network import PropagandaNet, verifier_head
from propscan.detect.prepare import Prepared, prepare
from propscan.detect.runtime import FLOAT_LAYERS
from propscan.document import title_range
from propscan.segment import sentence_ranges
from propscan.taxonomy import TECHNIQUE_IDS
from propscan.training.export import write_int8_encoder

log = logging.getLogger("propscan.train")


@dataclass
class TrainSettings:
    seed: int = 13
    dev_share: float = 0.2
    layers: int = 3
    epochs: int = 6
    encoder_lr: float = 8e-5
    head_lr: float = 1e-3
    warmup: float = 0.06
    articles_per_step: int = 2
    limit_articles: int | None = None  # for tiny test runs
    # Self-training: a first model (the teacher) labels unlabeled articles (``silver_files``) with soft
    # targets, and a fresh model (the student) is trained on the gold articles plus a share of those
    # silver ones. Out-of-fold it gained in every fold (SI F1 0.417 to 0.428, FLC 0.253 to 0.260).
    self_training: bool = True
    silver_per_epoch: int = 100
    silver_weight: float = 0.5
    limit_silver: int | None = None  # for tiny test runs
    # The verifier, trained last on the finished network's (frozen) span inputs: gold technique spans,
    # the token head's runs, random stretches of words and gold spans with moved edges.
    # It is several small heads (members), each from its own seed, their probabilities averaged. On
    # frozen states of the shipped network, single heads of three seeds reached development FLC F1
    # 0.284-0.286 (cross-fit 0.260-0.263); three heads 0.286 (0.270), five 0.287 (0.278).
    verifier: int = 5  # members; 0: no verifier
    verifier_epochs: int = 6


@dataclass
class Targets:
    """What an article is trained towards, as probabilities: one-hot from gold labels, soft from a teacher."""

    token: np.ndarray  # (n_tokens, 3) O/B/I
    technique: np.ndarray | None  # (n_tokens, 14) inside a span of each technique (None: not taught)
    sentence: np.ndarray  # (n_sentences,) uses some technique
    spans: list[tuple[int, int]]  # spans the span head learns to classify
    span_probs: np.ndarray  # (n_spans, 14) their techniques
    span_smoothing: float = 0.0  # label smoothing of the span head's loss


@dataclass
class LabeledArticle:
    id: str
    doc: DetectInput
    si: list[tuple[int, int]]
    tc: list[tuple[int, int, str]]
    prep: Prepared | None = None
    targets: Targets | None = None
    silver: bool = False  # targets from a teacher (weighted by ``silver_weight``) rather than gold labels
    sentence_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))


def as_input(text: str) -> DetectInput:
    """A PTC article's text as the detector reads it: its sentences, and its first line as the title."""
    return DetectInput(text, sentence_ranges(text), title_range(text))


def load_corpus(data_dir: Path) -> list[LabeledArticle]:
    """The labeled PTC articles under ``data_dir`` (train-articles and the two label folders)."""
    from propscan.readers import ptc

    articles = {a.id: a.text for a in ptc.read_articles(data_dir / "train-articles")}
    si: dict[str, list[tuple[int, int]]] = {}
    for label in ptc.read_labels(data_dir / "train-labels-task1-span-identification", articles=articles):
        si.setdefault(label.article_id, []).append((label.start, label.end))
    tc: dict[str, list[tuple[int, int, str]]] = {}
    for label in ptc.read_labels(data_dir / "train-labels-task2-technique-classification", articles=articles,
                                 require_technique=True):
        tc.setdefault(label.article_id, []).append((label.start, label.end, label.technique))
    corpus = [LabeledArticle(article_id, as_input(text), si.get(article_id, []), tc.get(article_id, []))
              for article_id, text in sorted(articles.items())]
    return corpus


def attach_labels(tokenizer, article: LabeledArticle) -> None:
    article.prep = prep = prepare(tokenizer, article.doc)
    n = len(prep.enc.ids)
    tags = np.zeros(n, dtype=np.int64)
    for start, end in merge(article.si):
        a, b = prep.enc.tokens_in(start, end)
        if b > a:
            tags[a] = 1
            tags[a + 1:b] = 2
    technique_tags = np.zeros((n, len(TECHNIQUE_IDS)), dtype=np.float32)
    for start, end, technique in article.tc:
        a, b = prep.enc.tokens_in(start, end)
        technique_tags[a:b, TECHNIQUE_IDS.index(technique)] = 1.0
    article.sentence_labels = np.asarray(
        [float(any(s < e2 and s2 < e for s2, e2 in article.si)) for s, e in article.doc.sentences],
        dtype=np.float32)
    identity = np.eye(len(TECHNIQUE_IDS), dtype=np.float32)
    article.targets = Targets(
        token=np.eye(3, dtype=np.float32)[tags], technique=technique_tags, sentence=article.sentence_labels,
        spans=[(s, e) for s, e, _ in article.tc],
        span_probs=identity[[TECHNIQUE_IDS.index(t) for _, _, t in article.tc]].reshape(-1, len(TECHNIQUE_IDS)),
        span_smoothing=0.05)


def merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def trainable_state(net: nn.Module) -> dict[str, torch.Tensor]:
    """Everything but the embeddings, which stay as shipped in the pretrained package."""
    return {k: v.detach().to(torch.float16).contiguous() for k, v in net.state_dict().items()
            if not k.startswith("encoder.embeddings")}


TOKEN_WEIGHTS = (1.0, 2.0, 1.5)  # O, B, I: span tokens count more than the many outside ones


def article_loss(net: PropagandaNet, prep: Prepared, h: torch.Tensor, targets: Targets) -> torch.Tensor:
    """The four heads' losses on one article, against its (gold or soft) targets."""
    weights = torch.tensor(TOKEN_WEIGHTS)
    log_p = torch.log_softmax(net.token_logits(h), -1)
    token = torch.from_numpy(targets.token)
    # Class-weighted cross-entropy, normalised by the targets' total weight (as torch's weighted mean).
    total = -(token * log_p * weights).sum() / (token * weights).sum().clamp(min=1e-6)
    if net.technique_token_head is not None and targets.technique is not None:
        total = total + 4.0 * nn.functional.binary_cross_entropy_with_logits(
            net.technique_token_logits(h), torch.from_numpy(targets.technique),
            pos_weight=torch.full((len(TECHNIQUE_IDS),), 3.0))
    if len(targets.sentence):
        logits = net.sentence_logits(h, prep.sentence_tokens)
        total = total + 0.5 * nn.functional.binary_cross_entropy_with_logits(
            logits, torch.from_numpy(targets.sentence))
    if targets.spans:
        logits = net.span_logits(h, *prep.span_inputs(targets.spans))
        total = total + nn.functional.cross_entropy(logits, torch.from_numpy(targets.span_probs),
                                                    label_smoothing=targets.span_smoothing)
    return total


def losses(net: PropagandaNet, batch: list[LabeledArticle], silver_weight: float = 0.5) -> torch.Tensor:
    states = net.encode_many([a.prep.enc for a in batch])
    total = states[0].new_zeros(())
    for article, h in zip(batch, states, strict=True):
        loss = article_loss(net, article.prep, h, article.targets)
        total = total + (silver_weight * loss if article.silver else loss)
    return total / len(batch)


def fit(net: PropagandaNet, train: list[LabeledArticle], settings: TrainSettings,
        silver: list[LabeledArticle] = ()) -> None:
    encoder_params = [p for n, p in net.named_parameters() if n.startswith("encoder.") and p.requires_grad]
    head_params = [p for n, p in net.named_parameters() if not n.startswith("encoder.")]
    optimizer = torch.optim.AdamW([
        {"params": encoder_params, "lr": settings.encoder_lr},
        {"params": head_params, "lr": settings.head_lr},
    ], weight_decay=0.01)
    per_epoch = len(train) + min(len(silver), settings.silver_per_epoch)
    steps_per_epoch = math.ceil(per_epoch / settings.articles_per_step)
    total_steps = steps_per_epoch * settings.epochs
    warmup = max(1, int(total_steps * settings.warmup))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup) * max(0.0, (total_steps - step) / total_steps))
    rng = random.Random(settings.seed)
    net.train()
    step = 0
    for epoch in range(settings.epochs):
        # Every gold article each epoch, and a different sample of the silver ones.
        order = train + rng.sample(list(silver), min(len(silver), settings.silver_per_epoch))
        rng.shuffle(order)
        started, running = time.time(), 0.0
        for k in range(0, len(order), settings.articles_per_step):
            loss = losses(net, order[k:k + settings.articles_per_step], settings.silver_weight)
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            step += 1
            running += loss.item()
        log.info("epoch %d/%d: loss %.4f, %.0f s", epoch + 1, settings.epochs,
                 running / steps_per_epoch, time.time() - started)
    net.eval()


_WORDS = re.compile(r"\w[\w'’-]*\w|\w")
# Candidate runs for the verifier: every technique's runs of tokens scoring at least 0.15, however
# weak their mean, so that it sees the runs decoding will ask it about.
CANDIDATE_RUNS = DecodeSettings(flc_extent=0.15, flc_min_chars=2, flc_max_gap=1)
STRETCH_WORDS = (1, 1, 2, 2, 3, 4, 6, 8, 12)  # lengths of the random stretches, as words


def verifier_candidates(article: LabeledArticle, technique_probs: np.ndarray, rng: random.Random) -> list:
    """Character spans to teach the verifier on, sorted: the gold technique spans, the token head's
    runs, four random stretches of words per sentence, and each gold span with its edges moved by up
    to two words either way."""
    text = article.doc.text
    spans = {(s, e) for s, e, _ in article.tc}
    spans.update((r.start, r.end) for _, r in technique_runs(article.prep, technique_probs, CANDIDATE_RUNS, 0.0))
    for s0, e0 in article.doc.sentences + ([article.doc.title] if article.doc.title else []):
        words = [(m.start() + s0, m.end() + s0) for m in _WORDS.finditer(text[s0:e0])]
        for _ in range(4 if words else 0):
            a = rng.randrange(len(words))
            b = min(len(words), a + rng.choice(STRETCH_WORDS))
            spans.add((words[a][0], words[b - 1][1]))
    words = [(m.start(), m.end()) for m in _WORDS.finditer(text)]
    starts = [w[0] for w in words]
    for s, e, _ in article.tc:
        a, b = bisect.bisect_left(starts, s), bisect.bisect_left(starts, e)
        for _ in range(2 if words else 0):
            first = min(max(0, a + rng.randint(-2, 2)), len(words) - 1)
            last = min(max(first + 1, b + rng.randint(-2, 2)), len(words))
            spans.add((words[first][0], words[last - 1][1]))
    return sorted(spans)


def verifier_targets(article: LabeledArticle, spans: list[tuple[int, int]]) -> np.ndarray:
    """(n_spans, 14): for each technique, how well the span matches the article's best gold span of it,
    as the mean of the share of the span inside it and the share of it inside the span (1: the same
    span, 0: no overlap), the two sides of the task's precision and recall."""
    targets = np.zeros((len(spans), len(TECHNIQUE_IDS)), dtype=np.float32)
    for j, (s, e) in enumerate(spans):
        for gs, ge, technique in article.tc:
            overlap = min(e, ge) - max(s, gs)
            if overlap > 0:
                k = TECHNIQUE_IDS.index(technique)
                targets[j, k] = max(targets[j, k], 0.5 * (overlap / max(1, e - s) + overlap / max(1, ge - gs)))
    return targets


def quantize_int8(net: PropagandaNet) -> PropagandaNet:
    """The encoder's linear layers in torch's dynamic int8 (a scale per output channel), but the
    ``FLOAT_LAYERS``: what the verifier's training reads its inputs through.

    The detector ran this until it moved to ONNX Runtime's int8 (``detect.runtime``); the recipe keeps
    it, so that a fresh training reproduces the shipped network. torch marks eager-mode quantization
    as deprecated in favour of torchao, and its warning is silenced here only.
    """
    from torch.ao.quantization import per_channel_dynamic_qconfig

    layers = {f"encoder.{name}": per_channel_dynamic_qconfig for name, module in net.encoder.named_modules()
              if isinstance(module, nn.Linear) and name not in FLOAT_LAYERS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(net, layers, dtype=torch.qint8)


def fit_verifier(net: PropagandaNet, train: list[LabeledArticle], settings: TrainSettings) -> None:
    """Give ``net`` a verifier trained on the gold articles, the rest of the network frozen.

    The network is first rounded to the float16 that ships, and its span inputs are read through an
    int8 encoder (torch's; the detector's ONNX Runtime int8 rounds alike but not identically).
    """
    net.load_state_dict({k: v.float() for k, v in trainable_state(net).items()}, strict=False)
    reader = quantize_int8(copy.deepcopy(net).eval())
    rng = random.Random(settings.seed)
    rows, targets = [], []
    with torch.inference_mode():
        for article, states in zip(train, reader.encode_windows([a.prep.enc for a in train]), strict=True):
            spans = verifier_candidates(article, torch.sigmoid(reader.technique_token_logits(states)).numpy(), rng)
            if spans:
                rows.append(reader.span_rows(states, *article.prep.span_inputs(spans)).float())
                targets.append(torch.from_numpy(verifier_targets(article, spans)))
    net.verifiers = None
    if not rows:
        return
    x, y = torch.cat(rows), torch.cat(targets)
    hidden = net.encoder.config.hidden_size
    net.verifiers = nn.ModuleList()
    for member in range(settings.verifier):
        torch.manual_seed(settings.seed + member)
        net.verifiers.append(fit_verifier_head(verifier_head(hidden), x, y, settings.verifier_epochs))
        log.info("verifier member %d/%d trained on %d candidate spans", member + 1, settings.verifier, len(x))


def fit_verifier_head(head: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int) -> nn.Module:
    """One verifier member trained on span inputs ``x`` towards targets ``y`` (binary cross-entropy,
    positives weighted 2), AdamW with linear decay, in batches of 256 drawn from torch's seeded generator."""
    optimizer = torch.optim.AdamW(head.parameters(), lr=1e-3, weight_decay=0.01)
    batch = 256
    steps = epochs * math.ceil(len(x) / batch)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1 - step / steps))
    positive = torch.full((len(TECHNIQUE_IDS),), 2.0)
    head.train()
    for _ in range(epochs):
        order = torch.randperm(len(x))
        for k in range(0, len(x), batch):
            chosen = order[k:k + batch]
            loss = nn.functional.binary_cross_entropy_with_logits(head(x[chosen]), y[chosen], pos_weight=positive)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
    return head.eval()


# The sample of unlabeled news that ``benchmarks/web_flags.py`` shows for judging flags by reading:
# training never reads it, so that the judgement is of articles the model has not seen.
JUDGED_NEWS_SEED = 7
JUDGED_NEWS_ARTICLES = 30


def judged_news(files: list[Path], seed: int = JUDGED_NEWS_SEED, count: int = JUDGED_NEWS_ARTICLES) -> list[Path]:
    """The judged sample of the unlabeled news files (sorted, shuffled with ``seed``, the first ``count``)."""
    files = sorted(files)
    random.Random(seed).shuffle(files)
    return files[:count]


def silver_files(data_dir: Path) -> list[Path]:
    """What self-training labels, in file-name order: the unlabeled news under ``data_dir`` but the
    judged sample, and the PTC's unlabeled development articles (none where a folder is absent)."""
    news = sorted((data_dir / "unlabeled-news").glob("article*.txt"))
    judged = set(judged_news(news))
    dev = sorted((data_dir / "ptc" / "dev-articles").glob("article*.txt"))
    return sorted([f for f in news if f not in judged] + dev, key=lambda f: f.name)


def pseudo_label(teacher, files: list[Path], limit: int | None = None) -> list[LabeledArticle]:
    """Silver articles: unlabeled articles, cleaned as the pipeline cleans them, with the teacher's outputs."""
    from propscan.pipeline import prepare as prepare_article
    from propscan.readers import ptc

    articles = [ptc.read_article(f) for f in files[:limit]]
    silver = []
    for article in articles:
        cleaned, doc = prepare_article(article)
        if cleaned.language not in (None, "en") or not doc.sentences:
            continue
        ((prep, outputs),) = teacher.network_outputs([doc])
        regions = si_regions(prep, outputs, teacher.settings)
        spans = [(r.start, r.end) for r in regions]
        span_probs = outputs.span_probs(spans, "span")
        token, technique, sentence_logits = outputs.token_probs, outputs.technique_token_probs, outputs.sentence_logits
        targets = Targets(token.astype(np.float32), None if technique is None else technique.astype(np.float32),
                          (1 / (1 + np.exp(-sentence_logits))).astype(np.float32), spans,
                          span_probs.astype(np.float32).reshape(len(spans), len(TECHNIQUE_IDS)))
        silver.append(LabeledArticle(article.id, doc, [], [], prep=prep, targets=targets, silver=True))
    return silver


def new_network(settings: TrainSettings) -> PropagandaNet:
    net = PropagandaNet(load_base_encoder(settings.layers))
    for p in net.encoder.embeddings.parameters():
        p.requires_grad = False
    return net


def train_network(train: list[LabeledArticle], settings: TrainSettings, tokenizer,
                  silver: list[Path] = ()) -> tuple[PropagandaNet, int]:
    """A network trained on ``train`` (fixed seeds), and how many silver articles it learned from.

    With ``settings.self_training`` and ``silver`` articles (``silver_files``), a first network (the
    teacher) labels them with the default decoding settings, and a fresh one (the student) is
    trained on the gold and silver articles; the verifier is trained last."""
    from propscan.detect.detector import TrainedDetector

    random.seed(settings.seed)
    np.random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    net = new_network(settings)
    fit(net, train, settings)
    labeled = []
    if settings.self_training and silver:
        # The teacher's regions (the span head's silver spans) come from the default decoding: tuning it
        # would need articles outside the training part, which the cross-validation keeps for scoring.
        labeled = pseudo_label(TrainedDetector(net, tokenizer, DecodeSettings()), list(silver), settings.limit_silver)
        log.info("self-training: the teacher labeled %d unlabeled articles", len(labeled))
        random.seed(settings.seed)  # the student starts from the seeds the teacher started from
        np.random.seed(settings.seed)
        torch.manual_seed(settings.seed)
        net = new_network(settings)
        fit(net, train, settings, labeled)
    if settings.verifier:
        fit_verifier(net, train, settings)
    return net, len(labeled)


def write_network(net: PropagandaNet, out_dir: Path, settings: TrainSettings, name: str = "propscan-minilm",
                  decode: dict | None = None, calibration: dict | None = None) -> dict:
    """Write ``net``'s weights and its configuration (the default decoding unless ``decode`` is given,
    and ``calibration`` when there is one) into ``out_dir``; return the configuration."""
    from safetensors.torch import save_file

    save_file(trainable_state(net), str(out_dir / WEIGHTS_FILE))
    config = {"name": name, "layers": settings.layers, "token_techniques": True,
              "verifier": len(net.verifiers) if net.verifiers is not None else 0,
              "decode": decode or DecodeSettings().model_dump(), "train_settings": asdict(settings),
              "techniques": list(TECHNIQUE_IDS)}
    if calibration:
        config["calibration"] = calibration
    (out_dir / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    write_int8_encoder(out_dir)
    return config


RECIPE_EXEMPT = ("limit_articles", "limit_silver")  # training settings that do not change the recipe


def train_propaganda(data_dir: Path, out_dir: Path, settings: TrainSettings | None = None,
                     silver: list[Path] = (), tuned: Path | None = None) -> dict:
    """Train the network on every labeled article under ``data_dir`` and write a model folder into
    ``out_dir``; return its figures.

    The decoding settings, the span calibration and the figures come from the cross-validated run of
    the same recipe, as recorded in ``tuned`` (the ``propaganda-figures.json`` that ``propscan train
    --cv`` writes beside its final network, and that ships), since no article is left to tune them on.
    Without ``tuned`` the model decodes with the default settings, uncalibrated, and has no figures.
    """

    from propscan.errors import PropscanError
    from propscan.training.card import write_card

    settings = settings or TrainSettings()
    recorded = json.loads(tuned.read_text()) if tuned is not None else None
    if recorded is not None:
        if "decode" not in recorded or "summary" not in recorded:
            raise PropscanError("holds no cross-validated choices (run propscan train --cv first)", source=str(tuned))
        wanted = {k: v for k, v in asdict(settings).items() if k not in RECIPE_EXEMPT}
        found = {k: v for k, v in recorded.get("train_settings", {}).items() if k not in RECIPE_EXEMPT}
        if wanted != found:
            changed = sorted(k for k in wanted if found.get(k) != wanted[k])
            raise PropscanError(f"was cross-validated with other training settings ({', '.join(changed)}); "
                                "train with those, or run propscan train --cv with these", source=str(tuned))
    started = time.time()
    corpus = load_corpus(data_dir)
    if settings.limit_articles:
        corpus = corpus[: settings.limit_articles]
    tokenizer = load_tokenizer()
    for article in corpus:
        attach_labels(tokenizer, article)
    log.info("training on all %d labeled articles", len(corpus))
    net, silver_count = train_network(corpus, settings, tokenizer, silver)
    out_dir.mkdir(parents=True, exist_ok=True)
    config = write_network(net, out_dir, settings, decode=(recorded or {}).get("decode"),
                           calibration=(recorded or {}).get("calibration_config"))
    figures = {**(recorded or {}), "training_seconds": round(time.time() - started, 1),
               "train_articles": len(corpus), "silver_articles": silver_count, "train_settings": asdict(settings),
               "training_threads": torch.get_num_threads()}
    (out_dir / "propaganda-figures.json").write_text(json.dumps(figures, indent=2, default=float) + "\n")
    if recorded is not None:
        write_card(figures, config, out_dir)
    return figures


def measure_speed(model_dir: Path, articles_dir: Path, limit: int = 75) -> dict:
    """Articles per second of the full analysis with the model in ``model_dir`` (loading apart)."""
    from propscan.clean import load_language_profiles
    from propscan.detect.detector import TrainedDetector
    from propscan.pipeline import analyze_many
    from propscan.readers import ptc

    started = time.time()
    detector = TrainedDetector.load(model_dir)
    load_language_profiles()
    load_seconds = time.time() - started
    articles = ptc.read_articles(articles_dir)[:limit]
    for _ in analyze_many(articles[:2], detector=detector):  # loads the headline checker
        pass
    started = time.time()
    for _ in analyze_many(articles, detector=detector):
        pass
    elapsed = time.time() - started
    return {"articles": len(articles), "threads": torch.get_num_threads(), "load_seconds": load_seconds,
            "articles_per_second": len(articles) / elapsed, "ms_per_article": 1000 * elapsed / len(articles)}
