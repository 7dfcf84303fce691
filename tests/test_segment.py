"""Sentence splitting with character offsets."""

from __future__ import annotations

from propscan.segment import sentence_ranges


def sentences(text: str, removed=()) -> list[str]:
    return [text[start:end] for start, end in sentence_ranges(text, removed)]


def test_lines_are_boundaries_and_the_ptc_title_is_its_own_sentence():
    text = "Title of the piece\n\nFirst one. Second one! Third? Yes."
    assert sentences(text) == ["Title of the piece", "First one.", "Second one!", "Third?", "Yes."]


def test_abbreviations_and_initials_do_not_end_a_sentence():
    assert sentences("Mr. Smith met Dr. Jones on Jan. 5 at noon. They talked.") == [
        "Mr. Smith met Dr. Jones on Jan. 5 at noon.", "They talked."]
    assert sentences("J. R. R. Tolkien wrote books. He died.") == ["J. R. R. Tolkien wrote books.", "He died."]
    assert sentences("The U.S. economy grew. It was 3.5 percent.") == [
        "The U.S. economy grew.", "It was 3.5 percent."]


def test_closing_quotes_and_brackets_stay_with_their_sentence():
    assert sentences('He said "stop." Then he left. (Really.) “Curly.” End') == [
        'He said "stop."', "Then he left.", "(Really.)", "“Curly.”", "End"]


def test_a_lower_case_continuation_does_not_start_a_sentence():
    assert sentences('"Why?" he asked. Nobody knew.') == ['"Why?" he asked.', "Nobody knew."]


def test_ranges_are_stripped_ordered_and_disjoint():
    text = "  One.   Two.\r\n\n\tThree four.  \n"
    ranges = sentence_ranges(text)
    assert [text[s:e] for s, e in ranges] == ["One.", "Two.", "Three four."]
    for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
        assert end <= start
    for start, end in ranges:
        assert text[start:end] == text[start:end].strip() and start < end


def test_empty_texts_have_no_sentences():
    assert sentence_ranges("") == []
    assert sentence_ranges("  \n \n\t") == []


def test_sentences_in_removed_furniture_are_skipped():
    text = "Real news here. Subscribe to our newsletter! More news."
    box = (text.index("Subscribe"), text.index("More"))
    assert sentences(text, [box]) == ["Real news here.", "More news."]
