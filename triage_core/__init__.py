"""The rules the bot and the handoff service share, in one Rasa-free package.

Installed in both Python environments (the bot's Python 3.10 with Rasa, the service's modern
one), so there is one copy of each rule:

- :mod:`triage_core.taxonomy`: the intent names and what kind each is, the kinds of danger;
- :mod:`triage_core.risk`: risk levels, intent → risk, and the rule that risk never goes down;
- :mod:`triage_core.lexicon` with ``risk_lexicon.yml``: the crisis safety net that does not
  depend on the classifier;
- :mod:`triage_core.danish`: the Danish letter tables the lexicon and the NLU both fold with;
- :mod:`triage_core.content_library` with ``content/``: the approved texts the bot may say,
  checked by :mod:`triage_core.content_check` (``make content-check``).

Only the standard library and PyYAML: no Rasa, no FastAPI, no database.
"""
