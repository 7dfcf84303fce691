"""The flags `propscan analyze` shows by default on a seeded sample of the unlabeled web news.

Prints, for each article of the sample (../shared/data/unlabeled-news, shuffled with the seed), its
score and how many of its decoded spans the default threshold shows, then each shown span with its
sentence, for a reader to judge. The judgements of the last run are in
`benchmarks/web_flag_judgements.txt`.

    python benchmarks/web_flags.py [--seed 7] [--articles 30]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from propscan.pipeline import analyze_many
from propscan.readers import read_source
from propscan.training.propaganda import JUDGED_NEWS_ARTICLES, JUDGED_NEWS_SEED, judged_news

NEWS = Path(__file__).resolve().parents[2] / "shared" / "data" / "unlabeled-news"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=JUDGED_NEWS_SEED)
    parser.add_argument("--articles", type=int, default=JUDGED_NEWS_ARTICLES)
    parser.add_argument("--min-confidence", type=float, default=None,
                        help="show spans from this confidence (default: the model's own default)")
    args = parser.parse_args()
    files = sorted(NEWS.glob("*.txt"))
    if not files:
        raise SystemExit(f"no articles in {NEWS}")
    # The default sample is the one self-training never reads (``judged_news``).
    articles = [a for f in judged_news(files, args.seed, args.articles) for a in read_source(str(f))]
    shown_total = decoded_total = 0
    for analysis in analyze_many(articles):
        shown = analysis.shown(args.min_confidence)
        shown_total += len(shown.spans)
        decoded_total += len(analysis.spans)
        score = "none" if analysis.score is None else f"{analysis.score:.2f}"
        print(f"== {analysis.id} score {score} shown {len(shown.spans)} of {len(analysis.spans)}: "
              f"{analysis.title[:70]!r}")
        for span in shown.spans:
            start, end = next(((s.start, s.end) for s in analysis.sentences if s.start <= span.start < s.end),
                              (span.start, span.end))
            print(f"   {span.confidence:.2f} {span.technique}: {span.text!r}\n"
                  f"        in: {analysis.text[start:end][:300]!r}")
    at = "the default" if args.min_confidence is None else f"confidence {args.min_confidence}"
    print(f"{len(articles)} articles: {shown_total} spans shown at {at}, of {decoded_total} decoded")


if __name__ == "__main__":
    main()
