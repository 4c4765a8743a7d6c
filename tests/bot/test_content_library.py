"""The content library and `make content-check`: only approved, sourced, chat-sized content is sent.

Pure PyYAML + pytest, so it runs in both the bot (3.10) and the service (3.11+) environment.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # the repository is not necessarily installed
    sys.path.insert(0, str(REPO_ROOT))

from triage_core.content_check import main as content_check  # noqa: E402
from triage_core.content_library import (  # noqa: E402
    DEFAULT_CONTENT_DIR,
    MAX_BUBBLE_CHARS,
    ContentError,
    load_library,
)
from triage_core.risk import CRITICAL_INTENTS  # noqa: E402
from triage_core.taxonomy import TOPIC_INTENTS  # noqa: E402

TODAY = date(2026, 12, 2)


# --- helpers ----------------------------------------------------------------------------------
@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private copy of the real library to break on purpose."""
    target = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, target)
    return target


def _file_with_item(directory: Path, item_id: str) -> Path:
    for path in sorted(directory.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = data.get("items") or data.get("numbers") or []
        if any(entry.get("id") == item_id for entry in entries):
            return path
    raise AssertionError(f"no item {item_id!r} in {directory}")


def edit_item(directory: Path, item_id: str, **changes) -> None:
    """Change fields of one item (or emergency number); a value of None deletes the field."""
    path = _file_with_item(directory, item_id)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for entry in data.get("items") or data.get("numbers"):
        if entry.get("id") == item_id:
            for name, value in changes.items():
                if value is None:
                    entry.pop(name, None)
                else:
                    entry[name] = value
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def run_check(capsys, directory: Path, today: date = TODAY) -> tuple[int, list[str]]:
    code = content_check(["--content-dir", str(directory), "--today", today.isoformat()])
    out = capsys.readouterr().out
    return code, out.splitlines()


def error_lines(lines: list[str], item_id: str) -> list[str]:
    """Problem lines `<file>:<item id>: <why>` for this item, excluding info lines."""
    return [line for line in lines if f":{item_id}: " in line and ": info: " not in line]


# --- the real library ---------------------------------------------------------------------------
def test_real_library_passes_content_check_today():
    """`make content-check` on the committed content and real date; fails once a review lapses."""
    result = subprocess.run(
        [sys.executable, "-m", "triage_core.content_check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "content-check OK" in result.stdout


def test_loader_does_not_need_rasa():
    """The handoff service (Python 3.11, no Rasa) imports the same loader."""
    probe = (
        "import sys, triage_core.content_library as c; c.load_library(); "
        "sys.exit(any(m.split('.')[0] in ('rasa', 'rasa_sdk') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_every_topic_intent_has_validation_and_two_psychoeducation_items():
    library = load_library()
    for intent in TOPIC_INTENTS:
        assert library.items_for(intent, "validation", today=TODAY), intent
        assert len(library.items_for(intent, "psychoeducation", today=TODAY)) >= 2, intent
    for intent in CRITICAL_INTENTS:
        emergency = library.items_for(intent, "emergency", today=TODAY)
        assert emergency, intent
        # The first crisis answer always carries 112.
        assert any("112" in bubble for bubble in library.render(emergency[0])), intent


def test_every_sendable_bubble_fits_a_chat_bubble_and_uses_danish_letters():
    library = load_library()
    sendable = [item for item in library.items if library.is_sendable(item, TODAY)]
    assert len(sendable) >= 40
    text = ""
    for item in sendable:
        bubbles = library.render(item)
        assert 1 <= len(bubbles) <= 3, item.id
        for bubble in bubbles:
            assert 0 < len(bubble) <= MAX_BUBBLE_CHARS, item.id
            assert "{" not in bubble and "}" not in bubble, item.id
            text += bubble
    assert all(letter in text for letter in "æøå")


def test_anonymity_answer_is_honest_about_the_duty_to_report():
    library = load_library()
    first = library.next_item("ask_anonymity", "info", today=TODAY)
    said = " ".join(library.render(first))
    assert "anonym" in said
    assert "tavshedspligt" in said
    assert "underretningspligt" in said
    assert "under 18" in said


# --- next_item never repeats --------------------------------------------------------------------
@pytest.mark.parametrize("intent", TOPIC_INTENTS)
def test_next_item_never_repeats_an_item_already_given(intent):
    library = load_library()
    for kind in ("validation", "psychoeducation"):
        given: list[str] = []
        while (item := library.next_item(intent, kind, given, today=TODAY)) is not None:
            assert item.id not in given
            assert intent in item.intents and item.kind == kind
            given.append(item.id)
        assert len(given) == len(library.items_for(intent, kind, today=TODAY))
        assert len(given) >= (1 if kind == "validation" else 2)


def test_next_item_is_deterministic_and_skips_given_ids():
    library = load_library()
    first = library.next_item("parent_alcohol", "psychoeducation", today=TODAY)
    assert first is not None
    assert first == library.next_item("parent_alcohol", "psychoeducation", today=TODAY)
    second = library.next_item("parent_alcohol", "psychoeducation", [first.id], today=TODAY)
    assert second is not None and second.id != first.id


def test_a_repeated_topic_hears_a_different_core_message_each_time():
    """Round-robin over themes: the first answers to one topic come from different themes."""
    library = load_library()
    for intent in ("parent_alcohol", "parent_drugs", "conflict_home", "violence"):
        given: list[str] = []
        themes = []
        for _ in range(3):
            item = library.next_item(intent, "psychoeducation", given, today=TODAY)
            given.append(item.id)
            themes.append(item.theme)
        assert len(set(themes)) == 3, (intent, given)
    first = library.next_item("parent_alcohol", "psychoeducation", today=TODAY)
    assert first.id == "not_your_fault_core"


def test_draft_and_expired_items_are_never_offered(content_dir):
    library = load_library(content_dir)
    first, second = library.items_for("violence", "psychoeducation", today=TODAY)[:2]
    edit_item(content_dir, first.id, status="draft")
    edit_item(content_dir, second.id, review_by=date(2026, 11, 1))
    library = load_library(content_dir)
    offered = [item.id for item in library.items_for("violence", "psychoeducation", today=TODAY)]
    assert first.id not in offered and second.id not in offered
    assert library.next_item("violence", "psychoeducation", today=TODAY).id not in {
        first.id,
        second.id,
    }
    # Content expires by itself: the day after review_by, nothing with that date is offered.
    review_by = load_library().get("not_your_fault_core").review_by
    later = date.fromordinal(review_by.toordinal() + 1)
    assert load_library().items_for("parent_alcohol", "psychoeducation", today=later) == []


# --- render -------------------------------------------------------------------------------------
def test_render_fills_numbers_from_emergency_numbers_file(content_dir):
    library = load_library(content_dir)
    item = library.get("crisis_suicidal")
    raw = " ".join(item.bubbles)
    assert "{number:livslinien}" in raw and "70 201 201" not in raw
    rendered = " ".join(library.render(item))
    assert "70 201 201" in rendered and "116 111" in rendered and "112" in rendered
    assert library.number("livslinien").tel == "+4570201201"

    # Numbers live in one place: changing the file changes every bubble that uses it.
    edit_item(content_dir, "livslinien", number="70 99 99 99", tel="+4570999999")
    library = load_library(content_dir)
    assert "70 99 99 99" in " ".join(library.render(library.get("crisis_suicidal")))
    assert "70 99 99 99" in " ".join(library.render(library.get("crisis_suicidal_followup")))


# --- content-check catches each kind of problem -------------------------------------------------
def test_check_fails_on_expired_review_date(capsys, content_dir):
    edit_item(content_dir, "not_your_fault_core", review_by=date(2026, 11, 1))
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    problems = error_lines(lines, "not_your_fault_core")
    assert any("review_by 2026-11-01 has passed" in line for line in problems), lines
    assert problems[0].split(":")[0].endswith("not_your_fault.yml")


def test_check_fails_on_missing_source(capsys, content_dir):
    edit_item(content_dir, "network_who", source=None)
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    assert any("source is missing" in line for line in error_lines(lines, "network_who")), lines


def test_check_fails_on_four_bubbles(capsys, content_dir):
    bubbles = list(load_library(content_dir).get("feelings_anger").bubbles)
    edit_item(content_dir, "feelings_anger", bubbles=[*bubbles, "En ekstra boble.", "Og en til."])
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    assert any("has 4 bubbles" in line for line in error_lines(lines, "feelings_anger")), lines


def test_check_fails_on_a_validation_item_with_more_than_one_bubble(capsys, content_dir):
    edit_item(content_dir, "validation_sad_1", bubbles=["Første boble.", "Anden boble."])
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    assert any("has 2 bubbles" in line for line in error_lines(lines, "validation_sad_1")), lines


def test_check_fails_on_a_bubble_too_long_for_chat(capsys, content_dir):
    edit_item(content_dir, "sleep_worry_evening", bubbles=["Ø" * 400])
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    problems = error_lines(lines, "sleep_worry_evening")
    assert any("bubble 1 is 400 characters" in line for line in problems), lines


def test_check_fails_when_unapproved_items_leave_a_topic_uncovered(capsys, content_dir):
    edit_item(content_dir, "validation_violence_1", status="draft")
    edit_item(content_dir, "validation_violence_2", status="draft", approved_at=None)
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    coverage = [line for line in lines if ":intent:violence: " in line]
    assert len(coverage) == 1, lines
    assert "needs 1 approved validation" in coverage[0]
    assert "validation_violence_1" in coverage[0] and "validation_violence_2" in coverage[0]
    # The drafts themselves are allowed to exist: info, not errors.
    assert error_lines(lines, "validation_violence_1") == []
    assert any(":validation_violence_1: info: draft" in line for line in lines)


def test_check_fails_when_a_topic_has_fewer_than_two_psychoeducation_items(capsys, content_dir):
    library = load_library(content_dir)
    for item in library.items_for("own_substance_use", "psychoeducation", today=TODAY)[1:]:
        edit_item(content_dir, item.id, status="draft")
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    assert any(
        ":intent:own_substance_use: needs 2 approved psychoeducation item(s), has 1" in line
        for line in lines
    ), lines


def test_check_fails_when_a_critical_intent_has_no_emergency_item(capsys, content_dir):
    for item_id in (
        "crisis_self_harm",
        "crisis_self_harm_followup",
        "crisis_overdose",
        "crisis_overdose_followup",
        "crisis_bleeding",
        "crisis_bleeding_followup",
    ):
        edit_item(content_dir, item_id, review_by=date(2026, 1, 31))
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    assert any(":intent:self_harm: needs 1 approved emergency" in line for line in lines), lines
    # ... and each kind of danger needs guidance of its own: the general script is not enough.
    assert any(":danger:bleeding: needs an approved emergency" in line for line in lines), lines
    assert any(":danger:overdose: needs an approved emergency" in line for line in lines), lines


def test_check_fails_when_a_danger_kind_has_no_answer_to_what_to_do(capsys, content_dir):
    edit_item(content_dir, "followup_what_to_do_locked_out", status="draft")
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    assert any(":danger:locked_out: needs an approved 'what_to_do'" in line for line in lines)


def test_check_fails_when_an_item_names_a_closed_line_without_an_open_one(capsys, content_dir):
    edit_item(
        content_dir,
        "crisis_suicidal",
        bubbles=["Ring til Livslinien på {number:livslinien}.", "Du er ikke alene."],
    )
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    problems = error_lines(lines, "crisis_suicidal")
    assert any("without naming one that is" in line for line in problems), lines
    assert any("gives its number in the first bubble" in line for line in problems) is False


def test_check_fails_when_an_emergency_item_hides_its_number_after_the_first_bubble(
    capsys, content_dir
):
    edit_item(
        content_dir,
        "crisis_overdose",
        bubbles=["Det lyder farligt.", "Ring {number:112} nu."],
    )
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    assert any(
        "gives its number in the first bubble" in line
        for line in error_lines(lines, "crisis_overdose")
    ), lines


def test_a_closed_line_is_shown_with_when_it_opens():
    from datetime import datetime

    from triage_core.content_library import DANISH_TIME

    library = load_library()
    item = library.get("crisis_suicidal")
    at_night = datetime(2026, 12, 1, 6, 30, tzinfo=DANISH_TIME)  # Livslinien: 11-05
    rendered = " ".join(library.render(item, now=at_night))
    assert "70 201 201 (åbner kl. 11)" in rendered
    assert "116 111" in rendered and "(åbner" not in rendered.replace("70 201 201 (åbner", "")
    evening = datetime(2026, 12, 1, 22, 0, tzinfo=DANISH_TIME)
    assert "70 201 201 (" not in " ".join(library.render(item, now=evening))
    livslinien = library.number("livslinien")
    assert livslinien.is_open(datetime(2026, 12, 2, 4, 59, tzinfo=DANISH_TIME))  # past midnight
    assert not livslinien.is_open(datetime(2026, 12, 2, 5, 0, tzinfo=DANISH_TIME))
    assert library.number("giftlinjen").is_open(at_night)
    assert library.number("alkolinjen").is_open(at_night) is None  # hours unknown to the bot


def test_the_named_carer_replaces_the_default():
    library = load_library()
    item = library.get("not_your_fault_core")
    assert "din mor eller far" in library.render(item)[0]
    assert "din far drikker" in library.render(item, carer="far")[0]
    unconscious = " ".join(library.render(library.get("crisis_unconscious"), carer="mor"))
    assert "din mor ikke kan vækkes" in unconscious
    assert "personen" in " ".join(library.render(library.get("crisis_unconscious")))


def test_check_fails_on_unknown_placeholder(capsys, content_dir):
    edit_item(
        content_dir,
        "crisis_suicidal",
        bubbles=["Ring til Livslinien på {number:livslinjen}.", "Eller {nummer:112}."],
    )
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    problems = error_lines(lines, "crisis_suicidal")
    assert any("unknown placeholder {number:livslinjen}" in line for line in problems), lines
    assert any("{nummer:112}" in line for line in problems), lines
    with pytest.raises(KeyError, match="livslinjen"):
        library = load_library(content_dir)
        library.render(library.get("crisis_suicidal"))


def test_check_fails_on_an_emergency_number_without_source(capsys, content_dir):
    edit_item(content_dir, "alkolinjen", source=None)
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    assert any("source is missing" in line for line in error_lines(lines, "alkolinjen")), lines


def test_check_passes_on_an_intact_copy(capsys, content_dir):
    code, lines = run_check(capsys, content_dir)
    assert code == 0, lines
    assert lines[-1].startswith("content-check OK")


# --- strict loading -----------------------------------------------------------------------------
def test_loading_rejects_unknown_intent_naming_file_and_item(content_dir):
    edit_item(content_dir, "network_map", intents=["feeling_sad", "parent_alcohl"])
    with pytest.raises(ContentError) as raised:
        load_library(content_dir)
    assert "network.yml:network_map: unknown intent(s): parent_alcohl" in str(raised.value)


def test_loading_rejects_duplicate_ids(content_dir):
    path = content_dir / "network.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["items"].append(dict(data["items"][0]))
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(ContentError, match="network_who: id is not unique"):
        load_library(content_dir)


def test_loading_rejects_missing_fields_and_bad_dates(content_dir):
    edit_item(content_dir, "network_who", status=None, review_by="snart")
    with pytest.raises(ContentError) as raised:
        load_library(content_dir)
    message = str(raised.value)
    assert "network_who: missing field(s): status" in message
    assert "network_who: review_by must be a date" in message


def test_check_fails_when_a_line_has_no_opening_hours(capsys, content_dir):
    edit_item(content_dir, "giftlinjen", open=None)
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    assert any("open (opening hours) is missing" in line for line in lines), lines


def test_check_fails_on_impossible_opening_hours(capsys, content_dir):
    edit_item(content_dir, "livslinien", open=["mon-sun 25:00-05:00"])
    code, lines = run_check(capsys, content_dir)
    assert code == 1
    assert any("impossible time" in line for line in lines), lines
