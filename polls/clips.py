"""Scene clips: the outward link that opens at the kiss, and the embeddable player for it.

Pure functions of the host's ``video_url`` and ``video_start`` (seconds). Only YouTube,
Vimeo and Dailymotion are embedded, each from its own player origin (``PLAYER_ORIGINS``,
the poll page's CSP ``frame-src``); any other site gets a plain link, so a host cannot
make the poll page frame an arbitrary site.
"""
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit

# Ordered as the CSP lists them; the player URLs below use exactly these.
PLAYER_ORIGINS = ("https://www.youtube-nocookie.com", "https://player.vimeo.com", "https://www.dailymotion.com")

_YOUTUBE_HOSTS = {"youtube.com", "www.youtube.com", "m.youtube.com", "music.youtube.com",
                  "youtube-nocookie.com", "www.youtube-nocookie.com"}
_YOUTUBE_ID = re.compile(r"[A-Za-z0-9_-]{11}")
_YOUTUBE_PATH = re.compile(r"/(?:shorts|embed|live|v)/([A-Za-z0-9_-]{11})/?")
_VIMEO_HOSTS = {"vimeo.com", "www.vimeo.com", "player.vimeo.com"}
# vimeo.com/76979871, /channels/staffpicks/76979871, /groups/name/videos/76979871,
# player.vimeo.com/video/76979871; an unlisted video adds its hash: /76979871/8272103f6e.
_VIMEO_PATH = re.compile(
    r"/(?:channels/[\w-]+/|groups/[\w-]+/videos/|video/)?(\d{1,12})(?:/([0-9a-f]{6,20}))?/?")
_VIMEO_HASH = re.compile(r"[0-9a-f]{6,20}")
_DAILYMOTION_HOSTS = {"dailymotion.com", "www.dailymotion.com"}
# /video/x8abc12, old links with a title: /video/x2b4z5f_the-elevator-kiss, embeds: /embed/video/x8abc12.
_DAILYMOTION_PATH = re.compile(r"/(?:embed/)?video/([A-Za-z0-9]{2,20})(?:_[^/]*)?/?")
_DAILYMOTION_ID = re.compile(r"[A-Za-z0-9]{2,20}")


@dataclass(frozen=True)
class Player:
    """An embeddable clip: the site's name (for "Watch on YouTube") and the iframe's src."""

    provider: str
    src: str


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


def player_for(video_url: str, start: int = 0) -> Player | None:
    """The embedded player for this clip, opening at `start` seconds, or None when the
    site is not one we embed (the page then links to the clip instead)."""
    try:
        parts = urlsplit((video_url or "").strip())
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = (parts.hostname or "").rstrip(".")
    start = max(int(start or 0), 0)
    if host in _YOUTUBE_HOSTS or host == "youtu.be":
        video_id = _youtube_id(host, parts)
        if video_id:
            query = ([("start", start)] if start else []) + [("autoplay", 1), ("rel", 0)]
            return Player("YouTube", f"{PLAYER_ORIGINS[0]}/embed/{video_id}?{urlencode(query)}")
    elif host in _VIMEO_HOSTS:
        match = _VIMEO_PATH.fullmatch(parts.path)
        if match:
            video_id, private_hash = match.groups()
            private_hash = private_hash or _first(parts, "h", _VIMEO_HASH)
            query = ([("h", private_hash)] if private_hash else []) + [("autoplay", 1)]
            return Player("Vimeo", f"{PLAYER_ORIGINS[1]}/video/{video_id}?{urlencode(query)}"
                                   + (f"#t={start}s" if start else ""))
    elif host in _DAILYMOTION_HOSTS or host == "dai.ly":
        video_id = _dailymotion_id(host, parts)
        if video_id:
            query = [("autoplay", 1)] + ([("start", start)] if start else [])
            return Player("Dailymotion", f"{PLAYER_ORIGINS[2]}/embed/video/{video_id}?{urlencode(query)}")
    return None


def _youtube_id(host: str, parts) -> str | None:
    if host == "youtu.be":
        path = parts.path.strip("/")
        return path if _YOUTUBE_ID.fullmatch(path) else None
    if parts.path.rstrip("/") == "/watch":
        return _first(parts, "v", _YOUTUBE_ID)
    match = _YOUTUBE_PATH.fullmatch(parts.path)
    return match.group(1) if match else None


def _dailymotion_id(host: str, parts) -> str | None:
    if host == "dai.ly":
        path = parts.path.strip("/")
        return path if _DAILYMOTION_ID.fullmatch(path) else None
    match = _DAILYMOTION_PATH.fullmatch(parts.path)
    return match.group(1) if match else None


def _first(parts, name: str, pattern: re.Pattern) -> str | None:
    """The query parameter `name` when it is exactly what `pattern` allows."""
    values = parse_qs(parts.query).get(name, [])
    return values[0] if values and pattern.fullmatch(values[0]) else None
