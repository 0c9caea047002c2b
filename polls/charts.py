"""Geometry and text of the result charts drawn by ``templates/embed/svg/*.svg``.

Pure Python (no Flask, no database): each ``*_chart`` function takes a poll's
results dict (``polls.results.compute_results``) and returns a frozen
dataclass with the chart's size, every shape's coordinates and every label
already fitted to its space, so the templates only draw and the geometry can
be tested on its own.

Every chart is ``VIEWBOX_WIDTH`` user units wide and as tall as it needs; the
SVG scales to its container (``width="100%"`` and a viewBox), and at 300 px on
screen one unit is about one pixel, so labels use 12 units and up (11 for
secondary text).  Text is fitted with an estimate of its width (see
``text_width``): the templates' fonts are the system's, so the estimate errs
on the wide side and cut labels end with "…", the full text kept in ``full``
for a tooltip.

Counts in the results are strings ("12", "7.2501" for STV fractions); they are
read as Decimal, drawn as floats and shown by ``format_number``.  Bad or
missing data never raises: a candidate missing from a round counts as not in
that round, unreadable numbers count as 0.

The templates get ``chart`` (one of ``BoardChart``, ``BarsChart``, ``FlowChart``,
``BadgeChart``), ``palette`` (``palette_for``) and ``title``, which they print
as ``chart.plain(title)`` (one line of XML-safe text; Jinja escapes it), and
``standalone`` (missing: true): false inside the widget page, whose stylesheet
colours the kp-* classes and whose font the text inherits, so the attributes
that say the same are left out there.

The SVG must weigh little: the widget page, with its stylesheet and script,
stays under 15 KB, and the flow of a long count is most of it.  So coordinates
have one decimal at most (``_r``), paths are written short (``_Path``), and the
flow draws its blocks and bands as one path per colour in grid units
(``_Grid``): about 10 KB for ten rounds of eleven scenes, where one element per
shape with its own attributes and tooltip weighed 50.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

VIEWBOX_WIDTH = 320
MARGIN = 8
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans KR', sans-serif"
ELLIPSIS = "…"
# The flow's name for the inactive ballots' block: ``plain`` drops NUL, so no scene can
# have this name (and XML cannot carry it, so a template that printed it would fail loudly).
INACTIVE = "\x00inactive"

# Transfer keys that are not candidates (RCTab's report).
EXHAUSTED_KEYS = ("exhausted",)
IGNORED_TRANSFER_KEYS = ("residual surplus",)  # rounding remainders of STV surpluses: drawn nowhere


# -- colours ------------------------------------------------------------------------


@dataclass(frozen=True)
class Palette:
    """Colours of one theme, as presentation attributes (CSS may override them by class)."""

    background: str
    text: str
    muted: str
    accent: str
    line: str
    inactive: str
    series: tuple[str, ...]


# The same as static/css/widget.css, so an SVG shown alone matches the widget page.
_THEMES = {
    "light": dict(background="#ffffff", text="#1f1a1d", muted="#6b5d64", accent="#c2185b",
                  line="#ecd5de", inactive="#8a8a8a"),
    "dark": dict(background="#17121a", text="#f3eaf0", muted="#b9a9b3", accent="#f06292",
                 line="#3b2d40", inactive="#8d8390"),
}
# Distinct hues whose contrast is at least 3:1 against both theme backgrounds (white
# and #17121a), so a Sankey band reads the same in light and dark; no grey (that is
# the inactive colour).
SERIES = ("#4e79a7", "#c77b30", "#59a14f", "#e15759", "#8c6bb1", "#2a9d8f",
          "#9c755f", "#d0609f", "#7a9a01", "#1f9bb4", "#a05195", "#a8891a")
_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def palette_for(theme: str, accent: str | None) -> Palette:
    """The palette of ``theme`` ("light" or "dark"; anything else is light), with
    ``accent`` ("#rrggbb") instead of the theme's accent when given."""
    colours = dict(_THEMES.get(theme, _THEMES["light"]))
    if accent and _HEX.fullmatch(accent):  # validated upstream; never let anything else into an attribute
        colours["accent"] = accent.lower()
    return Palette(series=SERIES, **colours)


# -- text -----------------------------------------------------------------------------

_DROPPED = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # control characters: not allowed in XML 1.0
    "\u202a-\u202e\u2066-\u2069"  # bidi embeddings/overrides/isolates: could reorder the text around a name
    "\ud800-\udfff\ufffe\uffff]"  # lone surrogates, non-characters
)
_SPACES = re.compile(r"\s+")


def plain(text: Any) -> str:
    """``text`` as one line of XML-safe text ("" for None)."""
    if text is None:
        return ""
    return _SPACES.sub(" ", _DROPPED.sub("", str(text))).strip()


# Advance widths (ems) of printable ASCII in DejaVu Sans, the widest common fallback for
# system-ui (what Linux readers and headless Chromium get): fitting to it keeps labels
# inside their room with Segoe UI, Roboto or San Francisco too, which are narrower.
_ASCII_WIDTHS = dict(zip(
    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~",
    (0.32, 0.4, 0.46, 0.84, 0.64, 0.95, 0.78, 0.27, 0.39, 0.39, 0.5, 0.84, 0.32, 0.36, 0.32, 0.34,
     0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.64, 0.34, 0.34, 0.84, 0.84, 0.84, 0.53,
     1.0, 0.68, 0.69, 0.7, 0.77, 0.63, 0.58, 0.77, 0.75, 0.29, 0.29, 0.66, 0.56, 0.86, 0.75, 0.79,
     0.6, 0.79, 0.69, 0.63, 0.61, 0.73, 0.68, 0.99, 0.69, 0.61, 0.69, 0.39, 0.34, 0.39, 0.84, 0.5,
     0.5, 0.61, 0.63, 0.55, 0.63, 0.62, 0.35, 0.63, 0.63, 0.28, 0.28, 0.58, 0.28, 0.97, 0.63, 0.61,
     0.63, 0.63, 0.41, 0.52, 0.39, 0.63, 0.59, 0.82, 0.59, 0.59, 0.52, 0.64, 0.34, 0.64, 0.84)))
BOLD = 1.12  # DejaVu Sans Bold is about this much wider


