"""The cross-validated evaluation of the propaganda model: every figure out-of-fold, resumable, shareable.

All labeled articles are split by article into K folds (seeded shuffle, near-equal sizes), written to
``OUT/folds.json`` before anything else. Then stages, each finished by a file written last (through
a temporary file and a rename, so a run killed mid-stage leaves none):

- **train fold k** (``OUT/fold-k/``): a network trained on the other K-1 folds by
  ``propaganda.train_network`` (the recipe that ships), nothing tuned inside. A fold with its
  ``done.json`` is never trained again; one without is trained from scratch.
- **train final** (``OUT/final/``): the same recipe on every labeled article: the network that ships.
- **evaluate** (``OUT/evaluate/``): each fold's network, loaded in int8 as the detector loads it,
  reads the articles of its own fold, which it never saw; these outputs are pooled. For each fold k,
  the decoding is tuned (``tuning.tune``) on the pooled outputs of the other folds and scored on fold
  k (``tuning.evaluate``), so no tuning decision uses the articles it is scored on; the decoding the
  final network ships with is tuned on all of them. The span calibration is fitted (and scored
  out-of-fold) on the candidates each fold's own tuned network finds. The figures, per fold and as
  mean and standard deviation across folds, go to ``OUT/cv-figures.json``; ``OUT/final`` then gets
  the decoding, the calibration, the figures and its model card, a model folder ready to ship.

Runs of the same command on the same folder, started side by side (one torch thread each), share the
work: a stage is held by one run through a lock (``claimed``) and the others go on to the next, then
wait for it. Retraining a fold removes every evaluation, since each read that fold's network, so the
figures never mix networks of two runs. A run folder holds one K, seed, data set and recipe: another
is refused rather than mixed in.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import random
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from propscan.detect.decode import DecodeSettings
from propscan.detect.detector import CONFIG_FILE
from propscan.errors import PropscanError
from propscan.taxonomy import TECHNIQUE_IDS
from propscan.training.propaganda import (
    LabeledArticle,
    TrainSettings,
    attach_labels,
    load_corpus,
    train_network,
    write_network,
)

log = logging.getLogger("propscan.train")

FOLDS_FILE = "folds.json"
DONE_FILE = "done.json"
FIGURES_FILE = "cv-figures.json"
EVALUATED_FILE = "evaluate.done.json"
FIGURES_FILE_SHIPPED = "propaganda-figures.json"  # the figures beside a model folder
EVALUATIONS_DIR = "evaluate"  # each fold's figures and calibration candidates, as it is scored
# The figures summarised across folds, as paths into ``tuning.evaluate``'s figures (plus the Spearman).
SUMMARY = {
    "si_f1": ("si", "f1"), "si_precision": ("si", "precision"), "si_recall": ("si", "recall"),
    "tc_f1": ("tc", "f1"),
    "flc_f1": ("flc", "f1"), "flc_precision": ("flc", "precision"), "flc_recall": ("flc", "recall"),
    "sentence_f1": ("sentence_f1",), "article_mae": ("article_mae",), "spearman": ("spearman",),
}


def make_folds(article_ids: list[str], k: int, seed: int) -> list[list[str]]:
    """The article ids in ``k`` near-equal folds: sorted, shuffled with ``seed``, dealt in turn."""
    if k < 2:
        raise PropscanError(f"--cv needs at least 2 folds, not {k}")
    if len(article_ids) < k:
        raise PropscanError(f"{len(article_ids)} labeled articles cannot make {k} folds")
    ids = sorted(article_ids)
    random.Random(seed).shuffle(ids)
    return [sorted(ids[i::k]) for i in range(k)]


def write_atomically(path: Path, data: dict) -> None:
    """``data`` as JSON at ``path``, which either appears whole or not at all."""
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # runs side by side write their own
    temporary.write_text(json.dumps(data, indent=2, default=float) + "\n")
    os.replace(temporary, path)


def run_record(folds: list[list[str]], settings: TrainSettings, self_training: bool) -> dict:
    return {"k": len(folds), "seed": settings.seed, "articles": sum(len(f) for f in folds),
            "self_training": self_training, "settings": asdict(settings), "folds": folds}


def check_or_write_folds(out_dir: Path, record: dict) -> None:
    """Write the run's folds, or check that the run already in ``out_dir`` is this one."""
    path = out_dir / FOLDS_FILE
    if not path.is_file():
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomically(path, record)
        return
    found = json.loads(path.read_text())
    if found == json.loads(json.dumps(record, default=float)):
        return
    if (found.get("k"), found.get("seed")) == (record["k"], record["seed"]) and found.get("folds") != record["folds"]:
        what = f"other articles ({found.get('articles')} then, {record['articles']} now)"
    elif (found.get("k"), found.get("seed")) != (record["k"], record["seed"]):
        what = (f"K={found.get('k')}, seed {found.get('seed')} over {found.get('articles')} articles, not "
                f"K={record['k']}, seed {record['seed']} over {record['articles']}")
    else:
        changed = sorted(k for k in record["settings"] if found["settings"].get(k) != record["settings"][k])
        what = "other training settings (" + ", ".join(changed or ["self-training"]) + ")"
    raise PropscanError(f"holds a cross-validation run with {what}; use another --out or remove it",
                        source=str(out_dir))


