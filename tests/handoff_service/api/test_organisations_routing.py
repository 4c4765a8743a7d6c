"""Where a young person waits (issue #16): by the page they start on and by the hour.

The network of tests/utils/organisations.py: Fælleschatten (network, daily 15-21), its members
Åby (Mon-Fri 12-16) and Bakkeby (Thu 16-18), Fjordby outside it (Tue 15-19), and the default
organisation (Mon-Thu 17-21). The service's clock is frozen in the week of Monday 11 January 2027;
the daylight-saving cases call the routing rule with an explicit time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from handoff_service import organisations as orgs
from handoff_service.events import EventBroker
from handoff_service.scheduler import ShiftWatcher
from tests.utils.organisations import (
    CPH,
    CRITICAL,
    HIGH,
    MONDAY,
    Clock,
    add_weekly,
    build_network,
    close_date,
    create_organisation,
    freeze_clock,
    headers_for,
    local,
    on_day,
    queue_ids,
    start_on,
    waiting_young,
)

TUESDAY, FRIDAY = MONDAY + timedelta(days=1), MONDAY + timedelta(days=4)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return freeze_clock(monkeypatch, on_day(MONDAY, 11))


@pytest.fixture
def network(client: TestClient, admin_headers, settings, clock):
    return build_network(client, admin_headers, settings)


def fresh_session(client: TestClient) -> Session:
    return client.app.state.session_factory()


def watch(client: TestClient, settings, clock: Clock, *moments) -> list[str | None]:
    """The shift watcher's rounds at the given times (the first only takes its first look)."""
    watcher, broker, said = ShiftWatcher(), EventBroker(), []
    for moment in moments:
        clock.now = moment
        with fresh_session(client) as session:
            said.append(watcher.check(session, settings, broker, moment))
    return said


# -- by page and by hour ----------------------------------------------------------------------


def test_an_open_municipality_keeps_its_young_people_in_its_own_queue(
    client: TestClient, internal_headers, network, clock
):
    clock.at(MONDAY, 13)
    young = waiting_young(client, internal_headers, "aaby")
    queue = young.queue(client)
    assert queue["queue"] == {"slug": "aaby", "name": "Åby Kommune"}
    assert queue["shift_open"] is True and queue["position"] == 1
    assert queue["queue_text"] == "Du venter på en rådgiver fra Åby Kommune."
    assert young.id in queue_ids(client, network.counsellor("aaby"))
    assert young.id not in queue_ids(client, network.counsellor("faelles"))

    plain = waiting_young(client, internal_headers, None)  # the plain / page
    assert plain.queue(client)["queue"]["slug"] == "default"


def test_a_closed_member_municipality_sends_its_young_people_to_the_open_network(
    client: TestClient, internal_headers, network, clock
):
    clock.at(MONDAY, 17, 30)
    young = waiting_young(client, internal_headers, "aaby")
    queue = young.queue(client)
    assert queue["queue"] == {"slug": "faelles", "name": "Fælleschatten"}
    assert queue["shift_open"] is True
    assert queue["queue_text"] == (
        "Åby Kommune har lukket lige nu, så du venter på rådgiverne i Fælleschatten, som har åbent."
    )
    assert young.id in queue_ids(client, network.counsellor("faelles"))
    assert young.id in queue_ids(client, network.counsellor("bakkeby")), "any member's staff"


def test_a_closed_non_member_keeps_its_young_people_and_says_honestly_when_it_opens(
    client: TestClient, settings, internal_headers, network, clock
):
    clock.at(MONDAY, 17, 30)
    young = waiting_young(client, internal_headers, "fjordby")
    queue = young.queue(client)
    assert queue["queue"]["slug"] == "fjordby"
    assert queue["shift_open"] is False
    assert queue["next_shift_text"] == "i morgen kl. 15"
    assert queue["queue_text"] == (
        "Du venter på en rådgiver fra Fjordby Kommune, som har lukket lige nu. "
        "De åbner igen i morgen kl. 15."
    )
    assert queue["eta_minutes"] >= (21 * 60 + 30), "not before Tuesday 15:00"
    # The default organisation is open, but it is not Fjordby's network: a normal risk waits.
    assert young.id not in queue_ids(client, headers_for(client, settings, "demo"))

    clock.at(MONDAY + timedelta(days=2), 12)  # Wednesday: the next opening is six days on
    assert "De åbner igen tirsdag kl. 15." in young.queue(client)["queue_text"]


