"""`make export-labels` and POST /api/v1/trainer/export (handoff_service/label_export.py,
triage_core/nlu_files.py): accepted inbox items into a COPY of data/nlu, in the right file and
block, every other byte unchanged; duplicates skipped, conflicts reported, exported once."""

from __future__ import annotations

import difflib
import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff_service import label_export
from handoff_service import trainer_inbox as inbox
from handoff_service.models import AuditEvent
from handoff_service.trainer_inbox import TrainerInboxItem
from tests.utils.service import start
from triage_core import nlu_files

REPO_NLU = Path(__file__).resolve().parents[2] / "data" / "nlu"
DAY = "2026-12-01"
EXPORT = "/api/v1/trainer/export"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "nlu"
    shutil.copytree(REPO_NLU, copy)
    return copy


@pytest.fixture
def settings(settings, data_dir: Path):
    settings.nlu_data_dir = data_dir
    return settings


@pytest.fixture
def conversation_id(client: TestClient) -> str:
    conversation_id, _young, _ = start(client)
    return conversation_id


def add(
    session: Session, conversation_id: str, text: str, status: str = "accepted", label=None
) -> int:
    item = inbox.add_to_inbox(session, conversation_id, text, ["below_threshold"], date.today())
    item.status = status
    item.label = label
    session.commit()
    return item.id


def snapshot(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(directory.glob("*.yml"))}


def added_lines(old: str, new: str) -> list[str]:
    """The lines `new` adds to `old`; fails if it changes or removes any."""
    ops = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    added = []
    for tag, _i1, _i2, j1, j2 in ops.get_opcodes():
        assert tag in ("equal", "insert"), tag
        if tag == "insert":
            added.extend(new.splitlines()[j1:j2])
    return added


def run(session: Session, data_dir: Path, **kwargs) -> label_export.ExportReport:
    return label_export.export_labels(session, data_dir, DAY, **kwargs)


# -- the pure part ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "adjusted"),
    [
        ("jeg er ked af det", "jeg er ked af det", False),
        ("  jeg er\n ked   af\tdet ", "jeg er ked af det", False),
        ("min ven [NAVN] drikker", "min ven [NAVN] drikker", False),
        ("[NAVN] hedder hun", "[NAVN] hedder hun", False),
        ("[NAVN](min ven) slår mig", "[NAVN] (min ven) slår mig", True),
        ('skriv til [NAVN]{"x": 1}', 'skriv til [NAVN] {"x": 1}', True),
        ("[NAVN][TELEFON] ring", "[NAVN] [TELEFON] ring", True),
        ("[NAVN] (min bror)", "[NAVN] (min bror)", False),
    ],
)
def test_example_text_is_one_line_and_never_an_entity(text: str, line: str, adjusted: bool):
    got, refusal, was_adjusted = nlu_files.example_text(text)
    assert (got, refusal, was_adjusted) == (line, None, adjusted)
    assert got is not None and not nlu_files.ENTITY_REGEX.search(got)


@pytest.mark.parametrize(
    ("text", "reason"), [("   \n ", "empty"), ("x" * 2001, "too_long"), ("hej\x07", "unprintable")]
)
def test_example_text_refuses(text: str, reason: str):
    assert nlu_files.example_text(text) == (None, reason, False)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Min MOR drikker", "min mor   drikker"),
        ("min [mor](carer) drikker", "min mor drikker"),
        ('min [fars]{"entity": "carer", "value": "far"} øl', "min fars øl"),
    ],
)
def test_normal_ignores_case_spacing_and_annotations(a: str, b: str):
    assert nlu_files.normal(a) == nlu_files.normal(b)


def test_every_repo_file_reads_the_same_by_lines_and_by_yaml():
    for path in sorted(REPO_NLU.glob("*.yml")):
        nlu_files.read_blocks(path.read_text(encoding="utf-8"))  # raises if they disagree


# -- the export on the database -----------------------------------------------------------------


