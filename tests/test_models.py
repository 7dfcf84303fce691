"""The trained model's code paths: a tiny training run, loading, valid offsets, determinism."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from propscan import analyze
from propscan.detect.detector import CONFIG_FILE, WEIGHTS_FILE, TrainedDetector, shipped_model_exists
from propscan.taxonomy import TECHNIQUE_IDS
from propscan.training.propaganda import TrainSettings, train_propaganda

FIXTURES = Path(__file__).parent / "fixtures"
PTC = FIXTURES / "ptc"  # six short made-up articles with their labels, in the corpus's layout
UNLABELED = FIXTURES / "unlabeled"  # two made-up news articles without labels
SAMPLE = FIXTURES / "scraped-article.txt"  # made up, with the furniture of a scraped page


def small_ptc(tmp_path: Path, n: int = 6) -> Path:
    """A PTC folder with the first ``n`` made-up labeled articles, in the corpus's own layout."""
    root = tmp_path / "ptc"
    for folder in ("train-articles", "train-labels-task1-span-identification",
                   "train-labels-task2-technique-classification"):
        (root / folder).mkdir(parents=True)
    for path in sorted((PTC / "train-articles").glob("article*.txt"))[:n]:
        shutil.copy(path, root / "train-articles")
        article_id = path.stem[len("article"):]
        for folder in ("train-labels-task1-span-identification", "train-labels-task2-technique-classification"):
            for label in (PTC / folder).glob(f"article{article_id}.*"):
                shutil.copy(label, root / folder)
    return root


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("tiny")
    silver = tmp / "silver"
    silver.mkdir()
    for path in sorted(UNLABELED.glob("article*.txt"))[:2]:
        shutil.copy(path, silver)
    settings = TrainSettings(layers=1, epochs=1, seed=3, self_training=True)
    figures = train_propaganda(small_ptc(tmp), tmp / "model", settings,
                               silver=sorted(silver.glob("article*.txt")))
    return tmp / "model", figures


def test_tiny_training_on_every_article_writes_loadable_files_with_the_default_decoding(tiny_model):
    from propscan.detect.decode import DecodeSettings

    model_dir, figures = tiny_model
    assert shipped_model_exists(model_dir)
    config = json.loads((model_dir / CONFIG_FILE).read_text())
    assert config["layers"] == 1 and config["techniques"] == list(TECHNIQUE_IDS)
    assert figures["train_articles"] == 6  # no article held back: tuning comes from a cross-validated run
    # Without a cross-validated run's choices: the default decoding, no calibration, no figures.
    assert config["decode"] == DecodeSettings().model_dump() and "calibration" not in config
    assert "summary" not in figures and not (model_dir / "MODEL_CARD.md").exists()
    assert (model_dir / WEIGHTS_FILE).stat().st_size > 0


def test_self_training_labels_the_unlabeled_articles(tiny_model):
    _, figures = tiny_model
    assert figures["silver_articles"] == 2  # both unlabeled articles are English news


def test_silver_targets_are_probabilities_over_the_articles_own_tokens(tmp_path):
    from propscan.training.propaganda import pseudo_label

    silver = tmp_path / "silver"
    silver.mkdir()
    shutil.copy(sorted(UNLABELED.glob("article*.txt"))[0], silver)
    teacher = TrainedDetector.load(quantize=False)
    (article,) = pseudo_label(teacher, sorted(silver.glob("article*.txt")))
    targets, n = article.targets, len(article.prep.enc.ids)
    assert article.silver
    assert targets.token.shape == (n, 3)
    assert abs(float(targets.token.sum(1).mean()) - 1.0) < 1e-4
    assert targets.technique.shape == (n, len(TECHNIQUE_IDS))
    assert targets.sentence.shape == (len(article.doc.sentences),)
    assert ((targets.sentence >= 0) & (targets.sentence <= 1)).all()
    assert targets.span_probs.shape == (len(targets.spans), len(TECHNIQUE_IDS))
    for start, end in targets.spans:
        assert 0 <= start < end <= len(article.doc.text)


def test_trained_detector_output_is_valid_and_deterministic(tiny_model):
    model_dir, _ = tiny_model
    detector = TrainedDetector.load(model_dir)
    first = analyze(SAMPLE, detector=detector)
    second = analyze(SAMPLE, detector=TrainedDetector.load(model_dir))
    assert first.model_dump() == second.model_dump()
    assert len(first.sentences) > 10
    for span in first.spans:
        assert first.text[span.start:span.end] == span.text and span.technique in TECHNIQUE_IDS
        assert 0.0 <= span.confidence <= 1.0
    for sentence in first.sentences:
        assert 0.0 <= sentence.score <= 1.0
    assert first.score == pytest.approx(sum(s.score for s in first.sentences) / len(first.sentences))