def test_a_closed_member_waits_for_whichever_team_opens_first(
    client: TestClient, internal_headers, network, clock
):
    clock.at(MONDAY, 22)  # Åby opens Tuesday 12, the network Tuesday 15
    evening = waiting_young(client, internal_headers, "aaby")
    queue = evening.queue(client)
    assert queue["queue"]["slug"] == "aaby" and queue["shift_open"] is False
    assert queue["queue_text"].endswith("De åbner igen i morgen kl. 12.")

    clock.at(FRIDAY, 22)  # Åby opens Monday, the network Saturday 15
    weekend = waiting_young(client, internal_headers, "aaby")
    queue = weekend.queue(client)
    assert queue["queue"]["slug"] == "faelles" and queue["shift_open"] is False
    assert queue["queue_text"] == (
        "Åby Kommune har lukket lige nu, så du venter på rådgiverne i Fælleschatten, "
        "som åbner først i morgen kl. 15."
    )


def test_a_closed_date_routes_as_closed(
    client: TestClient, admin_headers, internal_headers, network, clock
):
    clock.at(MONDAY, 11)
    close_date(client, admin_headers, "aaby", MONDAY)
    close_date(client, admin_headers, "fjordby", TUESDAY)

    clock.at(MONDAY, 13)  # Åby's Monday hours are cancelled
    page = client.get("/api/v1/organisations/aaby").json()
    assert page["open_now"] is False and MONDAY.isoformat() in page["closed_dates"]
    young = waiting_young(client, internal_headers, "aaby")
    queue = young.queue(client)
    assert queue["queue"]["slug"] == "faelles", "not Åby's queue on its closed date"
    assert queue["queue_text"].endswith("som åbner først i dag kl. 15.")
    clock.at(MONDAY, 15, 30)
    assert young.queue(client)["shift_open"] is True

    clock.at(TUESDAY, 16)  # Fjordby's only weekly shift falls on its closed date
    local_only = waiting_young(client, internal_headers, "fjordby")
    queue = local_only.queue(client)
    assert queue["queue"]["slug"] == "fjordby" and queue["shift_open"] is False
    assert queue["queue_text"].endswith("De åbner igen tirsdag den 19. januar kl. 15.")


@pytest.mark.parametrize(
    ("saturday", "sunday", "sunday_is_summer_time"),
    [
        pytest.param((2027, 10, 30), (2027, 10, 31), False, id="october-back-to-winter-time"),
        pytest.param((2027, 3, 27), (2027, 3, 28), True, id="march-on-to-summer-time"),
    ],
)
def test_a_17_oclock_shift_opens_at_17_danish_time_on_both_sides_of_a_dst_change(
    client: TestClient, admin_headers, saturday, sunday, sunday_is_summer_time
):
    """The weekend of the change: a member's shift at 17-21 local time on Saturday and Sunday,
    and the network open until 17 local time, so the hand-over from the network to the local
    team happens at 17 o'clock Danish time on both days, one UTC hour apart."""
    create_organisation(client, admin_headers, "net", "Netværket", kind="network")
    create_organisation(client, admin_headers, "solby", "Solby Kommune", network="net")
    create_organisation(client, admin_headers, "vesterby", "Vesterby Kommune")
    for weekday in (5, 6):
        add_weekly(client, admin_headers, "net", weekday, "10:00", "17:00")
        add_weekly(client, admin_headers, "solby", weekday, "17:00", "21:00")
        add_weekly(client, admin_headers, "vesterby", weekday, "17:00", "21:00")
    summer, winter = timedelta(hours=2), timedelta(hours=1)
    offsets = {
        saturday: winter if sunday_is_summer_time else summer,
        sunday: summer if sunday_is_summer_time else winter,
    }
    with fresh_session(client) as session:
        solby, vesterby = orgs.by_slug(session, "solby"), orgs.by_slug(session, "vesterby")
        for day, offset in offsets.items():
            seventeen = local(*day, 17)
            assert datetime(*day, 12, tzinfo=CPH).utcoffset() == offset, "the DST weekend"
            # Half an hour either side of 17 local time: with the other day's UTC offset, the
            # winter day's 16.30 would look like 17.30 and the summer day's 17.30 like 16.30.
            before, after = seventeen - timedelta(minutes=30), seventeen + timedelta(minutes=30)
            assert orgs.route(session, solby, "normal", before).queue.slug == "net", day
            assert orgs.route(session, solby, "normal", after) == orgs.Route(solby, orgs.OWN_OPEN)
            assert orgs.route(session, vesterby, "normal", before).reason == orgs.OWN_CLOSED
            assert orgs.route(session, vesterby, "normal", after).reason == orgs.OWN_OPEN
            ends = local(*day, 21)
            assert orgs.route(session, vesterby, "normal", ends - timedelta(minutes=1)).reason == (
                orgs.OWN_OPEN
            )
            assert orgs.route(session, vesterby, "normal", ends).reason == orgs.OWN_CLOSED
            status = orgs.organisation_shift_status(session, vesterby.id, before)
            assert status.next_shift_start == seventeen
            text = orgs.queue_sentence(orgs.OWN_CLOSED, vesterby, vesterby, status, before)
            assert text.endswith("De åbner igen i dag kl. 17."), text