def test_accepted_items_land_in_the_biggest_block_and_nothing_else_changes(
    session: Session, conversation_id: str, data_dir: Path
):
    before = snapshot(data_dir)
    sad = add(session, conversation_id, "alt føles gråt og tungt for tiden", label="feeling_sad")
    home = add(session, conversation_id, "de råber ad hinanden hver aften", label="conflict_home")
    report = run(session, data_dir)
    after = snapshot(data_dir)

    assert {(e.intent, e.file, tuple(e.ids)) for e in report.written} == {
        ("feeling_sad", "feelings.yml", (sad,)),
        ("conflict_home", "family.yml", (home,)),
    }
    assert {name for name in after if after[name] != before[name]} == {"feelings.yml", "family.yml"}
    for name, intent, line in [
        ("feelings.yml", "feeling_sad", "alt føles gråt og tungt for tiden"),
        ("family.yml", "conflict_home", "de råber ad hinanden hver aften"),
    ]:
        assert sorted(added_lines(before[name], after[name])) == sorted(
            block := [
                "",
                f"# exported from the trainer's inbox {DAY}",
                f"- intent: {intent}",
                "  examples: |",
                f"    - {line}",
            ]
        )
        # Byte for byte: the old text is the new one without the block.
        new_lines = after[name].splitlines(keepends=True)
        at = new_lines.index(block[1] + "\n") - 1
        assert [ln.rstrip("\n") for ln in new_lines[at : at + 5]] == block
        assert "".join(new_lines[:at] + new_lines[at + 5 :]) == before[name]
        blocks = nlu_files.read_blocks(after[name])
        biggest = max((b for b in blocks if b.intent == intent), key=lambda b: len(b.examples))
        following = blocks[blocks.index(biggest) + 1]
        assert (following.intent, following.examples) == (intent, [line])
        # Comments and the order of the blocks are kept.
        old_comments = [ln for ln in before[name].splitlines() if ln.startswith("#")]
        assert [ln for ln in after[name].splitlines() if ln.startswith("#")][
            : len(old_comments)
        ] == old_comments
        intents = [b.intent for b in nlu_files.read_blocks(before[name])]
        assert [b.intent for b in blocks if b is not following] == intents
        data = yaml.safe_load(after[name])
        assert any(
            item.get("intent") == intent and item["examples"] == f"- {line}\n"
            for item in data["nlu"]
        )
    rows = {i.id: i for i in session.scalars(select(TrainerInboxItem))}
    assert rows[sad].exported_at is not None and rows[home].exported_at is not None


def test_a_second_export_of_the_same_intent_follows_the_first(
    session: Session, conversation_id: str, data_dir: Path
):
    add(session, conversation_id, "jeg føler mig tom indeni hele tiden", label="feeling_sad")
    run(session, data_dir)
    add(session, conversation_id, "intet giver mening mere for mig", label="feeling_sad")
    run(session, data_dir)
    blocks = nlu_files.read_blocks((data_dir / "feelings.yml").read_text(encoding="utf-8"))
    sad = [b for b in blocks if b.intent == "feeling_sad"]
    assert [b.examples for b in sad[1:]] == [
        ["jeg føler mig tom indeni hele tiden"],
        ["intet giver mening mere for mig"],
    ]
    assert blocks.index(sad[2]) == blocks.index(sad[1]) + 1 == blocks.index(sad[0]) + 2


@pytest.mark.parametrize(
    ("existing", "label", "outcome"),
    [
        ("min far drikker for meget", "parent_alcohol", "duplicate"),  # family.yml, annotated
        ("MIN  FAR drikker for meget ", "parent_alcohol", "duplicate"),  # case and spacing
        ("hej", "greet", "duplicate"),
        ("hej", "thank", "conflict"),
        ("min far drikker for meget", "feeling_sad", "conflict"),
        ("jeg er død træt", "feeling_sad", "conflict"),  # out_of_scope's hard negative
    ],
)
def test_duplicates_are_skipped_and_conflicts_reported_not_written(
    session: Session, conversation_id: str, data_dir: Path, existing, label, outcome
):
    before = snapshot(data_dir)
    item_id = add(session, conversation_id, existing, label=label)
    report = run(session, data_dir)
    assert snapshot(data_dir) == before
    assert report.written == []
    row = session.get(TrainerInboxItem, item_id, populate_existing=True)
    assert row is not None
    if outcome == "duplicate":
        assert report.duplicates == [item_id] and report.conflicts == []
        assert row.exported_at is not None
    else:
        assert report.duplicates == [] and [c.id for c in report.conflicts] == [item_id]
        assert label not in report.conflicts[0].other_intents
        assert row.exported_at is None  # back every run until the trainer resolves it


