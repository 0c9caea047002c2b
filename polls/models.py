"""Database models (SQLAlchemy 2 typed mappings)."""
import hashlib
from datetime import datetime, timezone

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import DDL, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, event
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from polls.clips import Player, clip_at, player_for
from polls.extensions import db

# The life of a poll: a draft only its host sees, fans suggesting scenes, voting ("open"), closed.
POLL_STATUSES = ("draft", "nominations", "open", "closed")
# Who sees the standings: everyone at any time, everyone once voting closes, only the host.
RESULTS_VISIBILITY = ("live", "closed", "hidden")
RANKING_SEPARATOR = ","


def rank_limit(max_ranks: int | None, candidates: int) -> int:
    """How many of ``candidates`` scenes a fan may rank under the host's ``max_ranks``."""
    return min(max_ranks, candidates) if max_ranks else candidates


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def voting_open(status: str, closes_at: datetime | None) -> bool:
    """A poll takes ballots while open and before its closing time, even before the
    scheduler has marked it closed."""
    return status == "open" and (closes_at is None or utcnow() < closes_at)


def results_public(visibility: str, status: str) -> bool:
    return visibility == "live" or (visibility == "closed" and status == "closed")


class Host(UserMixin, db.Model):
    """A blog owner who runs polls."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # An IANA zone name: the desk shows and reads scheduled times in it (they are stored in UTC).
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    polls: Mapped[list["Poll"]] = relationship(back_populates="host")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """The login session's id: "<id>:<fingerprint of the password hash>", so a new
        password (set_password salts afresh) ends every session made before it."""
        return f"{self.id}:{hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]}"


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
    # Closed list: only fans holding one of the host's single-use invite codes may vote.
    invite_only: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # Scheduled changes (naive UTC): voting opens at opens_at, closes at closes_at.
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    results_visibility: Mapped[str] = mapped_column(String(12), default="live", server_default="live")
    # A category ("Best first kiss") is a poll of its own under its parent, counted on its
    # own; the parent holds the poll's life and the fan fills every category in one visit.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id"), index=True)
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    host: Mapped[Host] = relationship(back_populates="polls")
    candidates: Mapped[list["Candidate"]] = relationship(
        back_populates="poll", order_by="Candidate.position", cascade="all, delete-orphan"
    )
    parent: Mapped["Poll | None"] = relationship(back_populates="categories", remote_side=[id])
    categories: Mapped[list["Poll"]] = relationship(back_populates="parent", order_by="Poll.position")

    @property
    def is_open(self) -> bool:
        """Taking ballots: open, and its closing time (if any) not yet passed."""
        return voting_open(self.status, self.closes_at)

    @property
    def takes_nominations(self) -> bool:
        return self.status == "nominations"

    @property
    def results_public(self) -> bool:
        """Whether fans may see the standings now (the host always may)."""
        return results_public(self.results_visibility, self.status)

    @property
    def rank_limit(self) -> int:
        """How many scenes a fan may rank."""
        return rank_limit(self.max_ranks, len(self.candidates))

    @property
    def candidate_ids(self) -> frozenset[int]:
        return frozenset(c.id for c in self.candidates)


class Candidate(db.Model):
    """A kiss scene on the ballot."""

    __table_args__ = (UniqueConstraint("poll_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    # The scene's title in Korean, shown to fans reading the Korean interface ("" = use ``title``).
    title_ko: Mapped[str] = mapped_column(String(200), default="", server_default="")
    drama: Mapped[str] = mapped_column(String(200), default="")
    couple: Mapped[str] = mapped_column(String(200), default="")
    episode: Mapped[str] = mapped_column(String(40), default="")
    nickname: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    video_start: Mapped[int] = mapped_column(default=0)
    # Shown as a link only: the server never fetches it (no SSRF) and pages load nothing from it.
    image_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    spoiler: Mapped[bool] = mapped_column(default=False)
    # A digest of the uploaded thumbnail ("" = none): pages link to it without loading the
    # image bytes, which live in SceneThumbnail, and a new upload gets a new URL.
    thumbnail_digest: Mapped[str] = mapped_column(String(16), default="", server_default="")

    poll: Mapped[Poll] = relationship(back_populates="candidates")
    thumbnail: Mapped["SceneThumbnail | None"] = relationship(
        back_populates="candidate", cascade="all, delete-orphan", passive_deletes=True)

    @property
    def clip_url(self) -> str:
        """The video link, opening at the kiss where the site understands a start time."""
        return clip_at(self.video_url, self.video_start)

    @property
    def clip_player(self) -> Player | None:
        """The embedded player opening at the kiss, or None where the page only links the clip."""
        return player_for(self.video_url, self.video_start)

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "title": self.title,
            "title_ko": self.title_ko or None,
            "drama": self.drama,
            "couple": self.couple,
            "episode": self.episode,
            "nickname": self.nickname,
            "description": self.description,
            "video_url": self.video_url or None,
            "video_start": self.video_start,
            "clip_url": self.clip_url or None,
            "image_url": self.image_url or None,
            "spoiler": self.spoiler,
        }


class SceneThumbnail(db.Model):
    """A scene's thumbnail, re-encoded by the server from the host's upload and served from
    this site, so the ballot loads nothing from any other."""

    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidate.id", ondelete="CASCADE"), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int]
    height: Mapped[int]

    candidate: Mapped[Candidate] = relationship(back_populates="thumbnail")


NOMINATION_STATUSES = ("pending", "accepted", "declined", "merged")


class Nomination(db.Model):
    """A fan's "you forgot this kiss!": a scene suggested while nominations are open.

    One per browser per poll (unique voter hash), as with ballots.  The host
    accepts it into the candidates, declines it, or merges it into another
    suggestion of the same scene (``merged_into``).
    """

    __table_args__ = (UniqueConstraint("poll_id", "voter_hash", name="uq_nomination_poll_voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), index=True)
    drama: Mapped[str] = mapped_column(String(200))
    episode: Mapped[str] = mapped_column(String(40), default="")
    scene: Mapped[str] = mapped_column(String(200), default="")
    why: Mapped[str] = mapped_column(Text, default="")
    voter_hash: Mapped[str] = mapped_column(String(64))
    address_hash: Mapped[str | None] = mapped_column(String(32))
    network_hash: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("nomination.id", ondelete="SET NULL"))
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    merged_into: Mapped["Nomination | None"] = relationship(remote_side=[id])
    candidate: Mapped[Candidate | None] = relationship()


class Ballot(db.Model):
    """One fan's ranking. The unique constraint is what makes it one per browser."""

    __table_args__ = (
        UniqueConstraint("poll_id", "voter_hash", name="uq_ballot_poll_voter"),
        # Counting groups identical rankings; this index makes that an index scan.
        Index("ix_ballot_poll_ranking", "poll_id", "ranking"),
        # The integrity report reads a poll's ballots by arrival time.
        Index("ix_ballot_poll_created", "poll_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"))
    voter_hash: Mapped[str] = mapped_column(String(64))
    # Candidate ids best first, joined by RANKING_SEPARATOR: a plain string so
    # that identical rankings share one key (RankingCount, GROUP BY).
    ranking: Mapped[str] = mapped_column(Text)
    receipt: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # For the host's integrity report: keyed hashes (never the address itself) of
    # the client address and of its network (/24 for IPv4, /48 for IPv6).
    address_hash: Mapped[str | None] = mapped_column(String(32))
    network_hash: Mapped[str | None] = mapped_column(String(32))
    # ... and of the page session (the CSRF secret): one page's token reused for many ballots.
    session_hash: Mapped[str | None] = mapped_column(String(32))
    # Sent sooner after the page was rendered than a person could rank (or with
    # no rendered page at all): counted, but shown to the host.
    too_fast: Mapped[bool] = mapped_column(default=False, server_default=sa_false())
    # Set while the host holds the ballot out of the count; kept, never deleted.
    quarantine_id: Mapped[int | None] = mapped_column(ForeignKey("quarantine.id"), index=True)

    quarantine: Mapped["Quarantine | None"] = relationship()

    @property
    def counted(self) -> bool:
        return self.quarantine_id is None