def _char_width(ch: str) -> float:
    """Estimated advance of one character, in ems."""
    width = _ASCII_WIDTHS.get(ch)
    if width is not None:
        return width
    if ch in "\u200d\ufe0e\ufe0f" or "\U0001f3fb" <= ch <= "\U0001f3ff":
        return 0.0  # joiners, variation selectors, skin tones: part of the previous glyph
    category = unicodedata.category(ch)
    if category in ("Mn", "Me", "Cf"):
        return 0.0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        # Hangul, CJK, most emoji: about twice a Latin letter; emoji a little wider still.
        return 1.2 if category == "So" or ch >= "\U0001f000" else 1.0
    if ch == ELLIPSIS:
        return 1.0
    return 0.68  # accented Latin, Arabic, Hebrew, Cyrillic...: on the wide side of Latin


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Estimated width of ``text`` at font size ``size`` (user units)."""
    width = sum(_char_width(ch) for ch in text) * size
    return width * (BOLD if bold else 1.0)


def _clusters(text: str) -> list[str]:
    """``text`` split where it may be cut: never inside an emoji sequence or
    between a letter and its combining marks."""
    out: list[str] = []
    join_next = False
    for ch in text:
        if out and (join_next or _char_width(ch) == 0.0 and ch != " "):
            out[-1] += ch
        else:
            out.append(ch)
        join_next = ch == "\u200d"
    return out


@dataclass(frozen=True)
class Label:
    """Text fitted to a width: ``text`` to draw (maybe cut, ending "…"), ``full`` for <title>/<desc>."""

    text: str
    full: str

    @property
    def truncated(self) -> bool:
        return self.text != self.full


def fit(text: Any, max_width: float, size: float, bold: bool = False) -> Label:
    """A Label of ``text`` cut (with "…") so it is at most ``max_width`` wide at ``size``."""
    full = plain(text)
    if text_width(full, size, bold) <= max_width:
        return Label(full, full)
    budget = max_width - text_width(ELLIPSIS, size, bold)
    kept, used = [], 0.0
    for cluster in _clusters(full):
        width = text_width(cluster, size, bold)
        if used + width > budget:
            break
        kept.append(cluster)
        used += width
    cut = "".join(kept).rstrip(" ,;:-–—·")
    return Label(cut + ELLIPSIS if cut else (ELLIPSIS if budget >= 0 else ""), full)


# -- numbers --------------------------------------------------------------------------


def number(value: Any) -> Decimal:
    """A count from the results ("12", "12.5", 12) as a finite Decimal, 0 when unreadable."""
    if isinstance(value, bool):
        return Decimal(0)
    try:
        result = Decimal(str(value).strip().replace(",", "")) if value is not None else Decimal(0)
    except (InvalidOperation, ValueError):
        return Decimal(0)
    if not result.is_finite():
        return Decimal(0)
    return max(min(result, _HUGE), -_HUGE)  # so that rounding to cents never overflows the context


_HUGE = Decimal(10) ** 15


def format_number(value: Any) -> str:
    """A count for display: thousands separated, at most two decimals, no ".0"."""
    rounded = number(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{rounded:,.2f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def _float(value: Decimal) -> float:
    result = float(value)
    return result if math.isfinite(result) else 0.0


def _r(value: float, places: int = 1) -> int | float:
    """A coordinate rounded for compact, stable SVG: one decimal at most (a tenth of a
    pixel at 300 px), an int when whole, so it prints as "12" or "12.5" (never NaN,
    never negative zero)."""
    if not math.isfinite(value):
        return 0
    value = round(value, places) + 0.0
    return int(value) if value.is_integer() else value


def _num(value: float, places: int = 1) -> str:
    """``value`` as a number in path data: ``_r``, without a leading zero (".5", "-.5")."""
    text = str(_r(value, places))
    if text.startswith("0."):
        return text[1:]
    return "-" + text[2:] if text.startswith("-0.") else text


def _coordinate(value: float) -> str:
    """A number to two decimals, as the next one in path data (with its separator)."""
    text = _num(value, 2)
    return text if text.startswith("-") else " " + text


def _nums(*values: float) -> str:
    """Numbers of one path command: spaces only where no minus sign separates them."""
    out = ""
    for value in values:
        text = _num(value)
        out += text if not out or text.startswith("-") else " " + text
    return out


class _Path:
    """Path data written short: each subpath starts with "M" or a relative "m" from the
    pen, whichever is shorter (after "z" the pen is back at the subpath's start); the
    outlines are relative commands."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pen: tuple[int | float, int | float] | None = None
        self.start = self.pen

    def move(self, x: float, y: float) -> None:
        x, y = _r(x), _r(y)
        move = "M" + _nums(x, y)
        if self.pen is not None:
            move = min(move, "m" + _nums(x - self.pen[0], y - self.pen[1]), key=len)
        self.parts.append(move)
        self.pen = self.start = (x, y)

    def add(self, commands: str, pen: tuple[float, float] | None = None) -> None:
        """Append ``commands``, after which the pen is at ``pen``; commands ending with "z"
        leave it at the subpath's start."""
        self.parts.append(commands)
        if commands.endswith("z"):
            self.pen = self.start
        elif pen is not None:
            self.pen = (_r(pen[0]), _r(pen[1]))

    def rect(self, x: float, y: float, width: float, height: float) -> None:
        width = _r(_r(x + width) - _r(x))  # from the rounded edges: neighbours share them
        self.move(x, y)
        back = min("h" + _num(-width), "H" + _num(x), key=len)
        self.add(f"h{_num(width)}v{_num(height)}{back}z")

    def hline(self, x: float, y: float, length: float) -> None:
        """A horizontal line (a block, when stroked as wide as the block is tall), drawn
        from whichever end is nearer the pen."""
        start, end = _r(x), _r(x + length)
        if self.pen is not None and abs(end - self.pen[0]) < abs(start - self.pen[0]):
            start, end = end, start
        self.move(start, y)
        self.add("h" + _num(end - start), (end, y))

    @property
    def d(self) -> str:
        return "".join(self.parts)


# -- reading the results ------------------------------------------------------------


def _rounds(results: Mapping) -> list[dict]:
    rounds = results.get("rounds") or []
    return [r for r in rounds if isinstance(r, Mapping)]


def _tally(round_: Mapping) -> dict[str, Decimal]:
    tally = round_.get("tally")
    if not isinstance(tally, Mapping):
        return {}
    return {plain(name): max(number(votes), Decimal(0)) for name, votes in tally.items() if plain(name)}


def _tally_results(round_: Mapping) -> list[Mapping]:
    entries = round_.get("tallyResults") or []
    return [e for e in entries if isinstance(e, Mapping)]


def _events(round_: Mapping, kind: str) -> list[str]:
    """Names ``kind`` ("elected"/"eliminated") in this round, in report order."""
    names = []
    for entry in _tally_results(round_):
        name = plain(entry.get(kind))
        if name and name not in names:
            names.append(name)
    return names


def _inactive_total(round_: Mapping) -> Decimal:
    inactive = round_.get("inactiveBallots")
    if not isinstance(inactive, Mapping):
        return Decimal(0)
    return sum((max(number(v), Decimal(0)) for v in inactive.values()), Decimal(0))


def _order(results: Mapping, names: Iterable[str]) -> list[str]:
    """``names`` in the results' ranking order; names the ranking lacks go last."""
    names = list(dict.fromkeys(names))
    position = {plain(t): i for i, t in enumerate(results.get("ranking") or [])}
    return sorted(names, key=lambda n: (position.get(n, len(position)), names.index(n)))


def _leaderboard(results: Mapping) -> list[Mapping]:
    board = results.get("leaderboard") or []
    return [row for row in board if isinstance(row, Mapping)]


def _total_ballots(results: Mapping) -> int:
    try:
        total = int(results.get("total_ballots") or 0)
    except (TypeError, ValueError):
        summary = results.get("summary") or {}
        total = int(number(summary.get("totalNumBallots") if isinstance(summary, Mapping) else 0))
    return max(total, 0)


def _winners(results: Mapping) -> list[str]:
    return [plain(w) for w in results.get("winners") or [] if plain(w)]


# -- board ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    """One leaderboard row; y values are the row's top and its text baselines."""

    place: int | None  # None when there are no ballots (no order to show)
    title: Label
    drama: Label | None
    value: str  # the count or score, formatted ("" with no ballots)
    leader: bool
    y: float
    height: float
    title_y: float
    drama_y: float
    value_y: float
    place_y: float


class _Chart:
    """What every chart's template may use besides its geometry."""

    font_family = FONT_FAMILY

    @staticmethod
    def plain(text: Any) -> str:
        return plain(text)


@dataclass(frozen=True)
class BoardChart(_Chart):
    """The leaderboard: ``rows`` (top N), a header naming the value column, a footer."""

    width: int
    height: float
    rows: tuple[BoardRow, ...]
    value_kind: str  # "score" (Borda) or "first_choices"
    empty: bool  # no ballots yet: rows list the scenes with no places or counts
    total_ballots: int
    ballots_label: str  # total_ballots formatted
    more: int  # scenes left out by ``top``
    header_y: float
    rule_y: float  # the line under the header
    message_y: float  # "No ballots yet" baseline (when empty)
    footer_y: float
    place_x: float
    title_x: float
    value_x: float  # right edge (text-anchor end)
    body_height: float = 0  # the height without the footer (which the widget page does without)
    rules: str = ""  # path of the header's rule and the lines between rows

    @property
    def leaders(self) -> tuple[BoardRow, ...]:
        return tuple(row for row in self.rows if row.leader)


BOARD_HEADER = 24
BOARD_ROW = 40


def board_chart(results: Mapping, top: int) -> BoardChart:
    """The top ``top`` rows (1 to 50) of the leaderboard, the winners as leaders."""
    try:
        top = max(1, min(int(top), 50))
    except (TypeError, ValueError):
        top = 5
    board = _leaderboard(results)
    total = _total_ballots(results)
    empty = total == 0
    use_score = any(row.get("score") is not None for row in board)
    winners = set(_winners(results))
    shown = board[:top]

    value_x = VIEWBOX_WIDTH - MARGIN
    title_x = MARGIN if empty else 40  # no place column without ballots
    values = [format_number(r.get("score") if use_score else r.get("first_choices")) for r in shown]
    value_room = max((text_width(v, 13, bold=True) for v in values), default=0.0) if not empty else 0.0

    y = BOARD_HEADER
    message_y = 0
    if empty:
        message_y = y + 22
        y += 32
    rows = []
    for row, value in zip(shown, values):
        title = plain(row.get("title"))
        leader = not empty and title in winners
        room = value_x - title_x - (value_room + 10 if not empty else 0)
        drama = plain(row.get("drama"))
        rows.append(BoardRow(
            place=None if empty else _whole_number(row.get("place"), len(rows) + 1),
            title=fit(title, room, 13, bold=True),
            drama=fit(drama, room, 11) if drama else None,
            value="" if empty else value,
            leader=leader,
            y=y, height=BOARD_ROW,
            title_y=y + (17 if drama else 25), drama_y=y + 32, value_y=y + 25, place_y=y + 25,
        ))
        y += BOARD_ROW
    footer_y = y + 18
    # The header's rule across, then one between rows, from the titles' column on.
    rules = f"M0 {BOARD_HEADER - 0.5}h{VIEWBOX_WIDTH}" + "".join(
        f"M{title_x} {row.y + row.height}h{VIEWBOX_WIDTH - title_x}" for row in rows[:-1])
    return BoardChart(
        width=VIEWBOX_WIDTH, height=footer_y + 8, rows=tuple(rows),
        value_kind="score" if use_score else "first_choices", empty=empty,
        total_ballots=total, ballots_label=format_number(total), more=max(len(board) - len(shown), 0),
        header_y=16, rule_y=BOARD_HEADER - 0.5, message_y=message_y, footer_y=footer_y,
        place_x=20, title_x=title_x, value_x=value_x, body_height=y + 6, rules=rules,
    )


def _whole_number(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# -- bars (one round) ------------------------------------------------------------------


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: the name above it, the value after its end."""

    name: Label
    value: str
    votes: float
    mark: str | None  # "elected", "eliminated" (this round), "winner" (methods without rounds)
    x: float
    y: float  # bar top
    width: float
    height: float
    name_y: float  # baseline of the name, above the bar
    value_x: float  # start of the value label (text-anchor start)
    value_y: float
    value_width: float  # estimated, for the background box behind the value
    tag_x: float  # right end of the mark's word (text-anchor end), on the name's line


@dataclass(frozen=True)
class Threshold:
    """The vertical dashed line at the count that wins (majority or quota)."""

    value: str
    kind: str  # "majority" (single-winner instant runoff) or "quota" (STV)
    x: float
    y1: float
    y2: float
    dashes: str  # a path of small rectangles (drawn with fill, so CSS can re-colour it)
    label_x: float
    label_y: float
    label_anchor: str


@dataclass(frozen=True)
class BarsChart(_Chart):
    """One round of the count (or, for methods without rounds, the leaderboard's scores)."""

    width: int
    height: float
    has_rounds: bool
    round_number: int  # 1-based, clamped (0 when there are no rounds)
    round_count: int
    value_kind: str  # "votes" (a round), "score" (Borda) or "first_choices"
    bars: tuple[Bar, ...]
    inactive: Bar | None  # inactive (exhausted) ballots of the round, when asked for and known
    threshold: Threshold | None
    total_ballots: int
    ballots_label: str  # total_ballots formatted
    header_y: float
    rule_y: float  # separator above the inactive row
    message_y: float  # "No ballots yet" baseline when there is nothing to draw
    empty: bool
    left: float
    right: float

    @property
    def value_boxes(self) -> str:
        """Path of the background boxes behind the bars' values (the threshold's line
        passes under them)."""
        path = _Path()
        for bar in self.bars:
            path.rect(bar.value_x - 2, bar.y - 1, bar.value_width, bar.height + 2)
        return path.d


BAR_ROW = 36
BAR_HEIGHT = 12
BAR_TOP = 40  # first row, below the header and the threshold label
TAG_ROOM = 74  # the mark's word ("Eliminated", "당선"...): room kept at the name's right end
DASH, DASH_GAP = 4.0, 3.0


def round_chart(results: Mapping, round_number: int | None, show_inactive: bool) -> BarsChart:
    """Round ``round_number`` (1-based; None: the last; out of range: the nearest) as
    bars sorted by votes, the threshold as a dashed line, optionally inactive ballots.
    Methods without rounds get one chart of the leaderboard's score, else first choices."""
    rounds = _rounds(results)
    total = _total_ballots(results)
    left, right = MARGIN, VIEWBOX_WIDTH - MARGIN
    if rounds:
        count = len(rounds)
        try:
            number_ = count if round_number is None else max(1, min(int(round_number), count))
        except (TypeError, ValueError):
            number_ = count
        round_ = rounds[number_ - 1]
        tally = _tally(round_)
        elected_before = {n for r in rounds[:number_ - 1] for n in _events(r, "elected")}
        elected = set(_events(round_, "elected")) | elected_before
        eliminated = set(_events(round_, "eliminated"))
        order = _order(results, tally)
        items = [(name, tally[name],
                  "elected" if name in elected else "eliminated" if name in eliminated else None)
                 for name in order]
        threshold = number(round_.get("threshold")) if round_.get("threshold") is not None else None
        inactive_value = _inactive_total(round_) if show_inactive and "inactiveBallots" in round_ else None
        kind = "votes"
    else:
        count = number_ = 0
        board = _leaderboard(results)
        use_score = any(row.get("score") is not None for row in board)
        winners = set(_winners(results)) if total else set()
        items = [(plain(row.get("title")),
                  max(number(row.get("score") if use_score else row.get("first_choices")), Decimal(0)),
                  "winner" if plain(row.get("title")) in winners else None)
                 for row in board if plain(row.get("title"))]
        threshold = None
        inactive_value = None
        kind = "score" if use_score else "first_choices"
    # Sorted by votes; ties keep the ranking order (a stable sort).
    items.sort(key=lambda item: -item[1])
    empty = total == 0 or not items
    if empty:  # no bars of zeros: the template says "No ballots yet"
        items, inactive_value, threshold = [], None, None

    values = [format_number(v) for _, v, _ in items]
    if inactive_value is not None:
        values.append(format_number(inactive_value))
    value_room = max((text_width(v, 12) for v in values), default=0.0) + 6
    plot = max(right - left - value_room, 1.0)
    biggest = max([v for _, v, _ in items] + [inactive_value or Decimal(0)]
                  + ([threshold] if threshold and threshold > 0 else []), default=Decimal(0))
    scale = plot / _float(biggest) if biggest > 0 else 0.0

    y = BAR_TOP
    bars = []
    for (name, votes, mark), value in zip(items, values):
        bars.append(_bar(name, votes, value, mark, left, right, y, scale))
        y += BAR_ROW
    rule_y = y
    inactive = None
    if inactive_value is not None:
        y += 6
        inactive = _bar("", inactive_value, format_number(inactive_value), None, left, right, y, scale)
        y += BAR_ROW

    line = None
    if threshold is not None and threshold > 0 and bars and scale:
        x = _r(left + _float(threshold) * scale)
        # Centred over the line, inside the chart: its words are translated in the
        # template, so the room kept is the English label's and a quarter more.
        value = format_number(threshold)
        half = text_width(f"Majority: {value}", 11) * 1.25 / 2
        label_x = min(max(x, left + half), right - half)
        # Dashes only across the bars, not through the names between them; the value
        # labels are drawn over the line on a background box.
        dashes = "".join(_dashes(x - 0.75, bar.y - 2, bar.y + bar.height + 6, 1.5) for bar in bars)
        line = Threshold(
            value=value,
            kind="majority" if results.get("method") == "irv" or results.get("seats") == 1 else "quota",
            x=x, y1=bars[0].y - 2, y2=bars[-1].y + BAR_HEIGHT + 6, dashes=dashes,
            label_x=_r(label_x), label_y=BAR_TOP - 8, label_anchor="middle")

    return BarsChart(
        width=VIEWBOX_WIDTH, height=BAR_TOP + 12 if empty else y + 4, has_rounds=bool(rounds),
        round_number=number_, round_count=count, value_kind=kind, bars=tuple(bars), inactive=inactive,
        threshold=line, total_ballots=total, ballots_label=format_number(total), header_y=16,
        rule_y=rule_y + 2, message_y=BAR_TOP - 2, empty=empty, left=left, right=right,
    )


def _bar(name: str, votes: Decimal, value: str, mark: str | None, left: float, right: float,
         y: float, scale: float) -> Bar:
    width = max(_float(votes) * scale, 0.0)
    room = right - left - (TAG_ROOM if mark else 0)
    return Bar(
        name=fit(name, room, 12, bold=mark in ("elected", "winner")), value=value, votes=_float(votes),
        mark=mark, x=left, y=y + 17, width=_r(width), height=BAR_HEIGHT, name_y=y + 12,
        value_x=_r(left + width + 5), value_y=y + 27.5, tag_x=right,
        value_width=_r(text_width(value, 12, bold=mark in ("elected", "winner")) + 4),
    )


def _dashes(x: float, y1: float, y2: float, width: float) -> str:
    """A dashed vertical line from y1 to y2 as one path of filled rectangles."""
    path = _Path()
    y = y1
    while y < y2:
        path.rect(x, y, width, min(DASH, y2 - y))
        y += DASH + DASH_GAP
    return path.d


# -- flow (Sankey of transfers) -------------------------------------------------------

KEEP_OPACITY, MOVE_OPACITY = 0.2, 0.65  # bands of ballots staying put, moving on
LEGEND_ROW = 18
NODE_H = 11
SWATCH = NODE_H  # the legend's squares are drawn with the blocks, as lines as wide as a block is tall
CAPTION_H = 18  # "Round n" line
COUNT_H = 14  # the count labels over the blocks
BAND_H = 34  # between one row's blocks and the next row's caption
ROUND_LABEL_ROOM = 74  # "Round 10", "라운드 10" in bold: the captions start after it
COUNT_SIZE = 11  # font size of the counts over the blocks
STRAIGHT_BAND = 3.4  # chart units: a band whose ends are this close in x has straight sides


@dataclass(frozen=True)
class LegendItem:
    name: Label
    colour: str
    x: float
    y: float  # swatch top
    text_x: float
    text_y: float


@dataclass(frozen=True)
class FlowNode:
    """A candidate's (or the inactive ballots') count in one round: a horizontal block."""

    name: str  # the candidate's title, or INACTIVE (never shown: see ``inactive``)
    value: float
    value_label: str
    x: float
    y: float
    width: float
    height: float
    colour: str  # a series colour; "" for the inactive node (drawn with the inactive class)
    inactive: bool
    count_label: str  # shown above the block when it fits, else ""
    count_x: float
    count_anchor: str  # "middle", or "end" when the name is shown too
    name_label: Label | None  # the name, when the block is wide enough for it
    name_x: float
    label_y: float


@dataclass(frozen=True)
class Caption:
    """The line over a round's row: who was decided in it."""

    kind: str  # "eliminated", "elected", or "mixed" (both, in one round)
    names: Label  # the candidates concerned, comma-separated
    x: float
    y: float
    tag_x: float  # right end of the word for ``kind``


@dataclass(frozen=True)
class Box:
    """A rectangle in the background colour behind a label, so bands pass under the text."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class FlowRound:
    number: int
    label_y: float  # baseline of "Round n" and of its caption
    caption: Caption | None
    nodes: tuple[FlowNode, ...]  # candidates in ranking order, then the inactive node
    total: float  # sum of the node values
    boxes: tuple[Box, ...]  # behind the round's labels
    count_y: float  # baseline of the counts over the blocks

    @property
    def centred_counts(self) -> tuple[FlowNode, ...]:
        """The nodes whose count is centred over the block."""
        return tuple(n for n in self.nodes if n.count_label and n.count_anchor == "middle")

    @property
    def counts_text(self) -> str:
        """The centred counts as one line of text, drawn at ``counts_x``."""
        return "".join(n.count_label for n in self.centred_counts)

    @property
    def counts_x(self) -> str:
        """Where each character of ``counts_text`` is centred (see ``spread``)."""
        return " ".join(str(x) for n in self.centred_counts for x in spread(n.count_label, n.count_x, COUNT_SIZE))


@dataclass(frozen=True)
class Band:
    """Ballots going from a node of round r to a node of round r+1 (a filled curved band):
    from [source_x, source_end] at y1 (the source's bottom) to [target_x, target_end] at y2."""

    round_number: int  # r: the band leaves round r
    source: str
    target: str
    value: float
    value_label: str
    kind: str  # "keep" (stays with its candidate), "transfer", "exhausted", "inactive" (stays inactive)
    colour: str  # the source's series colour; "" for inactive ballots
    opacity: float
    source_x: float  # left end at the source (the band is value * scale wide)
    source_end: float
    target_x: float
    target_end: float
    y1: float
    y2: float

    @property
    def from_inactive(self) -> bool:
        return self.source == INACTIVE

    @property
    def to_inactive(self) -> bool:
        return self.target == INACTIVE

    @property
    def moving(self) -> bool:
        return self.kind in ("transfer", "exhausted")


@dataclass(frozen=True)
class Paint:
    """Shapes of one colour drawn as one <path>: ``colour`` is a series colour, or ""
    for the inactive ballots (drawn with the inactive class)."""

    colour: str
    d: str


@dataclass(frozen=True)
class Move:
    """For the text summary: ``value_label`` ballots of a round's decided candidate went to ``to``."""

    to: str  # a candidate's title, or INACTIVE
    value_label: str

    @property
    def inactive(self) -> bool:
        return self.to == INACTIVE


@dataclass(frozen=True)
class Transfer:
    round_number: int
    kind: str  # "eliminated" or "elected"
    name: str
    value_label: str  # what the candidate had in that round
    moves: tuple[Move, ...]


@dataclass(frozen=True)
class FlowChart(_Chart):
    """Rounds going down, one row of blocks each; bands carry the ballots to the next row.

    ``bands``, ``rounds`` and ``legend`` describe every shape; the template draws the
    shapes from ``keep_paths`` (pale bands of ballots staying put), ``move_paths``
    (bands of ballots moving on, drawn over them), ``boxes_path`` (background behind
    the round lines) and ``block_paths`` (the blocks and legend swatches): one <path>
    per colour, which keeps a count of ten rounds a few kilobytes."""

    width: int
    height: float
    message: str | None  # None, "no_ballots", "no_rounds" (method without rounds), "one_round"
    message_y: float
    legend: tuple[LegendItem, ...]
    inactive_legend: LegendItem | None  # the inactive swatch (its words come from the template)
    rounds: tuple[FlowRound, ...]
    bands: tuple[Band, ...]
    transfers: tuple[Transfer, ...]
    round_count: int
    total_ballots: int
    ballots_label: str
    scale: float  # units per ballot
    round_label_x: float
    caption_x: float = MARGIN + ROUND_LABEL_ROOM  # start of every caption's names
    tag_x: float = VIEWBOX_WIDTH - MARGIN  # right end of every caption's word
    keep_paths: tuple[Paint, ...] = ()
    move_paths: tuple[Paint, ...] = ()
    block_paths: tuple[Paint, ...] = ()
    boxes_path: str = ""
    grid: str = ""  # the transform of the blocks' and bands' paths (see _Grid)
    block_stroke: float = 1  # the blocks' height in grid units: the width their lines are stroked
    keep_opacity: float = KEEP_OPACITY
    move_opacity: float = MOVE_OPACITY

    @staticmethod
    def num(value: float) -> str:
        return _num(value)




@dataclass(frozen=True)
class _Grid:
    """The units the blocks and bands are drawn in (``FlowChart.grid``): across, ``q``
    ballots (a power of ten, so that counts are whole or one-decimal numbers); down, ``dy``
    units (a divisor of the row's heights, so that they are small whole numbers); the
    origin at (``x0``, ``y0``), the top of the first bands."""

    q: float
    dx: float  # chart units per grid unit across: q * scale
    dy: int
    x0: float
    y0: float

    @property
    def transform(self) -> str:
        return f"matrix({self.dx:.6g} 0 0 {self.dy} {_r(self.x0)} {_r(self.y0)})"

    def x(self, grid_x: float) -> float:
        return self.x0 + grid_x * self.dx

    def y(self, y: float) -> float:
        return (y - self.y0) / self.dy


def flow_chart(results: Mapping, show_inactive: bool) -> FlowChart:
    """How the ballots of eliminated (and surpluses of elected) scenes moved, round by round."""
    rounds = _rounds(results)
    total = _total_ballots(results)
    if not rounds or total == 0:
        has_rounds = results.get("method") in ("irv", "stv") or bool(rounds)
        return FlowChart(
            width=VIEWBOX_WIDTH, height=56, message="no_ballots" if total == 0 or has_rounds else "no_rounds",
            message_y=33, legend=(), inactive_legend=None, rounds=(), bands=(), transfers=(),
            round_count=len(rounds), total_ballots=total, ballots_label=format_number(total), scale=0.0,
            round_label_x=MARGIN)

    # Each round's blocks: candidates in ranking order, then the inactive ballots.
    values: list[dict[str, Decimal]] = []
    for round_ in rounds:
        row = _tally(round_)
        if show_inactive:
            row[INACTIVE] = _inactive_total(round_)
        values.append(row)
    names = _order(results, (n for row in values for n in row if n != INACTIVE))
    colours = {name: SERIES[i % len(SERIES)] for i, name in enumerate(names)}
    legend, inactive_legend, top = _legend(names, colours, show_inactive)

    # One scale for every row, so a block is as wide as its ballots in every round; the
    # gaps between blocks are whole grid units where they can be (see _Grid).
    widest = max(len(row) for row in values)
    gap = min(3.0, 40.0 / max(widest - 1, 1))
    biggest = max(_float(sum(row.values(), Decimal(0))) for row in values)
    inner = VIEWBOX_WIDTH - 2 * MARGIN
    plot = inner - gap * (widest - 1)
    scale = max(plot, 1.0) / biggest if biggest > 0 else 0.0
    q = 10.0 ** math.ceil(math.log10(0.3 / scale)) if scale > 0 else 1.0  # q * scale in [0.3, 3)
    grid_gap = gap / (q * scale) if scale > 0 else 1.0
    grid_gap = round(grid_gap) if grid_gap >= 1 else max(round(grid_gap, 1), 0.1)
    grid_width = biggest / q + grid_gap * (widest - 1)
    if scale > 0:
        scale = inner / grid_width / q

    band_h = BAND_H if len(rounds) <= 12 else BAND_H - 10  # long counts: keep the height in check
    span = band_h + CAPTION_H + COUNT_H  # from a row's blocks to the next row's
    grid = _Grid(q, q * scale or 1.0, math.gcd(span // 2, NODE_H) if span % 2 == 0 else 1, MARGIN,
                 top + CAPTION_H + COUNT_H + NODE_H)
    flow_rounds: list[FlowRound] = []
    spans: list[dict[str, tuple[float, float]]] = []  # each round's blocks in grid units: (x, width)
    y = float(top)
    for index, (round_, row) in enumerate(zip(rounds, values)):
        node_y = y + CAPTION_H + COUNT_H
        nodes, x, here = [], 0.0, {}
        for name in [n for n in names if n in row] + ([INACTIVE] if INACTIVE in row else []):
            width = _float(row[name]) / q
            here[name] = (x, width)
            nodes.append(_node(name, row[name], grid.x(x), node_y, width * grid.dx, gap, colours.get(name, ""),
                               grid.x(x + width)))
            x += width + grid_gap
        caption = _caption(round_, y + 12)
        flow_rounds.append(FlowRound(index + 1, _r(y + 12), caption, tuple(nodes),
                                     _float(sum(row.values(), Decimal(0))), _boxes(caption, y + 12),
                                     _r(node_y - 4)))
        spans.append(here)
        y = node_y + NODE_H + (band_h if index < len(rounds) - 1 else 0)

    bands: list[Band] = []
    edges: dict[int, tuple[float, float, float, float]] = {}  # id(band): its ends in grid units
    transfers: list[Transfer] = []
    for index in range(len(rounds) - 1):
        more_bands, more_transfers = _transitions(
            rounds[index], index + 1, values[index], spans[index], spans[index + 1],
            flow_rounds[index], flow_rounds[index + 1], colours, grid, edges)
        bands.extend(more_bands)
        transfers.extend(more_transfers)
    one = len(rounds) == 1
    order = names + [INACTIVE]
    boxes = _Path()
    for round_ in flow_rounds:
        for box in round_.boxes:
            boxes.rect(box.x, box.y, box.width, box.height)
    return FlowChart(
        width=VIEWBOX_WIDTH, height=_r(y + (34 if one else 10)), message="one_round" if one else None,
        message_y=_r(y + 24), legend=legend, inactive_legend=inactive_legend, rounds=tuple(flow_rounds),
        bands=tuple(bands), transfers=tuple(transfers), round_count=len(rounds), total_ballots=total,
        ballots_label=format_number(total), scale=scale, round_label_x=MARGIN,
        keep_paths=_band_paints([b for b in bands if not b.moving], edges, grid, order, colours),
        move_paths=_band_paints([b for b in bands if b.moving], edges, grid, order, colours),
        block_paths=_block_paints(flow_rounds, spans, grid, legend, inactive_legend, order, colours),
        boxes_path=boxes.d, grid=grid.transform, block_stroke=_r(NODE_H / grid.dy))


def _band_paints(bands: list[Band], edges: dict[int, tuple[float, float, float, float]], grid: _Grid,
                 order: list[str], colours: dict[str, str]) -> tuple[Paint, ...]:
    """``bands`` as one path per source, in ``order``, in grid units. Each band's sides
    are S-curves, vertical at both ends (straight when its ends are in line); bands that
    leave one block side by side are one outline, zigzagging down and up each band and
    closed along their common top (the same area as one outline each)."""
    paths: dict[str, _Path] = {}
    top: tuple | None = None  # (source, round, x) where the open outline's next band would start
    for band in sorted(bands, key=lambda b: (order.index(b.source), b.round_number, edges[id(b)][0])):
        path = paths.setdefault(band.source, _Path())
        a0, a1, b0, b1 = (_r(v) for v in edges[id(band)])
        y1, height = grid.y(band.y1), _r((band.y2 - band.y1) / grid.dy)
        if top != (band.source, band.round_number, a0):
            if top is not None:
                paths[top[0]].add("z")
            path.move(a0, y1)
        down = _side(_r(b0 - a0), height, grid.dx)
        up = _side(_r(a1 - b1), -height, grid.dx)
        path.add(down + "h" + _num(b1 - b0) + up, (a1, y1))
        top = (band.source, band.round_number, a1)
    if top is not None:
        paths[top[0]].add("z")
    return tuple(Paint("" if name == INACTIVE else colours[name], paths[name].d)
                 for name in order if name in paths)


def _side(dx: float, dy: float, unit: float) -> str:
    """A band's side, (dx, dy) from the pen (grid units; ``unit`` chart units across): an
    S-curve, vertical at both ends, or a straight line when it would stray from one by
    less than half a unit (a seventh of dx)."""
    if dx == 0:
        return "v" + _num(dy)
    if abs(dx) * unit <= STRAIGHT_BAND:
        return "l" + _nums(dx, dy)
    return "c" + _nums(0, dy / 2, dx, dy / 2, dx, dy)


# Digits are as wide as each other in every common font, but not as wide in all of them:
# 0.56 em (Segoe UI, Roboto, Arial) to 0.64 (DejaVu Sans); placed this far apart, they
# look set as usual in any of them.
DIGIT_EM = 0.59


def spread(text: str, centre: float, size: float) -> list[float]:
    """Where to centre each character of the number ``text`` so that it reads as one
    label centred on ``centre`` at font size ``size``. A row of counts is then one <text>
    with a list of x (each character centred on its own: text-anchor middle), not a
    <tspan> each, which would weigh three times as much."""
    advances = [size * (DIGIT_EM if ch.isdigit() else _char_width(ch) * DIGIT_EM / _ASCII_WIDTHS["0"])
                for ch in text]
    # In halves of a unit (short numbers; a quarter of a unit off at most).
    x = round((centre - sum(advances) / 2 + advances[0] / 2) * 2) / 2 if advances else 0
    positions = []
    for i, advance in enumerate(advances):
        if i:
            x += round(advances[i - 1] + advance) / 2
        positions.append(int(x) if x == int(x) else x)
    return positions


def _block_paints(rounds: list[FlowRound], spans: list[dict[str, tuple[float, float]]], grid: _Grid,
                  legend: tuple[LegendItem, ...], inactive: LegendItem | None,
                  order: list[str], colours: dict[str, str]) -> tuple[Paint, ...]:
    """Each colour's legend swatch and blocks as one path, in grid units: the series
    colours' as lines to stroke one grid unit (NODE_H) wide, the inactive ones (which the
    stylesheet re-colours by their fill) as filled rectangles."""
    paths: dict[str, _Path] = {}
    swatches = {item.name.full: item for item in legend}
    if inactive is not None:
        swatches[INACTIVE] = inactive
    for name in order:
        item = swatches.get(name)
        if item is not None:
            path = paths.setdefault(name, _Path())
            # As tall as a block (so stroked as wide); at two decimals, as the legend's rows
            # are not on the grid's.
            x, size, height = (item.x - grid.x0) / grid.dx, _r(SWATCH / grid.dx), _r(SWATCH / grid.dy)
            if name == INACTIVE:
                top = _coordinate(grid.y(item.y))
                path.parts.append(f"M{_nums(x)}{top}h{_num(size)}v{_num(height)}h{_num(-size)}z")
            else:
                middle = _coordinate(grid.y(item.y + SWATCH / 2))
                path.parts.append(f"M{_nums(x)}{middle}h{_num(size)}")
            path.pen = None  # off the grid's tenths: the next subpath starts with M
    for round_, here in zip(rounds, spans):
        for node in round_.nodes:
            x, width = here[node.name]
            if width > 0:
                path = paths.setdefault(node.name, _Path())
                top = grid.y(node.y)
                if node.inactive:
                    path.rect(x, top, width, node.height / grid.dy)
                else:
                    path.hline(x, top + node.height / grid.dy / 2, width)
    return tuple(Paint("" if name == INACTIVE else colours[name], paths[name].d)
                 for name in order if name in paths)


def _legend(names: list[str], colours: dict[str, str], show_inactive: bool
            ) -> tuple[tuple[LegendItem, ...], LegendItem | None, float]:
    """Colour swatches and names (two columns when every name fits half the width),
    the inactive swatch last; returns them and the y where the rounds start."""
    inner = VIEWBOX_WIDTH - 2 * MARGIN
    half = inner / 2 - 24
    fits = all(text_width(n, 12) <= half for n in names)
    # Many scenes: two columns even if some names must be cut (the rows and tooltips have them).
    columns = 2 if len(names) > 12 or len(names) > 3 and fits else 1
    column_width = inner / columns
    items = []
    for i, name in enumerate(names + ([INACTIVE] if show_inactive else [])):
        x = MARGIN + (i % columns) * column_width
        y = 6 + (i // columns) * LEGEND_ROW
        label = fit(name, column_width - 24, 12) if name != INACTIVE else Label("", "")
        items.append(LegendItem(label, colours.get(name, ""), _r(x), y + 2, _r(x + 16), y + 12))
    inactive = items.pop() if show_inactive else None
    rows = math.ceil((len(names) + (1 if show_inactive else 0)) / columns)
    return tuple(items), inactive, 6 + rows * LEGEND_ROW + 8


def _node(name: str, value: Decimal, x: float, y: float, width: float, gap: float, colour: str,
          end: float) -> FlowNode:
    label = format_number(value)
    count_w = text_width(label, 11)
    name_label, anchor, count_x = None, "middle", x + width / 2
    if name != INACTIVE and width >= count_w + 10 + text_width("Abcdefghij…", 11):
        # A wide block: its name (left) and count (right) both fit over it.
        # Inset from the block's ends, so they stay clear of the neighbours' labels.
        name_label = fit(name, width - count_w - 10, 11)
        anchor, count_x = "end", x + width - 2
    elif count_w > width + gap - 1:
        label = ""  # too narrow: the legend and the text summary carry it
    else:
        # Centred, but kept inside the chart (a narrow block at either edge).
        count_x = min(max(count_x, MARGIN + count_w / 2), VIEWBOX_WIDTH - MARGIN - count_w / 2)
    left = _r(x)
    return FlowNode(
        name=name, value=_float(value), value_label=format_number(value), x=left, y=_r(y),
        width=_r(max(_r(end) - left, 0)), height=NODE_H, colour=colour, inactive=name == INACTIVE,
        count_label=label, count_x=round(count_x), count_anchor=anchor, name_label=name_label,
        name_x=round(x + 1), label_y=_r(y - 4))


def _caption(round_: Mapping, y: float) -> Caption | None:
    """What was decided in the round, on the line of "Round n"."""
    elected, eliminated = _events(round_, "elected"), _events(round_, "eliminated")
    if elected and eliminated:
        # Rare (RCTab rounds decide one or the other): one line, the elected first.
        kind, text = "mixed", f"{', '.join(elected)}; {', '.join(eliminated)}"
    elif elected or eliminated:
        kind, text = ("elected", ", ".join(elected)) if elected else ("eliminated", ", ".join(eliminated))
    else:
        return None
    x = MARGIN + ROUND_LABEL_ROOM
    room = VIEWBOX_WIDTH - MARGIN - x - TAG_ROOM
    return Caption(kind, fit(text, room, 12), x, _r(y), VIEWBOX_WIDTH - MARGIN)


# Room behind the translated words, from the English ones and a little more.
_TAG_BOX = {"elected": text_width("elected", 11, bold=True) * 1.15 + 4,
            "eliminated": text_width("eliminated", 11) * 1.1 + 4,
            "mixed": text_width("decided", 11) * 1.25 + 4}


def _boxes(caption: Caption | None, label_y: float) -> tuple[Box, ...]:
    """Background boxes behind the round's line of text, which the bands from the row
    above cross (the counts over the blocks sit on their own pale bands: no box)."""
    line_top, line_h = _r(label_y - 10), 14
    names_end = caption.x + text_width(caption.names.text, 12) if caption else MARGIN + ROUND_LABEL_ROOM - 8
    boxes = [Box(MARGIN - 2, line_top, math.ceil(names_end + 3) - (MARGIN - 2), line_h)]
    if caption:
        left = math.floor(caption.tag_x - _TAG_BOX[caption.kind])
        boxes.append(Box(left, line_top, caption.tag_x + 2 - left, line_h))
    return tuple(boxes)


def _transitions(round_: Mapping, number_: int, here_values: dict[str, Decimal],
                 here_spans: dict[str, tuple[float, float]], there_spans: dict[str, tuple[float, float]],
                 here: FlowRound, there: FlowRound, colours: dict[str, str], grid: _Grid,
                 edges: dict[int, tuple[float, float, float, float]]) -> tuple[list[Band], list[Transfer]]:
    """The bands from round ``number_``'s row to the next row, and their text summary."""
    source = {n.name: n for n in here.nodes}
    target = {n.name: n for n in there.nodes}
    flows: list[tuple[str, str, Decimal, str]] = []  # (from, to, ballots, kind)
    transfers: list[Transfer] = []
    moved_out: dict[str, Decimal] = {}
    for entry in _tally_results(round_):
        kind = "elected" if plain(entry.get("elected")) else "eliminated"
        name = plain(entry.get(kind))
        if name not in source or name == INACTIVE:
            continue
        moves = []
        raw = entry.get("transfers")
        for to, value in (raw.items() if isinstance(raw, Mapping) else ()):
            to, ballots = plain(to), max(number(value), Decimal(0))
            if ballots == 0 or to in IGNORED_TRANSFER_KEYS:
                continue
            if to in EXHAUSTED_KEYS or to == INACTIVE or to not in target:
                # Exhausted, or a receiver missing from the next round: inactive from here on.
                moves.append(Move(INACTIVE, format_number(ballots)))
                if INACTIVE in target:
                    flows.append((name, INACTIVE, ballots, "exhausted"))
            else:
                moves.append(Move(to, format_number(ballots)))
                flows.append((name, to, ballots, "transfer"))
            moved_out[name] = moved_out.get(name, Decimal(0)) + ballots
        transfers.append(Transfer(number_, kind, name, source[name].value_label, tuple(moves)))
    for name, ballots in here_values.items():
        kept = ballots - moved_out.get(name, Decimal(0))
        if name in target and kept > 0:
            flows.append((name, name, kept, "inactive" if name == INACTIVE else "keep"))

    # Stack each node's bands in the order of their other ends, so they cross no more
    # than they must. Their ends are computed in grid units, unrounded, so that
    # neighbouring bands round to the same edge.
    def centre(spans: dict[str, tuple[float, float]], name: str) -> float:
        return spans[name][0] + spans[name][1] / 2

    def stack(end: int, spans: dict[str, tuple[float, float]], other: dict[str, tuple[float, float]]
              ) -> dict[int, tuple[float, float]]:
        ends: dict[int, tuple[float, float]] = {}
        offset: dict[str, float] = {}
        for i in sorted(range(len(flows)), key=lambda i: (spans[flows[i][end]][0],
                                                          centre(other, flows[i][1 - end]))):
            name = flows[i][end]
            x, room = spans[name]
            start = offset.get(name, 0.0)
            offset[name] = start + _float(flows[i][2]) / grid.q
            # Fractional STV counts may not add up to the last digit: never spill past a block.
            shift = max(offset[name] - room, 0.0)
            ends[i] = (x + max(start - shift, 0.0), x + offset[name] - shift)
        return ends

    starts = stack(0, here_spans, there_spans)
    ends = stack(1, there_spans, here_spans)
    y1 = here.nodes[0].y + NODE_H if here.nodes else 0.0
    y2 = there.nodes[0].y if there.nodes else y1
    bands = []
    for i, (name, to, ballots, kind) in enumerate(flows):
        band = Band(
            round_number=number_, source=name, target=to, value=_float(ballots),
            value_label=format_number(ballots), kind=kind,
            colour="" if name == INACTIVE else colours.get(name, ""),
            opacity=KEEP_OPACITY if kind in ("keep", "inactive") else MOVE_OPACITY,
            source_x=_r(grid.x(starts[i][0])), source_end=_r(grid.x(starts[i][1])),
            target_x=_r(grid.x(ends[i][0])), target_end=_r(grid.x(ends[i][1])), y1=_r(y1), y2=_r(y2))
        edges[id(band)] = starts[i] + ends[i]
        bands.append(band)
    bands.sort(key=lambda b: b.moving)  # moving ballots drawn on top
    return bands, transfers


# -- badge ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BadgeChart(_Chart):
    """The current leader (or winner once the poll is closed) in a 320 x 56 badge."""

    width: int
    height: int
    empty: bool  # no ballots yet (or nobody ahead): show "No ballots yet"
    closed: bool  # the word is "Winner" rather than "Leader"
    title: Label
    drama: Label | None
    others: int  # more winners than the one named (multi-seat STV), shown as "+N"
    others_x: float
    total_ballots: int
    ballots_label: str
    icon_x: float
    icon_y: float
    text_x: float
    right: float


BADGE_WIDTH, BADGE_HEIGHT = VIEWBOX_WIDTH, 56
BALLOTS_ROOM = 110  # "1,234 ballots" / "투표 1,234표" on the first line, at the right


def badge_chart(results: Mapping, closed: bool) -> BadgeChart:
    """The first winner (else the top of the leaderboard) with its drama and the ballot count."""
    total = _total_ballots(results)
    winners = _winners(results)
    board = _leaderboard(results)
    name = winners[0] if winners else (plain(board[0].get("title")) if board else "")
    drama = next((plain(row.get("drama")) for row in board if plain(row.get("title")) == name), "")
    empty = total == 0 or not name
    text_x, right = 58, BADGE_WIDTH - 10
    others = max(len(winners) - 1, 0) if not empty else 0
    others_room = text_width(f"+{others}", 13, bold=True) + 6 if others else 0
    title = fit("" if empty else name, right - text_x - others_room, 14, bold=True)
    return BadgeChart(
        width=BADGE_WIDTH, height=BADGE_HEIGHT, empty=empty, closed=bool(closed), title=title,
        others_x=_r(text_x + text_width(title.text, 14, bold=True) + 5),
        drama=fit(drama, right - text_x, 11) if drama and not empty else None,
        others=others, total_ballots=total, ballots_label=format_number(total),
        icon_x=28, icon_y=28, text_x=text_x, right=right,
    )