def test_classify_ranks_every_technique(tiny_model):
    from propscan.training.propaganda import as_input

    detector = TrainedDetector.load(tiny_model[0])
    text = SAMPLE.read_text(encoding="utf-8")
    ranked = detector.classify(as_input(text), [(16, 26), (0, 63)])
    assert len(ranked) == 2
    for options in ranked:
        assert sorted(t for t, _ in options) == sorted(TECHNIQUE_IDS)
        probabilities = [p for _, p in options]
        assert probabilities == sorted(probabilities, reverse=True)
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-3)


def test_train_command_refuses_a_folder_without_the_corpus(tmp_path):
    from typer.testing import CliRunner

    from propscan.cli import app

    result = CliRunner().invoke(app, ["train", "--data", str(tmp_path), "--out", str(tmp_path / "m"),
                                      "--only", "propaganda"])
    assert result.exit_code != 0
    assert "ptc/train-articles" in result.output and "Traceback" not in result.output


def test_a_span_repeated_often_enough_is_ranked_repetition_first():
    import numpy as np

    from propscan.detect.decode import DecodeSettings, rank_techniques

    p = np.full(len(TECHNIQUE_IDS), 0.01)
    p[TECHNIQUE_IDS.index("Loaded_Language")] = 0.8
    settings = DecodeSettings(repetition_count=4)
    repetition = TECHNIQUE_IDS.index("Repetition")
    assert rank_techniques(p, 3, settings)[0] == TECHNIQUE_IDS.index("Loaded_Language")
    ranked = rank_techniques(p, 4, settings)
    assert ranked[0] == repetition and ranked[1] == TECHNIQUE_IDS.index("Loaded_Language")
    assert sorted(ranked) == list(range(len(TECHNIQUE_IDS)))


def test_span_scores_lean_on_the_sentence_only_as_far_as_the_blend_weight_says():
    import numpy as np

    from propscan.detect.decode import DecodeSettings, token_scores
    from propscan.detect.encoder import load_tokenizer
    from propscan.detect.prepare import prepare
    from propscan.training.propaganda import as_input

    doc = as_input("Headline here\n\nA calm sentence. A shrill, disgraceful sentence!")
    prep = prepare(load_tokenizer(), doc)
    p = np.full(len(prep.enc.ids), 0.5)
    assert len(doc.sentences) == 3  # the headline is a sentence too
    scores = np.asarray([0.5, 1e-9, 1 - 1e-9])  # headline undecided, then surely clean, then surely not
    assert np.array_equal(token_scores(prep, p, scores, DecodeSettings(sentence_weight=0.0)), p)
    blended = token_scores(prep, p, scores, DecodeSettings(sentence_weight=0.5))
    (a0, b0), (a1, b1), (a2, b2) = prep.sentence_tokens
    assert np.allclose(blended[a0:b0], 0.5)
    assert (blended[a1:b1] < 0.01).all() and (blended[a2:b2] > 0.7).all()


def test_technique_spans_reach_down_to_the_extent_and_weak_runs_are_dropped():
    import numpy as np

    from propscan.detect.decode import decode_runs
    from propscan.detect.encoder import load_tokenizer
    from propscan.detect.prepare import prepare
    from propscan.training.propaganda import as_input

    text = "Headline here\n\nThey are a corrupt and utterly shameless gang of liars. It rained on Tuesday in town."
    prep = prepare(load_tokenizer(), as_input(text))
    p = np.full(len(prep.enc.ids), 0.05)
    core = prep.enc.tokens_in(text.index("utterly"), text.index(" gang"))
    edges = prep.enc.tokens_in(text.index("corrupt"), text.index(" of liars"))
    weak = prep.enc.tokens_in(text.index("rained"), text.index(" in town"))
    p[edges[0]:edges[1]] = 0.3
    p[core[0]:core[1]] = 0.9
    p[weak[0]:weak[1]] = 0.3

    def found(**extent):
        return [text[r.start:r.end] for r in decode_runs(prep, p, 0.5, 0, 2, **extent)]

    assert found() == found(extent=None) == ["utterly shameless"]
    assert found(extent=0.2) == ["corrupt and utterly shameless gang"]  # mean 0.6: kept, edges included
    assert all("rained" not in span for span in found(extent=0.2))  # mean 0.3 < 0.5: dropped


