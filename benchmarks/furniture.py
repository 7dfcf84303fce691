"""Furniture on real scraped text: the cleaner's precision and recall on 50 hand-marked articles.

The sample is every 8th file, in sorted order from the first, of ../shared/data/unlabeled-news (400
articles scraped from the web, unchecked): 50 files. Their furniture lines were marked by hand and
committed as line numbers only (1-based, of the file's text split at newlines), in
tests/fixtures/furniture-lines.json; the articles stay in ../shared.

A line was marked furniture when it is page furniture around the story rather than part of it:
prompts and buttons (share, follow, subscribe, listen, comment, "Send this page to someone via
email"), advertisement markers, video-player and browser messages ("This video can not be played",
"IE 11 is not supported"), related-story links and lists ("RELATED", "MORE | ...", "> Find out more
..."), photo and video credits and captions that carry a credit or a caption label, reader forms,
notices about the page itself ("This is an archived article ..."), cookie, ad-blocker and bot walls,
and a site's status messages. Headlines, subheads, bylines, author notes, embedded quotes and
tweets count as story. A page that is no article at all (a wall) has all its lines marked.

    python benchmarks/furniture.py [--data ../shared/data/unlabeled-news] [--show]

prints line precision and recall, the story lines the cleaner removed (the aim: none) and the
marked lines it kept, and which pages it reports as no article.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

from propscan.clean import clean
from propscan.readers import article_from_text

FIXTURE = Path(__file__).parents[1] / "tests" / "fixtures" / "furniture-lines.json"
DATA = Path(__file__).parents[2] / "shared" / "data" / "unlabeled-news"


@dataclass
class FurnitureScore:
    marked: int = 0
    removed: int = 0
    both: int = 0
    story_removed: list[tuple[str, int, str]] = field(default_factory=list)
    furniture_kept: list[tuple[str, int, str]] = field(default_factory=list)
    not_articles: list[tuple[str, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.both / self.removed if self.removed else 1.0

    @property
    def recall(self) -> float:
        return self.both / self.marked if self.marked else 1.0


def removed_lines(text: str) -> tuple[set[int], str | None]:
    """The 1-based numbers of the lines the cleaner removes whole, and why the text is no article (or None)."""
    cleaned = clean(article_from_text(text, id="sample"))
    ranges = {(r.start, r.end) for r in cleaned.removed}
    numbers, position = set(), 0
    for number, line in enumerate(text.split("\n"), 1):
        if stripped := line.strip():
            start = position + line.index(stripped)
            if (start, start + len(stripped)) in ranges:
                numbers.add(number)
        position += len(line) + 1
    return numbers, cleaned.not_article


def score(data: Path = DATA, fixture: Path = FIXTURE) -> FurnitureScore:
    marks = json.loads(fixture.read_text(encoding="utf-8"))
    result = FurnitureScore()
    for name, marked_lines in marks.items():
        text = (data / name).read_text(encoding="utf-8")
        lines = text.split("\n")
        marked = set(marked_lines)
        removed, not_article = removed_lines(text)
        result.marked += len(marked)
        result.removed += len(removed)
        result.both += len(marked & removed)
        result.story_removed += [(name, n, lines[n - 1]) for n in sorted(removed - marked)]
        result.furniture_kept += [(name, n, lines[n - 1]) for n in sorted(marked - removed)]
        if not_article:
            result.not_articles.append((name, not_article))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--show", action="store_true", help="also list the marked lines the cleaner keeps")
    args = parser.parse_args()
    result = score(args.data)
    print(f"Hand-marked sample: {len(json.loads(FIXTURE.read_text()))} articles, {result.marked} furniture lines")
    print(f"  removed {result.removed} lines: precision {result.precision:.3f}, recall {result.recall:.3f}")
    print(f"  story lines removed: {len(result.story_removed)}   (aim: 0)")
    for name, n, line in result.story_removed:
        print(f"    {name}:{n}: {line[:100]}")
    print(f"  furniture lines kept: {len(result.furniture_kept)}")
    if args.show:
        for name, n, line in result.furniture_kept:
            print(f"    {name}:{n}: {line[:100]}")
    print(f"  pages reported as no article: {len(result.not_articles)}")
    for name, reason in result.not_articles:
        print(f"    {name}: {reason}")


if __name__ == "__main__":
    main()
