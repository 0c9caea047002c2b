"""Hosts' time zones: times are stored as naive UTC and shown or typed in the host's zone."""
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DEFAULT_ZONE = "UTC"


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted (for the account page's select)."""
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == DEFAULT_ZONE))


def zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC for an unknown or empty name."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def is_zone(name: str) -> bool:
    return name in zone_names()


def to_local(moment: datetime | None, name: str | None) -> datetime | None:
    """Naive UTC (as stored) -> aware local time in zone ``name``."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc).astimezone(zone(name))


def to_utc(local: datetime | None, name: str | None) -> datetime | None:
    """A naive wall-clock time in zone ``name`` (as typed) -> naive UTC (as stored).

    A time skipped or repeated by a daylight-saving change is read as the
    earlier of its meanings (``fold=0``), the same every time.
    """
    if local is None:
        return None
    return local.replace(tzinfo=zone(name), fold=0).astimezone(timezone.utc).replace(tzinfo=None)


def format_local(moment: datetime | None, name: str | None = DEFAULT_ZONE) -> str:
    """'2026-12-31 23:59 KST' for a stored (naive UTC) time shown in zone ``name``."""
    local = to_local(moment, name)
    return local.strftime("%Y-%m-%d %H:%M %Z") if local else ""
