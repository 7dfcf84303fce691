"""Language detection: py3langid on the kept text, English without a warning, others with one."""

from __future__ import annotations

from propscan.clean import clean, detect_language
from propscan.readers import article_from_text

GERMAN = ("Der Stadtrat hat am Dienstag beschlossen, die neue Brücke über den Hafen erst im nächsten Jahr "
          "zu bauen, weil die Kosten stark gestiegen sind.")
SPANISH = ("El ayuntamiento decidió el martes aplazar la construcción del nuevo puente sobre el puerto "
           "porque los costes han subido mucho este año.")
ENGLISH = ("The council decided on Tuesday to delay the new bridge over the harbour until next year "
           "because the costs have risen sharply.")


def test_languages_are_told_apart_the_same_way_every_time():
    assert [detect_language(t) for t in (GERMAN, SPANISH, ENGLISH)] == ["de", "es", "en"]
    assert [detect_language(GERMAN) for _ in range(5)] == ["de"] * 5


def test_the_warning_names_the_language_and_furniture_does_not_count():
    german = clean(article_from_text(f"Neue Brücke verschoben\n\n{GERMAN}"))
    assert german.language == "de" and "German (de), not English" in german.warnings[0]
    english = clean(article_from_text(f"Bridge delayed\n\n{ENGLISH}\nShare on Facebook"))
    assert (english.language, english.warnings) == ("en", [])
