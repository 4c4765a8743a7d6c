"""Organisations on one platform: whose queue a conversation waits in, who may see it, referrals.

The model (docs/organisations.md): an organisation (a municipality, a service or a network) has
one queue, one shift calendar, its own page for young people (/ung/<slug>) and its own staff. A
municipality may be a member of a network (``network_id``); the network has its own calendar,
the shared rota, whose shifts name the member organisation that staffs them.

The routing rule lives here, once, in :func:`route`: a young person waits in the queue of the
page they started on while that team is open; when it is closed, in the network's queue if the
municipality is a member and the network is open (or opens first); else in the local queue,
told honestly when it opens. A critical conversation never waits for a closed team while its
fallback (the network, or the platform's default organisation) is open: :func:`route` sends it
there, and :func:`reroute_waiting` moves conversations already waiting when a team closes or a
risk rises. Risk first applies within every queue (handoff_service/queue.py).

Who may see a queue (:func:`queue_ids_for`): staff of an organisation see its queue and, if it
is a member, the network's; platform staff (no organisation) see every queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff_service.audit import audit
from handoff_service.db import utcnow
from handoff_service.domain.shifts import (
    DANISH_WEEKDAYS,
    ShiftStatus,
    danish_clock,
    danish_when,
    shift_status,
)
from handoff_service.domain.status import ConversationStatus
from handoff_service.models import Conversation, Organisation, User
from handoff_service.schemas import (
    LocalInfoItem,
    OpeningHoursOut,
    OrganisationOut,
    OrganisationPageOut,
    OrganisationRef,
    ReferralReasonOut,
    ReferralTargetOut,
)
from handoff_service.shift_calendar import date_exceptions, list_exceptions, weekly_rules
from triage_core.risk import RiskLevel

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")
KINDS = ("municipality", "network", "service")

# Why a conversation waits in its queue (Conversation.queue_reason).
OWN_OPEN = "own_open"
OWN_CLOSED = "own_closed"
NETWORK_OPEN = "network_open"
NETWORK_OPENS_FIRST = "network_opens_first"
CRITICAL_FALLBACK = "critical_fallback"
REFERRED = "referred"
ROUTE_REASONS = (
    OWN_OPEN,
    OWN_CLOSED,
    NETWORK_OPEN,
    NETWORK_OPENS_FIRST,
    CRITICAL_FALLBACK,
    REFERRED,
)

#: Why a counsellor refers a conversation to another organisation's queue (audited as a code).
REFERRAL_REASONS = {
    "local_follow_up": "Den unge kan få hjælp lokalt i sin kommune",
    "young_person_asked": "Den unge bad om at tale med sin kommune",
    "opening_hours": "Den anden kommune har åbent nu",
    "specialist": "Den anden kommune har den rette rådgiver",
}


# -- lookups ----------------------------------------------------------------------------------


def default_organisation(session: Session) -> Organisation:
    """The plain / page's organisation (the shared network, or the only one)."""
    found = session.scalar(select(Organisation).where(Organisation.is_default.is_(True)).limit(1))
    if found is None:
        found = session.scalar(select(Organisation).order_by(Organisation.id).limit(1))
    if found is None:  # a database built without migration 0012's row (never in the service)
        found = Organisation(slug="default", name="Chatrådgivningen", is_default=True)
        session.add(found)
        session.flush()
    return found


def by_slug(session: Session, slug: str) -> Organisation | None:
    return session.scalar(select(Organisation).where(Organisation.slug == slug))


def all_organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.name)))


def organisation_of(session: Session, organisation_id: int | None) -> Organisation:
    found = session.get(Organisation, organisation_id) if organisation_id is not None else None
    return found if found is not None else default_organisation(session)


def network_of(session: Session, organisation: Organisation) -> Organisation | None:
    if organisation.network_id is None or organisation.network_id == organisation.id:
        return None
    return session.get(Organisation, organisation.network_id)


def members_of(session: Session, network: Organisation) -> list[Organisation]:
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.network_id == network.id)
            .order_by(Organisation.name)
        )
    )


# -- who may see what -------------------------------------------------------------------------


def is_platform_staff(user: User) -> bool:
    return user.organisation_id is None


