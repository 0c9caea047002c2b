"""Database models (SQLAlchemy 2 typed mappings)."""
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from polls.extensions import db

POLL_STATUSES = ("draft", "open", "closed")
RANKING_SEPARATOR = ","


def clip_at(url: str, start: int) -> str:
    """`url` with its start time: YouTube takes ?t=<seconds>, Vimeo #t=<seconds>s."""
    if not url or not start:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    video_path = parts.path.startswith(("/watch", "/embed/", "/shorts/", "/live/"))
    if host == "youtu.be" or (host.endswith("youtube.com") and video_path):
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "t"] + [("t", str(start))]
        return urlunsplit(parts._replace(query=urlencode(query)))
    if host.endswith("vimeo.com"):
        return urlunsplit(parts._replace(fragment=f"t={start}s"))
    return url


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Host(UserMixin, db.Model):
    """A blog owner who runs polls."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    polls: Mapped[list["Poll"]] = relationship(back_populates="host")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Poll(db.Model):
    """One ranked-ballot vote, e.g. "Best K-drama kiss of 2014"."""

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("host.id"), index=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int | None]
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # How the ballots are counted: a polls.tally method, the seats to fill (stv)
    # and RCTab rule overrides as a JSON object of Rules field names (see
    # polls.results.poll_rules). server_default lets existing rows upgrade in place.
    method: Mapped[str] = mapped_column(String(20), default="irv")
    seats: Mapped[int] = mapped_column(default=1, server_default="1")
    rules: Mapped[str] = mapped_column(Text, default="{}", server_default="{}")
    max_ranks: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    host: Mapped[Host] = relationship(back_populates="polls")
    candidates: Mapped[list["Candidate"]] = relationship(
        back_populates="poll", order_by="Candidate.position", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def rank_limit(self) -> int:
        """How many scenes a fan may rank."""
        count = len(self.candidates)
        return min(self.max_ranks, count) if self.max_ranks else count


class Candidate(db.Model):
    """A kiss scene on the ballot."""

    __table_args__ = (UniqueConstraint("poll_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    drama: Mapped[str] = mapped_column(String(200), default="")
    couple: Mapped[str] = mapped_column(String(200), default="")
    episode: Mapped[str] = mapped_column(String(40), default="")
    nickname: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    video_start: Mapped[int] = mapped_column(default=0)
    spoiler: Mapped[bool] = mapped_column(default=False)

    poll: Mapped[Poll] = relationship(back_populates="candidates")

    @property
    def clip_url(self) -> str:
        """The video link, opening at the kiss where the site understands a start time."""
        return clip_at(self.video_url, self.video_start)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "drama": self.drama,
            "couple": self.couple,
            "episode": self.episode,
            "nickname": self.nickname,
            "description": self.description,
            "video_url": self.video_url or None,
            "video_start": self.video_start,
            "clip_url": self.clip_url or None,
            "spoiler": self.spoiler,
        }


class Ballot(db.Model):
    """One fan's ranking. The unique constraint is what makes it one per browser."""

    __table_args__ = (
        UniqueConstraint("poll_id", "voter_hash", name="uq_ballot_poll_voter"),
        # Counting groups identical rankings; this index makes that an index scan.
        Index("ix_ballot_poll_ranking", "poll_id", "ranking"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"))
    voter_hash: Mapped[str] = mapped_column(String(64))
    # Candidate ids best first, joined by RANKING_SEPARATOR: a plain string so
    # that identical rankings can be counted with GROUP BY.
    ranking: Mapped[str] = mapped_column(Text)
    receipt: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
