"""Lookups shared by the blueprints."""
from flask import abort
from sqlalchemy import select

from polls.extensions import db
from polls.models import Poll


def poll_or_404(slug: str) -> Poll:
    poll = db.session.scalar(select(Poll).where(Poll.slug == slug))
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