# -- critical risk never waits for a closed team ----------------------------------------------


def test_a_critical_conversation_goes_to_the_open_fallback_while_the_local_team_is_closed(
    client: TestClient, settings, internal_headers, network, clock
):
    clock.at(MONDAY, 18)  # Fjordby closed, the default organisation open; Åby closed, network open
    critical = waiting_young(client, internal_headers, "fjordby", CRITICAL)
    normal = waiting_young(client, internal_headers, "fjordby")
    queue = critical.queue(client)
    assert queue["queue"]["slug"] == "default" and queue["shift_open"] is True
    assert queue["queue_text"] == (
        "Fjordby Kommune har lukket lige nu. Fordi det haster, venter du på rådgiverne i "
        "Chatrådgivningen, som har åbent."
    )
    assert normal.queue(client)["queue"]["slug"] == "fjordby"
    assert critical.id in queue_ids(client, headers_for(client, settings, "demo"))

    member = waiting_young(client, internal_headers, "aaby", CRITICAL)
    assert member.queue(client)["queue"]["slug"] == "faelles"

    clock.at(MONDAY, 16)  # nobody open who may take a Fjordby conversation: it waits locally
    waits = waiting_young(client, internal_headers, "fjordby", CRITICAL)
    assert waits.queue(client)["queue"]["slug"] == "fjordby"


def test_a_waiting_conversation_that_becomes_critical_moves_to_the_open_fallback(
    client: TestClient, settings, internal_headers, network, clock
):
    clock.at(MONDAY, 18)
    young = waiting_young(client, internal_headers, "fjordby")
    assert young.queue(client)["queue"]["slug"] == "fjordby"
    response = client.post(
        f"/internal/v1/conversations/{young.id}/triage", json=CRITICAL, headers=internal_headers
    )
    assert response.status_code == 200, response.text
    queue = young.queue(client)
    assert queue["queue"]["slug"] == "default" and "haster" in queue["queue_text"]
    assert young.id in queue_ids(client, headers_for(client, settings, "demo"))
    assert young.id not in queue_ids(client, network.counsellor("fjordby"))


def test_critical_conversations_waiting_in_a_closed_queue_move_when_the_fallback_opens(
    client: TestClient, settings, internal_headers, network, clock
):
    clock.at(MONDAY, 16, 30)  # Fjordby and the default organisation closed
    critical = waiting_young(client, internal_headers, "fjordby", CRITICAL)
    normal = waiting_young(client, internal_headers, "fjordby")
    assert critical.queue(client)["queue"]["slug"] == "fjordby"
    said = watch(client, settings, clock, on_day(MONDAY, 16, 55), on_day(MONDAY, 17, 1))
    assert said == [None, "shift_opened"]
    assert critical.queue(client)["queue"]["slug"] == "default"
    assert normal.queue(client)["queue"]["slug"] == "fjordby", "a normal risk waits locally"


# -- the network takes over when a local team closes ------------------------------------------


def test_when_a_member_closes_its_waiting_young_people_move_to_the_network_in_order(
    client: TestClient, settings, internal_headers, network, clock
):
    clock.at(MONDAY, 15)
    first = waiting_young(client, internal_headers, "aaby")
    clock.at(MONDAY, 15, 10)
    on_network_page = waiting_young(client, internal_headers, "faelles")
    clock.at(MONDAY, 15, 20)
    third = waiting_young(client, internal_headers, "aaby")
    clock.at(MONDAY, 15, 30)
    urgent = waiting_young(client, internal_headers, "aaby", HIGH)
    clock.at(MONDAY, 15, 40)
    outside = waiting_young(client, internal_headers, "fjordby")
    assert first.queue(client)["queue"]["slug"] == "aaby"
    assert queue_ids(client, network.counsellor("faelles")) == [on_network_page.id]

    said = watch(client, settings, clock, on_day(MONDAY, 15, 55), on_day(MONDAY, 16, 1))
    assert said == [None, "shift_closed"]

    # Risk first, then the time each was first queued: the move does not send anyone to the back.
    expected = [urgent.id, first.id, on_network_page.id, third.id]
    assert queue_ids(client, network.counsellor("faelles")) == expected
    assert queue_ids(client, network.counsellor("bakkeby")) == expected
    for position, young in enumerate((urgent, first, on_network_page, third), start=1):
        queue = young.queue(client)
        assert (queue["queue"]["slug"], queue["position"]) == ("faelles", position)
    assert third.queue(client)["queue_text"].startswith("Åby Kommune har lukket lige nu")
    assert outside.queue(client)["queue"]["slug"] == "fjordby", "not a member: stays"

    claimed = client.post("/api/v1/queue/claim", headers=network.counsellor("faelles"))
    assert claimed.status_code == 200 and claimed.json()["id"] == urgent.id


