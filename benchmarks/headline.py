"""How often the plain-text headline rule (``propscan.headline.headline_problem``) is right (not a test).

- PTC: the first line of each of the 296 training articles is its title; the share accepted.
- Unlabeled news (../shared/data/unlabeled-news: first line, empty line, body): three samples of
  100 articles (every fourth file, from offsets 0, 2 and 1), each first line judged by reading it
  (and, where unclear, its article) as a real headline or not; ``headline_judgements.txt`` lists
  the ones judged real. The rule was written looking at samples 0 and 2; sample 1 was first measured
  after it was written (93/100 then, before three more furniture patterns), so it is the fairer figure.

    python benchmarks/headline.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from propscan.headline import headline_problem

JUDGEMENTS = Path(__file__).with_name("headline_judgements.txt")


def first_line(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data")
    args = parser.parse_args()

    titles = [first_line(p) for p in sorted((args.data / "ptc/train-articles").glob("article*.txt"))]
    rejected = [(t, headline_problem(t)) for t in titles if headline_problem(t)]
    print(f"PTC titles accepted: {len(titles) - len(rejected)} of {len(titles)} "
          f"({1 - len(rejected) / len(titles):.1%})")
    for title, reason in rejected:
        print(f"  rejected: {title!r} ({reason})")

    real = {line.split()[0] for line in JUDGEMENTS.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")}
    files = sorted((args.data / "unlabeled-news").glob("article*.txt"))
    for offset in (0, 2, 1):
        sample = files[offset::4]
        right = accepted = accepted_right = headlines = 0
        for path in sample:
            is_headline = path.stem.removeprefix("article") in real
            accepts = headline_problem(first_line(path)) is None
            right += accepts == is_headline
            accepted += accepts
            accepted_right += accepts and is_headline
            headlines += is_headline
        print(f"unlabeled sample {offset} ({len(sample)} articles): right on {right} ({right / len(sample):.0%}); "
              f"{headlines} first lines are headlines, {accepted_right} of them accepted; "
              f"{accepted} accepted, {accepted - accepted_right} wrongly")


if __name__ == "__main__":
    main()