def test_the_same_new_text_under_two_intents_in_one_run_is_a_conflict(
    session: Session, conversation_id: str, data_dir: Path
):
    first = add(session, conversation_id, "det er bare noget lort det hele", label="feeling_sad")
    second = add(session, conversation_id, "det er bare noget lort det hele!", label="feeling_sad")
    report = run(session, data_dir)
    assert [e.ids for e in report.written] == [[first, second]]  # "!" makes them different
    assert report.conflicts == []


@pytest.mark.parametrize("status", ["open", "discarded"])
def test_open_and_discarded_items_are_never_exported(
    session: Session, conversation_id: str, data_dir: Path, status: str
):
    before = snapshot(data_dir)
    item_id = add(session, conversation_id, "noget helt nyt om min weekend", status, "feeling_sad")
    report = run(session, data_dir)
    assert snapshot(data_dir) == before and report.written == [] and report.marked == 0
    row = session.get(TrainerInboxItem, item_id)
    assert row is not None and row.exported_at is None


def test_an_item_is_exported_once(session: Session, conversation_id: str, data_dir: Path):
    add(session, conversation_id, "jeg græder mig selv i søvn hver nat", label="feeling_sad")
    first = run(session, data_dir)
    after_first = snapshot(data_dir)
    second = run(session, data_dir)
    assert first.marked == 1 and [e.count for e in first.written] == [1]
    assert second.written == [] and second.marked == 0 and second.duplicates == []
    assert snapshot(data_dir) == after_first


def test_placeholders_stay_and_cannot_become_entities(
    session: Session, conversation_id: str, data_dir: Path
):
    """The scrubber's placeholders are written as they are; one followed by ( { or [ gets a
    space so Rasa does not read it as an entity annotation."""
    plain = add(session, conversation_id, "Sofie slår mig når mor er ude", label="violence")
    glued = add(session, conversation_id, "Sofie(min søster) slår mig tit", label="violence")
    report = run(session, data_dir)
    texts = {
        i.id: i.text
        for i in session.scalars(select(TrainerInboxItem)).all()
        if i.id in (plain, glued)
    }
    assert texts[plain].startswith("[NAVN] ") and texts[glued].startswith("[NAVN](")
    assert report.adjusted == [glued]
    [entry] = report.written
    lines = added_lines(snapshot(REPO_NLU)[entry.file], (data_dir / entry.file).read_text())
    assert "    - [NAVN] slår mig når mor er ude" in lines
    assert "    - [NAVN] (min søster) slår mig tit" in lines
    assert not any(nlu_files.ENTITY_REGEX.search(line) for line in lines)


def test_refused_items_are_reported_and_not_marked(
    session: Session, conversation_id: str, data_dir: Path
):
    item_id = add(session, conversation_id, "noget om nlu", label="nlu_fallback")
    report = run(session, data_dir)
    assert [(r.id, r.reason) for r in report.refused] == [(item_id, "unknown_intent")]
    row = session.get(TrainerInboxItem, item_id)
    assert row is not None and row.exported_at is None


def test_dry_run_writes_and_marks_nothing_but_shows_the_lines(
    session: Session, conversation_id: str, data_dir: Path
):
    before = snapshot(data_dir)
    item_id = add(session, conversation_id, "jeg savner den gamle mig", label="feeling_sad")
    report = run(session, data_dir, dry_run=True)
    assert report.dry_run and report.lines == {"feeling_sad": ["jeg savner den gamle mig"]}
    assert "would write 1 to feelings.yml" in label_export.describe(report)
    assert snapshot(data_dir) == before
    row = session.get(TrainerInboxItem, item_id, populate_existing=True)
    assert row is not None and row.exported_at is None


