"""The personal-data scrubber (triage_core/scrub.py), case by case, as young people write.

Runs in both environments: .venv-bot (this folder) and .venv-service (the service's inbox test
imports it too).
"""

from __future__ import annotations

import time

import pytest

from triage_core.scrub import AMBIGUOUS_NAMES, PLACEHOLDERS, _names, scrub

# (message, expected text after scrubbing)
REPLACED = [
    # -- CPR ---------------------------------------------------------------------------------
    ("mit cpr er 120307-1234", "mit cpr er [CPR]"),
    ("cpr 1203071234 hvis i skal bruge det", "cpr [CPR] hvis i skal bruge det"),
    ("hun sagde mit cprnr var 010208 4321??", "hun sagde mit cprnr var [CPR]??"),
    ("290200-1234 er mit nummer", "[CPR] er mit nummer"),
    ("311299-9999", "[CPR]"),
    # -- phone ---------------------------------------------------------------------------------
    ("skriv til mig på 22334455", "skriv til mig på [TELEFON]"),
    ("mit nr er 22 33 44 55 😭", "mit nr er [TELEFON] 😭"),
    ("ring +45 22 33 44 55 plz", "ring [TELEFON] plz"),
    ("+4522334455", "[TELEFON]"),
    ("0045 2233 4455 er min mors", "[TELEFON] er min mors"),
    ("hans nummer er 2233-4455", "hans nummer er [TELEFON]"),
    ("sms 41.22.33.44", "sms [TELEFON]"),
    ("4522334455 er min fars nr", "[TELEFON] er min fars nr"),
    ("nummeret er 31 234 567", "nummeret er [TELEFON]"),
    # -- e-mail --------------------------------------------------------------------------------
    ("min mail er emma.hansen2009@gmail.com", "min mail er [EMAIL]"),
    ("skriv til lolcat_99@hotmail.dk hvis du kan", "skriv til [EMAIL] hvis du kan"),
    # -- URLs and user names -------------------------------------------------------------------
    ("se https://www.facebook.com/emma.h.1 der", "se [URL] der"),
    ("www.minblog.dk har alt", "[URL] har alt"),
    ("adda mig snapchat.com/add/emmalove", "adda mig [URL]"),
    ("min insta er @emma_x2009", "min insta er [BRUGERNAVN]"),
    ("adda min snap lisa_2009 🙏", "adda min snap [BRUGERNAVN] 🙏"),
    ("min snap: darkangel", "min snap: [BRUGERNAVN]"),
    ("tjek t.snapchat.com/xyz123.", "tjek [URL]."),
    # -- addresses -----------------------------------------------------------------------------
    ("jeg bor på nørregade 12 2 tv", "jeg bor på [ADRESSE]"),
    ("Rosenvænget 4, st. th, 8000 Aarhus C", "[ADRESSE]"),
    ("vi bor på skolevej 3b i odense", "vi bor på [ADRESSE] i odense"),
    ("han bor på Jens Baggesens Vej 5", "han bor på [ADRESSE]"),
    ("kom til bakkehøjen 17 2650 hvidovre", "kom til [ADRESSE]"),
    ("jeg er på Kongens Nytorv 8 nu", "jeg er på [ADRESSE] nu"),
    ("egebakken 22 1 th", "[ADRESSE]"),
    ("bor på H.C. Andersens Boulevard 27", "bor på [ADRESSE]"),
    ("elmeallé 9", "[ADRESSE]"),
    # -- names with a cue ----------------------------------------------------------------------
    ("hej jeg hedder emma og er 14", "hej jeg hedder [NAVN] og er 14"),
    ("jeg hedder jo mads hansen", "jeg hedder jo [NAVN]"),
    ("mit navn er sofie", "mit navn er [NAVN]"),
    ("min mor hedder per og han drikker", "min mor hedder [NAVN] og han drikker"),
    ("min stedfar hedder bo", "min stedfar hedder [NAVN]"),
    ("min søster hedder liv", "min søster hedder [NAVN]"),
    ("han hedder kim og er min mors kæreste", "han hedder [NAVN] og er min mors kæreste"),
    ("jeg hedder zyrelia", "jeg hedder [NAVN]"),  # unknown to the list: the cue is enough
    ("min bror mathias slår mig", "min bror [NAVN] slår mig"),
    ("min veninde sofie siger jeg skal skrive", "min veninde [NAVN] siger jeg skal skrive"),
    ("Jeg hedder Ahmed Al-Sayed", "Jeg hedder [NAVN]"),
    ("hun hedder maj", "hun hedder [NAVN]"),
    # -- capitalised names ---------------------------------------------------------------------
    ("Emma er min bedste ven", "[NAVN] er min bedste ven"),
    ("jeg var hos Per i går", "jeg var hos [NAVN] i går"),
    ("min far Lars drikker hver dag", "min far [NAVN] drikker hver dag"),
    ("Emmas mor drikker også", "[NAVN]s mor drikker også"),
    (
        "ved ikke om jeg skal sige det til Frederik Nielsen",
        "ved ikke om jeg skal sige det til [NAVN]",
    ),
    ("jeg bor hos min moster Hanne Kjær", "jeg bor hos min moster [NAVN]"),
    ("min lærer jensen spurgte", "min lærer [NAVN] spurgte"),  # -sen surnames in any case
    ("hvis Liv finder ud af det", "hvis [NAVN] finder ud af det"),
    # -- several kinds at once -----------------------------------------------------------------
    (
        "jeg hedder ida, bor på vestergade 3 og mit nr er 22334455",
        "jeg hedder [NAVN], bor på [ADRESSE] og mit nr er [TELEFON]",
    ),
    ("jeg er mathilde 010107-1234 lol", "jeg er mathilde [CPR] lol"),
]

