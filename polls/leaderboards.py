"""The readers' best kisses of a year, and the hall of fame of past years' winners."""
from dataclasses import dataclass, field

from sqlalchemy import select

from polls.extensions import db
from polls.lifecycle import ballot_boxes
from polls.models import Poll
from polls.results import poll_results

# Enough for every host's December poll for decades; the page stays one screen per year.
HALL_OF_FAME_POLLS = 300


@dataclass
class Board:
    """One counted list of a poll (the poll itself or one category) as a leaderboard shows it."""

    poll: Poll
    box: Poll
    results: dict | None  # None while the host keeps the standings hidden

    @property
    def label(self) -> str:
        return self.poll.title if self.box is self.poll else f"{self.poll.title}: {self.box.title}"


@dataclass
class Year:
    year: int
    winners: list[Board] = field(default_factory=list)


def _boards(poll: Poll) -> list[Board]:
    return [Board(poll, box, poll_results(box) if poll.results_public else None) for box in ballot_boxes(poll)]


def year_boards(year: int) -> list[Board]:
    """Every public poll of ``year`` (its categories one by one), final ones first."""
    polls = db.session.scalars(
        select(Poll).where(Poll.year == year, Poll.status != "draft", Poll.parent_id.is_(None))
        .order_by(Poll.created_at)
    )
    ordered = sorted(polls, key=lambda poll: poll.status != "closed")
    return [board for poll in ordered for board in _boards(poll)]


def hall_of_fame(before: int | None = None) -> list[Year]:
    """Past winners: the closed polls with public results, newest year first."""
    query = select(Poll).where(
        Poll.status == "closed", Poll.parent_id.is_(None), Poll.year.is_not(None),
        Poll.results_visibility != "hidden",
    ).order_by(Poll.year.desc(), Poll.created_at).limit(HALL_OF_FAME_POLLS)
    if before is not None:
        query = query.where(Poll.year < before)
    years: dict[int, Year] = {}
    for poll in db.session.scalars(query):
        for board in _boards(poll):
            if board.results and board.results["winners"]:
                years.setdefault(poll.year, Year(poll.year)).winners.append(board)
    return list(years.values())
