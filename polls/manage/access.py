"""Lookups and helpers shared by the desk's views."""
from urllib.parse import urlsplit

from collections.abc import Callable

from flask import abort, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

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




def form_with_upload(make_form: Callable[[], FlaskForm], max_bytes: int | None = None) -> FlaskForm | None:
    """The posted form of a route that takes a file, or None when the body is over the limit
    (nothing was read) so that the route can say so on its own page: MAX_CONTENT_LENGTH, or
    ``max_bytes`` for a route that takes bigger files.

    Such a route is ``csrf.exempt``: the token is checked here, once the route has found its
    owner's poll, so only a poll's owner ever gets a larger limit. Raises CSRFError.
    """
    if max_bytes is not None:
        request.max_content_length = max_bytes
    try:
        form = make_form()  # reads the body
    except RequestEntityTooLarge:
        return None
    if not form.csrf_token.validate(form):
        raise CSRFError(form.csrf_token.errors[0])
    return form