FINAL = "final"  # the stage training the network on every labeled article, the one that ships


def fold_dir(out_dir: Path, k: int | str) -> Path:
    return out_dir / (FINAL if k == FINAL else f"fold-{k}")


@contextlib.contextmanager
def claimed(out_dir: Path, stage: str, wait: bool):
    """Hold ``stage`` of the run (a folder's name in it) for this process: yields True once held, or False (without
    waiting, unless ``wait``) when another process holds it. Runs of the same command on the same
    folder, started side by side (one torch thread each, say), so share the folds. The hold is an
    advisory lock on ``OUT/<stage>.lock``, which the system drops when its process ends, even when killed."""
    import fcntl

    with open(out_dir / f"{stage}.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def train_fold(out_dir: Path, k: int | str, corpus: list[LabeledArticle], held: set[str], settings: TrainSettings,
               tokenizer, silver: list[Path]) -> None:

    directory = fold_dir(out_dir, k)
    if directory.exists():  # a fold without its marker is redone from scratch
        shutil.rmtree(directory)
    if k != FINAL:
        # Every fold's evaluation read this fold's outputs (its own, or in the others' tuning): all are stale.
        (out_dir / EVALUATED_FILE).unlink(missing_ok=True)
        shutil.rmtree(out_dir / EVALUATIONS_DIR, ignore_errors=True)
    directory.mkdir(parents=True)
    train = [a for a in corpus if a.id not in held]
    log.info("fold %s: training on %d articles", k, len(train))
    started = time.time()
    net, silver_count = train_network(train, settings, tokenizer, silver)
    write_network(net, directory, settings, "propscan-minilm" if k == FINAL else f"propscan-minilm-cv-fold-{k}")
    write_atomically(directory / DONE_FILE, {
        "fold": k, "train_articles": len(train), "held_out": sorted(held), "silver_articles": silver_count,
        "seconds": round(time.time() - started, 1), "threads": torch.get_num_threads()})


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rank correlation, None where it is undefined (fewer than two articles, a constant side)."""
    from scipy.stats import spearmanr

    if len(x) < 2 or len(set(x)) < 2 or len(set(y)) < 2:
        return None
    value = float(spearmanr(x, y)[0])
    return None if math.isnan(value) else value


def fold_figures(outputs, indices: list[int], settings: DecodeSettings, sentence_threshold: float) -> dict:
    from propscan.detect.decode import sentence_probs
    from propscan.training.tuning import evaluate, flc_labels

    figures = evaluate(outputs, indices, settings, sentence_threshold)
    scores, shares = [], []
    for i in indices:
        labels = outputs.dev[i].sentence_labels
        if len(labels):
            scores.append(float(sentence_probs(outputs.outputs[i], settings).mean()))
            shares.append(float(labels.mean()))
    figures["spearman"] = spearman(scores, shares)
    gold, predicted = flc_labels(outputs, indices, settings)
    figures["technique_counts"] = {t: {"gold": sum(g[1] == t for g in gold),
                                       "predicted": sum(x[1] == t for x in predicted)} for t in TECHNIQUE_IDS}
    return figures


def summarize(per_fold: list[dict]) -> dict:
    """Mean and standard deviation (sample, ddof 1) across folds of each figure in ``SUMMARY``."""
    summary = {}
    for name, path in SUMMARY.items():
        values = []
        for figures in per_fold:
            value = figures
            for key in path:
                value = value[key]
            if value is not None:
                values.append(float(value))
        summary[name] = {"mean": float(np.mean(values)) if values else None,
                         "sd": float(np.std(values, ddof=1)) if len(values) > 1 else None,
                         "folds": len(values)}
    return summary


SHIPPED = "shipped"  # the evaluation job that tunes the decoding of the shipped network


def evaluate_folds(out_dir: Path, corpus: list[LabeledArticle], folds: list[list[str]], tokenizer) -> dict:
    """Each fold tuned on the others' out-of-fold outputs and scored on its own, and the shipped
    decoding tuned on all of them; then the calibration fitted on every fold's candidates.

    Each job's result is kept in ``OUT/evaluate/<job>.json`` (written whole or not at all), so a rerun
    goes on from the jobs not yet done, and runs side by side share the jobs as they share the folds
    (``claimed``). The network outputs are computed again on a rerun (one pass over the articles,
    minutes), as they hold token states too large to keep."""
    from propscan.detect.detector import TrainedDetector
    from propscan.training.calibration import Candidate, candidates, fit_candidates
    from propscan.training.export import ensure_int8_encoder
    from propscan.training.tuning import DevOutputs, tune

    started = time.time()
    by_id = {a.id: a for a in corpus}
    detectors, parts = [], []
    for k, fold in enumerate(folds):
        ensure_int8_encoder(fold_dir(out_dir, k))  # a fold trained before the ONNX encoder shipped has none
        detector = TrainedDetector.load(fold_dir(out_dir, k))  # int8, as shipped
        detectors.append(detector)
        parts.append(DevOutputs(detector.net, [by_id[i] for i in fold]))
    outputs = DevOutputs.pooled(parts)
    bounds = np.cumsum([0] + [len(f) for f in folds])
    indices = [list(range(bounds[k], bounds[k + 1])) for k in range(len(folds))]
    every = list(range(int(bounds[-1])))
    (out_dir / EVALUATIONS_DIR).mkdir(exist_ok=True)

    def run(job: int | str) -> dict:
        if job == SHIPPED:
            # The decoding the shipped network (trained on every fold) runs: tuned on every article's
            # out-of-fold outputs. Its figures would be in-sample, so none are kept.
            settings, threshold = tune(outputs, every)
            log.info("evaluate: the shipped decoding tuned on %d articles' out-of-fold outputs", len(every))
            return {"decode": settings.model_copy(update={"sentence_threshold": threshold}).model_dump()}
        others = [i for j, part in enumerate(indices) if j != job for i in part]
        settings, threshold = tune(outputs, others)
        settings = settings.model_copy(update={"sentence_threshold": threshold})
        figures = fold_figures(outputs, indices[job], settings, threshold)
        figures.update(fold=job, articles=len(indices[job]), decode=settings.model_dump())
        log.info("evaluate fold %d: %d articles, SI F1 %.3f, FLC F1 %.3f", job, len(indices[job]),
                 figures["si"]["f1"], figures["flc"]["f1"])
        # The calibration's candidates: the spans this fold's network finds in its own articles,
        # decoded with the settings tuned without them, and scored uncalibrated.
        detector = TrainedDetector(detectors[job].net, tokenizer, settings)
        found = candidates(detector, [(i, by_id[i].doc) for i in folds[job]], gold_tc(by_id, folds[job]))
        return {"figures": figures, "candidates": [asdict(row) for row in found]}

    jobs = [*range(len(folds)), SHIPPED]
    for wait in (False, True):
        for job in jobs:
            path = out_dir / EVALUATIONS_DIR / (f"fold-{job}.json" if job != SHIPPED else f"{SHIPPED}.json")
            with claimed(out_dir, f"evaluate-{job}", wait) as mine:
                if mine and not path.is_file():
                    write_atomically(path, run(job))
                elif mine and not wait:
                    log.info("evaluate %s: done, skipped", SHIPPED if job == SHIPPED else f"fold {job}")
    per_fold, rows = [], []
    for k in range(len(folds)):
        result = json.loads((out_dir / EVALUATIONS_DIR / f"fold-{k}.json").read_text())
        per_fold.append(result["figures"])
        for row in result["candidates"]:  # indexed within the fold: shift to the pooled articles
            rows.append(Candidate(**{**row, "article": row["article"] + int(bounds[k])}))
    ids = [i for fold in folds for i in fold]
    try:
        calibrator, calibration = fit_candidates(rows, len(ids), gold_tc(by_id, ids))
        calibration_config = calibrator.to_config()
    except ValueError as e:  # too few spans, as in tiny runs
        calibration, calibration_config = {"skipped": str(e)}, None
    shipped = json.loads((out_dir / EVALUATIONS_DIR / f"{SHIPPED}.json").read_text())
    counts = {t: {side: sum(f["technique_counts"][t][side] for f in per_fold) for side in ("gold", "predicted")}
              for t in TECHNIQUE_IDS}
    return {"k": len(folds), "articles": len(ids), "summary": summarize(per_fold), "per_fold": per_fold,
            "technique_counts": counts, "calibration": calibration, "calibration_config": calibration_config,
            "decode": shipped["decode"], "evaluate_seconds": round(time.time() - started, 1)}


def complete_final(out_dir: Path, figures: dict) -> None:
    """Make ``OUT/final`` a model folder like the shipped one, once both its network and the evaluation
    are done: the decoding tuned out-of-fold and the calibration in its configuration, the
    cross-validated figures beside it and the model card written from them. Copying the folder's files
    into ``propscan/weights`` ships it."""
    from propscan.training.card import write_card
    from propscan.training.export import ensure_int8_encoder

    directory = fold_dir(out_dir, FINAL)
    if not (directory / DONE_FILE).is_file():
        return
    done = json.loads((directory / DONE_FILE).read_text())
    config = json.loads((directory / CONFIG_FILE).read_text())
    config["decode"] = figures["decode"]
    if figures.get("calibration_config"):
        config["calibration"] = figures["calibration_config"]
    (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    record = {**figures, "training_seconds": done["seconds"], "train_articles": done["train_articles"],
              "silver_articles": done["silver_articles"], "train_settings": config["train_settings"],
              "training_threads": done.get("threads")}
    (directory / FIGURES_FILE_SHIPPED).write_text(json.dumps(record, indent=2, default=float) + "\n")
    ensure_int8_encoder(directory)
    write_card(record, config, directory)


def gold_tc(by_id: dict[str, LabeledArticle], ids: list[str]) -> list[tuple[str, str, int, int]]:
    return [(i, t, s, e) for i in ids for s, e, t in by_id[i].tc]


def cross_validate(data_dir: Path, out_dir: Path, k: int = 5, settings: TrainSettings | None = None,
                   silver: list[Path] = (), evaluate: bool = True) -> dict | None:
    """Run (or resume) the K-fold cross-validated evaluation into ``out_dir``; return its figures.

    ``data_dir`` is a PTC folder (train-articles and the two label folders); ``silver`` the unlabeled
    articles for self-training (``silver_files``; skipped when empty or when ``settings.self_training`` is off). With
    ``evaluate`` off, only the folds are trained (and None returned).
    """
    from propscan.detect.encoder import load_tokenizer

    settings = settings or TrainSettings()
    if not (data_dir / "train-articles").is_dir():
        raise PropscanError("no train-articles folder here", source=str(data_dir))
    corpus = load_corpus(data_dir)
    if settings.limit_articles:
        corpus = corpus[: settings.limit_articles]
    folds = make_folds([a.id for a in corpus], k, settings.seed)
    self_training = settings.self_training and bool(silver)
    check_or_write_folds(out_dir, run_record(folds, settings, self_training))
    tokenizer = load_tokenizer()
    for article in corpus:
        attach_labels(tokenizer, article)
    silver = list(silver) if self_training else []
    # The first pass trains every stage no other run is training (see ``claimed``); later passes wait
    # for those and train any that run left unfinished: the folds before the evaluation, which reads
    # them, and the final network (which it does not read) after it.

    def train_stages(stages: list[tuple[int | str, list[str]]], wait: bool) -> None:
        for fold, held in stages:
            with claimed(out_dir, fold_dir(out_dir, fold).name, wait) as mine:
                if not mine:
                    log.info("fold %s: being trained by another run, left to it", fold)
                elif (fold_dir(out_dir, fold) / DONE_FILE).is_file():
                    if not wait:
                        log.info("fold %s: done, skipped", fold)
                else:
                    train_fold(out_dir, fold, corpus, set(held), settings, tokenizer, silver)

    train_stages([*enumerate(folds), (FINAL, [])], wait=False)
    train_stages(list(enumerate(folds)), wait=True)
    figures = None
    if evaluate:
        if (out_dir / EVALUATED_FILE).is_file() and (out_dir / FIGURES_FILE).is_file():
            log.info("evaluate: done, skipped")
            figures = json.loads((out_dir / FIGURES_FILE).read_text())
        else:
            log.info("evaluate: tuning and scoring %d folds out-of-fold", k)
            figures = evaluate_folds(out_dir, corpus, folds, tokenizer)
            with claimed(out_dir, "evaluate", wait=True):  # runs side by side finish together
                write_atomically(out_dir / FIGURES_FILE, figures)
                write_atomically(out_dir / EVALUATED_FILE, {"seconds": figures["evaluate_seconds"]})
    train_stages([(FINAL, [])], wait=True)
    if figures is None:
        return None
    with claimed(out_dir, "evaluate", wait=True):
        complete_final(out_dir, figures)
    return figures
