"""The life of a poll: draft -> nominations -> voting ("open") -> closed.

The host moves a poll with the desk's buttons, or sets opening and closing
times (naive UTC) that ``apply_schedules`` carries out.  Ballots stop at the
closing time itself (``polls.models.voting_open``), however late the sweep
runs.  A category is a poll of its own under its parent and follows the
parent's life (``sync_categories``).
"""
import logging
import time
from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import and_, or_, select
from sqlalchemy.exc import SQLAlchemyError

from polls.extensions import db
from polls.models import Poll, utcnow

log = logging.getLogger(__name__)

MIN_CANDIDATES_TO_OPEN = 2
# action -> (statuses it may start from, the status it leads to)
TRANSITIONS = {
    "nominate": (("draft",), "nominations"),
    "open": (("draft", "nominations"), "open"),
    "close": (("open",), "closed"),
    "reopen": (("closed",), "open"),
}
STATUS_LABELS = {"draft": "draft", "nominations": "nominations open", "open": "voting open", "closed": "closed"}
# What a category takes from its parent.
_INHERITED = ("status", "opens_at", "closes_at", "results_visibility", "year", "host_id")
_SWEEP_AT = "kisspoll.schedule_sweep_at"


class TransitionRefused(Exception):
    """The poll cannot make that move now; the message says why, for the host."""


@dataclass(frozen=True)
class Moved:
    status: str
    note: str = ""


def ballot_boxes(poll: Poll) -> list[Poll]:
    """The polls that take this poll's ballots: its categories, or the poll itself."""
    return list(poll.categories) or [poll]


def not_ready_to_open(poll: Poll) -> str | None:
    """Why voting cannot open yet (too few scenes somewhere), or None."""
    for box in ballot_boxes(poll):
        if len(box.candidates) < MIN_CANDIDATES_TO_OPEN:
            where = f"the category “{box.title}”" if box is not poll else "the poll"
            return f"Add at least {MIN_CANDIDATES_TO_OPEN} scenes to {where} before voting opens."
    return None


def sync_categories(poll: Poll) -> None:
    """Give every category of ``poll`` the parent's life: status, schedule, visibility, year."""
    for category in poll.categories:
        for name in _INHERITED:
            setattr(category, name, getattr(poll, name))
        category.invite_only = False


def change_status(poll: Poll, action: str) -> Moved:
    """Carry out a host's button press (not committed); TransitionRefused says why not."""
    if poll.parent_id is not None:
        raise TransitionRefused("A category opens and closes with its poll; use the poll's desk.")
    allowed, new_status = TRANSITIONS[action]
    if poll.status not in allowed:
        raise TransitionRefused(f"This poll is {STATUS_LABELS[poll.status]}, so it cannot do that now.")
    now, note = utcnow(), ""
    if new_status == "open":
        problem = not_ready_to_open(poll)
        if problem:
            raise TransitionRefused(problem)
        # Opened by hand: a scheduled opening still ahead, or a closing time already
        # behind (which would close it again at once), no longer applies.
        if poll.opens_at is not None and poll.opens_at > now:
            poll.opens_at, note = None, " The scheduled opening time was cleared."
        if poll.closes_at is not None and poll.closes_at <= now:
            poll.closes_at, note = None, " The past closing time was cleared."
    poll.status = new_status
    sync_categories(poll)
    return Moved(new_status, note)


def _due(now) -> list[Poll]:
    return list(db.session.scalars(select(Poll).where(
        Poll.parent_id.is_(None),
        or_(and_(Poll.status.in_(("draft", "nominations")), Poll.opens_at <= now),
            and_(Poll.status == "open", Poll.closes_at <= now)),
    )))


def apply_schedules(now=None) -> list[tuple[str, str]]:
    """Open and close the polls whose scheduled time has come; returns (slug, new status).

    A poll whose opening time has come but which still lacks scenes stays
    as it is (the desk says why).  Safe to run in many processes at once:
    they all write the same outcome.
    """
    now = now or utcnow()
    moved = []
    for poll in _due(now):
        if poll.status == "open":
            poll.status = "closed"
        elif not_ready_to_open(poll) is None:
            poll.status = "open"
            if poll.closes_at is not None and poll.closes_at <= now:
                poll.status = "closed"  # both times passed while nobody was looking
        else:
            continue
        sync_categories(poll)
        moved.append((poll.slug, poll.status))
    if moved:
        db.session.commit()
    return moved


def _sweep_when_due() -> None:
    """Before a request: run the schedule at most once every SCHEDULE_CHECK_SECONDS per process."""
    now = time.monotonic()
    if now < current_app.extensions.get(_SWEEP_AT, 0):
        return
    current_app.extensions[_SWEEP_AT] = now + current_app.config["SCHEDULE_CHECK_SECONDS"]
    try:
        apply_schedules()
    except SQLAlchemyError:
        # A busy database must not fail the fan's request; the next sweep tries again.
        db.session.rollback()
        log.warning("scheduled opening/closing deferred: the database did not answer", exc_info=True)


def init_app(app: Flask) -> None:
    app.before_request(_sweep_when_due)
