"""Lookups shared by the blueprints."""
from dataclasses import dataclass

from flask import abort
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from polls.extensions import db
from polls.models import Ballot, Candidate, Poll, Quarantine, rank_limit, voting_open


def _public_or_404(slug: str, status: str | None) -> None:
    """Drafts are the host's alone: to everyone else they do not exist, like unknown slugs."""
    if status is None or status == "draft":
        abort(404, description=gettext("There is no poll called “%(slug)s”.", slug=slug))


def poll_or_404(slug: str) -> Poll:
    """A public poll with its candidates, loaded in one query (every caller uses them)."""
    poll = db.session.scalars(
        select(Poll).where(Poll.slug == slug).options(joinedload(Poll.candidates))
    ).unique().first()
    _public_or_404(slug, poll.status if poll else None)
    return poll


def ballot_count(poll: Poll) -> int:
    """How many ballots the poll holds, counted or held out."""
    return db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll.id)) or 0


def free_slug(base: str, reserved: frozenset[str] = frozenset()) -> str:
    """``base``, or ``base-2``, ``base-3``...: the first slug no poll has (nor ``reserved`` holds)."""
    taken = set(db.session.scalars(select(Poll.slug).where(Poll.slug.startswith(base))))
    slug, n = base, 2
    while slug in taken or slug in reserved:
        slug, n = f"{base}-{n}", n + 1
    return slug


def may_see_results(poll: Poll) -> bool:
    """Fans see the standings when the host's visibility setting says so; the host always."""
    return poll.results_public or (current_user.is_authenticated and current_user.id == poll.host_id)


def public_poll_id_or_404(slug: str) -> int:
    """Only the id of the public poll ``slug`` (one light query); 404 like ``poll_or_404``."""
    row = db.session.execute(select(Poll.id, Poll.status).where(Poll.slug == slug)).first()
    _public_or_404(slug, row.status if row else None)
    return row.id


@dataclass(frozen=True)
class BallotBox:
    """What casting a ballot needs of a poll, read in one light query (the JSON API's
    hot path); a ``Poll`` offers the same attributes, for the form path."""

    id: int
    slug: str
    is_open: bool
    invite_only: bool
    rank_limit: int
    candidate_ids: frozenset[int]


# Built once: the hot path then skips building (and cache-keying) a new statement per ballot.
_BALLOT_BOX = (
    select(Poll.id, Poll.status, Poll.invite_only, Poll.max_ranks, Poll.closes_at, Candidate.id)
    .outerjoin(Candidate, Candidate.poll_id == Poll.id)
    .where(Poll.slug == bindparam("slug"))
)


def ballot_box_or_404(slug: str) -> BallotBox:
    """The public poll ``slug`` as a BallotBox; 404 like ``poll_or_404``."""
    rows = db.session.execute(_BALLOT_BOX, {"slug": slug}).all()
    _public_or_404(slug, rows[0].status if rows else None)
    poll_id, status, invite_only, max_ranks, closes_at, _ = rows[0]
    ids = frozenset(row[5] for row in rows if row[5] is not None)
    return BallotBox(poll_id, slug, voting_open(status, closes_at), invite_only, rank_limit(max_ranks, len(ids)), ids)


def public_polls(status: str, limit: int = 50) -> list[Poll]:
    return list(
        db.session.scalars(
            select(Poll).where(Poll.status == status, Poll.parent_id.is_(None))
            .order_by(Poll.created_at.desc()).limit(limit)
        )
    )


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