def test_the_encoder_runs_in_onnx_runtime_int8_per_channel_but_the_wide_range_layer(tiny_model):
    import numpy as np
    import onnx
    import torch

    from propscan.detect.prepare import prepare
    from propscan.detect.runtime import ENCODER_FILE, OnnxEncoder
    from propscan.training.propaganda import as_input

    graph = onnx.load(str(tiny_model[0] / ENCODER_FILE)).graph
    assert "MatMulInteger" in {node.op_type for node in graph.node}
    kept_float = [node.name for node in graph.node if node.op_type == "MatMul" and "layer.0/output/dense" in node.name]
    assert len(kept_float) == 1  # in FLOAT_LAYERS
    scales = [init for init in graph.initializer if init.name.endswith("_scale")]
    assert scales and all(len(init.dims) == 1 and init.dims[0] > 1 for init in scales)  # one per output channel
    assert all(30522 not in init.dims for init in graph.initializer)  # the word embeddings stay in torch

    detector = TrainedDetector.load(tiny_model[0])
    assert isinstance(detector.net.encoder, OnnxEncoder)
    assert type(detector.net.token_head) is torch.nn.Linear  # heads stay in float32
    float32 = TrainedDetector.load(tiny_model[0], quantize=False)
    (enc,) = [prepare(detector.tokenizer, as_input(SAMPLE.read_text(encoding="utf-8"))).enc]
    with torch.inference_mode():
        (int8,), (exact,) = detector.net.encode_windows([enc]), float32.net.encode_windows([enc])
    cosine = torch.nn.functional.cosine_similarity(int8, exact, dim=1).numpy()
    assert int8.shape == exact.shape and float(np.mean(cosine)) > 0.99


def test_an_articles_result_does_not_depend_on_what_it_is_analyzed_with(tiny_model):
    from propscan.training.propaganda import as_input

    detector = TrainedDetector.load(tiny_model[0])
    sample = as_input(SAMPLE.read_text(encoding="utf-8"))
    other = as_input(sorted((PTC / "train-articles").glob("article*.txt"))[0].read_text(encoding="utf-8"))
    alone = detector.detect([sample])[0]
    together = detector.detect([other, sample])[1]
    assert alone == together


def test_spans_end_on_whole_words_hyphens_and_apostrophes_included():
    import numpy as np

    from propscan.detect.decode import decode_runs
    from propscan.detect.encoder import load_tokenizer
    from propscan.detect.prepare import prepare
    from propscan.training.propaganda import as_input

    text = "Headline here\n\nIt betrays every hard-working family and the nation's pride - again."
    prep = prepare(load_tokenizer(), as_input(text))
    p = np.zeros(len(prep.enc.ids))
    for word in ("hard", "nation"):
        a, b = prep.enc.tokens_in(text.index(word), text.index(word) + len(word))
        p[a:b] = 0.9
    assert [text[r.start:r.end] for r in decode_runs(prep, p, 0.5, 0, 2)] == ["hard-working", "nation's"]


def test_windows_encoded_in_parallel_equal_windows_encoded_one_by_one(tiny_model):
    import torch

    from propscan.detect.prepare import prepare
    from propscan.training.propaganda import as_input

    detector = TrainedDetector.load(tiny_model[0])
    texts = [SAMPLE.read_text(encoding="utf-8")] + [
        path.read_text(encoding="utf-8") for path in sorted((PTC / "train-articles").glob("article*.txt"))[:2]]
    encoded = [prepare(detector.tokenizer, as_input(text)).enc for text in texts]
    assert sum(len(e.windows) for e in encoded) > 3
    threads = torch.get_num_threads()
    with torch.inference_mode():
        parallel = detector.net.encode_windows(encoded, workers=3)
        serial = detector.net.encode_windows(encoded, workers=1)
    assert torch.get_num_threads() == threads  # restored
    for p, s, e in zip(parallel, serial, encoded, strict=True):
        assert p.shape == (len(e.ids), detector.net.encoder.config.hidden_size)
        assert torch.equal(p, s)