def queue_ids_for(session: Session, user: User) -> set[int] | None:
    """The queues `user` may see and claim from; None: every queue (platform staff)."""
    if is_platform_staff(user):
        return None
    own = session.get(Organisation, user.organisation_id)
    if own is None:
        return set()
    queues = {own.id}
    if (network := network_of(session, own)) is not None:
        queues.add(network.id)
    return queues


def may_see_queue(session: Session, user: User, organisation_id: int | None) -> bool:
    allowed = queue_ids_for(session, user)
    return allowed is None or organisation_id in allowed


def may_see_conversation(session: Session, user: User, conversation: Conversation) -> bool:
    """In one of the user's queues, or held by the user (a referral may have moved it on)."""
    if conversation.counsellor_id is not None and conversation.counsellor_id == user.id:
        return True
    return may_see_queue(session, user, conversation.organisation_id)


def may_manage(user: User, organisation_id: int | None) -> bool:
    """An admin manages their own organisation's shifts, users and content; a platform admin
    manages every organisation."""
    if user.role != "admin":
        return False
    return is_platform_staff(user) or user.organisation_id == organisation_id


# -- open or closed ---------------------------------------------------------------------------


def organisation_shift_status(
    session: Session, organisation_id: int, now: datetime, tz: ZoneInfo = LOCAL_TZ
) -> ShiftStatus:
    exceptions = date_exceptions(session, (now - timedelta(days=2)).date(), organisation_id)
    return shift_status(now, weekly_rules(session, organisation_id), exceptions, tz)


class OpenStates:
    """Each organisation's shift status, computed once per call site."""

    def __init__(self, session: Session, now: datetime, tz: ZoneInfo = LOCAL_TZ) -> None:
        self.session, self.now, self.tz = session, now, tz
        self._cache: dict[int, ShiftStatus] = {}

    def status(self, organisation: Organisation) -> ShiftStatus:
        if organisation.id not in self._cache:
            self._cache[organisation.id] = organisation_shift_status(
                self.session, organisation.id, self.now, self.tz
            )
        return self._cache[organisation.id]

    def is_open(self, organisation: Organisation) -> bool:
        return self.status(organisation).is_open


# -- routing ----------------------------------------------------------------------------------


def fallbacks(
    session: Session, origin: Organisation, network: Organisation | None
) -> list[Organisation]:
    """Where a critical conversation goes while its own team is closed, in order: the network,
    then the platform's default organisation (the national service)."""
    found = [network] if network is not None else []
    default = default_organisation(session)
    if default.id != origin.id and all(default.id != o.id for o in found):
        found.append(default)
    return found


@dataclass(frozen=True)
class Route:
    queue: Organisation
    reason: str


def route(
    session: Session,
    origin: Organisation,
    risk: str,
    now: datetime,
    *,
    states: OpenStates | None = None,
) -> Route:
    """The queue a conversation from `origin`'s page waits in now, and why (module docstring)."""
    states = states or OpenStates(session, now)
    if states.is_open(origin):
        return Route(origin, OWN_OPEN)
    network = network_of(session, origin)
    if network is not None and states.is_open(network):
        return Route(network, NETWORK_OPEN)
    if risk == RiskLevel.CRITICAL:
        for fallback in fallbacks(session, origin, network):
            if states.is_open(fallback):
                return Route(fallback, CRITICAL_FALLBACK)
    if network is not None:
        network_next = states.status(network).next_shift_start
        own_next = states.status(origin).next_shift_start
        if network_next is not None and (own_next is None or network_next < own_next):
            return Route(network, NETWORK_OPENS_FIRST)
    return Route(origin, OWN_CLOSED)


def place_in_queue(
    session: Session, conversation: Conversation, now: datetime, states: OpenStates | None = None
) -> None:
    """Put a conversation that is being queued into the queue :func:`route` names."""
    origin = organisation_of(session, conversation.origin_organisation_id)
    chosen = route(session, origin, conversation.risk, now, states=states)
    conversation.origin_organisation_id = origin.id
    conversation.organisation_id = chosen.queue.id
    conversation.queue_reason = chosen.reason


