"""Lookups and helpers shared by the desk's views."""
from urllib.parse import urlsplit

from flask import abort, redirect, url_for
from flask_login import current_user
from sqlalchemy import select

from polls.extensions import db
from polls.forms import RESERVED_SLUGS, slugify
from polls.models import Candidate, Poll
from polls.queries import free_slug

MAX_DB_ID = 2**63 - 1


def owned_poll_or_404(slug: str) -> Poll:
    """The current host's poll with this slug; 404 if missing *or* someone else's."""
    poll = db.session.scalar(select(Poll).where(Poll.slug == slug, Poll.host_id == current_user.id))
    if poll is None:
        abort(404, description="You have no poll with that address.")
    return poll


def owned_candidate_or_404(poll: Poll, cid: int) -> Candidate:
    candidate = db.session.get(Candidate, cid) if cid <= MAX_DB_ID else None
    if candidate is None or candidate.poll_id != poll.id:
        abort(404, description="That scene is not in this poll.")
    return candidate


def unique_slug(title: str, year: int | None) -> str:
    """A free slug made from the title (or 'poll-YEAR' when the title has no Latin letters)."""
    base = slugify(title)
    if len(base) < 3 or base in RESERVED_SLUGS:
        base = f"poll-{year}" if year else "poll"
    return free_slug(base, RESERVED_SLUGS)


def safe_next(target: str | None) -> str | None:
    """A local path to go back to after login, never another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return None  # urlsplit would drop CR/LF and tabs, and a Location header cannot carry them
    try:
        parts = urlsplit(target)
    except ValueError:  # e.g. an unbalanced "[" read as an IPv6 host
        return None
    return target if not parts.scheme and not parts.netloc else None


def see_other(endpoint: str, **values):
    return redirect(url_for(endpoint, **values), code=303)


