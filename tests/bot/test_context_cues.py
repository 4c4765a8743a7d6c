"""The context cues: follow-ups, answers to the safety question and taking a message back.

Each cue has positive examples in youth spelling and hard negatives (the same words meaning
something else). Written by hand from the categories; never copied from a test conversation.
"""

from __future__ import annotations

import pytest

from bot.context_cues import RECOGNISED, ContextCueError, ContextCues, load_cues


@pytest.fixture(scope="module")
def cues() -> ContextCues:
    return load_cues()


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("hvad skal jeg gøre nu", "what_to_do"),
        ("hva ska jeg gør???", "what_to_do"),
        ("ok men hvad gør jeg så", "what_to_do"),
        ("er det farligt", "is_dangerous"),
        ("kan man dø af det?", "is_dangerous"),
        ("skal jeg være bekymret", "is_dangerous"),
        ("hvordan får jeg ham til at stoppe", "how_to_stop"),
        ("jeg vil gerne stoppe med at ryge", "how_to_stop"),
        ("hvad kan jeg gøre for at holde op", "how_to_stop"),
        ("det er sket før", "happened_before"),
        ("det sker hver weekend", "happened_before"),
        ("det er ikke første gang", "happened_before"),
        ("du kan alligevel ikke hjælpe", "cannot_help"),
        ("det hjælper jo ikke", "cannot_help"),
        ("jeg tør ikk ringe", "afraid_to_call"),
        ("hvad hvis politiet kommer", "afraid_to_call"),
        ("han bliver sur hvis jeg ringer", "afraid_to_call"),
        ("hvad hvis jeg skriver hvor jeg bor", "location"),
        ("kan i sende nogen", "location"),
        ("ringer i til kommunen?", "will_you_report"),
        ("siger du det til mine forældre", "will_you_report"),
        ("bliver jeg fjernet hjemmefra", "will_you_report"),
        ("ja jeg er i sikkerhed nu", "safe_now"),
        ("nej jeg er ikk i fare lige nu", "safe_now"),
        ("han er gået i seng nu", "safe_now"),
        ("hun trækker vejret igen", "safe_now"),
        ("jeg er hos naboen", "safe_now"),
        ("Ja, jeg er i sikkerhed", "safe_now"),
        ("Nej, jeg er ikke i sikkerhed", "not_safe"),
        ("jeg føler mig ikke tryg", "not_safe"),
        ("det var bare for sjov", "taking_back"),
        ("haha nej jk", "taking_back"),
        ("jeg mente det ikke sådan", "taking_back"),
        ("var bare sur", "taking_back"),
        ("jeg er så bange når min far råber", "afraid_of_carer"),
        ("jeg er bange for ham", "afraid_of_carer"),
        ("tør ikke gå hjem", "afraid_of_carer"),
    ],
)
def test_cue_fires(cues: ContextCues, text: str, cue: str) -> None:
    assert cues.match(text) == cue


@pytest.mark.parametrize(
    "text",
    [
        "hej",
        "jeg er ikke sikker på det",  # not sure, not "not safe"
        "jeg er bange for at min far dør",  # worry FOR the parent
        "min far kommer hjem i morgen",
        "politiet er på vej",  # help coming is not safety yet
        "min mor drikker hver dag",
        "jeg vil ikke leve mere",
    ],
)
def test_hard_negatives_fire_no_cue(cues: ContextCues, text: str) -> None:
    assert cues.match(text) is None


def test_every_cue_in_the_file_is_one_the_dialogue_answers(cues: ContextCues) -> None:
    assert {cue.cue_id for cue in cues.cues} <= set(RECOGNISED)
    with pytest.raises(ContextCueError):
        ContextCues.from_dict({"cues": [{"id": "made_up", "patterns": ["x"]}]})
