"""Compares two versions of the risk lexicon message by message, so a merge or a new rule is
checked for what it changes, not only for the tests it passes.

    python scripts/lexicon_diff.py                  # HEAD's lexicon against the working tree's
    python scripts/lexicon_diff.py --old baa5385    # a given commit's lexicon against the tree's
    python scripts/lexicon_diff.py --prefilter      # the working tree's lexicon with and without
                                                    # its literal prefilter (must never differ)

It reads the training data (data/nlu) and the test files scripts/nlu_report.py scores
(``INDEPENDENT``) except the round's ``FINAL_FILES``: those are listed before their one scoring
and are left out unless ``--with-final`` is given (after that scoring), so nobody reads them
before it. A test file not listed at all is left out too. For every message whose answer
differs (the riskiest rule that fires, on the text as written: the lemmas need spaCy, which only
the bot has) it prints the file, the intent the message is labelled with, both answers and the
message. The exit status is 1 when anything differs, so a refactoring can be checked in one call.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from triage_core.lexicon import RiskLexicon, RiskMatch, default_lexicon_path  # noqa: E402
from triage_core.nlu_files import strip_entities, yaml_intents  # noqa: E402


def scored_files(with_final: bool = False) -> list[Path]:
    """data/nlu's files and the test files the NLU report lists, without the round's files that
    are scored once (``FINAL_FILES``) unless ``with_final``."""
    spec = importlib.util.spec_from_file_location("nlu_report", ROOT / "scripts" / "nlu_report.py")
    assert spec is not None and spec.loader is not None
    report = importlib.util.module_from_spec(spec)
    sys.modules["nlu_report"] = report  # its dataclasses look their module up
    spec.loader.exec_module(report)
    tests = [
        Path(path)
        for name, (path, _status) in report.INDEPENDENT.items()
        if with_final or name not in report.FINAL_FILES
    ]
    return sorted((ROOT / "data" / "nlu").glob("*.yml")) + [p for p in tests if p.exists()]


def messages(files: list[Path]) -> Iterator[tuple[str, str, str]]:
    """(file name, intent, text) of every example."""
    for path in files:
        for intent, examples in yaml_intents(path.read_text(encoding="utf-8")):
            for example in examples:
                yield path.name, intent, strip_entities(example)


def lexicon_at(revision: str) -> RiskLexicon:
    path = default_lexicon_path().relative_to(ROOT)
    text = subprocess.run(
        ["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return RiskLexicon.from_dict(yaml.safe_load(text), source=f"{revision}:{path}")


def without_prefilter(lexicon: RiskLexicon) -> RiskLexicon:
    rules = [dataclasses.replace(rule, needs=()) for rule in lexicon.rules]
    return RiskLexicon(rules, lexicon.version, lexicon.reassurance, lexicon.hyperbole)


def answer(match: RiskMatch | None) -> str:
    return "-" if match is None else f"{match.intent}/{match.rule_id}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", default="HEAD", help="git revision of the old lexicon")
    parser.add_argument(
        "--prefilter", action="store_true", help="compare the tree's lexicon with no prefilter"
    )
    parser.add_argument(
        "--rules", action="store_true", help="a different rule with the same intent differs too"
    )
    parser.add_argument(
        "--with-final",
        action="store_true",
        help="also read the round's files scored once (only after their scoring)",
    )
    args = parser.parse_args(argv)
    new = RiskLexicon.from_yaml()
    old = without_prefilter(new) if args.prefilter else lexicon_at(args.old)
    total = differ = 0
    for name, intent, text in messages(scored_files(args.with_final)):
        total += 1
        before, after = old.match(text), new.match(text)
        if args.rules or args.prefilter:
            same = answer(before) == answer(after)
        else:
            same = (before and before.intent) == (after and after.intent)
        if not same:
            differ += 1
            print(f"{name}\t{intent}\t{answer(before)} -> {answer(after)}\t{text}")
    label = "without prefilter" if args.prefilter else f"lexicon at {args.old}"
    print(f"{differ} of {total} messages answered differently ({label} -> working tree)")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
