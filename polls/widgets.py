"""Result widgets: their options, and the per-process copies that make a view cheap.

Options come from the widget URL's query string (``widget_options``); only the
ones that differ from the defaults are kept (``WidgetOptions.query``), so two
spellings of one widget share a cache entry and a URL.

Caching.  A rendered widget (HTML page or SVG) is kept in this process for
``WIDGET_FRESH_SECONDS`` (default 2) and served with no database or Redis call
at all.  After that, one Redis GET of the poll's results version (bumped by
every ballot and every edit of the poll, see ``polls.results``) says whether the
copy is still current; it is rendered again when the version moved, when Redis
cannot say, and at the latest after ``WIDGET_MAX_AGE`` seconds (default 60;
e.g. a scheduled opening changes nothing in Redis).  A new ballot therefore
shows within about two seconds on every process.  The results themselves come
from ``poll_results``, which Redis caches across processes.

While a copy is fresh, ``WidgetFastPath`` (WSGI middleware inside ProxyFix)
answers repeat requests for it (same path, query, host, scheme and
Accept-Encoding) with the very bytes and headers Flask sent the first time,
without entering Flask at all: a cached widget costs little more than the
socket.  Everything else, and every request after the fresh window, goes
through Flask as usual.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace

from werkzeug.http import parse_etags

from polls.i18n import DEFAULT_LANGUAGE, LANGUAGES

VIEWS = ("board", "bars", "flow", "badge")
THEMES = ("auto", "light", "dark")
MAX_TOP = 50
MAX_ROUND = 999
REFRESH_MIN, REFRESH_MAX = 5, 3600
DEFAULT_ACCENT = "#c2185b"  # the light theme's own (polls.charts, static/css/widget.css)
_HEX_COLOUR = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")
_WHOLE = re.compile(r"-?[0-9]{1,9}")
_TRUE, _FALSE = ("1", "show", "yes", "true", "on"), ("0", "hide", "no", "false", "off")


class InvalidOption(ValueError):
    """A widget option the host can fix; the message says how."""


@dataclass(frozen=True)
class WidgetOptions:
    """What a widget shows and how; every field has a query parameter of its name."""

    view: str = "board"  # board (leaderboard), bars (one round), flow (transfers), badge (leader)
    top: int = 5  # rows of the leaderboard
    round: int | None = None  # bars: which round (None: the last)
    theme: str = "auto"  # auto follows the reader's system setting (HTML only; SVG alone: light)
    accent: str | None = None  # "#rrggbb"
    lang: str = DEFAULT_LANGUAGE
    inactive: bool = True  # show inactive (exhausted) ballots in bars and flow
    refresh: int = 30  # seconds between the HTML widget's revalidations; 0 = never

    def query(self) -> dict[str, str]:
        """The options that differ from the defaults, as query parameters."""
        default = asdict(WidgetOptions())
        out = {}
        for name, value in asdict(self).items():
            if value != default[name]:
                out[name] = ("show" if value else "hide") if isinstance(value, bool) else str(value)
        if "accent" in out:
            out["accent"] = out["accent"].lstrip("#")  # "#" would need escaping in every URL
        return out

    @property
    def svg_theme(self) -> str:
        """An SVG shown alone cannot follow the reader's setting: auto is light there."""
        return "dark" if self.theme == "dark" else "light"