def reroute_waiting(
    session: Session, now: datetime, only: Conversation | None = None
) -> list[Conversation]:
    """Move waiting conversations out of closed queues where :func:`route` now says so.

    A conversation waiting for a closed team moves when its route leads to an open queue: a
    member municipality's young person to the network when the local team closes, and any
    critical conversation to its open fallback. A referral is a counsellor's decision and is
    kept, unless the conversation has become critical. The move keeps the conversation's place
    in the order (risk, then the time it was first queued). Audited as ``queue_moved``."""
    states = OpenStates(session, now)
    if only is not None:
        waiting = [only] if only.status == ConversationStatus.QUEUED else []
    else:
        waiting = list(
            session.scalars(
                select(Conversation).where(Conversation.status == ConversationStatus.QUEUED)
            )
        )
    moved = []
    for conversation in waiting:
        queue = organisation_of(session, conversation.organisation_id)
        if states.is_open(queue):
            continue
        critical = conversation.risk == RiskLevel.CRITICAL
        if conversation.queue_reason == REFERRED and not critical:
            continue
        origin = organisation_of(session, conversation.origin_organisation_id)
        chosen = route(session, origin, conversation.risk, now, states=states)
        if chosen.queue.id == queue.id or not states.is_open(chosen.queue):
            continue
        conversation.organisation_id = chosen.queue.id
        conversation.queue_reason = chosen.reason
        audit(session, None, conversation.id, "queue_moved", reason=chosen.reason)
        moved.append(conversation)
    session.flush()
    return moved


# -- referral ---------------------------------------------------------------------------------