def test_a_referral_is_not_undone_by_the_hand_over_unless_the_conversation_turns_critical(
    client: TestClient, settings, internal_headers, network, clock
):
    clock.at(MONDAY, 16, 30)  # Åby closed, the network open
    young = waiting_young(client, internal_headers, "faelles")
    referred = client.post(
        f"/api/v1/counsellor/conversations/{young.id}/refer",
        json={"organisation": "aaby", "reason": "local_follow_up"},
        headers=network.counsellor("faelles"),
    )
    assert referred.status_code == 200, referred.text
    assert young.queue(client)["queue"]["slug"] == "aaby"

    with fresh_session(client) as session:
        assert orgs.reroute_waiting(session, on_day(MONDAY, 16, 45)) == []
        session.commit()
    said = watch(client, settings, clock, on_day(MONDAY, 20, 59), on_day(MONDAY, 21, 1))
    assert said == [None, "shift_closed"]
    queue = young.queue(client)
    assert queue["queue"]["slug"] == "aaby", "the counsellor's decision is kept"
    assert queue["queue_text"].startswith("En rådgiver har sendt din samtale videre til Åby")

    clock.at(TUESDAY, 16, 30)  # Åby closed again, the network open
    response = client.post(
        f"/internal/v1/conversations/{young.id}/triage", json=CRITICAL, headers=internal_headers
    )
    assert response.status_code == 200, response.text
    assert young.queue(client)["queue"]["slug"] == "faelles", "critical: to the open network"


def test_the_page_tells_where_a_young_person_writing_now_would_wait(
    client: TestClient, network, clock
):
    clock.at(MONDAY, 17, 30)
    assert start_on(client, "aaby")  # the page works while closed
    page = client.get("/api/v1/organisations/aaby").json()
    assert page["open_now"] is False and page["next_opening_text"] == "i morgen kl. 12"
    assert page["routing_text"].startswith("Åby Kommune har lukket lige nu")
    assert "Fælleschatten" in page["routing_text"]
    fjordby = client.get("/api/v1/organisations/fjordby").json()
    assert "i morgen kl. 15" in fjordby["routing_text"]


def test_closing_today_moves_a_members_waiting_young_people_to_the_open_network_at_once(
    client: TestClient, admin_headers, internal_headers, network, clock
):
    clock.at(MONDAY, 15, 30)  # Åby and the network both open
    young = waiting_young(client, internal_headers, "aaby")
    assert young.queue(client)["queue"]["slug"] == "aaby"
    close_date(client, admin_headers, "aaby", MONDAY)  # e.g. the team is ill
    queue = young.queue(client)
    assert queue["queue"]["slug"] == "faelles" and queue["shift_open"] is True


def test_a_young_person_left_in_the_closed_network_overnight_goes_back_to_the_member_opening_first(
    client: TestClient, settings, internal_headers, network, clock
):
    clock.at(MONDAY, 20)  # Åby closed, the network open until 21
    young = waiting_young(client, internal_headers, "aaby")
    assert young.queue(client)["queue"]["slug"] == "faelles"
    said = watch(
        client,
        settings,
        clock,
        on_day(MONDAY, 20, 59),
        on_day(MONDAY, 21, 1),  # the network closes: nobody open, it stays
        on_day(TUESDAY, 11, 59),
        on_day(TUESDAY, 12, 1),  # Åby opens three hours before the network
    )
    assert said == [None, "shift_closed", None, "shift_opened"]
    queue = young.queue(client)
    assert queue["queue"]["slug"] == "aaby" and queue["shift_open"] is True
    assert queue["queue_text"] == "Du venter på en rådgiver fra Åby Kommune."


def test_a_critical_conversation_referred_to_a_closed_team_does_not_wait_there_while_one_is_open(
    client: TestClient, settings, internal_headers, network, clock
):
    clock.at(MONDAY, 18)  # Fjordby closed; the network and the default organisation open
    young = waiting_young(client, internal_headers, "faelles", CRITICAL)
    referred = client.post(
        f"/api/v1/counsellor/conversations/{young.id}/refer",
        json={"organisation": "fjordby", "reason": "specialist"},
        headers=network.counsellor("faelles"),
    )
    # Either the referral is refused, or the young person waits where a counsellor is on duty
    # (as route() and reroute_waiting() do for every other critical conversation).
    if referred.status_code == 200:
        queue = young.queue(client)
        assert queue["shift_open"] is True, queue["queue_text"]
    else:
        assert referred.status_code in (409, 422)
