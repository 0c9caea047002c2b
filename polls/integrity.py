"""The host's integrity report on a poll's ballot box, quarantine of bursts, the audit log.

A burst is a run of consecutive minutes in each of which at least a
threshold of still-counted ballots share one key: the client address, its
network (/24 or /48), the exact ranking, or having been sent too fast after
the page was rendered.  Quarantining a burst moves those ballots out of the
count (the ranking-count triggers follow ``Ballot.quarantine_id``) without
deleting anything; releasing it moves them back.  Every quarantine, release
and invite-code action is written to ``AuditEntry``.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from polls.extensions import db
from polls.models import AuditEntry, Ballot, BotHit, Host, InviteCode, Poll, Quarantine, utcnow
from polls.queries import quarantines_with_counts
from polls.results import ballots_changed

MINUTE_FORMAT = "%Y-%m-%d %H:%M"
# kind -> (what the ballots share, the threshold setting, how the reason reads)
BURST_KINDS = {
    "address": (Ballot.address_hash, "BURST_FROM_ADDRESS", "from one address"),
    "network": (Ballot.network_hash, "BURST_FROM_NETWORK", "from one network"),
    "session": (Ballot.session_hash, "BURST_FROM_ADDRESS", "from one page session"),
    "ranking": (Ballot.ranking, "BURST_SAME_RANKING", "with the same ranking"),
    "too_fast": (Ballot.too_fast, "BURST_TOO_FAST", "sent faster than a person ranks"),
}
TIMELINE_MINUTES = 60
MAX_INVITES_AT_ONCE = 5000


@dataclass(frozen=True)
class Burst:
    kind: str
    key: str
    start: str  # first minute, MINUTE_FORMAT (UTC)
    end: str    # last minute, inclusive
    ballots: int

    @property
    def description(self) -> str:
        return f"{self.ballots} ballots {BURST_KINDS[self.kind][2]} {_window(parse_minute(self.start), parse_minute(self.end))}"


def _window(start: datetime, end: datetime) -> str:
    """'between 14:02 and 14:05 UTC on 2026-12-02' (minutes inclusive)."""
    if start == end:
        return f"at {start:%H:%M} UTC on {start:%Y-%m-%d}"
    if start.date() == end.date():
        return f"between {start:%H:%M} and {end:%H:%M} UTC on {start:%Y-%m-%d}"
    return f"between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC"


def _minute(column):
    """The minute of a timestamp as 'YYYY-MM-DD HH:MM' text, in the database's own dialect."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM-DD HH24:MI")
    return func.strftime(MINUTE_FORMAT, column)


def parse_minute(text: str) -> datetime:
    """A MINUTE_FORMAT string as a datetime; raises ValueError."""
    return datetime.strptime(text, MINUTE_FORMAT)


def _key_text(kind: str, value) -> str:
    return "1" if kind == "too_fast" else str(value)


def _key_filter(kind: str, key: str):
    column = BURST_KINDS[kind][0]
    return column.is_(True) if kind == "too_fast" else column == key


def find_bursts(poll: Poll, kind: str, since: datetime, until: datetime) -> list[Burst]:
    """Counted ballots of ``poll`` that arrived in [since, until) in bursts of ``kind``, busiest first."""
    column, setting, _ = BURST_KINDS[kind]
    threshold = max(1, current_app.config[setting])
    minute = _minute(Ballot.created_at)
    rows = db.session.execute(
        select(column, minute, func.count())
        .where(Ballot.poll_id == poll.id, Ballot.quarantine_id.is_(None),
               Ballot.created_at >= since, Ballot.created_at < until,
               Ballot.too_fast.is_(True) if kind == "too_fast" else column.is_not(None))
        .group_by(column, minute)
        .having(func.count() >= threshold)
        .order_by(column, minute)
    ).all()
    bursts: list[Burst] = []
    for value, at, count in rows:
        key = _key_text(kind, value)
        last = bursts[-1] if bursts else None
        if last and last.key == key and parse_minute(at) - parse_minute(last.end) <= timedelta(minutes=1):
            bursts[-1] = Burst(kind, key, last.start, at, last.ballots + count)
        else:
            bursts.append(Burst(kind, key, at, at, count))
    return sorted(bursts, key=lambda b: (-b.ballots, b.start))


def ballots_per_minute(poll: Poll, until: datetime, minutes: int = TIMELINE_MINUTES) -> list[tuple[str, int]]:
    """(minute, ballots) for the last ``minutes`` minutes up to the latest ballot before ``until``, gaps as 0."""
    latest = db.session.scalar(
        select(func.max(Ballot.created_at)).where(Ballot.poll_id == poll.id, Ballot.created_at < until)
    )
    if latest is None:
        return []
    end = latest.replace(second=0, microsecond=0)
    start = end - timedelta(minutes=minutes - 1)
    minute = _minute(Ballot.created_at)
    counts = dict(db.session.execute(
        select(minute, func.count())
        .where(Ballot.poll_id == poll.id, Ballot.created_at >= start, Ballot.created_at < until)
        .group_by(minute)
    ).all())
    slots = (start + timedelta(minutes=i) for i in range(minutes))
    return [(slot.strftime(MINUTE_FORMAT), counts.get(slot.strftime(MINUTE_FORMAT), 0)) for slot in slots]


