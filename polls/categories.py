"""Categories: one poll, several separately counted ballots ("Korean", "Best first kiss").

A category is a ``Poll`` with ``parent_id`` set: its own scenes, ballots,
count, results page, widget and exports, and its parent's life (see
``polls.lifecycle.sync_categories``).  A poll with categories keeps no
scenes of its own; its page asks the fan for one ranking per category.
"""
from sqlalchemy import case, delete, update

from polls.extensions import db
from polls.forms import slugify
from polls.lifecycle import sync_categories
from polls.models import AuditEntry, BotHit, InviteCode, Nomination, Poll
from polls.queries import ballot_count, free_slug

MAX_CATEGORIES = 20
SLUG_MAX = Poll.__table__.c.slug.type.length
# A poll's categories change only before voting: fans must find on the ballot what the host announced.
EDITABLE_STATUSES = ("draft", "nominations")


class CategoryRefused(Exception):
    """The category cannot be added or removed; the message says why, for the host."""


def _category_slug(base: str) -> str:
    """A free slug from ``base``, never longer than a slug may be."""
    return free_slug(base[:SLUG_MAX - 3].rstrip("-"))  # room for "-NN" (at most MAX_CATEGORIES + 1)


def _refuse_unless_editable(poll: Poll) -> None:
    if poll.status not in EDITABLE_STATUSES:
        raise CategoryRefused("Categories can be added or removed only before voting opens.")


def add_category(poll: Poll, title: str) -> Poll:
    """A new category at the end of ``poll``'s (not committed).

    The first category of a poll that already has scenes takes them over, so
    turning a plain poll into a category poll loses nothing.
    """
    if poll.parent_id is not None:
        raise CategoryRefused("A category cannot have categories of its own.")
    if poll.invite_only:
        raise CategoryRefused("Closed-list polls cannot have categories yet; turn the closed list off first.")
    _refuse_unless_editable(poll)
    if len(poll.categories) >= MAX_CATEGORIES:
        raise CategoryRefused(f"A poll can have at most {MAX_CATEGORIES} categories.")
    if any(c.title.casefold() == title.casefold() for c in poll.categories):
        raise CategoryRefused(f"This poll already has a category called “{title}”.")
    if ballot_count(poll):
        raise CategoryRefused("Fans have already voted in this poll, so it cannot be split into categories.")
    base = f"{poll.slug}-{slugify(title, 30) or 'category'}"
    category = Poll(title=title, slug=_category_slug(base), method=poll.method, seats=poll.seats, rules=poll.rules,
                    max_ranks=poll.max_ranks, position=max((c.position for c in poll.categories), default=-1) + 1)
    if not poll.categories:
        category.candidates = list(poll.candidates)
    poll.categories.append(category)
    sync_categories(poll)
    db.session.add(category)
    return category


def remove_category(category: Poll) -> None:
    """Delete a category that has no ballots yet, with its scenes (not committed).

    Suggestions accepted into it go back to the host's pending list, and what
    only this category's ballot box kept (bot hits, its audit) goes with it.
    """
    _refuse_unless_editable(category.parent)
    if ballot_count(category):
        raise CategoryRefused("Fans have already voted in this category, so it cannot be removed.")
    scene_ids = [c.id for c in category.candidates]
    if scene_ids:
        db.session.execute(update(Nomination).where(Nomination.candidate_id.in_(scene_ids))
                           .values(status=case((Nomination.merged_into_id.is_not(None), "merged"), else_="pending"),
                                   candidate_id=None, decided_at=None))
    for model in (BotHit, InviteCode, AuditEntry):
        db.session.execute(delete(model).where(model.poll_id == category.id))
    db.session.delete(category)
