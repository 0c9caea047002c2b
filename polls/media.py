"""Pictures served from this site: the scenes' thumbnails (see polls.thumbnails).

A thumbnail's address names its content (``/media/scenes/<scene id>-<digest>.webp``), so
a scene of a public poll is cached for a year and a new upload is a new address.  A
draft poll's thumbnails are its host's alone, as the draft is: to anyone else they do not
exist, and nobody keeps a copy.
"""
import re

from flask import Blueprint, Response, abort, url_for
from flask_login import current_user
from sqlalchemy import select

from polls.extensions import db
from polls.models import Candidate, Poll, SceneThumbnail
from polls.security import without_session

bp = Blueprint("media", __name__)

# A bigger id names no row (and is past PostgreSQL's bigint): the URL map answers 404 itself.
MAX_DB_ID = 2**63 - 1
PUBLIC_CACHE = "public, max-age=31536000, immutable"
# A word's first letter or digit: "It's Okay, That's Love" is "IOT", "별에서 온 그대" is "별온그".
LETTER = re.compile(r"\w")
MAX_INITIALS = 3


@bp.app_template_global()
def thumbnail_url(candidate: Candidate) -> str | None:
    """The address of the scene's thumbnail, or None when it has none."""
    if not candidate.thumbnail_digest:
        return None
    return url_for("media.scene_thumbnail", cid=candidate.id, digest=candidate.thumbnail_digest)


@bp.app_template_filter()
def initials(text: str) -> str:
    """Up to three initials of ``text`` (a drama's name), for a thumbnail's placeholder."""
    letters = (LETTER.search(word) for word in (text or "").split())
    return "".join(found.group() for found in letters if found)[:MAX_INITIALS].upper()


@bp.get(f"/media/scenes/<int(max={MAX_DB_ID}):cid>-<digest>.webp")
@without_session  # the same bytes for everyone: no Vary: Cookie in front of a cache
def scene_thumbnail(cid: int, digest: str):
    found = db.session.execute(
        select(SceneThumbnail.data, SceneThumbnail.content_type, Poll.status, Poll.host_id)
        .join(Candidate, Candidate.id == SceneThumbnail.candidate_id)
        .join(Poll, Poll.id == Candidate.poll_id)
        .where(SceneThumbnail.candidate_id == cid, Candidate.thumbnail_digest == digest)
    ).first()
    if found is None:
        abort(404, description="There is no such picture.")
    data, content_type, status, host_id = found
    response = Response(data, mimetype=content_type)
    if status == "draft":
        # Read, never saved (without_session): hence no-store, so no cache keeps the host's copy.
        if not (current_user.is_authenticated and current_user.id == host_id):
            abort(404, description="There is no such picture.")
        response.headers["Cache-Control"] = "private, no-store"
    else:
        response.headers["Cache-Control"] = PUBLIC_CACHE
    return response
