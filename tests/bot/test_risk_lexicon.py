"""The Danish risk lexicon (triage_core/risk_lexicon.yml) as the crisis safety net sees it.

Pure Python + PyYAML: runs in the bot env (3.10) and in the service env (3.11), because
the handoff service imports the same module when Rasa is down.
"""

from __future__ import annotations

import dataclasses

import pytest

from triage_core.lexicon import (
    RiskLexicon,
    RiskLexiconError,
    default_lexicon_path,
    normalise,
)
from triage_core.risk import risk_of_intent as intent_risk


@pytest.fixture(scope="module")
def lexicon() -> RiskLexicon:
    return RiskLexicon.from_yaml(default_lexicon_path())


# --------------------------------------------------------------------------- #
# Normalisation
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Jeg vil DØ!!!", "jeg vil doe"),
        ("Hjææææælp", "hjaelp"),
        ("jeg vil dooooo", "jeg vil doo"),
        ("ikkkkke", "ikke"),
        ("Mit liv... er slut?!", "mit liv er slut"),
        ("skar🔪løg", "skar 🔪 loeg"),
        ("⚰️", "⚰"),
        ("taget 30panodiler, 800mg", "taget 30panodiler 800mg"),
        ("ta' mit liv", "ta mit liv"),
        ("  så   på\tdo \n", "saa paa do"),
        ("Café  ØL", "cafe oel"),
        ("", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_default_lexicon_path_points_at_the_shared_risk_lexicon() -> None:
    path = default_lexicon_path()
    assert path.name == "risk_lexicon.yml"
    assert path.parent.name == "triage_core"
    assert path.is_file()


def test_every_risky_intent_has_rules(lexicon: RiskLexicon) -> None:
    counts = lexicon.rule_counts()
    assert set(counts) == {"immediate_danger", "suicidal", "self_harm", "violence"}
    assert all(count >= 3 for count in counts.values()), counts
    assert lexicon.version is not None


def test_intent_risk_levels() -> None:
    assert intent_risk("violence") == "high"
    for intent in ("self_harm", "suicidal", "immediate_danger"):
        assert intent_risk(intent) == "critical"
    for intent in ("greet", "parent_alcohol", "nlu_fallback", None):
        assert intent_risk(intent) == "normal"


# --------------------------------------------------------------------------- #
# Positive cases: the young person is in danger and the net must say so
# --------------------------------------------------------------------------- #

SUICIDAL = [
    "hvor højt skal jeg hoppe for at dø",
    "jeg sidder med pillerne i hånden",
    "jeg vil bare have at det hele stopper for altid",
    "hvis du læser det her er det for sent",
    "jeg vil ikk leve mere",
    "jeg vil ikke vaere her mere",
    "Jeg vil ikke være her mere.",
    "alle ville have det bedre uden mig",
    "jeg orker ikke mere",
    "orker ikke mere jeg vil bare væk",
    "jeg har samlet piller",
    "jeg tænker på at tage alle mine piller",
    "jeg vil bare slutte det hele",
    "jeg vil ta mit eget liv",
    "jeg hopper ud foran toget i morgen",
    "jeg har skrevet afskedsbrev",
    "kys og kram for sidste gang",
    "jeg vil dø",
    "jeg vil dod",
    "jeg vil dooooo",
    "JEG VIL DØØØØ",
    "jeg vil doe nu",
    "jg vil bare gerne dø",
    "har selvmordstanker hver dag",
    "jeg tænker på selvmord",
    "jeg har samlet 30 panodiler",
    "har gemt 40 sovepiller i mit skab",
    "30 panodiler",
    "hvor mange panodil skal der til",
    "ingen ville savne mig hvis jeg døde",
    "jeg ville ønske jeg aldrig var født",
    "jeg vil slå mig selv ihjel",
    "jeg har tænkt på at hænge mig",
    "jeg har givet alle mine ting væk",
    "farvel alle sammen ⚰️ for altid",
    "livet er ikke værd at leve",
]

SELF_HARM = [
    "jeg ridser mig med en passer",
    "jeg skjuler mine ar med lange ærmer",
    "jeg går altid med hættetrøje så ingen ser det",
    "jeg slog hånden ind i væggen igen",
    "jeg skærer i mig selv",
    "jeg skaerer i mig selv",
    "jeg skarer i mig selv",
    "jeg cutter",
    "har lyst til at cutte igen",
    "jeg skar mig i nat",
    "jeg brænder mig selv med en lighter",
    "jeg slår mig selv når jeg er sur",
    "har et barberblad under sengen",
    "jeg ridser mine arme",
    "skar dybt i låret",
    "selvskade er det eneste der hjælper",
    "🔪🩸 mine arme igen",
    "jeg gør mig selv ondt",
]

IMMEDIATE_DANGER = [
    "han slår hende lige nu",
    "han slaar hende lige nu",
    "hun trækker ikke vejret",
    "hun traekker ikk vejret",
    "jeg kan ikke vække min mor",
    "min far vågner ikke",
    "min far vaagner ik",
    "far er besvimet på gulvet",
    "min mor har taget en overdosis",
    "min ven har taget for mange piller",
    "jeg har taget 30 panodiler",
    "jeg har taget 30panodiler",
    "har lige slugt 20 ipren",
    "jeg har taget 800mg",
    "min far kører bil fuld med min lillebror",
    "min mor er stiv og vil køre",
    "han vil køre fuld",
    "han sætter sig bag rattet nu",
    "han truer med en kniv",
    "min stedfar står i køkkenet med en kniv",
    "jeg er blevet smidt ud i nat",
    "skal jeg ringe 112",
    "min mor er bevidstløs",
    "hun har taget for mange",
    "mor reagerer ikke og hun har kastet op",
    "han er helt blå om læberne",
    "en fyr har fulgt mig fra stationen og går stadig efter mig",
    "der er en mand der forfølger mig på vej hjem",
    "nogen prøvede at trække mig ind i en bil",
    "min far er segnet om på gulvet",
    "hun har kramper og jeg ved ikke hvad jeg skal gøre",
    "min stedfar er ved at slå min mor",
    "hjælp han kommer",
    "der er ild i køkkenet og mor sover",
    "nogen har puttet noget i mit glas",
    "en mand er efter mig på vej hjem",
    "far sidder bag rattet helt stiv",
]

VIOLENCE = [
    "han slår mig",
    "hun slog mig",
    "min far sparker til mig",
    "han truer med at slå mig",
    "min mor kaster ting efter mig",
    "han tog kvælertag på mig",
    "min stedfar tæsker min lillebror",
    "far gav mig en lussing",
    "jeg har blå mærker fra min far",
    "far siger han slår mig ihjel hvis jeg siger det",
    "min far truer tit med at slå mig ihjel",
]


@pytest.mark.parametrize("text", SUICIDAL)
def test_suicidal(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is not None, text
    assert (match.intent, match.risk) == ("suicidal", "critical"), (text, match)


@pytest.mark.parametrize("text", SELF_HARM)
def test_self_harm(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is not None, text
    assert (match.intent, match.risk) == ("self_harm", "critical"), (text, match)


@pytest.mark.parametrize("text", IMMEDIATE_DANGER)
def test_immediate_danger(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is not None, text
    assert (match.intent, match.risk) == ("immediate_danger", "critical"), (text, match)


@pytest.mark.parametrize("text", VIOLENCE)
def test_violence(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is not None, text
    assert (match.intent, match.risk) == ("violence", "high"), (text, match)


def test_match_reports_rule_and_normalised_fragment(lexicon: RiskLexicon) -> None:
    match = lexicon.match("Jeg har taget 30 Panodiler!!")
    assert match is not None
    assert match.intent == "immediate_danger"
    assert match.rule_id == "danger_dosage_ingested"
    assert match.matched == "taget 30 panodiler"
    assert match.as_dict() == {
        "intent": "immediate_danger",
        "risk": "critical",
        "rule_id": "danger_dosage_ingested",
        "matched": "taget 30 panodiler",
        "danger": "overdose",
    }


def test_collecting_pills_is_suicidal_but_taking_them_is_immediate_danger(
    lexicon: RiskLexicon,
) -> None:
    assert lexicon.match("jeg har samlet 30 panodiler").intent == "suicidal"
    assert lexicon.match("jeg har taget 30 panodiler").intent == "immediate_danger"


def test_critical_beats_high_and_most_urgent_critical_wins(lexicon: RiskLexicon) -> None:
    # violence (high) and suicidal (critical) in one message -> critical
    match = lexicon.match("han slår mig og jeg vil ikke leve mere")
    assert (match.intent, match.risk) == ("suicidal", "critical")
    # suicidal and immediate_danger (both critical) -> immediate_danger, the more urgent one
    match = lexicon.match("jeg vil dø, jeg har taget 40 piller")
    assert match.intent == "immediate_danger"
    all_intents = [m.intent for m in lexicon.match_all("jeg vil dø, jeg har taget 40 piller")]
    assert all_intents[0] == "immediate_danger" and "suicidal" in all_intents


def test_hard_negative_does_not_hide_a_later_real_risk(lexicon: RiskLexicon) -> None:
    assert lexicon.match("vi havde om selvmord i dansk") is None
    match = lexicon.match("vi havde om selvmord i dansk og nu tænker jeg selv på selvmord")
    assert match is not None and match.intent == "suicidal"


def test_match_is_deterministic(lexicon: RiskLexicon) -> None:
    text = "han slår min mor lige nu og jeg har skåret i mig selv og vil dø"
    assert len({lexicon.match(text) for _ in range(5)}) == 1


# --------------------------------------------------------------------------- #
# Negative cases: ordinary speech that must not trip the net
# --------------------------------------------------------------------------- #

NEGATIVES = [
    "vi havde om selvmord i dansk",
    "vi havde om selvmord i 8. klasse",
    "vi læste en novelle om selvmord i dansk",
    "jeg er død træt",
    "jeg er dødtræt",
    "jeg døde af grin",
    "jeg doede af grin over den video 😂",
    "min telefon er død",
    "mit batteri er dødt",
    "skar mig på et stykke papir",
    "jeg skar mig på papiret i dag",
    "jeg skar mig i fingeren da jeg lavede mad",
    "vi så en film om en der tog en overdosis",
    "min far drikker kaffe",
    "jeg orker ikke mere matematik",
    "jeg orker ikke mere lektier i dag",
    "skar løg 🔪 til aftensmad",
    "skal bruge en kniv til at skære kage 🔪🎂",
    "800 m løb i idræt",
    "jeg tog 2 panodil for min hovedpine",
    "min far tager 10 piller om dagen",
    "der er 20 panodiler i en pakke",
    "jeg cutter videoer til tiktok",
    "jeg brændte mig på ovnen i går",
    "min bror slår mig altid i fifa",
    "den her sang slår mig ihjel haha",
    "min søster kastede en pude efter mig for sjov",
    "han sparker til bolden",
    "jeg vil gerne på do",
    "jeg kan ikke mere 😂😂",
    "jeg ville dø hvis min crush så det lol",
    "hellere dø end at tage til tandlægen",
    "min far kører altid for stærkt",
    "vi kørte hjem med bussen og alle var fulde",
    "min mor kører med fuld tank",
    "jeg gider ikke være her, det er kedeligt",
    "min far vågner ikke når vækkeuret ringer",
    "jeg kan ikke leve uden min telefon",
    "jeg er bekymret for at min mor dør af at drikke",
    "jeg blev smidt ud af klassen i dag",
    "min kat ridsede mig på armen",
    "vi sagde farvel til min morfar på hospitalet",
    "jeg hænger mig ikke i detaljer",
    "jeg har det lidt trist i dag",
    "jeg vil ikke mere i skole",
    "min far kan ikke leve uden sin kaffe",
    "jeg orker ikke mere af min lillebror",
    "jeg har spist for meget slik",
    "jeg tog for meget fri i sidste uge",
    "jeg er bange for at min far kører fuld en dag",
    "min mor reagerer ikke på mine beskeder",
    "min telefon hænger sig hele tiden",
    "jeg orker ikke længere at vente",
    "min lillesøster løber efter mig hele tiden i skolen",
    "tanken om det forfølger mig",
    "han følger efter mig på insta",
    "jeg ville dø for en kebab nu",
    "jeg slog hovedet ind i døren ved et uheld",
    "mine ar fra operationen klør",
    "min lillebror har mavekramper",
    "det brænder i halsen når jeg synger",
    "min kat er blevet helt grå i pelsen",
    "min mor er blevet helt grå i håret",
    "hej",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_hard_negatives_do_not_trip(lexicon: RiskLexicon, text: str) -> None:
    assert lexicon.match(text) is None, (text, lexicon.match(text))


def test_at_least_25_negative_cases() -> None:
    assert len(NEGATIVES) >= 25


# --------------------------------------------------------------------------- #
# The lexicon file format is validated at load time
# --------------------------------------------------------------------------- #


def _load(rules: list, macros: dict | None = None) -> RiskLexicon:
    return RiskLexicon.from_dict({"version": 1, "macros": macros or {}, "rules": rules})


def test_phrase_syntax_alternatives_optionals_macros_and_gaps() -> None:
    lexicon = _load(
        [
            {
                "id": "t1",
                "intent": "suicidal",
                "kind": "phrase",
                "patterns": ["{vil} (bare)? forsvinde * for altid"],
                "unless": ["forsvinde i (ferien|weekenden)"],
            }
        ],
        macros={"vil": ["vil", "ville", "gider"]},
    )
    assert lexicon.match("jeg ville forsvinde for altid").rule_id == "t1"
    assert lexicon.match("jeg vil bare forsvinde helt og aldeles for altid").rule_id == "t1"
    assert lexicon.match("jeg vil forsvinde i ferien for altid") is None
    assert lexicon.match("jeg vil forsvinde lidt mere end tre ord senere for altid") is None
    # word boundaries: no match inside other words
    assert lexicon.match("jegvil forsvinde for altid") is None


def test_emoji_rule_needs_a_co_occurring_word() -> None:
    rule = {"id": "e", "intent": "self_harm", "kind": "emoji", "patterns": ["🔪"]}
    with pytest.raises(RiskLexiconError):
        _load([rule])
    lexicon = _load([dict(rule, requires=["mine arme"])])
    assert lexicon.match("🔪 mine arme") is not None
    assert lexicon.match("🔪 løg") is None


@pytest.mark.parametrize(
    "rule",
    [
        {"id": "x", "intent": "greet", "patterns": ["hej"]},
        {"id": "x", "intent": "suicidal", "patterns": []},
        {"id": "x", "intent": "suicidal", "kind": "fuzzy", "patterns": ["dø"]},
        {"id": "x", "intent": "suicidal", "patterns": ["(dø"]},
        {"id": "x", "intent": "suicidal", "patterns": ["{missing_macro}"]},
        {"id": "x", "intent": "suicidal", "kind": "regex", "patterns": ["re:(unclosed"]},
        {"intent": "suicidal", "patterns": ["dø"]},
    ],
)
def test_malformed_rules_are_rejected(rule: dict) -> None:
    with pytest.raises(RiskLexiconError):
        _load([rule])


def test_duplicate_rule_ids_are_rejected() -> None:
    rule = {"id": "same", "intent": "suicidal", "patterns": ["dø"]}
    with pytest.raises(RiskLexiconError):
        _load([rule, dict(rule)])


# --------------------------------------------------------------------------- #
# Version 5: forms and concepts that independent test sets showed missing
# (past and present tense, dropped subjects, inverted word order, slang on its
# own, locked in or hiding, every word for drunk at the wheel, bruises someone
# gave), each with the harmless look-alikes that must stay quiet.
# --------------------------------------------------------------------------- #

V5_POSITIVES = [
    ("kms", "suicidal"),
    ("seriøst kms snart", "suicidal"),
    ("ingen ville opdage det hvis jeg tog mit eget liv", "suicidal"),
    ("jeg slår mig selv ihjel", "suicidal"),
    ("hvis han drikker igen så gør jeg en ende på det hele", "suicidal"),
    ("om en måned er jeg her alligevel ikke mere", "suicidal"),
    ("jeg bliver ikke 17", "suicidal"),
    ("jeg har fundet ud af hvordan jeg vil gøre det", "suicidal"),
    ("har købt et reb til i nat", "suicidal"),
    ("sidder nede ved sporet og venter på det næste tog", "suicidal"),
    ("står oppe på taget af skolen og kigger ned", "suicidal"),
    ("hvor mange sovepiller skal man tage for ikke at vågne", "suicidal"),
    ("ser ingen anden udvej end døden", "suicidal"),
    ("kan ikke se nogen grund til at holde ud", "suicidal"),
    ("det her bliver sidste gang i hører fra mig", "suicidal"),
    ("jeg har givet mit tøj til min kusine så hun har noget efter mig", "suicidal"),
    ("skar mig igen i går", "self_harm"),
    ("har lavet nye snit", "self_harm"),
    ("bed mig selv i hånden til det blødte", "self_harm"),
    ("brugte saksen på låret i frikvarteret", "self_harm"),
    ("armen er fuld af friske snit", "self_harm"),
    ("jeg stikker mig selv med en sikkerhedsnål", "self_harm"),
    ("fortjener at få ondt så derfor skærer jeg", "self_harm"),
    ("mit ben bløder efter jeg skar i det", "self_harm"),
    ("mors kæreste har låst mig inde i kælderen", "immediate_danger"),
    ("gemmer mig i skabet, han leder efter mig", "immediate_danger"),
    ("far smadrer alt herinde og jeg tør ikke komme ud af værelset", "immediate_danger"),
    ("han sparker på døren og truer med at slå mig", "immediate_danger"),
    ("min stedfar vil brænde huset ned", "immediate_danger"),
    ("far er pløret og vil køre os hjem nu", "immediate_danger"),
    ("mor er stangstiv og min lillebror sidder allerede i bilen", "immediate_danger"),
    ("har lige slugt en hel bøtte piller", "immediate_danger"),
    ("hun slår løs på min lillesøster", "immediate_danger"),
    ("jeg har blå mærker som min far gav mig", "violence"),
    ("dækker de blå mærker med makeup", "violence"),
    ("han har truet med at tæve mig", "violence"),
    ("er bange for at få bank når han kommer hjem", "violence"),
    ("kan ikke sidde ned efter de tæsk jeg fik", "violence"),
    ("hun holder mig fast og råber", "violence"),
]

V5_NEGATIVES = [
    "det er 12 kms at cykle til skole",
    "vi hopper fra broen i havnen om sommeren",
    "jeg bliver ikke 18 før til marts",
    "jeg skar mig i fingeren i går",
    "vi lavede snit i stoffet i håndarbejde",
    "mit karaktergennemsnit er dårligt",
    "min hund bed mig i hånden til det blødte",
    "kradsede et myggestik til blods",
    "jeg låste mig ude i går",
    "vi legede gemmeleg og jeg gemte mig i skabet",
    "min bror smadrer alle i fifa lige nu",
    "klatrereb i idræt er det værste",
    "den matematikprøve slog mig helt ihjel",
    "min mor slår mig ihjel hvis jeg kommer for sent hjem igen haha",
    "jeg slog mig på bordbenet",
    "jeg slog min bror i smash bros",
    "vi læser hamlet og der er mord og selvmord i den",
    "blå mærker fra håndbold",
    "min far vil køre mig til træning i aften",
    "hun kører os hjem efter festen, hun har ikke drukket",
    "jeg har høj musik på når jeg kører med min far",
    "stikker mig selv i fingeren når jeg syr",
    "jeg venter på toget på stationen, det er forsinket",
    "ser ikke nogen grund til at fortsætte med håndbold",
]


@pytest.mark.parametrize(("text", "intent"), V5_POSITIVES)
def test_v5_concepts(lexicon: RiskLexicon, text: str, intent: str) -> None:
    match = lexicon.match(text)
    assert match is not None and match.intent == intent, (text, match)


@pytest.mark.parametrize("text", V5_NEGATIVES)
def test_v5_hard_negatives_do_not_trip(lexicon: RiskLexicon, text: str) -> None:
    assert lexicon.match(text) is None, (text, lexicon.match(text))


def test_lemmas_let_a_rule_fire_on_an_inflection_it_does_not_list(lexicon: RiskLexicon) -> None:
    text = "jeg rispede mig i går"
    assert lexicon.match(text) is None
    match = lexicon.match(text, lemmas="jeg rispe mig i går")
    assert match is not None and match.intent == "self_harm"


def test_an_unless_on_the_written_message_vetoes_a_hit_found_only_in_the_lemmas(
    lexicon: RiskLexicon,
) -> None:
    text = "vi læser hamlet og der er mord og selvmord i den"
    assert lexicon.match(text) is None
    assert lexicon.match(text, lemmas="vi læse hamlet og der være mord og selvmord i den") is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("min mor er faldet om og vågner ikke", "unconscious"),
        ("jeg har taget en masse piller", "overdose"),
        ("han står i køkkenet med en kniv", "weapon"),
        ("min far slår min mor lige nu", "violence_now"),
        ("far vil køre os hjem og han er stiv", "drunk_driving"),
        ("jeg vil ikke leve mere", "suicidal"),
        # an unconscious parent who took pills: the first-aid script, which also says call 112
        ("mor har taget alle sine piller og vågner ikke", "unconscious"),
        ("jeg har det fint i dag", None),
    ],
)
def test_danger_kind_picks_the_most_urgent_kind(
    lexicon: RiskLexicon, text: str, kind: str | None
) -> None:
    assert lexicon.danger_kind(text) == kind


def test_only_critical_rules_name_a_danger_kind() -> None:
    from triage_core.lexicon import RiskLexiconError

    data = {"rules": [{"id": "x", "intent": "violence", "danger": "weapon", "patterns": ["kniv"]}]}
    with pytest.raises(RiskLexiconError, match="only critical"):
        RiskLexicon.from_dict(data)


# --------------------------------------------------------------------------- #
# Version 6 (issue 11): danger kinds on every immediate_danger rule, bleeding that will not
# stop, an overdose told as drinking, negated or reassuring danger words, hyperbole, a
# parent's habitual drink-driving, and mixed messages where the crisis comes last.
# --------------------------------------------------------------------------- #

#: immediate_danger rules that are truly general (the dialogue's general guidance fits them).
GENERAL_DANGER_RULES = {
    "danger_help_now",
    "danger_emoji",
    "danger_fire",
    "danger_v6_general",
    "danger_v11_plea",
}


def test_every_immediate_danger_rule_names_its_kind(lexicon: RiskLexicon) -> None:
    unnamed = {
        r.rule_id for r in lexicon.rules if r.intent == "immediate_danger" and r.danger is None
    }
    assert unnamed == GENERAL_DANGER_RULES


def test_bleeding_has_its_own_rule(lexicon: RiskLexicon) -> None:
    rules = {r.rule_id: r for r in lexicon.rules}
    assert rules["danger_bleeding"].danger == "bleeding"
    assert lexicon.match("skal jeg ringe 112").rule_id == "danger_help_now"


BLEEDING = [
    "det bløder og vil ikke stoppe",
    "blodet stopper ikk",
    "har skåret for dybt",
    "jeg skar mig alt for dybt i aften",
    "kan ikke få blodet til at stoppe",
    "det bløder helt vildt fra mit håndled",
    "håndklædet er helt gennemblødt",
    "snittet er rigtig dybt",
    "der er blod over det hele på badeværelset",
    "skal det syes? det bløder stadig",
]

BLEEDING_NEGATIVES = [
    "min næse bløder og vil ikke stoppe",
    "jeg har næseblod der ikke vil stoppe",
    "jeg har min mens og det bløder meget",
    "mensen stopper ikke, er det normalt",
    "mit tandkød bløder når jeg børster tænder",
    "han stopper ikke med at snakke",
    "regnen stopper ikke",
    "skar mig i fingeren da jeg skar løg",
    "jeg skar dybt i låret",  # self-harm, not a bleeding emergency by itself
]


@pytest.mark.parametrize("text", BLEEDING)
def test_bleeding(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is not None and match.intent == "immediate_danger", (text, match)
    assert lexicon.danger_kind(text) == "bleeding", text


@pytest.mark.parametrize("text", BLEEDING_NEGATIVES)
def test_bleeding_hard_negatives(lexicon: RiskLexicon, text: str) -> None:
    assert lexicon.danger_kind(text) != "bleeding", (text, lexicon.match_all(text))
    match = lexicon.match(text)
    assert match is None or match.rule_id != "danger_bleeding", (text, match)


OVERDOSE_AS_DRINKING = [
    "drak en halv flaske vodka og tog mors piller oveni",
    "har drukket en hel flaske vin og taget 6 sovepiller",
    "jeg har bællet sprut og så tog jeg fars piller",
    "jeg har blandet sovepiller med vodka",
    "blandede mors stesolid med rom for en time siden",
    "tog en masse piller og har drukket vodka",
    "har drukket og taget speed og mit hjerte hamrer",
    "tog alt for meget mdma",
    "har drukket en hel flaske vodka alene og kan ikke stå op",
    "nogen har puttet noget i mit glas",
    "jeg tror jeg har alkoholforgiftning",
    "drak en flaske rødvin og har taget alle sovepillerne i skabet",
    "tog nogle af min mors beroligende og drak vin oven i",
]

OVERDOSE_NEGATIVES = [
    "min mor drak en flaske vin og tog sovepiller",
    "min far drikker og tager piller hver dag",
    "jeg drak to øl og tog en panodil mod hovedpine",
    "er det farligt at drikke og tage piller",
    "er det farligt at tage p-piller og drikke",
    "jeg drak en halv flaske vodka til festen i lørdags",
    "jeg tager speed for at kunne læse",
    "købte piller over snap er det farligt",
    "jeg fik madforgiftning af sushi",
    "jeg har taget molly 2 gange nu",
    "jeg drak en øl og tog mine piller bagefter, er det farligt",
    "jeg drak en øl og tog min medicin bagefter",
]


@pytest.mark.parametrize("text", OVERDOSE_AS_DRINKING)
def test_overdose_told_as_drinking(lexicon: RiskLexicon, text: str) -> None:
    assert lexicon.danger_kind(text) == "overdose", (text, lexicon.match_all(text))


@pytest.mark.parametrize("text", OVERDOSE_NEGATIVES)
def test_drinking_and_pills_that_are_no_overdose(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is None or match.risk != "critical", (text, match)


UNCONSCIOUS = [
    "min mor ligger på gulvet og ånder ikke",
    "min mor vil ikke vågne",
    "han ligger helt slap og svarer ikke",
    "jeg kan ikke mærke om hun trækker vejret",
    "vi var til fest og nu kan jeg ikke vække hende",
    "hun reagerer ikke når jeg ryster hende",
    "hans læber er helt blå",
    "hun holdt op med at trække vejret",
    "mor har taget alle sine piller og vågner ikke",
    "mor har blandet piller og vin og sover så tungt at jeg ikke kan vække hende",
]

UNCONSCIOUS_NEGATIVES = [
    "jeg kan ikke trække vejret når jeg får angst",
    "jeg trækker ikke vejret ordentligt når de skændes",
    "jeg kan ikke vågne om morgenen",
    "min far bevæger sig ikke fra sofaen hele weekenden",
    "min mor svarer ikke på mine beskeder",
    "ja hun trækker vejret fint nu",
]


@pytest.mark.parametrize("text", UNCONSCIOUS)
def test_unconscious_or_not_breathing(lexicon: RiskLexicon, text: str) -> None:
    assert lexicon.danger_kind(text) == "unconscious", (text, lexicon.match_all(text))


@pytest.mark.parametrize("text", UNCONSCIOUS_NEGATIVES)
def test_unconscious_hard_negatives(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is None or match.risk != "critical", (text, match)


REASSURANCE = [
    "ja jeg er safe nu, han gik i seng",
    "nej jeg er ikke i fare lige nu",
    "jeg er i sikkerhed",
    "ja jeg er i sikkerhed nu",
    "han er gået i seng",
    "jeg har det ok nu",
    "han slår ikke lige nu, han er gået i seng",
    "nej han slår ikke mere",
    "nej jeg har ikke selvmordstanker",
    "nej jeg tænker ikke på selvmord",
    "nej nej jeg er ikke suicidal",
    "nej jeg vil ikke skade mig selv",
    "jeg har ikke tænkt mig at tage mit liv",
    "nej ingen er kommet til skade",
    "det er ovre nu",
    "ja hun er vågnet igen",
]


@pytest.mark.parametrize("text", REASSURANCE)
def test_reassurance_never_raises_a_critical_intent(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is None or match.risk != "critical", (text, match)


@pytest.mark.parametrize(
    "text",
    [
        "jeg er i sikkerhed nu men min veninde har taget en masse piller",
        "jeg er ikke i fare men jeg har skåret mig igen i nat",
        "han er gået i seng men jeg vil ikke leve mere",
        "jeg er ikke i sikkerhed herhjemme",
        "jeg er i fare lige nu",
    ],
)
def test_reassurance_does_not_hide_a_real_danger_in_the_same_message(
    lexicon: RiskLexicon, text: str
) -> None:
    match = lexicon.match(text)
    assert match is not None and match.risk == "critical", (text, match)


HYPERBOLE = [
    "det her tager livet af mig",
    "den her opgave kommer til at tage livet af mig",
    "lektierne tager livet af mig lol",
    "min lærer slår mig ihjel hvis jeg ikke afleverer",
    "min træner slår mig ihjel hvis jeg kommer for sent",
    "mine venner dræber mig hvis jeg ikke kommer",
    "hans jokes slår mig ihjel",
    "det spil slår mig ihjel",
    "min mor flår hovedet af mig hvis hun ser min karakter",
    "jeg dør literally af cringe",
    "jeg tænker på at springe ud over for mine forældre",
    "det er et skridt frem at jeg fortæller det",
]


@pytest.mark.parametrize("text", HYPERBOLE)
def test_hyperbole_is_not_risk(lexicon: RiskLexicon, text: str) -> None:
    assert lexicon.match(text) is None, (text, lexicon.match(text))


def test_hyperbole_does_not_hide_the_real_thing(lexicon: RiskLexicon) -> None:
    assert lexicon.match("jeg vil tage livet af mig").intent == "suicidal"
    assert lexicon.match("jeg kommer til at tage livet af mig").intent == "suicidal"
    assert lexicon.match("min bror slår mig").intent == "violence"
    assert lexicon.match("far siger han slår mig ihjel hvis jeg siger det").intent == "violence"


HABITUAL_DRINK_DRIVING = [
    "min far kører tit bil når han har drukket",
    "far kører altid fuld hjem fra sine venner i weekenden",
    "min mor kørte os hjem efter hun havde fået vin i lørdags",
    "min far kørte fuld med os i sommerferien",
    "han plejer at køre efter han har fået nogle øl",
    "min far har fået frakendt kørekortet for spritkørsel",
    "jeg er bange for at min mor kører fuld igen en dag",
]


@pytest.mark.parametrize("text", HABITUAL_DRINK_DRIVING)
def test_habitual_drink_driving_is_not_danger_now(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is None or match.risk != "critical", (text, match)


@pytest.mark.parametrize(
    "text",
    [
        "min far er fuld og nu vil han køre min lillesøster til hendes veninde",
        "far er skæv og lige nu sidder han bag rattet",
        "han er hammered og vil køre os hjem fra festen",
    ],
)
def test_drink_driving_now(lexicon: RiskLexicon, text: str) -> None:
    assert lexicon.danger_kind(text) == "drunk_driving", (text, lexicon.match_all(text))


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("min mor er på speed hele tiden og jeg har kradset mine arme op igen", "self_harm"),
        ("far har drukket siden i går og jeg har ridset mine arme igen", "self_harm"),
        ("de skændes hver aften og så ridser jeg mig bare", "self_harm"),
        ("min far drikker hver dag og jeg orker ikke at leve mere", "suicidal"),
        ("mor er på piller og far er aldrig hjemme, jeg tænker bare på at dø", "suicidal"),
        ("det går fint i skolen men i går tog jeg alle mine piller", "immediate_danger"),
        (
            "mor drikker hver weekend og nu ligger hun i badekarret og vågner ikke",
            "immediate_danger",
        ),
    ],
)
def test_mixed_messages_where_the_crisis_comes_last(
    lexicon: RiskLexicon, text: str, intent: str
) -> None:
    match = lexicon.match(text)
    assert match is not None and match.intent == intent, (text, match)


@pytest.mark.parametrize(
    "text",
    [
        "jeg kradser mine myggestik",
        "jeg har et ar på maven efter blindtarmsoperationen",
        "min mor så mit snit og blev sur",
        "jeg har fået nye cuts i håret",
        "min mor er faldet i igen",
        "tre måneder uden snus og nu røg jeg igen",
        "min kat er væk for altid",
        "jeg gør det i aften",
        "vi har valgt datoen for festen",
        "I skal ikke regne med mig til fodbold mere",
        "jeg har lyst til at cutte den video",
        "han har en kniv samling",
    ],
)
def test_v6_hard_negatives(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is None or match.risk != "critical", (text, match)


def test_reassurance_patterns_reach_every_critical_rule() -> None:
    data = {
        "reassurance": ["er i sikkerhed"],
        "rules": [
            {"id": "d", "intent": "immediate_danger", "patterns": ["er i sikkerhed"]},
            {"id": "v", "intent": "violence", "patterns": ["er i sikkerhed"]},
        ],
    }
    lexicon = RiskLexicon.from_dict(data)
    # the critical rule is vetoed, the high one (violence) keeps its own unless list
    assert lexicon.match("jeg er i sikkerhed").rule_id == "v"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nej jeg er ikke i fare lige nu", True),
        ("ja jeg er safe nu, han gik i seng", True),
        ("han er gået i seng", True),
        ("jeg har det ok nu", True),
        ("nej jeg har ikke selvmordstanker", True),
        ("jeg er i sikkerhed men jeg vil dø", False),  # critical rule fires
        ("jeg har det ok nu men har skåret mig", False),  # a but
        ("jeg er bare ked af det", False),  # no reassurance
        (
            "jeg er ikke i fare lige nu men min far har drukket hele dagen og jeg ved ikke hvad "
            "jeg skal gøre",
            False,
        ),  # a but, and too long to be an answer
    ],
)
def test_reassured(lexicon: RiskLexicon, text: str, expected: bool) -> None:
    assert lexicon.reassured(text) is expected


def test_settle_reassurance_picks_the_best_normal_intent() -> None:
    from triage_core.lexicon import settle_reassurance

    assert settle_reassurance(["immediate_danger", "suicidal", "deny"], "nej") == "deny"
    assert settle_reassurance(["nlu_fallback", "suicidal", "affirm"], "ja") == "affirm"
    assert settle_reassurance(["suicidal"], "nej det er jeg ikke") == "deny"
    assert settle_reassurance(["suicidal"], "ja jeg er ok") == "affirm"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        (
            "har lige banket mit hoved ind i væggen flere gange fordi jeg ikke kunne holde det ud",
            "self_harm",
        ),
        ("jeg har slået hovedet mod væggen igen og igen til det gjorde ondt", "self_harm"),
        ("jeg har slået hovedet ind i døren i går ved et uheld", None),
        ("min lillebror har banket hovedet ind i bordet da han faldt", None),
    ],
)
def test_v7_head_banging_in_the_perfect_tense(lexicon: RiskLexicon, text: str, intent) -> None:
    match = lexicon.match(text)
    assert (match.intent if match else None) == intent, (text, match)


# --------------------------------------------------------------------------- #
# v8: self-injury other than cutting, suicide told as farewell or hopelessness, danger now told
# by what is happening (issue 11, by category; own wording, not the test files')
# --------------------------------------------------------------------------- #
V8_CRITICAL = [
    ("jeg klør mig selv til blods når det bliver for meget", "self_harm"),
    ("når jeg er ked af det bider jeg mig selv i hånden", "self_harm"),
    ("jeg har lavet ridser på mine arme med en nål", "self_harm"),
    ("jeg straffer mig selv ved at sulte", "self_harm"),
    ("hvordan dækker man ar på armene til sommer", "self_harm"),
    ("jeg var stoppet med at cutte men har fået et tilbagefald", "self_harm"),
    ("er det normalt at ville skade sig selv", "self_harm"),
    ("jeg har skrevet et afskedsbrev", "suicidal"),
    ("jeg har sagt farvel til alle jeg kender", "suicidal"),
    ("snart er det ovre for mig", "suicidal"),
    ("alt ville være nemmere for familien hvis jeg var væk", "suicidal"),
    ("der er ikke noget at leve for mere", "suicidal"),
    ("jeg har ikke lyst til at eksistere længere", "suicidal"),
    ("jeg håber ikke jeg vågner op igen", "suicidal"),
    ("hvis jeg døde ville de måske lægge mærke til mig", "suicidal"),
    ("jeg har googlet hvor mange piller der er dødeligt", "suicidal"),
    ("han har geværet fremme og råber", "immediate_danger"),
    ("min stedfar står uden for mit værelse med en kniv", "immediate_danger"),
    ("jeg er lige blevet slået og han er her stadig", "immediate_danger"),
    ("han har fat i min mors hals", "immediate_danger"),
    ("jeg kan høre min mor skrige inde i køkkenet", "immediate_danger"),
    ("jeg sidder inde i klædeskabet fordi de slås", "immediate_danger"),
    ("han er på vej op og han er rasende, hvad gør jeg", "immediate_danger"),
    ("drak en halv flaske og så tog jeg nogle af mine sovepiller", "immediate_danger"),
    ("jeg ka ik vække far og der ligger en tom pillebøtte", "immediate_danger"),
    ("min mor har kastet op i søvne", "immediate_danger"),
    ("de har smidt os ud og vi står i nattøj og det fryser", "immediate_danger"),
    ("der er en mand der har fulgt efter mig fra stationen", "immediate_danger"),
    ("han har drukket og siger at vi skal sætte os ind i bilen", "immediate_danger"),
]
V8_NOT_CRITICAL = [
    "mine myggestik klør så jeg kradser til blods",
    "jeg kniber mig selv i armen for at se om jeg drømmer",
    "jeg har et ar på maven efter en operation",
    "jeg spiser ikke morgenmad, jeg er ikke sulten",
    "jeg sagde farvel til alle på lejren i dag",
    "skolen er snart slut for mig, jeg skal på efterskole",
    "jeg gider ikke være her mere til festen, den er kedelig",
    "mit hjerte banker helt vildt når jeg tænker på prøven",
    "min far tog jagtgeværet med på jagt i weekenden",
    "jeg kan høre min søster skrige af grin over en video",
    "min bror har lige slået mig i fifa",
    "mor er i gang med at lave mad i køkkenet",
    "jeg kastede op i bussen på vej hjem",
    "jeg blev smidt ud af timen i dag",
    "min far drak tre øl og tog en panodil",
    "far kører tit bil når han har drukket, det gør mig bange",
    "kms det her lektiestof",
]


@pytest.mark.parametrize("text,intent", V8_CRITICAL)
def test_v8_concepts_are_critical(lexicon: RiskLexicon, text: str, intent: str) -> None:
    match = lexicon.match(text)
    assert match is not None and match.risk == "critical", (text, match)
    assert match.intent == intent, (text, match)


@pytest.mark.parametrize("text", V8_NOT_CRITICAL)
def test_v8_hard_negatives_stay_out(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is None or match.risk != "critical", (text, match)


# --------------------------------------------------------------------------- #
# Version 9: cutting named without "mig" (starting again, not managing to stop,
# what it helps against), inverted word order, wishing to be dead, asking how,
# no reason to live, "dræbe mig selv"; thrown out into the cold, a drunk parent
# in the car about to drive, hiding behind a door someone is hammering on,
# alcohol poisoning told as symptoms, all one's pills; and threats or pushes
# from someone else read as violence, not as suicide or self-harm.
# --------------------------------------------------------------------------- #

V9_CRITICAL = [
    ("efter en god måned er jeg startet på at skære igen", "self_harm"),
    ("i nat begyndte jeg at cutte igen", "self_harm"),
    ("jeg prøver at stoppe med at skære men det går ikke", "self_harm"),
    ("det eneste der gør mig rolig er at ridse mig", "self_harm"),
    ("når det bliver for meget ridser jeg mig selv med en passer", "self_harm"),
    ("jeg sh'er stadig nogle gange", "self_harm"),
    ("min veninde så mine ar i omklædningsrummet", "self_harm"),
    ("jeg hamrede mine knoer ind i muren", "self_harm"),
    ("jeg ville ønske jeg aldrig var født", "suicidal"),
    ("gid jeg kunne sove for evigt", "suicidal"),
    ("hvordan dør man uden at det gør ondt", "suicidal"),
    ("der er ingen grund til at være her", "suicidal"),
    ("har overvejet at dræbe mig selv", "suicidal"),
    ("hvis de skændes igen tager jeg mit liv", "suicidal"),
    ("det ville være en befrielse hvis jeg bare var død", "suicidal"),
    ("jeg gider ikke vågne op mere", "suicidal"),
    ("far har låst mig ude og det fryser, han åbner ikke", "immediate_danger"),
    ("stedmor smed mig ud i aftes og jeg ved ikke hvor jeg skal sove", "immediate_danger"),
    ("mor er fuld og sidder i bilen og vil køre med min lillebror", "immediate_danger"),
    ("han banker på døren og jeg har låst mig inde på toilettet", "immediate_danger"),
    ("har drukket en hel flaske og kan ikke stå", "immediate_danger"),
    ("jeg har lige taget alle mine antidepressive", "immediate_danger"),
]

V9_NOT_CRITICAL = [
    "han har truet med at slå mig ihjel",
    "min stedfar skubber mig ind i væggen hver gang han er fuld",
    "han skubbede mig så jeg slog hovedet mod skabet",
    "jeg skal stoppe med at skære løg så fint",
    "jeg tænker meget på døden efter min morfar døde",
    "jeg blev låst ude af min instagram",
    "far kører tit når han har drukket",
    "hun bankede på døren for at sige aftensmaden er klar",
    "han slår takten på bordet med hænderne",
]


@pytest.mark.parametrize("text,intent", V9_CRITICAL)
def test_v9_concepts_are_critical(lexicon: RiskLexicon, text: str, intent: str) -> None:
    match = lexicon.match(text)
    assert match is not None and match.risk == "critical", (text, match)
    assert match.intent == intent, (text, match)


@pytest.mark.parametrize("text", V9_NOT_CRITICAL)
def test_v9_hard_negatives_stay_out(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is None or match.risk != "critical", (text, match)


# --------------------------------------------------------------------------- #
# Version 10: needing to cut or not managing to stop, the skin scratched open with a tool, nails
# or a limb driven into skin or wall until it hurts, "sh" as the word, new wounds one made,
# hiding them, "gøre sig selv ondt"; pills hoarded, taking them all, searching how to die, being
# dead as a wish, jumping, a gun one knows where to find, getting away for good, a plan on its
# own, the pet, "so someone knows before", one's things, "would anyone miss me"; followed now,
# threats at the door, a raging adult trying to get in or on the stairs, strangled and the
# person still here, a friend who took something, a drunk parent taking the car now, not
# breathing for a while, smoke while the adult sleeps, thrown out at night; and three negations.
# --------------------------------------------------------------------------- #

V10_CRITICAL = [
    # self_harm
    ("jeg har sådan brug for at cutte igen", "self_harm"),
    ("har behov for at skære i mig selv", "self_harm"),
    ("hvordan holder man op med at skære", "self_harm"),
    ("hvad gør jeg for at stoppe med at cutte", "self_harm"),
    ("jeg kradsede min underarm op med en nål i nat", "self_harm"),
    ("har ridset låret op med saksen", "self_harm"),
    ("jeg borer neglene ind i håndfladen til der kommer blod", "self_harm"),
    ("jeg dunker armen mod døren indtil jeg får blå mærker", "self_harm"),
    ("jeg bankede knytnæven ind i muren til den blødte", "self_harm"),
    ("min sh er blevet værre efter jul", "self_harm"),
    ("jeg har kæmpet med sh i et år", "self_harm"),
    ("sh hjalp mig i går", "self_harm"),
    ("har lavet et par friske snit på armen", "self_harm"),
    ("hvordan dækker jeg sårene til gymnastik", "self_harm"),
    ("nogle gange får man trang til at skade sig selv", "self_harm"),
    # suicidal
    ("jeg har hamstret fars panodiler i en pose under sengen", "suicidal"),
    ("jeg har samlet alle de sovepiller jeg kunne finde", "suicidal"),
    ("jeg overvejer at sluge dem alle på en gang", "suicidal"),
    ("har søgt på nettet om hvordan man tager sit liv", "suicidal"),
    ("jeg har googlet hvordan man slår sig selv ihjel", "suicidal"),
    ("gid jeg bare var død", "suicidal"),
    ("jeg drømmer om at springe ud fra altanen", "suicidal"),
    ("jeg ved hvorhenne min onkel har sin riffel og tænker tit på den", "suicidal"),
    ("jeg vil bare slippe væk fra alt for evigt", "suicidal"),
    ("nu har jeg lagt en plan", "suicidal"),
    ("har en plan", "suicidal"),
    ("hvem skal fodre min kanin hvis jeg ikke lever mere", "suicidal"),
    ("jeg skriver kun for at nogen ved det før jeg gør det", "suicidal"),
    ("jeg har skrevet ned hvem der skal arve min playstation", "suicidal"),
    ("jeg har fordelt mine ting mellem mine venner", "suicidal"),
    ("mon nogen ville opdage det hvis jeg døde", "suicidal"),
    # immediate_danger
    ("der er nogle stykker der følger efter mig", "immediate_danger"),
    ("der kører en bil lige bag mig og jeg er alene", "immediate_danger"),
    ("min stedfar står udenfor mit værelse og skriger at han vil dræbe mig", "immediate_danger"),
    ("min mor er pissefuld og forsøger at bryde ind på badeværelset", "immediate_danger"),
    ("far tramper op ad trappen og han er stangstiv", "immediate_danger"),
    ("hun tog mig om halsen og nu står hun i køkkenet", "immediate_danger"),
    ("min bror tog kvælertag på mig og han er stadig hjemme", "immediate_danger"),
    ("min kammerat har sniffet noget pulver og reagerer ikke", "immediate_danger"),
    ("min veninde fik ketamin og ryster og brækker sig", "immediate_danger"),
    ("far har drukket hele dagen og nu satte han sig ind i bilen", "immediate_danger"),
    ("min mor er skæv og tager bilen nu med min lillebror", "immediate_danger"),
    ("far har vist ikke åndet ordentligt i et par minutter", "immediate_danger"),
    ("det ryger fra panden og min mor er faldet i søvn fuld", "immediate_danger"),
    ("jeg fryser ude i mørket fordi min stedmor har smidt mig ud", "immediate_danger"),
    ("sidder ved busstoppestedet kl 2 fordi jeg ikke må komme hjem", "immediate_danger"),
]

V10_NOT_CRITICAL = [
    # the same words used harmlessly
    "jeg skal skære kartofler til suppen",
    "vi skal skære et slot ud i pap",
    "jeg har brug for at skære ned på sukker",
    "hvordan stopper man med at skære tomater så de ikke bliver mos",
    "jeg skar min hånd op med kniven da jeg lavede mad",
    "katten ridsede min arm op",
    "jeg trykker neglene ned i modellervoksen",
    "jeg bider negle til blods når jeg er nervøs",
    "jeg slog albuen mod bordet ved et uheld",
    "shh min lillesøster sover",
    "sh*t jeg har glemt min madpakke",
    "sh er du sød at være stille",
    "jeg har fået nye sår på knæene efter fodbold",
    "hvordan dækker jeg de blå mærker fra håndbold",
    "min lillebror gør sig selv ondt når han leger",
    "min mor har samlet sine piller i en pilleæske",
    "jeg har gemt mors piller så hun ikke kan tage dem",
    "vi har tænkt på at tage dem alle sammen med til stranden",
    "jeg googlede hvordan man bager boller",
    "hvordan dør man ikke i minecraft",
    "jeg døde af grin i timen",
    "jeg ville ønske jeg var i tivoli",
    "vi springer fra broen i havnen hver sommer",
    "jeg ved hvor fars gevær er, vi skal på jagt i weekenden",
    "jeg vil slippe for matematik for altid",
    "jeg har lagt en plan for weekenden",
    "jeg har en plan for at spare op til en cykel",
    "hvem skal passe min kat når jeg er på lejr",
    "min kat sover hele dagen",
    "jeg skriver bare for at fortælle om min dag",
    "jeg har skrevet ned hvad jeg ønsker mig til jul",
    "jeg gav min gamle jakke væk fordi den var for lille",
    "ville nogen savne mig hvis jeg var væk en uge på lejr",
    "der er en der løber efter mig i fangeleg",
    "min veninde følger efter mig på tiktok",
    "han står foran døren og siger at maden er klar",
    "min bror prøver at komme ind på mit værelse for at låne en oplader",
    "mor kommer op ad trappen med vasketøjet",
    "han tog kvælertag på mig til judo",
    "min ven har taget en panodil og svarer ikke på mine beskeder",
    "min far kører mig til håndbold i bilen",
    "mor sætter sig ind i bilen for at hente min lillebror",
    "far kører tit bil efter han har drukket",
    "min far har ikke åndet et ord om det",
    "der er røg i køkkenet fordi far brændte toastbrødet",
    "far røg en smøg i køkkenet mens mor sov",
    "jeg må ikke komme hjem senere end klokken 22",
    "jeg sidder på en bænk kl 1 og venter på natbussen",
    # reassurance and the three negations
    "jeg er i sikkerhed nu",
    "nej jeg har det ikke sådan at jeg vil dø",
    "nej jeg har det ikke på den måde at jeg vil dø",
    "nej jeg cutter ikke",
    "jeg skærer mig ikke mere",
    "jeg er blevet smidt ud før men nu er jeg hjemme igen og det er stadig kaos",
    "jeg er blevet smidt ud et par gange men nu bor jeg hos min moster",
]

V10_DANGER_KINDS = [
    ("der er nogle stykker der følger efter mig", "followed"),
    ("min stedfar står udenfor mit værelse og skriger at han vil dræbe mig", "violence_now"),
    ("min kammerat har sniffet noget pulver og reagerer ikke", "overdose"),
    ("min mor er skæv og tager bilen nu med min lillebror", "drunk_driving"),
    ("far har vist ikke åndet ordentligt i et par minutter", "unconscious"),
    ("jeg fryser ude i mørket fordi min stedmor har smidt mig ud", "locked_out"),
]


@pytest.mark.parametrize("text,intent", V10_CRITICAL)
def test_v10_concepts_are_critical(lexicon: RiskLexicon, text: str, intent: str) -> None:
    match = lexicon.match(text)
    assert match is not None and match.risk == "critical", (text, match)
    assert match.intent == intent, (text, match)


@pytest.mark.parametrize("text", V10_NOT_CRITICAL)
def test_v10_hard_negatives_stay_out(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is None or match.risk != "critical", (text, match)


@pytest.mark.parametrize("text,kind", V10_DANGER_KINDS)
def test_v10_danger_kinds(lexicon: RiskLexicon, text: str, kind: str) -> None:
    assert lexicon.danger_kind(text) == kind


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # a negation answers the question, a disclosure in the same words still counts
        ("nej jeg cutter ikke dybt, kun lidt", "self_harm"),
        ("har det ikke sådan at jeg vil dø, men har samlet sovepiller i en sok", "suicidal"),
        ("smidt ud før, og nu står jeg i kulden igen, han har smidt mig ud", "immediate_danger"),
        # habitual drink-driving is the parent_alcohol topic, taking the car now is danger
        ("far tager tit bilen når han har drukket", None),
    ],
)
def test_v10_negation_keeps_the_real_thing(lexicon: RiskLexicon, text: str, intent) -> None:
    match = lexicon.match(text)
    got = match.intent if match and match.risk == "critical" else None
    assert got == intent, (text, match)


# v11: the categories the shipped pipeline missed on nlu_probe10/11 (said in new words here).
V11_CRITICAL = [
    # self-harm: inverted word order, wounds torn open, words carved, scars made, long sleeves,
    # elastic, pinching, bruising one's legs, hair pulled out, a blade taken out, "is it normal",
    # cutting again, dialect, English
    ("i aftes skar jeg mig selv igen", "self_harm"),
    ("jeg piller arrene op til de bløder", "self_harm"),
    ("jeg har kradset bogstaver ind i mit lår", "self_harm"),
    ("der er ridser på mine arme som jeg selv har lavet", "self_harm"),
    ("jeg har langærmet på til idræt pga arrene", "self_harm"),
    ("jeg knalder hårelastikken mod håndleddet til det brænder", "self_harm"),
    ("jeg niver mig selv til det bliver blåt", "self_harm"),
    ("jeg banker mine lår med en ske til de bliver blå", "self_harm"),
    ("jeg rykker mine øjenvipper ud til det gør ondt", "self_harm"),
    ("jeg skruede bladet ud af min skraber", "self_harm"),
    ("er det forkert at skære i sig selv når man er 14", "self_harm"),
    ("har skåret mig igen", "self_harm"),
    ("a har skåre mæ sjæl", "self_harm"),
    ("i sh again last night", "self_harm"),
    ("hvis jeg ikke cutter så sover jeg ikke", "self_harm"),
    # suicidal
    ("hvis jeg døde ville ingen lægge mærke til det", "suicidal"),
    ("vil nogen savne mig når jeg er død", "suicidal"),
    ("jeg har planlagt det til weekenden", "suicidal"),
    ("hvordan dør man uden at det gør ondt", "suicidal"),
    ("jeg gider ikke leve mere", "suicidal"),
    ("tror ikke jeg vil være her så meget længere", "suicidal"),
    ("har tænkt på at styre ind i en mur med bilen", "suicidal"),
    ("thinking about ending it tbh", "suicidal"),
    ("når jeg er væk så bliver alt nemmere", "suicidal"),
    ("jeg vil bare forsvinde for altid", "suicidal"),
    ("det hele må bare slutte", "suicidal"),
    ("det her bliver nok min sidste besked", "suicidal"),
    ("det ville være nemmere for alle hvis jeg var død", "suicidal"),
    ("jeg har prøvet før og jeg vil prøve igen", "suicidal"),
    ("jeg håber ikke det er min lillesøster der finder mig", "suicidal"),
    ("hvis jeg ikke er her i morgen så undskyld", "suicidal"),
    ("jeg er så træt af at eksistere", "suicidal"),
    ("tror ik jeg bliver 16", "suicidal"),
    ("jeg ved hvordan jeg skal gøre det", "suicidal"),
    # v12: the saved pills taken all at once tonight
    ("jeg tror jeg tager dem allesammen i nat", "suicidal"),
    ("jeg har samlet på sovepiller i flere måneder", "suicidal"),
    # danger now
    ("hjælp min stedfar slår min mor", "immediate_danger"),
    ("kom hurtigt", "immediate_danger"),
    ("hjælp nu!!", "immediate_danger"),
    ("ring til nogen han er helt vild og slår", "immediate_danger"),
    ("han kyler glas efter os lige nu", "immediate_danger"),
    ("han er i gang med at smadre hendes ansigt", "immediate_danger"),
    ("han prøver at slå min dør ind", "immediate_danger"),
    ("hun er fuld og hamrer på min dør", "immediate_danger"),
    ("vi gemmer os i kælderen og han leder efter os", "immediate_danger"),
    ("han klemmer hende om halsen", "immediate_danger"),
    ("min stedfar har låst os inde", "immediate_danger"),
    ("han har væltet min mor omkuld og sparker", "immediate_danger"),
    ("far har kastet op og ligger helt stille", "immediate_danger"),
    ("han står og tæver min bror", "immediate_danger"),
    ("han har hende i et halsgreb", "immediate_danger"),
    ("han sparker på badeværelsesdøren og siger han vil ind", "immediate_danger"),
    ("mor er stiv og siger vi skal køre nu", "immediate_danger"),
    ("han har sat sig bag rattet og er helt fuld", "immediate_danger"),
    ("far har drukket og siger jeg skal med i bilen nu", "immediate_danger"),
    ("han skubber mig ind i væggen lige nu", "immediate_danger"),
]

V11_NOT_CRITICAL = [
    "nej ingen er i fare lige nu",
    "nej der er ingen der er i fare",
    "nej ingen slår nogen nu",
    "nej jeg har ikke lyst til at gøre mig selv noget",
    "jeg brændte mig på komfuret i går",
    "jeg pillede skorpen af mit knæ efter jeg faldt på cyklen",
    "jeg skrev et ord på min arm med kuglepen",
    "katten kradsede mig på armen",
    "er det normalt at skære sig på papir",
    "jeg skar mig på en dåse da jeg lavede mad",
    "min far slår mig når jeg ikke har gjort noget",
    "hvis jeg dør af kedsomhed i timen er det lærerens skyld",
    "vil du savne mig når jeg er væk på lejr",
    "vi har planlagt det til fredag, det bliver en fed fest",
    "jeg gider ikke være her mere, festen er kedelig",
    "når jeg er væk på ferie skal min kat passes",
    "det her er min sidste besked for i aften, godnat",
    "hvis jeg ikke er her i morgen er det fordi jeg er syg",
    "hjælp mig med mine lektier nu",
    "kom hurtigt hjem sagde mor",
    "han smadrer mig i fifa lige nu",
    "min far kører tit bil når han har drukket",
    "mor kører og hun har ikke drukket noget",
    "tror ikke jeg bliver 180 cm",
    "jeg er træt af at være mig",
    "jeg ved godt hvordan jeg vil gøre det med fremlæggelsen",
    "hvis i ikke hører fra mig igen er det fordi min telefon er taget",
    "jeg har prøvet at ryge før",
    "min mor kommer efter mig klokken fem",
    "vi gemmer os for min lillebror i gemmeleg",
    # violence that happened (the violence topic, high), not danger now
    "min stedfar skubbede mig ind i væggen i lørdags",
    "han låser mig inde på værelset som straf",
    "min far brændte mig med en lighter engang",
    "min mor har gemt piller i lang tid",
    "jeg tager pillerne i aften for hovedpine",
    "jeg tror jeg tager dem med i morgen",
]


# v13: the categories nlu_probe12/13 missed after their one scoring (concepts, not their
# wording), and the false alarms they showed.
V13_CRITICAL = [
    ("jeg piller i mine sår så de ikke kan hele", "self_harm"),
    ("river skorperne af igen for at de aldrig skal hele", "self_harm"),
    ("jeg lader ikke sårene hele", "self_harm"),
    ("hvornår har i åbent i morgen for jeg ved ikke om jeg stadig er her", "suicidal"),
    ("jeg ved ikke hvor længe jeg orker at leve", "suicidal"),
    ("er jeg her overhovedet når i åbner", "suicidal"),
    ("undskyld til alle. jeg tror jeg gør det i nat", "suicidal"),
    ("jeg har bestemt at jeg gør det i aften. farvel", "suicidal"),
    ("jeg håber ikke det bliver min mor der finder mig", "suicidal"),
    ("han har låst mig inde til han har lært mig en lektie", "immediate_danger"),
    ("min stedfar har låst mig inde og vil ikke lukke mig ud", "immediate_danger"),
    ("far er kørt afsted med min lillebror og han er pissestiv", "immediate_danger"),
    ("mor leder efter bilnøglerne og hun er helt væk", "immediate_danger"),
    ("hun er stiv og har taget bilnøglerne", "immediate_danger"),
    ("i took like 20 pills", "immediate_danger"),
    ("i think i overdosed", "immediate_danger"),
    ("jeg har taget 15 pills", "immediate_danger"),
    ("please hjælp min far er gået amok", "immediate_danger"),
    ("hjælp han er gået helt amok", "immediate_danger"),
    ("ring efter nogen han er totalt flippet ud", "immediate_danger"),
    ("jeg er ikke sikker på at jeg lever til i morgen", "suicidal"),
    ("jeg har truffet min beslutning om i aften", "suicidal"),
    ("jeg har ikke tænkt mig at vågne op igen", "suicidal"),
    ("sårene får aldrig lov til at hele", "self_harm"),
    ("i nat gjorde jeg ondt på mig selv", "self_harm"),
    ("mor er lige kørt med min lillesøster og hun kan knap stå", "immediate_danger"),
    ("i drank half a bottle and took a few pills", "immediate_danger"),
    # a locked door is no reassurance while he is awake outside it
    ("jeg har låst mig inde og han sover ikke, han står udenfor", "immediate_danger"),
]

V13_NOT_CRITICAL = [
    "jeg ved ikke om jeg er her i morgen, jeg skal måske til min far",
    "jeg ved ikke om jeg stadig er her på skolen til sommer",
    "jeg tror jeg gør det i aften med lektierne",
    "jeg håber min mor finder mig når vi leger gemmeleg",
    "jeg pillede skorpen af mit knæ og nu bløder det lidt",
    "i took 2 pills for my headache",
    "far kørte med min lillebror til fodbold og han har ikke drukket",
    "han tog nøglerne og gik, han var fuld i går",
    "ja jeg er i sikkerhed, jeg har låst min dør og han er faldet i søvn",
    "nu er han gået",
    "jeg ville dø for en burger",
    "mit hold tabte igen, jeg vil bare dø lol",
    "jeg fik en flænge i knæet til håndbold og det blødte meget, skal det syes",
    "han låste mig inde på værelset hele aftenen i lørdags",
    "min far var ved at kvæle mig for en måned siden og jeg tænker på det hele tiden",
    "jeg ved ikke hvor længe jeg holder det ud at vente i kø",
    "hvis i ikke hører fra mig er det fordi de har taget min mobil",
    "jeg er ikke sikker på at jeg er her til sommer, vi flytter måske",
    "ja jeg har låst mig inde på værelset og han sover nu",
    "han har låst mig inde mange gange når han var fuld",
]


# v14: the categories nlu_probe14/15 missed after their one scoring (concepts in new wording),
# and the false alarms they showed.
V14_CRITICAL = [
    ("skolen går fint men jeg skærer stadig", "self_harm"),
    ("nogle gange slukker jeg en smøg på min arm", "self_harm"),
    ("jeg har brug for at føle smerte for ikke at tænke", "self_harm"),
    ("jeg straffer mig selv ved at skære", "self_harm"),
    ("jeg har gemt et barberblad til når jeg får det dårligt", "self_harm"),
    ("har ikke cuttet siden sommer men i går gjorde jeg det igen", "self_harm"),
    ("jeg kradser i huden til den går i stykker", "self_harm"),
    ("det var en god dag men i aften skar jeg igen i mig selv", "self_harm"),
    ("i stedet for at drikke skærer jeg i stedet", "self_harm"),
    ("i keep hurting myself", "self_harm"),
    ("jeg ved præcis hvilken bro jeg vil springe ud fra", "suicidal"),
    ("snart er jeg ikke en byrde for jer længere", "suicidal"),
    ("jeg burde gøre min familie en tjeneste og forsvinde", "suicidal"),
    ("ingen vil savne mig, jeg har tænkt mig at gøre det på fredag", "suicidal"),
    ("jeg håber bussen rammer mig", "suicidal"),
    ("jeg tænker på at styre cyklen ud foran en lastbil", "suicidal"),
    ("jeg vil ikke vågne op igen", "suicidal"),
    ("jeg kommer ikke til at være her til min fødselsdag", "suicidal"),
    ("jeg har tabletter nok til at gøre en ende på det", "suicidal"),
    ("ser ingen anden udvej end døden", "suicidal"),
    ("jeg har stadig lyst til at dø selvom dagen var ok", "suicidal"),
    ("jeg har sagt farvel til min mor i mine tanker", "suicidal"),
    ("han råber og er på vej op mod mit værelse nu", "immediate_danger"),
    ("hun har drukket for meget og nu vil hun ikke vågne", "immediate_danger"),
    ("jeg tør ikke lave en lyd han står ude på gangen", "immediate_danger"),
    ("mit liv er ok men lige nu slår min stedfar min mor", "immediate_danger"),
    ("vi spiste pizza men nu er han fuld og han slår mig", "immediate_danger"),
    ("min bror prøver at kvæle mig", "immediate_danger"),
    ("han har slået hende og han er ikke stoppet", "immediate_danger"),
    ("min ven skummer om munden efter han tog noget", "immediate_danger"),
    ("han står og truer min mor og han har taget min mobil", "immediate_danger"),
    ("min mor kører slalom på motorvejen og hun er stiv", "immediate_danger"),
    ("min veninde har slugt piller og skrev farvel til mig", "immediate_danger"),
    ("min lillebror har spist af fars medicin og vi aner ikke hvor mange", "immediate_danger"),
    ("jeg tog nogle sovepiller med vodka og kan ikke holde mig vågen", "immediate_danger"),
    ("de har smidt mig ud og jeg står på gaden uden jakke i nat", "immediate_danger"),
]

V14_NOT_CRITICAL = [
    "nej jeg har aldrig tænkt på selvmord",
    "jeg har ikke lyst til at dø",
    "nej ingen er bevidstløs",
    "min far mistede kørekortet for spritkørsel men kører stadig nogle gange efter han har drukket",
    "matte kommer til at slå mig ihjel",
    "den prøve slår mig ihjel af stress",
    "serien var så kedelig at jeg ville skyde mig selv lol",
    "jeg skærer stadig grøntsager til aftensmaden",
    "jeg ved hvor jeg vil hoppe ud fra på badebroen i sommer",
    "snart er jeg ikke et problem for mine forældre længere når jeg flytter hjemmefra",
    "jeg kommer ikke til at være her til jul fordi vi skal til thailand",
    "jeg gider ikke vågne i morgen til skole",
    "min mor sagde farvel til mig i lufthavnen for sidste gang i et halvt år",
    "han prøver altid at slå mig når han er fuld",
    "han står og truer med at smide mig ud",
    "han har taget min telefon og truer med at jeg ikke får den igen",
    "min hund skummer om munden efter den har løbet",
    "min næse bliver ved med at bløde efter fodbold",
    "jeg tog mine allergipiller med et glas vand",
    "I cut myself on paper lol",
    "min mor og jeg ser på livet og jeg vil ud af det her forhold",
    "han kører zigzag på cyklen fordi han er fuld af energi",
    "jeg håber bussen kører mig hjem i aften",
    "jeg håber ikke bussen rammer mig i hovedet med døren igen haha",
]

# One test per kind of table: the version that added an entry is said by the table's name.
CONCEPTS_CRITICAL = V11_CRITICAL + V13_CRITICAL + V14_CRITICAL
CONCEPTS_NOT_CRITICAL = V11_NOT_CRITICAL + V13_NOT_CRITICAL + V14_NOT_CRITICAL


@pytest.mark.parametrize("text,intent", CONCEPTS_CRITICAL)
def test_concepts_are_critical(lexicon: RiskLexicon, text: str, intent: str) -> None:
    match = lexicon.match(text)
    assert match is not None and match.risk == "critical" and match.intent == intent, (text, match)


@pytest.mark.parametrize("text", CONCEPTS_NOT_CRITICAL)
def test_hard_negatives_stay_out(lexicon: RiskLexicon, text: str) -> None:
    match = lexicon.match(text)
    assert match is None or match.risk != "critical", (text, match)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # the guidance must fit: a plea with blows is violence, a parent who vomited and lies
        # still is unconsciousness, a bare plea gets the general guidance (v11)
        ("hjælp min stedfar slår min mor", "violence_now"),
        ("far har kastet op og ligger helt stille", "unconscious"),
        ("hjælp nu!!", "general"),
        ("hjælp hun er helt stiv", "general"),
        # v13
        ("far er kørt afsted med min lillebror og han er pissestiv", "drunk_driving"),
        ("i took like 20 pills", "overdose"),
        ("please hjælp min far er gået amok", "violence_now"),
        ("min mor er faldet om efter hun har drukket en hel flaske", "unconscious"),
        # v14
        ("hun har drukket for meget og nu vil hun ikke vågne", "unconscious"),
        ("min ven skummer om munden efter han tog noget", "unconscious"),
        ("min lillebror har spist af fars medicin og vi aner ikke hvor mange", "overdose"),
        ("min søster har skåret sig dybt og det stopper ikke med at bløde", "bleeding"),
        ("min mor kører slalom på motorvejen og hun er stiv", "drunk_driving"),
        ("de har smidt mig ud og jeg står på gaden uden jakke i nat", "locked_out"),
        ("han prøver at slå min mor", "violence_now"),
    ],
)
def test_danger_kinds_fit(lexicon: RiskLexicon, text: str, kind: str) -> None:
    assert lexicon.match(text) is not None
    assert lexicon.danger_kind(text) == kind


def test_a_bleeding_wound_from_sport_is_still_an_emergency_while_it_bleeds(
    lexicon: RiskLexicon,
) -> None:
    text = "min lillebror faldt på cyklen, slog panden, og den bløder helt vildt og vil ikke stoppe"
    assert lexicon.danger_kind(text) == "bleeding"


# --------------------------------------------------------------------------- #
# The prefilter: a pattern runs only on a message holding a literal piece of it
# --------------------------------------------------------------------------- #


def _unfiltered(lexicon: RiskLexicon) -> RiskLexicon:
    rules = [dataclasses.replace(rule, needs=()) for rule in lexicon.rules]
    return RiskLexicon(rules, lexicon.version, lexicon.reassurance, lexicon.hyperbole)


def _table_texts() -> list[str]:
    """Every message of this module's tables (positives, hard negatives, reassurance ...)."""
    texts: list[str] = []
    for value in list(globals().values()):
        if isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    texts.append(item)
                elif isinstance(item, tuple) and item and isinstance(item[0], str):
                    texts.append(item[0])
    return texts


def _mangled_lemmas(text: str) -> str:
    """A stand-in for spaCy's lemmas: other word forms, so the lemma pass is exercised."""
    return " ".join(word[:-1] if len(word) > 4 else word + "e" for word in text.split())


def test_the_prefilter_never_changes_an_answer(lexicon: RiskLexicon) -> None:
    unfiltered = _unfiltered(lexicon)
    texts = _table_texts()
    assert len(texts) > 500
    for text in texts:
        for variant in (text, text.replace("å", "aa").replace("ø", "oe")):
            lemmas = _mangled_lemmas(variant)
            assert lexicon.match_all(variant) == unfiltered.match_all(variant), variant
            assert lexicon.match_all(variant, lemmas) == unfiltered.match_all(variant, lemmas), (
                variant
            )


@pytest.mark.parametrize(
    "text",
    [
        "jeg vil skære i mig selv",
        "jeg vil skaere i mig selv",
        "jeg vil skere i mig selv",
        "jeg vil sskkaree i migg selv",
        "jeg vil dø nu",
        "jeg vil doe nu",
        "jeg vil doo nu",
        "jeg vil do nuuu",
        "han går amok",
        "han gaar amok",
        "han gar amokkk",
    ],
)
def test_the_prefilter_keeps_every_spelling_a_pattern_accepts(text: str) -> None:
    patterns = ["vil skære i {mig} selv", "vil dø nu", "(han|hun) går amok"]
    rules = [{"id": "t", "intent": "suicidal", "kind": "phrase", "patterns": patterns}]
    lexicon = _load(rules, macros={"mig": ["mig", "mæ"]})
    assert all(rule.needs for rule in lexicon.rules)
    assert lexicon.match(text) is not None, text
    assert _unfiltered(lexicon).match(text) is not None, text