def test_the_span_head_vote_keeps_runs_it_backs_and_drops_runs_it_doubts():
    import numpy as np

    from propscan.detect.base import Region
    from propscan.detect.decode import DecodeSettings, vote, vote_floor

    settings = DecodeSettings(flc_source="tokens", flc_threshold=0.4, flc_extent=0.15, flc_span_weight=0.3)
    name_calling, doubt = TECHNIQUE_IDS.index("Name_Calling,Labeling"), TECHNIQUE_IDS.index("Doubt")
    backed = Region(0, 7, 0.36)  # below the threshold alone; the span head is sure of its technique
    doubted = Region(10, 30, 0.45)  # above it alone; the span head thinks it is another technique
    probs = np.full((2, len(TECHNIQUE_IDS)), 0.01)
    probs[0, name_calling] = 0.9
    probs[1, name_calling], probs[1, doubt] = 0.8, 0.05
    spans = vote([(name_calling, backed), (doubt, doubted)], probs, settings)
    assert [(s.start, s.technique) for s in spans] == [(0, "Name_Calling,Labeling")]
    assert spans[0].confidence == round(0.36 ** 0.7 * 0.9 ** 0.3, 4)
    # No run under the floor can reach the threshold, whatever the span head says.
    assert vote_floor(settings) ** 0.7 * 1.0 ** 0.3 == pytest.approx(0.4)
    assert vote_floor(DecodeSettings(flc_threshold=0.4)) == 0.4


def test_repeat_counts_are_whole_words_and_do_not_overlap():
    from propscan.detect.network import normalize, repeat_count

    text = normalize("Lock her up! LOCK HER UP! Padlock her up. lock her up lock her up")
    assert repeat_count("lock her up", text) == 4  # not inside "padlock"; case and punctuation ignored
    assert repeat_count("a a", "a a a a") == 2 and repeat_count("a", "a a") == 2
    assert repeat_count("!!", text) == 0


def test_span_inputs_in_one_batch_match_each_span_alone():
    import numpy as np

    from propscan.detect.encoder import load_tokenizer
    from propscan.detect.prepare import prepare
    from propscan.training.propaganda import as_input

    text = SAMPLE.read_text(encoding="utf-8")
    prep = prepare(load_tokenizer(), as_input(text))
    spans = [(0, 10), (text.index("puppet"), text.index("puppet") + 6), (len(text) - 3, len(text)), (5, 400)]
    tokens, contexts, features = prep.span_inputs(spans)
    for k, (start, end) in enumerate(spans):
        one = prep.span_inputs([(start, end)])
        assert (tokens[k], contexts[k]) == (one[0][0], one[1][0])
        assert np.array_equal(features[k], one[2][0])
        a, b = prep.enc.tokens_in(start, end)
        assert tokens[k][0] == min(a, len(prep.enc.ids) - 1) and tokens[k][1] >= tokens[k][0] + 1
        # The context is the sentence (or headline) that holds most of the span, the first if two tie.
        overlaps = [min(e, end) - max(s, start) for s, e in prep.doc.sentences + [prep.doc.title]]
        sentence = (prep.doc.sentences + [prep.doc.title])[overlaps.index(max(overlaps))]
        assert prep.sentences_of(np.array([start]), np.array([end])) == [sentence]
        assert prep.enc.tokens_in(*sentence)[0] == contexts[k][0]
    assert prep.sentences_of(np.array([0]), np.array([10])) == [prep.doc.title]  # the headline holds them


def test_technique_spans_do_not_trail_a_function_word_and_no_span_crosses_a_blank_line():
    import numpy as np

    from propscan.detect.decode import decode_runs
    from propscan.detect.encoder import load_tokenizer
    from propscan.detect.prepare import prepare
    from propscan.training.propaganda import as_input

    text = "Headline here\n\nThe council will have blood on its hands.\n\nReal patriots of this town know it."
    prep = prepare(load_tokenizer(), as_input(text))
    p = np.zeros(len(prep.enc.ids))
    a, b = prep.enc.tokens_in(text.index("blood"), text.index(" this town"))
    p[a:b] = 0.9  # one run of hot tokens from "blood" to "of", across the blank line

    def found(**trim):
        return [text[r.start:r.end] for r in decode_runs(prep, p, 0.5, 0, 2, **trim)]

    assert found() == ["blood on its hands.", "Real patriots of"]
    assert found(trim=True) == ["blood on its hands.", "Real patriots"]
    p[:] = 0.0
    a, b = prep.enc.tokens_in(text.index("of this"), text.index(" this town"))
    p[a:b] = 0.9  # a run of one function word keeps it: there is nothing else to end on
    assert found(trim=True) == ["of"]


