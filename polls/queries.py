"""Lookups shared by the blueprints."""
from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from polls.extensions import db
from polls.models import Ballot, Poll, Quarantine


def poll_or_404(slug: str) -> Poll:
    """A public poll with its candidates, loaded in one query (every caller uses them)."""
    poll = db.session.scalars(
        select(Poll).where(Poll.slug == slug).options(joinedload(Poll.candidates))
    ).unique().first()
    if poll is None or poll.status == "draft":
        abort(404, description=f"There is no poll called {slug!r}.")
    return poll


def public_polls(status: str, limit: int = 50) -> list[Poll]:
    return list(
        db.session.scalars(
            select(Poll).where(Poll.status == status).order_by(Poll.created_at.desc()).limit(limit)
        )
    )


def polls_of_year(year: int) -> list[Poll]:
    """The year's public polls, closed (final) ones first."""
    polls = db.session.scalars(
        select(Poll).where(Poll.year == year, Poll.status != "draft").order_by(Poll.created_at)
    )
    return sorted(polls, key=lambda poll: poll.status != "closed")


def quarantines_with_counts(poll: Poll, *, active_only: bool = False) -> list[tuple[Quarantine, int]]:
    """The poll's quarantines, newest first, with the ballots each holds now."""
    query = (
        select(Quarantine, func.count(Ballot.id))
        .outerjoin(Ballot, Ballot.quarantine_id == Quarantine.id)
        .where(Quarantine.poll_id == poll.id)
        .group_by(Quarantine.id)
        .order_by(Quarantine.id.desc())
    )
    if active_only:
        query = query.where(Quarantine.released_at.is_(None))
    return [(quarantine, held) for quarantine, held in db.session.execute(query).all()]


def excluded_ballots(poll: Poll) -> list[dict]:
    """What the results say about ballots held out of the count: how many, and why (oldest first)."""
    return [{"ballots": held, "reason": quarantine.reason}
            for quarantine, held in reversed(quarantines_with_counts(poll, active_only=True)) if held]
