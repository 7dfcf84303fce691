"""Clean: find page furniture (counters, ad markers, newsletter boxes...) as removed ranges.

Nothing is deleted from the text: furniture is reported as ``RemovedRange``s so that every offset
still points into the text the user gave, and the later stages skip those ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from propscan.document import Article, RemovedRange


@dataclass
class Cleaned:
    removed: list[RemovedRange] = field(default_factory=list)
    language: str | None = None
    warnings: list[str] = field(default_factory=list)


def clean(article: Article) -> Cleaned:
    return Cleaned()
