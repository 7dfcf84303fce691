"""The propaganda techniques of SemEval-2020 Task 11: names, definitions, examples, colours.

This is the only place the taxonomy is defined. Identifiers are spelled exactly as in the
Propaganda Techniques Corpus label files; ``FINE_TO_TECHNIQUE`` maps the 18 fine-grained
techniques of the original corpus onto the 14 used by the shared task.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Technique:
    id: str
    name: str
    definition: str
    example: str
    colour: str


TECHNIQUES: tuple[Technique, ...] = (
    Technique(
        "Appeal_to_Authority",
        "Appeal to authority",
        "Claims that something is true only because an expert, institution or famous person says so, "
        "without further evidence.",
        "Top scientists agree: the new policy will ruin the country.",
        "#1f77b4",
    ),
    Technique(
        "Appeal_to_fear-prejudice",
        "Appeal to fear or prejudice",
        "Builds support for an idea by stirring anxiety or panic about an alternative, or by playing "
        "on existing prejudices.",
        "If we let them in, our streets will never be safe again.",
        "#d62728",
    ),
    Technique(
        "Bandwagon,Reductio_ad_hitlerum",
        "Bandwagon / Reductio ad Hitlerum",
        "Urges the reader to join a position because everyone else already holds it, or rejects one "
        "because a hated group is said to hold it.",
        "Millions of people already switched; why are you still waiting?",
        "#8c564b",
    ),
    Technique(
        "Black-and-White_Fallacy",
        "Black-and-white fallacy",
        "Presents two options as the only ones possible when more exist, sometimes as a dictatorship "
        "of one choice.",
        "Either you back the bill or you side with the criminals.",
        "#7f7f7f",
    ),
    Technique(
        "Causal_Oversimplification",
        "Causal oversimplification",
        "Puts a single cause behind an outcome that has many, or blames one group for a complex problem.",
        "Prices went up because the mayor took office in May.",
        "#bcbd22",
    ),
    Technique(
        "Doubt",
        "Doubt",
        "Questions the credibility of someone or something without giving grounds for it.",
        "Can we really trust a minister who once changed his mind?",
        "#17becf",
    ),
    Technique(
        "Exaggeration,Minimisation",
        "Exaggeration / minimisation",
        "Makes something look far larger, better or worse than it is, or downplays it as trivial.",
        "The worst disaster in the history of mankind.",
        "#ff7f0e",
    ),
    Technique(
        "Flag-Waving",
        "Flag-waving",
        "Justifies an idea by appealing to patriotism or to the pride of a group.",
        "Real patriots will stand up for our nation's borders.",
        "#2ca02c",
    ),
    Technique(
        "Loaded_Language",
        "Loaded language",
        "Uses words with strong emotional charge, positive or negative, to sway the reader.",
        "The reckless, shameful decision sparked outrage.",
        "#e377c2",
    ),
    Technique(
        "Name_Calling,Labeling",
        "Name calling / labeling",
        "Attaches a label to a person or group that the audience fears, hates or admires, instead of "
        "arguing about what they do.",
        "The senator's puppets in the press rushed to defend him.",
        "#9467bd",
    ),
    Technique(
        "Repetition",
        "Repetition",
        "Repeats the same message or phrase over and over until the audience accepts it.",
        "Jobs, jobs, jobs: this plan is about jobs.",
        "#aec7e8",
    ),
    Technique(
        "Slogans",
        "Slogans",
        "A short, striking phrase, often with labels or stereotypes, that works as a call to action.",
        "Take back control!",
        "#ffbb78",
    ),
    Technique(
        "Thought-terminating_Cliches",
        "Thought-terminating cliché",
        "A short, generic phrase that discourages critical thought and ends the discussion.",
        "It is what it is.",
        "#98df8a",
    ),
    Technique(
        "Whataboutism,Straw_Men,Red_Herring",
        "Whataboutism / straw man / red herring",
        "Deflects criticism by accusing the opponent of hypocrisy, distorts their position to attack "
        "it, or brings in an irrelevant topic.",
        "They complain about our deficit, but what about their own scandals?",
        "#c5b0d5",
    ),
)

TECHNIQUE_IDS: tuple[str, ...] = tuple(t.id for t in TECHNIQUES)
BY_ID: dict[str, Technique] = {t.id: t for t in TECHNIQUES}

# The 18 fine-grained techniques of the original corpus (Da San Martino et al., 2019) and their
# shared-task class; Obfuscation was dropped from the shared task for low annotator agreement.
FINE_TO_TECHNIQUE: dict[str, str | None] = {
    "Appeal_to_Authority": "Appeal_to_Authority",
    "Appeal_to_fear-prejudice": "Appeal_to_fear-prejudice",
    "Bandwagon": "Bandwagon,Reductio_ad_hitlerum",
    "Reductio_ad_hitlerum": "Bandwagon,Reductio_ad_hitlerum",
    "Black-and-White_Fallacy": "Black-and-White_Fallacy",
    "Causal_Oversimplification": "Causal_Oversimplification",
    "Doubt": "Doubt",
    "Exaggeration,Minimisation": "Exaggeration,Minimisation",
    "Flag-Waving": "Flag-Waving",
    "Loaded_Language": "Loaded_Language",
    "Name_Calling,Labeling": "Name_Calling,Labeling",
    "Repetition": "Repetition",
    "Slogans": "Slogans",
    "Thought-terminating_Cliches": "Thought-terminating_Cliches",
    "Whataboutism": "Whataboutism,Straw_Men,Red_Herring",
    "Straw_Men": "Whataboutism,Straw_Men,Red_Herring",
    "Red_Herring": "Whataboutism,Straw_Men,Red_Herring",
    "Obfuscation,Intentional_Vagueness,Confusion": None,
}


def is_technique(name: str) -> bool:
    return name in BY_ID


def to_technique(fine_name: str) -> str | None:
    """The shared-task technique for a fine-grained or shared-task name; None if it was dropped."""
    if fine_name in BY_ID:
        return fine_name
    try:
        return FINE_TO_TECHNIQUE[fine_name]
    except KeyError:
        raise ValueError(f"unknown propaganda technique {fine_name!r}") from None