def test_no_mark_then_mark_only_is_what_make_does(
    session: Session, conversation_id: str, data_dir: Path
):
    item_id = add(session, conversation_id, "jeg har det skidt uden grund", label="feeling_sad")
    written = run(session, data_dir, mark=False)
    assert written.marked == 0 and [e.ids for e in written.written] == [[item_id]]
    row = session.get(TrainerInboxItem, item_id, populate_existing=True)
    assert row is not None and row.exported_at is None
    after_write = snapshot(data_dir)
    marked = run(session, data_dir, write=False)
    assert marked.marked == 1 and marked.duplicates == [item_id] and marked.written == []
    assert snapshot(data_dir) == after_write


def test_a_file_the_line_reader_does_not_understand_is_an_error_and_nothing_is_written(
    session: Session, conversation_id: str, data_dir: Path
):
    odd = data_dir / "odd.yml"
    odd.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: "- hej du"\n')
    before = snapshot(data_dir)
    add(session, conversation_id, "jeg er så trist i dag igen", label="feeling_sad")
    with pytest.raises(label_export.ExportError):
        run(session, data_dir)
    assert snapshot(data_dir) == before


def test_cli_exit_codes(monkeypatch, database_url: str, data_dir: Path, capsys, tmp_path: Path):
    monkeypatch.setenv("DATABASE_URL", database_url)
    label_export.get_settings.cache_clear()
    try:
        assert label_export.main(["--data-dir", str(data_dir), "--dry-run"]) == 0
        assert "would write nothing" in capsys.readouterr().out
        assert label_export.main(["--data-dir", str(tmp_path / "missing")]) == 1
    finally:
        label_export.get_settings.cache_clear()


# -- the endpoint ------------------------------------------------------------------------------


def test_endpoint_returns_the_report_and_audits_counts_only(
    client: TestClient,
    session: Session,
    conversation_id: str,
    data_dir: Path,
    trainer_headers: dict[str, str],
):
    new = add(session, conversation_id, "jeg tør ikke sige det til nogen", label="feeling_anxious")
    dup = add(session, conversation_id, "hej", label="greet")
    clash = add(session, conversation_id, "tak", label="greet")
    dry = client.post(EXPORT, json={"dry_run": True}, headers=trainer_headers)
    assert dry.status_code == 200, dry.text
    assert dry.json()["lines"] == {"feeling_anxious": ["jeg tør ikke sige det til nogen"]}

    response = client.post(EXPORT, json={}, headers=trainer_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["written"] == [
        {"intent": "feeling_anxious", "file": "feelings.yml", "count": 1, "ids": [new]}
    ]
    assert body["duplicates"] == [dup] and [c["id"] for c in body["conflicts"]] == [clash]
    assert body["validated"] is False and "make export-labels" in body["note"]
    assert body["lines"] == {} and body["marked"] == 2
    assert "jeg tør ikke" in (data_dir / "feelings.yml").read_text()
    events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "labels_exported")))
    assert [(e.reason, e.conversation_id) for e in events] == [("w=1 d=1 c=1", None)]

    again = client.post(EXPORT, json={}, headers=trainer_headers).json()
    assert again["written"] == [] and again["marked"] == 0
    # The inbox says which accepted items are in the training data now; the conflict is not.
    items = client.get(
        "/api/v1/trainer/inbox", params={"status": "accepted"}, headers=trainer_headers
    ).json()
    exported = {item["id"]: item["exported_at"] is not None for item in items}
    assert exported == {new: True, dup: True, clash: False}


def test_endpoint_refuses_a_broken_file_with_409(
    client: TestClient,
    session: Session,
    conversation_id: str,
    data_dir: Path,
    admin_headers: dict[str, str],
):
    (data_dir / "odd.yml").write_text("nlu:\n- intent: greet\n  examples: |\n    - hej\n  x: [\n")
    add(session, conversation_id, "jeg er så trist i dag igen", label="feeling_sad")
    response = client.post(EXPORT, json={}, headers=admin_headers)
    assert response.status_code == 409 and "Intet er skrevet" in response.json()["detail"]