def _count(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(Ballot).where(*where)) or 0


def latest_ballot_day(poll: Poll) -> date | None:
    latest = db.session.scalar(select(func.max(Ballot.created_at)).where(Ballot.poll_id == poll.id))
    return latest.date() if latest else None


def integrity_report(poll: Poll, day: date | None = None) -> dict:
    """Everything the host's integrity page shows; bursts and the timeline for one UTC day
    (by default the day of the latest ballot), so the page costs one day's ballots, not all."""
    day = day or latest_ballot_day(poll) or utcnow().date()
    since = datetime.combine(day, time())
    until = since + timedelta(days=1)
    timeline = ballots_per_minute(poll, until)
    return {
        "day": day,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1),
        "ballots": _count(Ballot.poll_id == poll.id),
        "quarantined": _count(Ballot.poll_id == poll.id, Ballot.quarantine_id.is_not(None)),
        "too_fast": _count(Ballot.poll_id == poll.id, Ballot.too_fast.is_(True)),
        "honeypot_hits": db.session.scalar(
            select(func.count()).select_from(BotHit).where(BotHit.poll_id == poll.id)
        ) or 0,
        "timeline": timeline,
        "peak_minute": max((count for _, count in timeline), default=0),
        "bursts": {kind: find_bursts(poll, kind, since, until) for kind in BURST_KINDS},
        "thresholds": {kind: current_app.config[setting] for kind, (_, setting, _) in BURST_KINDS.items()},
        "quarantines": quarantines_with_counts(poll),
        "audit": db.session.scalars(
            select(AuditEntry).where(AuditEntry.poll_id == poll.id).order_by(AuditEntry.id.desc()).limit(200)
        ).all(),
    }


def record(poll: Poll, host: Host | None, action: str, detail: str) -> None:
    """Add an audit-log entry (committed with the caller's change)."""
    db.session.add(AuditEntry(poll_id=poll.id, host_id=host.id if host else None, action=action, detail=detail))


def quarantine_burst(poll: Poll, host: Host, kind: str, key: str, start: datetime, end: datetime) -> tuple[Quarantine | None, int]:
    """Hold the poll's counted ballots of one burst out of the count; returns it and how many
    (None and 0 when none of them is still counted: then nothing is written)."""
    quarantine = Quarantine(poll_id=poll.id, reason=f"{BURST_KINDS[kind][2]} {_window(start, end)}")
    db.session.add(quarantine)
    db.session.flush()
    held = db.session.execute(
        update(Ballot)
        .where(Ballot.poll_id == poll.id, Ballot.quarantine_id.is_(None), _key_filter(kind, key),
               Ballot.created_at >= start, Ballot.created_at < end + timedelta(minutes=1))
        .values(quarantine_id=quarantine.id)
    ).rowcount
    if not held:
        db.session.rollback()
        return None, 0
    record(poll, host, "quarantine", f"#{quarantine.id}: {held} ballots {quarantine.reason} ({kind} {key[:12]})")
    db.session.commit()
    ballots_changed(poll.id)
    return quarantine, held


def release_quarantine(poll: Poll, host: Host, quarantine: Quarantine) -> int | None:
    """Count a quarantine's ballots again; returns how many came back (None if already released)."""
    # Marking it released first, only if nobody has: two releases at once cannot both go on.
    claimed = db.session.execute(
        update(Quarantine).where(Quarantine.id == quarantine.id, Quarantine.released_at.is_(None))
        .values(released_at=utcnow())
    ).rowcount
    if not claimed:
        db.session.rollback()
        return None
    released = db.session.execute(
        update(Ballot).where(Ballot.poll_id == poll.id, Ballot.quarantine_id == quarantine.id)
        .values(quarantine_id=None)
    ).rowcount
    record(poll, host, "release", f"#{quarantine.id}: {released} ballots counted again ({quarantine.reason})")
    db.session.commit()
    ballots_changed(poll.id)
    return released


def new_invite_code() -> str:
    """Ten characters that read unambiguously aloud and on paper (no 0/O, 1/I/L)."""
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(10))


def add_invite_codes(poll: Poll, host: Host, how_many: int) -> list[str]:
    """Make ``how_many`` new single-use codes for the poll (logged)."""
    taken = set(db.session.scalars(select(InviteCode.code).where(InviteCode.poll_id == poll.id)))
    codes: list[str] = []
    while len(codes) < how_many:
        code = new_invite_code()
        if code not in taken:
            taken.add(code)
            codes.append(code)
    db.session.add_all(InviteCode(poll_id=poll.id, code=code) for code in codes)
    record(poll, host, "invites", f"{how_many} invite codes made")
    db.session.commit()
    return codes


def invite_codes(poll: Poll) -> list[InviteCode]:
    return db.session.scalars(
        select(InviteCode).where(InviteCode.poll_id == poll.id).order_by(InviteCode.id)
    ).all()


def invite_counts(poll: Poll) -> tuple[int, int]:
    """(codes made, codes used)."""
    made, used = db.session.execute(
        select(func.count(), func.count(InviteCode.used_at)).where(InviteCode.poll_id == poll.id)
    ).one()
    return made, used
