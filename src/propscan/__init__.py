"""propscan: find where a news article manipulates its reader.

The public API: ``analyze(text_or_path) -> Analysis``, the document model, and the taxonomy.
Readers, writers and metrics are importable on their own (``propscan.readers.ptc``,
``propscan.metrics``).
"""

from propscan.document import Analysis, Article, HeadlineCheck, RemovedRange, Sentence, Span
from propscan.pipeline import analyze, analyze_many
from propscan.taxonomy import TECHNIQUES

__all__ = ["Analysis", "Article", "HeadlineCheck", "RemovedRange", "Sentence", "Span", "TECHNIQUES",
           "analyze", "analyze_many"]
