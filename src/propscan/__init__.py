"""propscan: find where a news article manipulates its reader.

The public API: ``analyze(text) -> Analysis`` (a ``str`` is always the article's text; a ``Path`` or
an ``Article`` is accepted too), ``analyze_file(path)``, ``analyze_url(url)``, ``analyze_many(articles)``,
the document model and the taxonomy. Readers, writers and metrics are importable on their own
(``propscan.readers.ptc``, ``propscan.metrics``).
"""

from propscan.document import Analysis, Article, HeadlineCheck, RemovedRange, Sentence, Span
from propscan.errors import PropscanError
from propscan.pipeline import analyze, analyze_file, analyze_many, analyze_url
from propscan.taxonomy import TECHNIQUES

__all__ = ["Analysis", "Article", "HeadlineCheck", "PropscanError", "RemovedRange", "Sentence", "Span",
           "TECHNIQUES", "analyze", "analyze_file", "analyze_many", "analyze_url"]