def test_si_regions_lean_on_the_technique_head_as_far_as_its_weight_says():
    import numpy as np

    from propscan.detect.decode import DecodeSettings, decode_regions
    from propscan.detect.encoder import load_tokenizer
    from propscan.detect.prepare import prepare
    from propscan.training.propaganda import as_input

    text = "Headline here\n\nThey are a corrupt gang of liars. It rained on Tuesday in town."
    prep = prepare(load_tokenizer(), as_input(text))
    p = np.full(len(prep.enc.ids), 0.3)  # the SI head is unsure everywhere
    techniques = np.zeros((len(prep.enc.ids), len(TECHNIQUE_IDS)))
    a, b = prep.enc.tokens_in(text.index("corrupt"), text.index(" of liars"))
    techniques[a:b, TECHNIQUE_IDS.index("Name_Calling,Labeling")] = 0.9  # the technique head is sure

    def found(v):
        settings = DecodeSettings(threshold=0.5, max_gap=0, min_chars=2, si_technique_weight=v)
        return [text[r.start:r.end] for r in decode_regions(prep, p, settings, None, techniques)]

    assert found(0.0) == []
    assert found(0.5) == ["corrupt gang"]  # 0.5 * 0.3 + 0.5 * 0.9 = 0.6 there, 0.15 elsewhere
    assert decode_regions(prep, p, DecodeSettings(threshold=0.5, si_technique_weight=0.5)) == []  # no head, no lean


def test_removed_furniture_is_not_read_by_the_model(tiny_model):
    """The sample's view counter, ad marker and newsletter box change nothing the model finds: the
    same article with those lines deleted gets the same sentence scores, regions and spans."""
    from propscan.pipeline import prepare as pipeline_prepare
    from propscan.readers import article_from_text

    detector = TrainedDetector.load(tiny_model[0])
    text = SAMPLE.read_text(encoding="utf-8")
    cleaned, scraped = pipeline_prepare(article_from_text(text))
    assert len(cleaned.removed) >= 3
    kept, position = [], 0
    for removed in sorted(cleaned.removed, key=lambda r: r.start):  # delete each furniture line whole
        kept.append(text[position:removed.start])
        position = removed.end + (text[removed.end:removed.end + 1] == "\n")
    plain_text = "".join(kept) + text[position:]
    plain_cleaned, plain = pipeline_prepare(article_from_text(plain_text))
    assert not plain_cleaned.removed and len(plain.sentences) == len(scraped.sentences)
    found, plain_found = detector.detect([scraped, plain])
    assert found.sentence_scores == plain_found.sentence_scores
    assert [(text[r.start:r.end], r.confidence) for r in found.regions] == \
        [(plain_text[r.start:r.end], r.confidence) for r in plain_found.regions]
    assert [(text[s.start:s.end], s.technique, s.confidence) for s in found.spans] == \
        [(plain_text[s.start:s.end], s.technique, s.confidence) for s in plain_found.spans]
    assert found.regions  # the comparison is not between two empty results


def test_spans_to_classify_are_read_even_in_removed_furniture(tiny_model, tmp_path):
    """A TC template may point into lines the cleaner removed, or at an empty range of an article
    with no content at all: each line still gets a technique."""
    from propscan.deliver.semeval import predict_labels
    from propscan.readers.ptc import Label, read_articles

    (tmp_path / "article1.txt").write_text("They are traitors.\n\n- Advertisement -\n", encoding="utf-8")
    (tmp_path / "article2.txt").write_text("\n0 2,738\n", encoding="utf-8")
    articles = list(read_articles(tmp_path))
    template = [Label("1", 20, 37, None), Label("1", 9, 17, None), Label("2", 1, 1, None)]
    labels = list(predict_labels(articles, "tc", template=template, detector=TrainedDetector.load(tiny_model[0])))
    assert [(lb.article_id, lb.start, lb.end) for lb in labels] == [("1", 20, 37), ("1", 9, 17), ("2", 1, 1)]
    assert all(lb.technique in TECHNIQUE_IDS for lb in labels)


def test_verifier_targets_score_how_well_a_candidate_matches_a_gold_span_of_each_technique():
    import numpy as np

    from propscan.training.propaganda import LabeledArticle, as_input, verifier_targets

    text = "They are a corrupt gang of thieves, and everyone knows it."
    gang = (text.index("corrupt"), text.index(" of"))
    article = LabeledArticle("1", as_input(text), [gang], [(*gang, "Name_Calling,Labeling")])
    name_calling = TECHNIQUE_IDS.index("Name_Calling,Labeling")
    corrupt = (gang[0], gang[0] + len("corrupt"))
    targets = verifier_targets(article, [gang, corrupt, (text.index("everyone"), len(text))])
    assert targets.shape == (3, len(TECHNIQUE_IDS))
    assert targets[0, name_calling] == pytest.approx(1.0)  # the gold span itself
    # All of "corrupt" lies in the gold span, which it covers 7 characters of 12.
    assert targets[1, name_calling] == pytest.approx(0.5 * (1.0 + 7 / 12))
    assert np.count_nonzero(targets) == 2  # no other technique, and nothing for the span outside