class ReferralError(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def refer(
    session: Session,
    conversation: Conversation,
    user: User,
    target: Organisation,
    reason: str,
) -> None:
    """Send a waiting or held conversation to `target`'s queue (the national → municipal case).

    The transcript and the triage stay; the conversation keeps its place in the order (the
    time it was first queued), so the young person does not start again at the back. The holder
    lets go. Audited ``referred`` with the reason code; cross-organisation by nature."""
    if reason not in REFERRAL_REASONS:
        raise ReferralError(422, "Vælg en grund til henvisningen.")
    if conversation.status not in (ConversationStatus.QUEUED, ConversationStatus.ACTIVE):
        raise ReferralError(409, "Samtalen er ikke i kø eller i gang, så den kan ikke henvises.")
    if conversation.status == ConversationStatus.ACTIVE and conversation.counsellor_id != user.id:
        raise ReferralError(409, "Samtalen er ikke din lige nu. Tag den fra køen først.")
    if target.id == conversation.organisation_id:
        raise ReferralError(422, "Samtalen venter allerede i den kø.")
    if conversation.risk == RiskLevel.CRITICAL:
        states = OpenStates(session, utcnow())
        if not states.is_open(target) and any(
            states.is_open(o) for o in all_organisations(session)
        ):
            # A critical conversation never waits for a closed team while one is on duty.
            raise ReferralError(
                409,
                f"Samtalen haster, og {target.name} har lukket nu. Tag den selv, eller henvis "
                "den til et tilbud, der har åbent.",
            )
    conversation.status = ConversationStatus.QUEUED.value
    conversation.counsellor_id = None
    conversation.claimed_at = None
    conversation.queued_at = conversation.queued_at or conversation.updated_at
    conversation.organisation_id = target.id
    conversation.queue_reason = REFERRED
    audit(session, user, conversation.id, "referred", reason=reason)
    session.flush()


# -- what the young person is told ------------------------------------------------------------


def queue_sentence(
    reason: str | None,
    queue: Organisation,
    origin: Organisation,
    queue_status: ShiftStatus,
    now: datetime,
    tz: ZoneInfo = LOCAL_TZ,
) -> str:
    """One Danish sentence: which queue the young person waits in, and why."""
    opens = (
        danish_when(queue_status.next_shift_start, now, tz)
        if queue_status.next_shift_start
        else None
    )
    when_closed = f"De åbner igen {opens}." if opens else "Vi ved endnu ikke, hvornår de åbner."
    if reason == REFERRED:
        text = f"En rådgiver har sendt din samtale videre til {queue.name}."
        return text if queue_status.is_open else f"{text} {when_closed}"
    if reason == NETWORK_OPEN:
        return (
            f"{origin.name} har lukket lige nu, så du venter på rådgiverne i {queue.name}, "
            "som har åbent."
        )
    if reason == CRITICAL_FALLBACK:
        return (
            f"{origin.name} har lukket lige nu. Fordi det haster, venter du på rådgiverne i "
            f"{queue.name}, som har åbent."
        )
    if reason == NETWORK_OPENS_FIRST:
        return (
            f"{origin.name} har lukket lige nu, så du venter på rådgiverne i {queue.name}, "
            f"som åbner først{' ' + opens if opens else ''}."
        )
    if queue_status.is_open:
        return f"Du venter på en rådgiver fra {queue.name}."
    return f"Du venter på en rådgiver fra {queue.name}, som har lukket lige nu. {when_closed}"


# -- what the pages show ----------------------------------------------------------------------


def ref(organisation: Organisation) -> OrganisationRef:
    return OrganisationRef(slug=organisation.slug, name=organisation.name)


def organisation_names(session: Session) -> dict[int, OrganisationRef]:
    return {o.id: ref(o) for o in session.scalars(select(Organisation))}


def page_path(organisation: Organisation) -> str:
    return "/" if organisation.is_default else f"/ung/{organisation.slug}"


def organisation_out(
    session: Session, organisation: Organisation, states: OpenStates
) -> OrganisationOut:
    status = states.status(organisation)
    network = network_of(session, organisation)
    return OrganisationOut(
        slug=organisation.slug,
        name=organisation.name,
        kind=organisation.kind,
        is_default=organisation.is_default,
        network=ref(network) if network else None,
        open_now=status.is_open,
        next_opening=None if status.is_open else status.next_shift_start,
        next_opening_text=(
            danish_when(status.next_shift_start, states.now, states.tz)
            if status.next_shift_start and not status.is_open
            else None
        ),
        page=page_path(organisation),
    )


def opening_hours(
    session: Session, organisation: Organisation, tz: ZoneInfo
) -> list[OpeningHoursOut]:
    rules = sorted(weekly_rules(session, organisation.id), key=lambda r: (r.weekday, r.starts_at))
    hours = []
    for rule in rules:
        start = danish_clock(datetime.combine(datetime.now(tz).date(), rule.starts_at, tz), tz)
        end = danish_clock(datetime.combine(datetime.now(tz).date(), rule.ends_at, tz), tz)
        hours.append(
            OpeningHoursOut(
                weekday=rule.weekday,
                weekday_name=DANISH_WEEKDAYS[rule.weekday],
                text=f"{start}-{end.removeprefix('kl. ')}",
            )
        )
    return hours


def routing_text(session: Session, organisation: Organisation, states: OpenStates) -> str:
    """Where a young person who writes on this page now would wait, in one sentence."""
    chosen = route(session, organisation, "normal", states.now, states=states)
    return queue_sentence(
        chosen.reason,
        chosen.queue,
        organisation,
        states.status(chosen.queue),
        states.now,
        states.tz,
    )


def organisation_page(
    session: Session, organisation: Organisation, states: OpenStates
) -> OrganisationPageOut:
    today = states.now.astimezone(states.tz).date()
    return OrganisationPageOut(
        **organisation_out(session, organisation, states).model_dump(),
        presentation=organisation.presentation,
        age_range=organisation.age_range,
        confidentiality=organisation.confidentiality,
        local_info=[LocalInfoItem.model_validate(item) for item in organisation.local_info or []],
        hours=opening_hours(session, organisation, states.tz),
        closed_dates=[
            e.on_date
            for e in list_exceptions(session, today, organisation.id)
            if e.kind == "closed"
        ][:10],
        members=[ref(m) for m in members_of(session, organisation)],
        routing_text=routing_text(session, organisation, states),
    )


def referral_targets(
    session: Session, now: datetime, tz: ZoneInfo = LOCAL_TZ
) -> list[ReferralTargetOut]:
    states = OpenStates(session, now, tz)
    reasons = [
        ReferralReasonOut(code=code, label=label) for code, label in REFERRAL_REASONS.items()
    ]
    targets = []
    for organisation in all_organisations(session):
        out = organisation_out(session, organisation, states)
        targets.append(
            ReferralTargetOut(
                slug=out.slug,
                name=out.name,
                kind=out.kind,
                open_now=out.open_now,
                next_opening_text=out.next_opening_text,
                reasons=reasons,
            )
        )
    return targets
