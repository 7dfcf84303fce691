"""The Propaganda Techniques Corpus layout (SemEval-2020 Task 11): articles, labels, templates.

- Articles: ``article<ID>.txt``, the title on the first line, an empty line, then the body. Label
  offsets count characters of the decoded file, so articles are read from their exact bytes with no
  newline translation, and writing one back gives the same bytes.
- Span labels (task SI): ``ID<TAB>start<TAB>end``.
- Technique labels (tasks TC and FLC): ``ID<TAB>technique<TAB>start<TAB>end``.
- Templates (the spans to classify in task TC): technique labels whose technique is ``?``.

Labels come as one concatenated file or a directory of per-article ``*.labels`` files. Every problem
is a ``PropscanError`` naming the file, the line and the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from propscan.document import Article, Source
from propscan.errors import PropscanError
from propscan.readers.text import article_id_for
from propscan.taxonomy import to_technique

TEMPLATE = "?"
"""The technique column of a template line: a span whose technique is to be predicted."""


@dataclass(frozen=True)
class Label:
    """One line of a label file: a span of an article, with its technique when the file has one.

    ``technique`` is None for span-identification labels and ``TEMPLATE`` for template lines.
    """

    article_id: str
    start: int
    end: int
    technique: str | None = None

    def to_line(self) -> str:
        if self.technique is None:
            return f"{self.article_id}\t{self.start}\t{self.end}\n"
        return f"{self.article_id}\t{self.technique}\t{self.start}\t{self.end}\n"


# --- articles -----------------------------------------------------------------------------------


def read_article(path: str | Path) -> Article:
    """One ``article<ID>.txt`` file, its text exactly as decoded from the file's UTF-8 bytes."""
    path = Path(path)
    if not path.is_file():
        raise PropscanError("no such file" if not path.exists() else "not a file", source=str(path))
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PropscanError(e.strerror or "cannot be read", source=str(path)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PropscanError(f"not UTF-8 text (byte {e.start})", source=str(path)) from None
    # The layout makes line 1 the title whatever it looks like (no headline rule, unlike plain
    # text); ``Article.title_range`` then finds it there, as for every other reader.
    title = text.split("\n", 1)[0].strip()
    return Article(id=article_id_for(path), title=title, text=text,
                   source=Source(path=str(path), format="ptc"))


def read_articles(directory: str | Path) -> list[Article]:
    """Every ``article<ID>.txt`` of a directory, in file-name order."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PropscanError("no such directory", source=str(directory))
    return [read_article(p) for p in sorted(directory.glob("article*.txt"))]


def write_article(article: Article, directory: str | Path) -> Path:
    """Write ``article<ID>.txt`` into ``directory``; ``read_article`` gives back the same text."""
    path = Path(directory) / f"article{article.id}.txt"
    path.write_bytes(article.text.encode("utf-8"))
    return path


# --- labels -------------------------------------------------------------------------------------


def read_labels(
    source: str | Path,
    *,
    articles: Mapping[str, Article | str] | None = None,
    require_technique: bool = False,
    template: bool = False,
) -> list[Label]:
    """The labels of one label file or of every ``*.labels`` file in a directory, in file order.

    ``require_technique``: every line must have a technique (tasks TC and FLC). ``template``: the
    technique column, if any, is ignored and every label becomes a template line. ``articles``
    (id → article or text): a label must name one of them and stay inside its text. Fine-grained
    PTC technique names are mapped onto the 14 of the shared task; labels of a technique the shared
    task dropped are left out, except in templates.
    """
    path = Path(source)
    if not path.exists():
        raise PropscanError("no such file or directory", source=str(path))
    if path.is_dir():
        files = sorted(p for p in path.glob("*.labels") if p.is_file())
        if not files:
            raise PropscanError("the directory holds no *.labels files", source=str(path))
    else:
        files = [path]
    texts = None if articles is None else {
        key: value.text if isinstance(value, Article) else value for key, value in articles.items()}
    labels: list[Label] = []
    for file in files:
        labels.extend(_read_label_file(file, texts, require_technique, template))
    return labels


def _read_label_file(path: Path, texts: Mapping[str, str] | None, require_technique: bool,
                     template: bool) -> Iterable[Label]:
    try:
        content = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise PropscanError(e.strerror or "cannot be read", source=str(path)) from None
    except UnicodeDecodeError as e:
        raise PropscanError(f"not UTF-8 text (byte {e.start})", source=str(path)) from None
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        label = _parse_line(line, require_technique, template, f"{path}: line {number}")
        if label is None:
            continue
        if texts is not None:
            _check_against_article(label, texts, f"{path}: line {number}")
        yield label


def _parse_line(line: str, require_technique: bool, template: bool, where: str) -> Label | None:
    columns = line.rstrip("\r").split("\t")
    if len(columns) == 4:
        article_id, technique, start_text, end_text = columns
    elif len(columns) == 3 and not require_technique:
        article_id, start_text, end_text = columns
        technique = None
    else:
        expected = "4 (ID, technique, start, end)" if require_technique else "3 or 4"
        raise PropscanError(f"{where}: expected {expected} tab-separated columns, found {len(columns)}")
    article_id = article_id.strip()
    if not article_id:
        raise PropscanError(f"{where}: the article ID is empty")
    try:
        start, end = int(start_text), int(end_text)
    except ValueError:
        raise PropscanError(f"{where}: offsets must be integers, found {start_text!r} and {end_text!r}") from None
    if start < 0:
        raise PropscanError(f"{where}: start {start} is negative")
    if end < start:
        raise PropscanError(f"{where}: end {end} is before its start {start}")
    if template:
        technique = TEMPLATE
    elif technique is not None:
        technique = technique.strip()
        if technique == TEMPLATE:
            if require_technique:
                raise PropscanError(f"{where}: a template line ('?') where a technique is needed")
        else:
            try:
                technique = to_technique(technique)
            except ValueError:
                raise PropscanError(f"{where}: unknown technique {technique!r}") from None
            if technique is None:
                return None
    return Label(article_id, start, end, technique)


def _check_against_article(label: Label, texts: Mapping[str, str], where: str) -> None:
    text = texts.get(label.article_id)
    if text is None:
        raise PropscanError(f"{where}: a label for article {label.article_id}, which is not among the articles")
    if label.end > len(text):
        raise PropscanError(f"{where}: span {label.start}-{label.end} runs past the end of article "
                            f"{label.article_id} ({len(text)} characters)")


def format_labels(labels: Iterable[Label]) -> str:
    """Label lines as text, one per label, each ending in a newline."""
    return "".join(label.to_line() for label in labels)


def write_labels(labels: Iterable[Label], path: str | Path) -> Path:
    """Write labels to one file (UTF-8, ``\\n`` line ends), in the order given."""
    path = Path(path)
    path.write_bytes(format_labels(labels).encode("utf-8"))
    return path


def write_label_dir(labels: Iterable[Label], directory: str | Path, *, suffix: str = ".labels",
                    article_ids: Sequence[str] = ()) -> list[Path]:
    """Write one ``article<ID><suffix>`` file per article, labels in the order given.

    Articles in ``article_ids`` that have no labels get an empty file, as in the PTC release.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    by_article: dict[str, list[Label]] = {article_id: [] for article_id in article_ids}
    for label in labels:
        by_article.setdefault(label.article_id, []).append(label)
    return [write_labels(group, directory / f"article{article_id}{suffix}")
            for article_id, group in by_article.items()]
