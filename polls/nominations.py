"""Reader nominations: a fan's "you forgot this kiss!" while nominations are open, and the host's say.

Suggesting has the ballot's protections: only while the poll takes
nominations, a honeypot that refuses form-filling bots (the hit is kept for
the integrity report), and one suggestion per browser per poll as the
database's rule (unique poll and voter hash; rate limits are the views').
Suggestions always belong to the top poll, the one whose page the fan is on.

The host sees them grouped by drama (``group_nominations``), merges
duplicates into one suggestion (their fans become its supporters), accepts
one into the scenes of the poll or of one of its categories, or declines
it; a decision carries the suggestions merged into it along.  Each operation
is one transaction: it commits, or rolls back and raises.
"""
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from polls.ballots import BUSY_RETRY_AFTER, BallotRejected, record_bot_hit
from polls.extensions import db
from polls.forms import clean_line, clean_text
from polls.friction import honeypot_filled
from polls.i18n import N_
from polls.lifecycle import ballot_boxes
from polls.models import Candidate, Nomination, Poll, utcnow
from polls.queries import ballot_count
from polls.tally import RESERVED_NAMES
from polls.voters import address_key, network_key, voter_hash

# The columns' own lengths; "why" becomes the scene's description, which the desk keeps under 1000.
MAX_LENGTHS = {name: Nomination.__table__.c[name].type.length for name in ("drama", "episode", "scene")}
MAX_LENGTHS["why"] = 1000
TITLE_MAX = Candidate.__table__.c.title.type.length
# How a refusal names each field (the form's labels say more).
FIELD_NAMES = {"drama": N_("drama"), "episode": N_("episode"), "scene": N_("scene"), "why": N_("reason")}
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`\u00b4]")


class NominationRejected(BallotRejected):
    """A suggestion that cannot be stored (nothing was), with the HTTP status and a code for clients."""


class DecisionRefused(Exception):
    """The host's merge, accept or decline cannot be done; the message says why (nothing changed)."""


def top_poll(poll: Poll) -> Poll:
    """The poll a category belongs to (suggestions are the whole poll's), or the poll itself."""
    return poll.parent or poll


def describe(nomination: Nomination) -> str:
    """A suggestion in one line: 'Kill Me, Heal Me · episode 10 · “the cold kiss”'."""
    parts = [nomination.drama]
    if nomination.episode:
        parts.append(f"episode {nomination.episode}")
    if nomination.scene:
        parts.append(f"“{nomination.scene}”")
    return " · ".join(parts)


def find_nomination(poll: Poll, voter_token: str) -> Nomination | None:
    """This browser's suggestion in ``poll`` (or in its top poll), if it made one."""
    return db.session.scalar(select(Nomination).where(
        Nomination.poll_id == top_poll(poll).id, Nomination.voter_hash == voter_hash(voter_token)))


def refuse_unless_taking(poll: Poll) -> None:
    """NominationRejected (409) unless the poll takes suggestions now."""
    if not top_poll(poll).takes_nominations:
        raise NominationRejected(409, "nominations_closed", gettext("Nominations are not open for this poll."))


def read_fields(raw) -> dict[str, str]:
    """A suggestion's fields from a mapping (form or JSON), cleaned and checked."""
    fields = {}
    for name, limit in MAX_LENGTHS.items():
        value = raw.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise NominationRejected(400, "invalid_field", gettext("%(field)s must be text.", field=name))
        value = clean_text(value) if name == "why" else clean_line(value)
        if len(value) > limit:
            raise NominationRejected(422, "too_long", gettext(
                "Keep the %(field)s to %(num)s characters or fewer.", field=gettext(FIELD_NAMES[name]), num=limit))
        fields[name] = value
    if not fields["drama"]:
        raise NominationRejected(422, "drama_required", gettext("Name the drama the scene is from."))
    return fields


def _refuse_bot(poll: Poll) -> NominationRejected:
    """Record a honeypot hit for the integrity report; the refusal to raise."""
    record_bot_hit(poll, "nomination_honeypot")
    return NominationRejected(400, "rejected", gettext(
        "This suggestion could not be accepted. If you filled in the field marked 'leave empty', clear it and "
        "try again."))


def submit_nomination(poll: Poll, raw_fields, voter_token: str, *, honeypot=None) -> Nomination:
    """Store a fan's suggestion (drama, episode, scene, why), or raise NominationRejected.

    A scene already on the ballot may still be suggested: the host decides.
    """
    poll = top_poll(poll)
    refuse_unless_taking(poll)
    if honeypot_filled(honeypot):
        raise _refuse_bot(poll)
    nomination = Nomination(poll_id=poll.id, voter_hash=voter_hash(voter_token), address_hash=address_key(),
                            network_hash=network_key(), **read_fields(raw_fields))
    db.session.add(nomination)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        mine = find_nomination(poll, voter_token)
        message = (gettext("You already suggested %(scene)s; it is one suggestion per fan.", scene=describe(mine))
                   if mine else gettext("You already suggested a scene; it is one suggestion per fan."))
        raise NominationRejected(409, "already_suggested", message) from None
    except OperationalError:
        db.session.rollback()
        raise NominationRejected(503, "busy", gettext("The poll is too busy to take your suggestion right now, and "
                                                      "it was not saved. Please try again in a few seconds."),
                                 headers={"Retry-After": str(BUSY_RETRY_AFTER)}) from None
    return nomination


def nomination_json(nomination: Nomination) -> dict:
    return {"drama": nomination.drama, "episode": nomination.episode, "scene": nomination.scene,
            "status": nomination.status}


# --- the host's desk -----------------------------------------------------------------


def drama_key(drama: str) -> str:
    """How dramas are told apart: 'Kill Me, Heal Me', 'kill me  heal me' and '“Kill Me Heal Me!”' are one."""
    text = _APOSTROPHES.sub("", unicodedata.normalize("NFKC", drama).casefold())
    text = "".join(" " if unicodedata.category(ch)[0] in "PS" else ch for ch in text)
    return " ".join(text.split())


@dataclass
class Suggestion:
    """A suggestion waiting for the host, with the duplicates merged into it (its supporters)."""

    nomination: Nomination
    supporters: list[Nomination] = field(default_factory=list)

    @property
    def support(self) -> int:
        return 1 + len(self.supporters)


@dataclass
class DramaGroup:
    """The waiting suggestions for one drama, under the spelling most of its fans used."""

    drama: str
    suggestions: list[Suggestion]

    @property
    def support(self) -> int:
        return sum(suggestion.support for suggestion in self.suggestions)


def pending_nominations(poll: Poll) -> list[Nomination]:
    """The poll's suggestions still waiting for a decision (merged ones excluded), oldest first."""
    return list(db.session.scalars(select(Nomination).where(
        Nomination.poll_id == poll.id, Nomination.status == "pending").order_by(Nomination.created_at, Nomination.id)))


def group_nominations(poll: Poll) -> list[DramaGroup]:
    """Waiting suggestions grouped by drama, most supported first; merged ones count for their target."""
    rows = list(db.session.scalars(select(Nomination).where(
        Nomination.poll_id == poll.id, Nomination.status.in_(("pending", "merged")))
        .order_by(Nomination.created_at, Nomination.id)))
    suggestions = {n.id: Suggestion(n) for n in rows if n.status == "pending"}
    for nomination in rows:
        if nomination.status == "merged":
            target = suggestions.get(nomination.merged_into_id)
            if target is None:  # its target is gone: it stands on its own
                suggestions[nomination.id] = target = Suggestion(nomination)
            else:
                target.supporters.append(nomination)
    by_drama: dict[str, list[Suggestion]] = {}
    for suggestion in suggestions.values():
        by_drama.setdefault(drama_key(suggestion.nomination.drama), []).append(suggestion)
    groups = []
    for members in by_drama.values():
        spellings = Counter(n.drama for s in members for n in [s.nomination, *s.supporters])
        members.sort(key=lambda s: -s.support)  # stable: equal support stays oldest first
        groups.append(DramaGroup(spellings.most_common(1)[0][0], members))
    groups.sort(key=lambda g: (-g.support, g.drama.casefold()))
    return groups


def decided_nominations(poll: Poll) -> list[Nomination]:
    """Accepted and declined suggestions, latest decision first."""
    return list(db.session.scalars(select(Nomination).where(
        Nomination.poll_id == poll.id, Nomination.status.in_(("accepted", "declined")))
        .order_by(Nomination.decided_at.desc(), Nomination.id.desc())))


def _merged_into(nomination: Nomination) -> list[Nomination]:
    return list(db.session.scalars(select(Nomination).where(Nomination.merged_into_id == nomination.id)))


def root_of(nomination: Nomination) -> Nomination:
    """The suggestion a merged one counts for (itself if not merged)."""
    seen = {nomination.id}
    while nomination.status == "merged" and nomination.merged_into is not None and nomination.merged_into_id not in seen:
        nomination = nomination.merged_into
        seen.add(nomination.id)
    return nomination


def _refuse_unless_pending(nomination: Nomination) -> None:
    if nomination.status == "merged":
        raise DecisionRefused("That suggestion was merged into another; decide that one instead.")
    if nomination.status != "pending":
        raise DecisionRefused(f"That suggestion was already {nomination.status}.")


def merge(nomination: Nomination, into: Nomination) -> Nomination:
    """Count ``nomination`` (and those merged into it) as support for ``into``; returns the suggestion
    they now count for (``into``, or what ``into`` was merged into: merges never chain)."""
    if into.poll_id != nomination.poll_id:
        raise DecisionRefused("Both suggestions must be in this poll.")
    if nomination.status not in ("pending", "merged"):
        raise DecisionRefused(f"That suggestion was already {nomination.status}.")
    target = root_of(into)
    if target.id == nomination.id:
        raise DecisionRefused("A suggestion cannot be merged into itself.")
    if target.status != "pending":
        raise DecisionRefused(f"“{describe(target)}” was already {target.status}; merge into a waiting suggestion.")
    for supporter in _merged_into(nomination):
        supporter.merged_into_id = target.id
    nomination.status, nomination.merged_into_id = "merged", target.id
    db.session.commit()
    return target


def _decide(nomination: Nomination, status: str, candidate: Candidate | None = None) -> None:
    now = utcnow()
    for decided in [nomination, *_merged_into(nomination)]:
        decided.status, decided.candidate, decided.decided_at = status, candidate, now


def default_title(nomination: Nomination) -> str:
    """What an accepted suggestion is called unless the host says otherwise."""
    if nomination.scene:
        title = nomination.scene
    elif nomination.episode:
        title = f"{nomination.drama} ep {nomination.episode}"
    else:
        title = nomination.drama
    return title[:TITLE_MAX]


def accept(nomination: Nomination, target: Poll, title: str | None = None) -> Candidate:
    """Add the suggested scene at the end of ``target``'s list (the poll, or the category the host
    picked) and mark the suggestion and its supporters accepted."""
    _refuse_unless_pending(nomination)
    poll = db.session.get(Poll, nomination.poll_id)
    if target not in ballot_boxes(poll):
        raise DecisionRefused("Pick one of this poll's categories for the scene." if poll.categories
                              else "The scene can only go into this poll.")
    where = f"the category “{target.title}”" if target is not poll else "this poll"
    if ballot_count(target):
        raise DecisionRefused(f"Fans have already voted in {where}, so scenes can no longer be added: "
                              "it would change what their ballots mean.")
    title = clean_line(title or "") or default_title(nomination)
    if len(title) > TITLE_MAX:
        raise DecisionRefused(f"Keep the title to {TITLE_MAX} characters or fewer.")
    if title.lower() in RESERVED_NAMES:
        raise DecisionRefused(f"“{title}” is a word the vote count uses; give the scene another title.")
    taken = f"{where[0].upper()}{where[1:]} already has a scene called “{title}”."
    if any(c.title.casefold() == title.casefold() for c in target.candidates):
        raise DecisionRefused(taken)
    candidate = Candidate(
        position=max((c.position for c in target.candidates), default=-1) + 1, title=title,
        drama=nomination.drama, episode=nomination.episode, nickname=nomination.scene,
        description=nomination.why,
    )
    target.candidates.append(candidate)
    _decide(nomination, "accepted", candidate)
    try:
        db.session.commit()
    except IntegrityError:  # the same title added at the same moment
        db.session.rollback()
        raise DecisionRefused(taken) from None
    return candidate


def decline(nomination: Nomination) -> int:
    """Decline the suggestion and those merged into it; returns how many fans' suggestions that was."""
    _refuse_unless_pending(nomination)
    supporters = len(_merged_into(nomination))
    _decide(nomination, "declined")
    db.session.commit()
    return 1 + supporters