def _choice(args: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = args.get(name, default).strip().lower() or default
    if value not in choices:
        raise InvalidOption(f"{name} must be one of {', '.join(choices)} (got {value[:40]!r})")
    return value


def _whole(args: Mapping[str, str], name: str, low: int, high: int, default: int | None,
           clamp: bool = False) -> int | None:
    text = args.get(name, "").strip()
    if not text:
        return default
    number = int(text) if _WHOLE.fullmatch(text) else None
    if number is not None and clamp:
        return max(low, min(high, number))
    if number is None or not low <= number <= high:
        raise InvalidOption(f"{name} must be a whole number from {low} to {high} (got {text[:40]!r})")
    return number


def _accent(args: Mapping[str, str]) -> str | None:
    text = args.get("accent", "").strip()
    if not text:
        return None
    match = _HEX_COLOUR.fullmatch(text)
    if match is None:
        raise InvalidOption(f"accent must be a hex colour such as c2185b (got {text[:40]!r})")
    digits = match.group(1).lower()
    return "#" + (digits if len(digits) == 6 else "".join(d * 2 for d in digits))


def _flag(args: Mapping[str, str], name: str, default: bool) -> bool:
    text = args.get(name, "").strip().lower()
    if not text:
        return default
    if text not in _TRUE + _FALSE:
        raise InvalidOption(f"{name} must be show or hide (got {text[:40]!r})")
    return text in _TRUE


def widget_options(args: Mapping[str, str]) -> WidgetOptions:
    """Options from a query string; raises InvalidOption with a message for the host."""
    refresh = _whole(args, "refresh", 0, REFRESH_MAX, WidgetOptions.refresh)
    if refresh and refresh < REFRESH_MIN:
        raise InvalidOption(f"refresh must be 0 (off) or {REFRESH_MIN} to {REFRESH_MAX} seconds")
    return WidgetOptions(
        view=_choice(args, "view", VIEWS, "board"),
        top=_whole(args, "top", 1, MAX_TOP, WidgetOptions.top, clamp=True),  # as the first widgets did
        round=_whole(args, "round", 1, MAX_ROUND, None),
        theme=_choice(args, "theme", THEMES, "auto"),
        accent=_accent(args),
        lang=_choice(args, "lang", LANGUAGES, DEFAULT_LANGUAGE),
        inactive=_flag(args, "inactive", True),
        refresh=refresh,
    )


def with_round(options: WidgetOptions, number: int) -> WidgetOptions:
    """The same widget showing another round (for the round links)."""
    return replace(options, view="bars", round=number)


def csp_hash(text: str) -> str:
    """The CSP source that allows exactly this inline <style> text."""
    digest = hashlib.sha256(text.encode()).digest()
    return "'sha256-" + base64.b64encode(digest).decode() + "'"


# -- per-process copies ------------------------------------------------------------


@dataclass
class RenderedWidget:
    """One rendered widget and what it was rendered from."""

    body: bytes
    mimetype: str
    poll_id: int
    version: str | None  # the poll's results version read before rendering (None: unknown)
    style_sources: tuple[str, ...] = ()  # CSP hashes of its inline <style>, if any
    etag: str = ""
    gzipped: bytes = b""  # the body compressed once, for the readers whose browsers take gzip
    rendered_at: float = field(default_factory=time.monotonic)
    checked_at: float = 0.0

    def __post_init__(self) -> None:
        self.etag = hashlib.blake2b(self.body, digest_size=12).hexdigest()
        self.gzipped = gzip.compress(self.body, compresslevel=9, mtime=0)
        self.checked_at = self.rendered_at


class _Bounded:
    """At most ``size`` values by key, shared by threads; the oldest put (or, with
    ``touch``, the least recently read) goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, *, touch: bool):
        if not touch:
            return self._values.get(key)  # one dict lookup: the fast path's hot line
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key, value):
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value


class WidgetCache:
    """Rendered widgets of this process, at most ``size`` (least recently used go first)."""

    def __init__(self, size: int = 512) -> None:
        self._entries = _Bounded(size)

    def get(self, key: tuple, *, fresh_seconds: float, max_age: float,
            current_version: Callable[[int], str | None]) -> RenderedWidget | None:
        """The kept copy if it is still current, else None (render it again)."""
        entry = self._entries.get(key, touch=True)
        if entry is None:
            return None
        now = time.monotonic()
        if now - entry.checked_at < fresh_seconds:
            return entry
        if now - entry.rendered_at >= max_age or entry.version is None:
            return None
        if current_version(entry.poll_id) != entry.version:
            return None
        entry.checked_at = now
        return entry

    def put(self, key: tuple, entry: RenderedWidget) -> RenderedWidget:
        return self._entries.put(key, entry)


# -- the fast path -----------------------------------------------------------------

# What the widget view leaves in the WSGI environ for the fast path: the RenderedWidget
# it served and the body it sent (plain or gzip).
ENVIRON_ENTRY = "kisspoll.widget"
ENVIRON_BODY = "kisspoll.widget_body"
_NOT_IN_304 = ("content-length", "content-type", "content-encoding")


@dataclass
class _Answer:
    entry: RenderedWidget
    status: str
    headers: list[tuple[str, str]]
    body: bytes
    etag: str
    headers_304: list[tuple[str, str]]


class WidgetFastPath:
    """Answers repeat requests for a fresh rendered widget without entering Flask."""

    def __init__(self, wsgi_app, config: Mapping, prefix: str = "/embed/", size: int = 1024) -> None:
        self.wsgi_app = wsgi_app
        self.config = config  # read per request: WIDGET_FRESH_SECONDS may change at run time
        self.prefix = prefix
        self._answers = _Bounded(size)

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD") or not environ.get("PATH_INFO", "").startswith(self.prefix):
            return self.wsgi_app(environ, start_response)
        # Everything the response may depend on; the host and scheme because a page can
        # carry absolute URLs, Accept-Encoding because gzip is chosen by it.
        key = (environ["PATH_INFO"], environ.get("QUERY_STRING", ""), environ.get("HTTP_HOST", ""),
               environ.get("wsgi.url_scheme", ""), environ.get("HTTP_ACCEPT_ENCODING", ""))
        answer = self._answers.get(key, touch=False)
        if answer is not None and time.monotonic() - answer.entry.checked_at < self.config["WIDGET_FRESH_SECONDS"]:
            if_none_match = environ.get("HTTP_IF_NONE_MATCH")
            if if_none_match and parse_etags(if_none_match).contains_weak(answer.etag):  # as Flask compares
                start_response("304 Not Modified", answer.headers_304)
                return []
            start_response(answer.status, answer.headers)
            return [] if method == "HEAD" else [answer.body]
        return self._through_flask(key, environ, start_response)

    def _through_flask(self, key: tuple, environ: dict, start_response) -> Iterable[bytes]:
        sent: dict = {}

        def remember(status, headers, exc_info=None):
            sent["status"], sent["headers"] = status, headers
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, remember)
        entry, body = environ.get(ENVIRON_ENTRY), environ.get(ENVIRON_BODY)
        status, headers = sent.get("status", ""), sent.get("headers", [])
        if entry is not None and body is not None and status.startswith("200"):
            names = {name.lower() for name, _ in headers}
            etag = next((value for name, value in headers if name.lower() == "etag"), "")
            if "set-cookie" not in names and etag:
                self._answers.put(key, _Answer(
                    entry, status, list(headers), body, etag.strip('"'),
                    [(n, v) for n, v in headers if n.lower() not in _NOT_IN_304]))
        return result