class Quarantine(db.Model):
    """Ballots the host holds out of the count, with the reason fans see on the results."""

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), index=True)
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Released quarantines keep their row (and their audit entries); their ballots count again.
    released_at: Mapped[datetime | None]


class InviteCode(db.Model):
    """A single-use code for a closed-list poll, handed out by the host."""

    __table_args__ = (UniqueConstraint("poll_id", "code", name="uq_invite_code_poll_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class BotHit(db.Model):
    """A submission refused as a bot's (the honeypot field was filled), for the integrity report."""

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    address_hash: Mapped[str | None] = mapped_column(String(32))
    network_hash: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(db.Model):
    """Who did what to a poll's ballot box, and when (quarantines, releases, invite codes)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), index=True)
    host_id: Mapped[int | None] = mapped_column(ForeignKey("host.id"))
    action: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    host: Mapped[Host | None] = relationship()


class RankingCount(db.Model):
    """How many of a poll's ballots read each ranking, kept by the database itself.

    Triggers on ``ballot`` (``RANKING_COUNT_TRIGGERS``) add one on every insert,
    take one off on every delete and move one on an update of the poll or the
    ranking, in the same transaction, whichever code writes the ballot (the
    API, the form, import-ballots, a console).  Counting a poll then reads one
    row per distinct ranking instead of grouping every ballot.  Quarantined
    ballots are left out, and come back when released.
    """

    __tablename__ = "ranking_count"
    # Rows stored in primary-key order: reading a poll's counts is one range scan.
    __table_args__ = {"sqlite_with_rowid": False}

    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id"), primary_key=True)
    ranking: Mapped[str] = mapped_column(Text, primary_key=True)
    ballots: Mapped[int]


def ranking_count_triggers(dialect: str, *, quarantine: bool = True) -> list[str]:
    """The statements that create the triggers keeping ``ranking_count``, for one dialect.

    Only ballots outside quarantine are counted; moving a ballot in or out of
    quarantine is an update of quarantine_id, so it moves the count with it.
    ``quarantine=False`` gives the triggers as they were before quarantine
    existed, for the migrations that run before and after it.
    """
    if dialect == "sqlite":
        old_counted = " AND OLD.quarantine_id IS NULL" if quarantine else ""
        new_counted = " AND NEW.quarantine_id IS NULL" if quarantine else ""
        watched = "poll_id, ranking, quarantine_id" if quarantine else "poll_id, ranking"
        up = ("INSERT INTO ranking_count (poll_id, ranking, ballots) "
              f"SELECT NEW.poll_id, NEW.ranking, 1 WHERE true{new_counted} "
              "ON CONFLICT (poll_id, ranking) DO UPDATE SET ballots = ballots + 1;")
        down = ("UPDATE ranking_count SET ballots = ballots - 1 "
                f"WHERE poll_id = OLD.poll_id AND ranking = OLD.ranking{old_counted};")
        return [
            f"CREATE TRIGGER ballot_counted AFTER INSERT ON ballot BEGIN {up} END",
            f"CREATE TRIGGER ballot_uncounted AFTER DELETE ON ballot BEGIN {down} END",
            f"CREATE TRIGGER ballot_recounted AFTER UPDATE OF {watched} ON ballot BEGIN {down} {up} END",
        ]
    if dialect == "postgresql":
        # Statement-level, over the transition tables: quarantining 100,000 ballots is one
        # grouped update per distinct ranking, not 100,000 updates of the same few rows.
        counted = " WHERE quarantine_id IS NULL" if quarantine else ""
        return [
            f"""CREATE FUNCTION ballot_ranking_count() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP IN ('DELETE', 'UPDATE') THEN
                    UPDATE ranking_count SET ballots = ranking_count.ballots - gone.n
                    FROM (SELECT poll_id, ranking, count(*) AS n FROM old_rows{counted}
                          GROUP BY poll_id, ranking) AS gone
                    WHERE ranking_count.poll_id = gone.poll_id AND ranking_count.ranking = gone.ranking;
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    INSERT INTO ranking_count (poll_id, ranking, ballots)
                    SELECT poll_id, ranking, count(*) FROM new_rows{counted} GROUP BY poll_id, ranking
                    ON CONFLICT (poll_id, ranking) DO UPDATE SET ballots = ranking_count.ballots + EXCLUDED.ballots;
                END IF;
                RETURN NULL;
            END $$""",
            "CREATE TRIGGER ballot_counted AFTER INSERT ON ballot REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION ballot_ranking_count()",
            "CREATE TRIGGER ballot_uncounted AFTER DELETE ON ballot REFERENCING OLD TABLE AS old_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION ballot_ranking_count()",
            # Transition tables allow no column list, so every UPDATE of ballot passes through.
            "CREATE TRIGGER ballot_recounted AFTER UPDATE ON ballot "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION ballot_ranking_count()",
        ]
    raise ValueError(f"no ranking-count triggers for {dialect!r}")


RANKING_COUNT_TRIGGERS = {dialect: ranking_count_triggers(dialect) for dialect in ("sqlite", "postgresql")}
RANKING_COUNT_DROPS = {
    "sqlite": [f"DROP TRIGGER IF EXISTS {name}" for name in ("ballot_counted", "ballot_uncounted", "ballot_recounted")],
    # ballot_ranking_count was the row-level trigger of revision c3f1e2a4b5d6 as first released.
    "postgresql": [f"DROP TRIGGER IF EXISTS {name} ON ballot" for name in (
        "ballot_ranking_count", "ballot_counted", "ballot_uncounted", "ballot_recounted")]
    + ["DROP FUNCTION IF EXISTS ballot_ranking_count()"],
}



def _create_triggers_with_ballot_table() -> None:
    """``db.create_all`` (the tests) makes the triggers with the table, as the migration does."""
    for dialect, statements in RANKING_COUNT_TRIGGERS.items():
        for statement in statements:
            event.listen(Ballot.__table__, "after_create", DDL(statement).execute_if(dialect=dialect))


_create_triggers_with_ballot_table()