def test_verifier_candidates_hold_the_gold_spans_and_stretches_that_are_not_spans():
    import random

    from propscan.detect.encoder import load_tokenizer
    from propscan.training.propaganda import attach_labels, load_corpus, verifier_candidates, verifier_targets

    article = load_corpus(PTC)[0]
    attach_labels(load_tokenizer(), article)
    quiet = np.zeros((len(article.prep.enc.ids), len(TECHNIQUE_IDS)), dtype=np.float32)
    spans = verifier_candidates(article, quiet, random.Random(1))
    assert spans == sorted(set(spans))
    assert {(s, e) for s, e, _ in article.tc} <= set(spans)
    assert all(0 <= s < e <= len(article.doc.text) for s, e in spans)
    assert (verifier_targets(article, spans).max(1) == 0).sum() > len(article.doc.sentences)  # plenty of negatives
    assert spans == verifier_candidates(article, quiet, random.Random(1))  # seeded


def test_the_verifier_votes_on_technique_spans_when_the_settings_say_so(tiny_model):
    from propscan.training.propaganda import as_input

    model_dir, _ = tiny_model
    assert json.loads((model_dir / CONFIG_FILE).read_text())["verifier"] == 5  # members
    detector = TrainedDetector.load(model_dir)
    assert len(detector.net.verifiers) == 5
    doc = as_input(SAMPLE.read_text(encoding="utf-8"))
    (prep,), (states,) = detector.encode([doc])
    spans = [(16, 26), (0, 63), (100, 140)]
    verdicts = detector.span_probs(prep, states, spans, "verifier")
    techniques = detector.span_probs(prep, states, spans, "span")
    assert verdicts.shape == techniques.shape == (3, len(TECHNIQUE_IDS))
    assert np.allclose(techniques.sum(1), 1.0, atol=1e-4)  # which technique, given a span
    assert ((verdicts > 0) & (verdicts < 1)).all() and not np.allclose(verdicts, techniques)


def test_fitting_the_verifier_leaves_the_rest_of_the_network_as_it_ships(tmp_path):
    import torch

    from propscan.detect.encoder import load_tokenizer
    from propscan.training.propaganda import attach_labels, fit_verifier, load_corpus, new_network, trainable_state

    settings = TrainSettings(layers=1, verifier=2, verifier_epochs=1)
    corpus = load_corpus(small_ptc(tmp_path, n=2))
    for article in corpus:
        attach_labels(load_tokenizer(), article)
    net = new_network(settings)
    assert net.verifiers is None
    before = {k: v.float() for k, v in trainable_state(net).items()}  # as the float16 file holds them
    fit_verifier(net, corpus, settings)
    after = trainable_state(net)
    assert {k.split(".")[1] for k in after if k.startswith("verifiers.")} == {"0", "1"}
    assert not torch.equal(after["verifiers.0.1.weight"], after["verifiers.1.1.weight"])  # seeds of their own
    for key, value in before.items():
        assert torch.equal(after[key].float(), value), key


def test_self_training_reads_the_unlabeled_news_and_dev_articles_but_never_the_judged_sample(tmp_path):
    from propscan.training.propaganda import judged_news, silver_files

    news, dev = tmp_path / "unlabeled-news", tmp_path / "ptc" / "dev-articles"
    dev.mkdir(parents=True)
    news.mkdir()
    for i in range(40):
        (news / f"article{100 + i}.txt").write_text(f"Headline {i}\n\nA sentence of news.\n")
    for i in range(3):
        (dev / f"article{900 + i}.txt").write_text(f"Dev {i}\n\nA sentence.\n")
    judged = judged_news(list(news.glob("*.txt")))
    silver = silver_files(tmp_path)
    assert len(judged) == 30 and not set(judged) & set(silver)
    assert len(silver) == 13 and {f.parent for f in silver} == {news, dev}
    assert [f.name for f in silver] == sorted(f.name for f in silver)
    # The sample does not depend on the order the files are listed in.
    assert judged == judged_news(sorted(news.glob("*.txt")))
    assert silver_files(tmp_path / "absent") == []