# Must survive unchanged.
KEPT = [
    "kl 17:30 kommer han hjem",
    "kl. 22 begynder det",
    "jeg er 14",
    "jeg er 15 år og min bror er 12",
    "jeg har taget 30 panodiler",
    "han tog 2 g",
    "hun har drukket 12 øl og 3 shots",
    "ring 112",
    "jeg har ringet til 116 111",
    "1813 sagde jeg skulle vente",
    "livslinien 70 201 201 svarer ikke",
    "70 20 12 01",
    "giftlinjen 82 12 12 12",
    "kan jeg ringe til +45 70 20 12 01",
    "alkolinjen 80 200 500",
    "det skete 12/3",
    "det var 12.03.2024",
    "i 2024 begyndte han at drikke",
    "han skylder 200 kr",
    "50 % af tiden er han fuld",
    "fra 17.30-18.00 er han væk",
    "mit liv er lort",
    "Liv er svært nogle gange",
    "Per dag drikker han en flaske",
    "hans far drikker",
    "bo hos min mor eller far?",
    "vi skal være glade",
    "i parken 2 timer",
    "jeg vil have 2 piller",
    "han var der i maj",
    "min snap virker ikke",
    "det hedder alkoholisme",
    "jeg ved ikke hvad jeg skal gøre 😢😢",
    "hvad hedder du",
    "min mor har drukket siden kl 16 og nu er hun væk",
    "3212991234",  # ten digits, not a date: not a CPR number
    "se livslinien.dk",
    "jeg er 1 ud af 3 der har det sådan",
    "mormor bor i aarhus",
    "min far er på vej hjem om 10 min",
    "vi har 3 kr tilbage til mad",
]


@pytest.mark.parametrize(("message", "expected"), REPLACED)
def test_personal_data_is_replaced(message, expected):
    assert scrub(message).text == expected


@pytest.mark.parametrize("message", KEPT)
def test_ordinary_words_and_numbers_survive(message):
    result = scrub(message)
    assert result.text == message
    assert result.counts == {}


def test_counts_say_what_was_replaced():
    result = scrub("jeg hedder ida, mit nr er 22334455 og 22 33 44 56, mail ida@x.dk")
    assert result.counts == {"[NAVN]": 1, "[TELEFON]": 2, "[EMAIL]": 1}
    assert result.changed
    assert not scrub("hej").changed
    assert scrub("").text == ""


def test_no_placeholder_is_read_as_a_name():
    text = "[NAVN] [TELEFON] [CPR] [URL] [EMAIL] [ADRESSE] [BRUGERNAVN]"
    assert scrub(text).text == text
    assert set(PLACEHOLDERS) == set(text.split())


def test_the_name_list_is_large_and_the_ambiguous_names_are_in_it():
    names = _names()
    assert len(names.first) >= 600
    assert len(names.surnames) >= 50
    missing = {name for name in AMBIGUOUS_NAMES if name not in names.first}
    assert not missing, f"ambiguous names not in names_da.txt: {sorted(missing)}"


def test_scrubbing_is_fast():
    messages = [text for text, _ in REPLACED] + KEPT
    batch = (messages * (2000 // len(messages) + 1))[:2000]
    scrub(batch[0])
    started = time.perf_counter()
    for message in batch:
        scrub(message)
    per_message = (time.perf_counter() - started) / len(batch)
    assert per_message < 0.002  # generous for slow CI; measured ~40 µs (docs/trainer.md)
