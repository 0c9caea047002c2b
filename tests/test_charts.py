"""polls.charts: the geometry of the result charts, and their SVG templates.

The geometry tests run the pure functions on results built here (by the
counting engine on small profiles, or by hand for broken data); the render
tests draw each template through the app and read the output as XML.
"""
import dataclasses
import math
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from flask import render_template

from polls import charts
from polls.charts import VIEWBOX_WIDTH, Label, fit, format_number, text_width
from polls.tally import Rules, tabulate

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = ["<script>alert(1)</script>", '"><svg onload=alert(1)>', "'quotes' & \"doubles\"",
           "قبلة المطر", "💋 Kiss 🌧️"]
VIEWS = ("board", "bars", "flow", "badge")


# -- results to chart -------------------------------------------------------------


def results_from(report: dict, method: str = "irv", seats: int = 1, dramas: dict | None = None) -> dict:
    """A results dict shaped like polls.results.compute_results, from an engine report."""
    rounds = report.get("results", [])
    firsts = rounds[0]["tally"] if rounds else {}
    scores = report.get("scores") or {}
    dramas = dramas or {}
    return {
        "method": method, "method_name": method, "seats": seats,
        "winners": report["winners"], "ranking": report["ranking"], "rounds": rounds,
        "summary": report["summary"], "total_ballots": int(report["summary"]["totalNumBallots"]),
        "tie_breaks": report.get("tieBreaks", []), "excluded": [],
        "leaderboard": [
            {"place": place, "id": place, "title": title, "drama": dramas.get(title, f"Drama {title}"),
             "first_choices": firsts.get(title, "0"), "score": scores.get(title)}
            for place, title in enumerate(report["ranking"], start=1)
        ],
    }


def count(profile: dict, candidates: list[str], **rules) -> dict:
    method = rules.get("method", "irv")
    return results_from(tabulate(profile, candidates, Rules(**rules)), method, rules.get("seats", 1))


SCENES = ["Stalled elevator kiss", "First-aid couch kiss", "Coffee Prince kiss", "Arrest kiss",
          "Healer kiss", "Love Rain kiss"]


@pytest.fixture(scope="module")
def irv() -> dict:
    """Six scenes, five rounds, ballots exhausting along the way."""
    a, b, c, d, e, f = SCENES
    profile = {(a, b): 12, (b, a): 9, (c, b, a): 8, (d, c): 6, (d,): 2, (e, d, a): 4, (f, e): 2,
               (f,): 1, (c,): 3, (e, b): 2}
    return count(profile, SCENES)


@pytest.fixture(scope="module")
def stv() -> dict:
    """Two seats by STV: a fractional surplus (with a residual) and an exhausted elimination."""
    profile = {("A", "B"): 11, ("A", "C"): 6, ("B",): 3, ("C", "B"): 4, ("D", "C"): 2, ("D", "A"): 1,
               ("E", "D"): 2}
    return count(profile, ["A", "B", "C", "D", "E"], method="stv", seats=2)


@pytest.fixture(scope="module")
def hostile() -> dict:
    h = HOSTILE
    profile = {tuple(h[:4]): 9, tuple(h[1:]): 7, (h[3], h[4]): 6, (h[4],): 5, (h[2], h[0]): 3}
    return results_from(tabulate(profile, h, Rules()), dramas={name: name for name in h})


@pytest.fixture(scope="module")
def empty() -> dict:
    return count({}, SCENES)


@pytest.fixture(scope="module")
def borda() -> dict:
    return count({("A", "B", "C"): 5, ("B", "C"): 4, ("C", "A"): 3}, ["A", "B", "C"], method="borda")


def tally_total(round_: dict, inactive: bool = True) -> Decimal:
    total = sum(Decimal(v) for v in round_["tally"].values())
    if inactive:
        total += sum(Decimal(v) for v in round_.get("inactiveBallots", {}).values())
    return total


# -- sanity of every chart: finite, non-negative numbers; labels inside the chart ---------


def walk(value):
    """Every dataclass, number and string inside a chart."""
    yield value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from walk(getattr(value, field.name))
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from walk(item)


def path_points(d: str) -> list[tuple[float, float]]:
    """Every point of path data (ends and control points), absolute; M/m, L/l, H/h, V/v,
    C/c and Z/z, which is all the charts write."""
    tokens = re.findall(r"[MmLlHhVvCcZz]|-?(?:\d+\.?\d*|\.\d+)(?:e-?\d+)?", d)
    assert "".join(tokens) == d.replace(" ", ""), d  # nothing else in it
    points, x, y, start, i, command = [], 0.0, 0.0, (0.0, 0.0), 0, ""
    arity = {"M": 2, "L": 2, "H": 1, "V": 1, "C": 6, "Z": 0}
    while i < len(tokens):
        if tokens[i].isalpha():
            command, i = tokens[i], i + 1
            if command in "Zz":
                x, y = start
                continue
        args = [float(t) for t in tokens[i:i + arity[command.upper()]]]
        assert len(args) == arity[command.upper()], d
        i += len(args)
        relative = command.islower()
        if command in "Hh":
            x = x + args[0] if relative else args[0]
        elif command in "Vv":
            y = y + args[0] if relative else args[0]
        else:
            pairs = [(args[j] + (x if relative else 0), args[j + 1] + (y if relative else 0))
                     for j in range(0, len(args), 2)]
            points.extend(pairs[:-1])
            x, y = pairs[-1]
        points.append((x, y))
        if command in "Mm":
            start = (x, y)
            command = "l" if relative else "L"  # further pairs are lines
    return points


def grid_matrix(transform: str) -> tuple[float, ...]:
    match = re.fullmatch(r"matrix\(([^)]*)\)", transform)
    return tuple(float(n) for n in match.group(1).split())


def assert_inside(chart, d: str, matrix=(1, 0, 0, 1, 0, 0)) -> None:
    assert "nan" not in d.lower() and "inf" not in d.lower(), d
    a, b, c, dd, e, f = matrix
    for x, y in path_points(d):
        px, py = a * x + c * y + e, b * x + dd * y + f
        assert -0.5 <= px <= chart.width + 0.5 and -0.5 <= py <= chart.height + 0.5, (px, py, d)


def assert_sane(chart) -> None:
    assert chart.width == VIEWBOX_WIDTH
    assert chart.height > 0
    for value in walk(chart):
        if isinstance(value, float) and not isinstance(value, bool):
            assert math.isfinite(value) and value >= 0, (value, chart)
    # Every shape lies inside the chart: the flow's blocks and bands once mapped from its grid.
    if isinstance(chart, charts.FlowChart):
        for paint in chart.keep_paths + chart.move_paths + chart.block_paths:
            assert_inside(chart, paint.d, grid_matrix(chart.grid))
        assert_inside(chart, chart.boxes_path)
    elif isinstance(chart, charts.BoardChart):
        assert_inside(chart, chart.rules)
    elif isinstance(chart, charts.BarsChart):
        assert_inside(chart, chart.value_boxes)
        if chart.threshold:
            assert_inside(chart, chart.threshold.dashes)
    for text, left, right in placed_labels(chart):
        assert -0.5 <= left and right <= VIEWBOX_WIDTH + 0.5, (text, left, right)


def extent(text: str, x: float, size: float, bold: bool = False, anchor: str = "start"):
    width = text_width(text, size, bold)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return text, left, left + width


def placed_labels(chart):
    """(text, left, right) of the data labels the chart placed (estimated widths)."""
    if isinstance(chart, charts.BoardChart):
        for row in chart.rows:
            yield extent(row.title.text, chart.title_x, 13, True)
            if row.drama:
                yield extent(row.drama.text, chart.title_x, 11)
            if row.value:
                yield extent(row.value, chart.value_x, 13, True, "end")
                # The title stops before the value column.
                assert chart.title_x + text_width(row.title.text, 13, True) < \
                    chart.value_x - text_width(row.value, 13, True)
    elif isinstance(chart, charts.BarsChart):
        for bar in chart.bars + ((chart.inactive,) if chart.inactive else ()):
            yield extent(bar.name.text, bar.x, 12, bar.mark in ("elected", "winner"))
            yield extent(bar.value, bar.value_x, 12, bar.mark in ("elected", "winner"))
            if bar.mark:  # the name leaves room for the mark's word
                assert bar.x + text_width(bar.name.text, 12, True) <= bar.tag_x - charts.TAG_ROOM + 0.5
    elif isinstance(chart, charts.FlowChart):
        for item in chart.legend:
            yield extent(item.name.text, item.text_x, 12)
        for round_ in chart.rounds:
            if round_.caption:
                yield extent(round_.caption.names.text, round_.caption.x, 12)
            for node in round_.nodes:
                if node.count_label:
                    yield extent(node.count_label, node.count_x, 11, anchor=node.count_anchor)
                if node.name_label:
                    text, left, right = extent(node.name_label.text, node.name_x, 11)
                    assert right <= node.count_x - text_width(node.count_label, 11)  # no overlap
                    yield text, left, right
    elif isinstance(chart, charts.BadgeChart):
        yield extent(chart.title.text, chart.text_x, 14, True)
        if chart.drama:
            yield extent(chart.drama.text, chart.text_x, 11)


# -- text fitting and numbers -----------------------------------------------------------


def test_fit_cuts_long_text_with_an_ellipsis_inside_its_room():
    label = fit("The rooftop kiss in the rain after the long misunderstanding", 120, 12)
    assert label.text.endswith("…") and label.truncated
    assert text_width(label.text, 12) <= 120
    assert label.full.startswith(label.text[:-1])
    assert fit("Short", 120, 12) == Label("Short", "Short")


def test_wide_characters_count_about_double_and_emoji_sequences_stay_whole():
    assert text_width("가나다", 12) >= 1.5 * text_width("abc", 12)
    family = "👩\u200d❤️\u200d💋\u200d👨"  # one glyph: a kiss emoji ZWJ sequence
    label = fit(family * 20, 100, 12)
    body = label.text[:-1]
    assert len(body) % len(family) == 0 and body == family * (len(body) // len(family))
    assert fit("", 100, 12) == Label("", "")
    assert fit("anything", 1, 12).text in ("", "…")


def test_labels_are_one_line_of_xml_safe_text():
    label = fit("Line\none\x00\x1b\u202eevil\ttab", 500, 12)
    assert label.text == "Line oneevil tab"  # controls dropped, whitespace runs made one space


@pytest.mark.parametrize("raw, shown", [
    ("12", "12"), ("12.0", "12"), ("12.50", "12.5"), ("7.2501", "7.25"), ("0.005", "0.01"),
    (3, "3"), ("1234567", "1,234,567"), ("abc", "0"), (None, "0"), ("NaN", "0"), ("Infinity", "0"),
])
def test_format_number(raw, shown):
    assert format_number(raw) == shown


def test_palettes():
    light, dark = charts.palette_for("light", None), charts.palette_for("dark", None)
    assert light.background != dark.background and light.text != dark.text
    assert charts.palette_for("dark", "#00AA11").accent == "#00aa11"
    assert charts.palette_for("light", "red;x").accent == light.accent  # never into an attribute
    assert charts.palette_for("sepia", None) == light

    def luminance(colour):
        def channel(c):
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = (channel(int(colour[i:i + 2], 16) / 255) for i in (1, 3, 5))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    def contrast(a, b):
        low, high = sorted((luminance(a), luminance(b)))
        return (high + 0.05) / (low + 0.05)

    assert len(set(light.series)) >= 10 and light.series == dark.series
    for colour in light.series:  # bands read on both themes (WCAG 1.4.11: 3:1)
        assert contrast(colour, light.background) >= 2.9 and contrast(colour, dark.background) >= 2.9


# -- board --------------------------------------------------------------------------------


def test_board_lists_the_top_rows_with_the_winner_highlighted(irv):
    chart = charts.board_chart(irv, 3)
    assert [row.title.full for row in chart.rows] == irv["ranking"][:3]
    assert [row.place for row in chart.rows] == [1, 2, 3]
    assert [row.leader for row in chart.rows] == [True, False, False]
    assert chart.rows[0].value == irv["leaderboard"][0]["first_choices"]
    assert chart.value_kind == "first_choices" and chart.more == len(SCENES) - 3
    assert [row.y for row in chart.rows] == sorted(row.y for row in chart.rows)
    assert chart.height >= chart.rows[-1].y + chart.rows[-1].height
    assert_sane(chart)
    assert len(charts.board_chart(irv, 0).rows) == 1 and len(charts.board_chart(irv, 99).rows) == len(SCENES)


def test_board_of_borda_shows_scores(borda):
    chart = charts.board_chart(borda, 5)
    assert chart.value_kind == "score"
    assert [row.value for row in chart.rows] == [format_number(r["score"]) for r in borda["leaderboard"]]


def test_board_without_ballots_has_no_places_or_leader(empty):
    chart = charts.board_chart(empty, 5)
    assert chart.empty and len(chart.rows) == 5
    assert all(row.place is None and not row.leader and row.value == "" for row in chart.rows)
    assert_sane(chart)


def test_board_cuts_long_titles_before_the_value_column():
    results = count({("Ω" * 80, "B"): 1234567}, ["Ω" * 80, "B"])
    row = charts.board_chart(results, 5).rows[0]
    assert row.title.truncated and row.value == "1,234,567"
    assert_sane(charts.board_chart(results, 5))


# -- bars ---------------------------------------------------------------------------------


def test_bars_are_proportional_sorted_and_marked(irv):
    rounds = irv["rounds"]
    for number in range(1, len(rounds) + 1):
        chart = charts.round_chart(irv, number, show_inactive=True)
        round_ = rounds[number - 1]
        assert chart.round_number == number and chart.round_count == len(rounds)
        assert sorted(bar.name.full for bar in chart.bars) == sorted(round_["tally"])
        votes = [bar.votes for bar in chart.bars]
        assert votes == sorted(votes, reverse=True)
        scale = chart.bars[0].width / chart.bars[0].votes
        for bar in chart.bars:  # one scale: widths proportional to votes
            assert bar.width == pytest.approx(bar.votes * scale, abs=0.11)  # one decimal
        out = {r["eliminated"] for r in round_["tallyResults"] if "eliminated" in r}
        assert {bar.name.full for bar in chart.bars if bar.mark == "eliminated"} == out
        line = chart.threshold
        assert line.value == format_number(round_["threshold"]) and line.kind == "majority"
        assert line.x == pytest.approx(chart.left + float(round_["threshold"]) * scale, abs=0.15)
        assert chart.left <= line.x <= chart.right
        inactive = sum(Decimal(v) for v in round_["inactiveBallots"].values())
        assert chart.inactive.votes == float(inactive)
        assert chart.inactive.width == pytest.approx(float(inactive) * scale, abs=0.15)
        assert_sane(chart)
    last = charts.round_chart(irv, None, show_inactive=False)
    assert last.round_number == len(rounds) and last.inactive is None
    assert [bar.mark for bar in last.bars][0] == "elected"


@pytest.mark.parametrize("asked, shown", [(None, "last"), (0, 1), (-3, 1), (1, 1), (999, "last"), ("x", "last")])
def test_round_numbers_are_clamped(irv, asked, shown):
    chart = charts.round_chart(irv, asked, True)
    assert chart.round_number == (len(irv["rounds"]) if shown == "last" else shown)


def test_bars_of_stv_keep_earlier_winners_marked_and_quota(stv):
    chart = charts.round_chart(stv, 2, True)
    marks = {bar.name.full: bar.mark for bar in chart.bars}
    assert marks["A"] == "elected" and chart.threshold.kind == "quota"
    assert any("." in bar.value for bar in chart.bars)  # fractional counts, at most two decimals
    assert all(len(bar.value.partition(".")[2]) <= 2 for bar in chart.bars)
    assert_sane(chart)


def test_bars_without_rounds_chart_the_leaderboard(borda):
    chart = charts.round_chart(borda, 3, True)
    assert not chart.has_rounds and chart.round_number == 0 and chart.round_count == 0
    assert chart.value_kind == "score" and chart.threshold is None and chart.inactive is None
    values = [Decimal(r["score"]) for r in borda["leaderboard"]]
    assert [bar.votes for bar in chart.bars] == sorted(map(float, values), reverse=True)
    assert [bar.mark for bar in chart.bars].count("winner") == len(borda["winners"])
    plurality = dict(borda, leaderboard=[dict(r, score=None) for r in borda["leaderboard"]])
    assert charts.round_chart(plurality, None, True).value_kind == "first_choices"


def test_bars_without_ballots(empty):
    chart = charts.round_chart(empty, None, True)
    assert chart.empty and chart.bars == () and chart.threshold is None
    assert_sane(chart)


# -- flow ---------------------------------------------------------------------------------


def band_sums(chart, number):
    leaving = [b for b in chart.bands if b.round_number == number]
    out, into = {}, {}
    for band in leaving:
        out[band.source] = out.get(band.source, 0) + band.value
        into[band.target] = into.get(band.target, 0) + band.value
    return leaving, out, into


def test_flow_bands_conserve_ballots_between_rounds(irv):
    chart = charts.flow_chart(irv, show_inactive=True)
    rounds = irv["rounds"]
    assert chart.message is None and len(chart.rounds) == len(rounds)
    for index in range(len(rounds) - 1):
        leaving, out, into = band_sums(chart, index + 1)
        here, there = chart.rounds[index], chart.rounds[index + 1]
        # Everything in round r leaves it, and arrives exactly at round r+1's blocks.
        assert sum(out.values()) == pytest.approx(float(tally_total(rounds[index])))
        assert sum(into.values()) == pytest.approx(float(tally_total(rounds[index + 1])))
        for node in here.nodes:
            assert out.get(node.name, 0) == pytest.approx(node.value)
        for node in there.nodes:
            assert into.get(node.name, 0) == pytest.approx(node.value)
        # Geometry (one decimal): every band is value * scale wide and starts and ends
        # inside its blocks; side by side bands share their edges.
        source = {n.name: n for n in here.nodes}
        target = {n.name: n for n in there.nodes}
        for band in leaving:
            width = band.value * chart.scale
            assert band.source_end - band.source_x == pytest.approx(width, abs=0.11)
            assert band.target_end - band.target_x == pytest.approx(width, abs=0.11)
            assert source[band.source].x <= band.source_x
            assert band.source_end <= source[band.source].x + source[band.source].width + 1e-9
            assert target[band.target].x <= band.target_x
            assert band.target_end <= target[band.target].x + target[band.target].width + 1e-9
        for name, node in source.items():
            edges = sorted((b.source_x, b.source_end) for b in leaving if b.source == name)
            assert all(a[1] == b[0] for a, b in zip(edges, edges[1:])), edges
    # Blocks are as wide as their ballots, left to right without overlapping.
    for round_ in chart.rounds:
        for node in round_.nodes:
            assert node.width == pytest.approx(node.value * chart.scale, abs=0.11)
        for left, right in zip(round_.nodes, round_.nodes[1:]):
            assert left.x + left.width <= right.x + 0.01
        assert round_.nodes[-1].inactive
    assert_sane(chart)


def test_flow_of_stv_with_fractions_and_surpluses(stv):
    chart = charts.flow_chart(stv, show_inactive=True)
    rounds = stv["rounds"]
    first, _, _ = band_sums(chart, 1)
    surplus = [b for b in first if b.source == "A" and b.kind == "transfer"]
    assert {b.target for b in surplus} == {"B", "C"} and any(b.value % 1 for b in surplus)
    for index in range(len(rounds) - 1):
        _, out, into = band_sums(chart, index + 1)
        # The residual surplus (rounding) is drawn nowhere: totals agree to it.
        assert sum(out.values()) == pytest.approx(float(tally_total(rounds[index])), abs=0.01)
        assert sum(into.values()) == pytest.approx(float(tally_total(rounds[index + 1])), abs=0.01)
    assert_sane(chart)
    captions = [r.caption.kind if r.caption else None for r in chart.rounds]
    assert captions[0] == "elected" and "eliminated" in captions


def test_flow_without_inactive_draws_no_inactive_block(irv):
    chart = charts.flow_chart(irv, show_inactive=False)
    assert chart.inactive_legend is None
    assert not any(node.inactive for r in chart.rounds for node in r.nodes)
    assert not any(band.to_inactive or band.from_inactive for band in chart.bands)
    # What is left still arrives where the engine says it does.
    for index in range(len(irv["rounds"]) - 1):
        _, _, into = band_sums(chart, index + 1)
        for node in chart.rounds[index + 1].nodes:
            assert into.get(node.name, 0) == pytest.approx(node.value)
    assert_sane(chart)


def test_flow_summary_lists_every_transfer(irv):
    chart = charts.flow_chart(irv, True)
    eliminated = [r["tallyResults"][0]["eliminated"] for r in irv["rounds"][:-1]]
    assert [t.name for t in chart.transfers] == eliminated
    moved = {m.to: m.value_label for m in chart.transfers[0].moves}
    expected = irv["rounds"][0]["tallyResults"][0]["transfers"]
    assert len(moved) == len(expected)


def test_flow_messages(empty, borda):
    assert charts.flow_chart(empty, True).message == "no_ballots"
    assert charts.flow_chart(borda, True).message == "no_rounds"
    one = charts.flow_chart(count({("A",): 5, ("B",): 1}, ["A", "B"]), True)
    assert one.message == "one_round" and len(one.rounds) == 1 and one.bands == ()
    for chart in (charts.flow_chart(empty, True), charts.flow_chart(borda, True), one):
        assert_sane(chart)


def test_flow_stays_readable_at_320_units_with_many_scenes_and_rounds():
    names = [f"Scene {i} — a long title for a kiss in the rain" for i in range(14)]
    profile = {tuple(names[i:i + 3]): 3 + i for i in range(14)}
    results = count(profile, names)
    assert len(results["rounds"]) >= 10
    chart = charts.flow_chart(results, True)
    assert_sane(chart)
    assert len(chart.legend) == len(names)
    # Rows follow each other downwards; the legend comes first.
    tops = [r.nodes[0].y for r in chart.rounds]
    assert tops == sorted(tops) and chart.legend[-1].text_y < chart.rounds[0].label_y
    assert chart.height >= tops[-1] + charts.NODE_H


# -- badge --------------------------------------------------------------------------------


def test_badge(irv, empty, stv):
    open_ = charts.badge_chart(irv, closed=False)
    assert not open_.empty and not open_.closed and open_.title.full == irv["winners"][0]
    assert open_.drama.full == f"Drama {irv['winners'][0]}" and open_.ballots_label == str(irv["total_ballots"])
    assert (open_.width, open_.height) == (320, 56)
    assert charts.badge_chart(irv, closed=True).closed
    assert charts.badge_chart(empty, False).empty
    assert charts.badge_chart(stv, False).others == len(stv["winners"]) - 1
    long = count({("x" * 300,): 1}, ["x" * 300])
    assert charts.badge_chart(long, False).title.truncated
    for chart in (open_, charts.badge_chart(empty, False), charts.badge_chart(long, False)):
        assert_sane(chart)


# -- broken or odd data never raises ------------------------------------------------------


BROKEN = [
    {},
    {"rounds": None, "leaderboard": None, "winners": None, "total_ballots": None},
    {"total_ballots": "many", "summary": {"totalNumBallots": "7"}, "leaderboard": [{"title": "Only"}]},
    {"total_ballots": 5, "winners": ["Ghost"], "ranking": ["A"], "leaderboard": [{"title": "A", "first_choices": "x"}],
     "rounds": [{"round": 1}, {"tally": {"A": "NaN", "B": "-4", "C": "1e400", "": "3"}, "tallyResults": "nope"},
                {"tally": {"A": "2"}, "tallyResults": [{"eliminated": "C", "transfers": {"Nobody": "3", "A": "x"}},
                                                       {"elected": "A", "transfers": None}, "junk"],
                 "threshold": "NaN", "inactiveBallots": {"exhaustedChoices": "-1"}},
                {"tally": {}, "tallyResults": [], "threshold": "0"}]},
    # A scene eliminated but still in the next round, a transfer to a scene missing from it.
    {"total_ballots": 6, "ranking": ["A", "B", "C"],
     "rounds": [{"tally": {"A": "3", "B": "2", "C": "1"},
                 "tallyResults": [{"eliminated": "C", "transfers": {"Z": "1"}}], "threshold": "4",
                 "inactiveBallots": {"exhaustedChoices": "0"}},
                {"tally": {"A": "3", "B": "2", "C": "1"}, "tallyResults": [{"elected": "A", "transfers": {}}],
                 "threshold": "4", "inactiveBallots": {"exhaustedChoices": "1"}}]},
]


@pytest.mark.parametrize("results", BROKEN)
def test_odd_results_render_without_exceptions(results):
    for show in (True, False):
        for number in (None, 1, 2, 50):
            assert_sane(charts.round_chart(results, number, show))
        assert_sane(charts.flow_chart(results, show))
    assert_sane(charts.board_chart(results, 5))
    assert_sane(charts.badge_chart(results, True))


def test_one_and_fifty_candidates():
    one = count({("Only",): 3}, ["Only"])
    names = [f"Candidate {i:02d}" for i in range(50)]
    fifty = count({tuple(names[i:i + 4]): 1 + i % 7 for i in range(50)}, names)
    for results in (one, fifty):
        for chart in (charts.board_chart(results, 50), charts.round_chart(results, None, True),
                      charts.round_chart(results, 1, True), charts.flow_chart(results, True),
                      charts.badge_chart(results, False)):
            assert_sane(chart)
    assert len(charts.flow_chart(fifty, True).rounds) == len(fifty["rounds"])


# -- templates ------------------------------------------------------------------------------


CLASSES = {"kp-bg", "kp-text", "kp-muted", "kp-accent", "kp-accent-stroke", "kp-line", "kp-inactive"}
ELEMENTS = {"svg", "title", "desc", "g", "rect", "text", "path", "line", "circle"}


def chart_for(view: str, results: dict, **kwargs):
    if view == "board":
        return charts.board_chart(results, kwargs.get("top", 10))
    if view == "bars":
        return charts.round_chart(results, kwargs.get("round"), True)
    if view == "flow":
        return charts.flow_chart(results, True)
    return charts.badge_chart(results, kwargs.get("closed", False))


def render(app, view: str, chart, theme: str = "light", title: str = "Best kiss <2014> & more",
           **context) -> str:
    with app.test_request_context("/"):
        return render_template(f"embed/svg/{view}.svg", chart=chart,
                               palette=charts.palette_for(theme, None), title=title, **context)


def check_svg(text: str, chart, palette, standalone: bool = True) -> ET.Element:
    """Well-formed, sized, labelled, script- and style-free SVG; returns its root. Every
    painted element is re-coloured by one kp-* class (its own or its nearest group's),
    or is a series colour; shown alone, everything has its colour as an attribute."""
    assert text.startswith("<svg ")
    if not standalone:  # inside the widget page: the HTML parser needs no namespace
        assert "xmlns" not in text
        text = text.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1)
    root = ET.fromstring(text)
    assert root.tag == SVG + "svg"
    height = chart.height if standalone or not isinstance(chart, charts.BoardChart) or chart.more \
        else chart.body_height
    assert root.get("viewBox") == f"0 0 {chart.width} {height}"
    assert root.get("viewBox").split()[2] == str(VIEWBOX_WIDTH)
    assert (root.get("width"), root.get("role")) == ("100%" if standalone else None, "img")
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert set(root.get("aria-labelledby").split()) <= ids and all(i.startswith("kp-") for i in ids)
    assert root.find(SVG + "title").text and "".join(root.find(SVG + "desc").itertext()).strip()
    parents = {child: parent for parent in root.iter() for child in parent}

    def inherited(el, name):
        while el is not None and el.get(name) is None:
            el = parents.get(el)
        return None if el is None else el.get(name)

    for el in root.iter():
        tag = el.tag.removeprefix(SVG)
        assert tag in ELEMENTS, tag
        assert "style" not in el.attrib
        assert not any(name.lower().startswith("on") or ":" in name for name in el.attrib), el.attrib
        if tag in ("rect", "text", "path", "line", "circle"):
            classes = set((inherited(el, "class") or "").split())
            if not classes:  # series colours are attributes only
                assert el.get("fill") in palette.series or el.get("stroke") in palette.series, (tag, el.attrib)
            else:
                assert len(classes) == 1 and classes <= CLASSES, classes
                paint = "stroke" if classes == {"kp-line"} or "kp-line" in (el.get("class") or "") else "fill"
                assert (inherited(el, paint) is not None) == standalone or el.get(paint) == "none", el.attrib
        if tag == "text":
            assert float(inherited(el, "font-size")) >= 11
    return root


def texts(root) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter() if el.tag in (SVG + "text", SVG + "title", SVG + "desc")]


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_templates_escape_hostile_names(app, hostile, view, theme):
    chart = chart_for(view, hostile, round=1)  # round 1: every scene still counted
    text = render(app, view, chart, theme)
    root = check_svg(text, chart, charts.palette_for(theme, None))
    # The names are text, never markup: one <svg> element, no script, no handler attribute.
    assert "<script" not in text and text.count("<svg") == 1
    assert root.find(f".//{SVG}script") is None and root.find(f".//{SVG}style") is None
    assert sum(1 for el in root.iter() if el.tag == SVG + "svg") == 1
    everything = "\n".join(texts(root))
    # Titles and descriptions carry the full names, which round-trip exactly.
    if view == "badge":
        assert hostile["winners"][0] in everything
    else:
        for name in HOSTILE:
            assert name in everything, name
    assert "Best kiss <2014> & more" in root.find(SVG + "title").text
    if view != "badge":
        assert "&lt;script&gt;" in text


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("fixture", ["irv", "stv", "empty", "borda"])
def test_templates_render_every_kind_of_results(app, request, view, fixture):
    results = request.getfixturevalue(fixture)
    for chart in (chart_for(view, results), chart_for(view, results, round=1, closed=True, top=1)):
        check_svg(render(app, view, chart, "dark"), chart, charts.palette_for("dark", None))


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("fixture", ["irv", "stv", "empty", "borda", "hostile"])
def test_templates_inside_the_widget_page_leave_the_colours_to_its_stylesheet(app, request, view, fixture):
    results = request.getfixturevalue(fixture)
    for chart in (chart_for(view, results), chart_for(view, results, round=1, closed=True, top=1)):
        alone = render(app, view, chart, "dark")
        inline = render(app, view, chart, "dark", standalone=False)
        check_svg(inline, chart, charts.palette_for("dark", None), standalone=False)
        assert len(inline) < len(alone) and "font-family" not in inline
        # The same shapes and words either way, but the background (the page's) and the
        # board's count of ballots (the page says it under the chart).
        def content(text):
            root = ET.fromstring(text if "xmlns" in text else text.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))
            shapes = [el.tag for el in root.iter() if el.tag != SVG + "text"
                      and not (el.tag == SVG + "rect" and el.get("class") == "kp-bg" and el.get("rx") is None)]
            words = ["".join(el.itertext()) for el in root.iter(SVG + "text")
                     if not (view == "board" and el.get("y") == str(chart.footer_y))]
            return shapes, words
        assert content(inline) == content(alone)


def test_board_footer_counts_ballots_only_in_the_svg_shown_alone(app, irv):
    """The widget page says "N ballots · method" under the chart: no second count there."""
    ballots = f"{irv['total_ballots']} ballots"

    def footer(text: str, chart) -> str | None:
        text = text if "xmlns" in text else text.replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1)
        rows = [el for el in ET.fromstring(text).iter(SVG + "text") if el.get("y") == str(chart.footer_y)]
        return "".join(rows[0].itertext()) if rows else None

    chart = charts.board_chart(irv, 3)  # three more scenes left out
    assert footer(render(app, "board", chart), chart) == f"{ballots} · 3 more scenes"
    assert footer(render(app, "board", chart, standalone=False), chart) == "3 more scenes"
    chart = charts.board_chart(irv, 50)
    assert footer(render(app, "board", chart), chart) == ballots
    inline = render(app, "board", chart, standalone=False)
    assert footer(inline, chart) is None  # nothing to say: no footer, the chart ends after the last row
    assert f'viewBox="0 0 320 {chart.body_height}"' in inline and chart.body_height < chart.height
    assert ballots in inline  # in the <desc>


def long_count() -> dict:
    """240 ballots over 11 scenes, counted in 10 rounds (most ballots rank a few scenes)."""
    import random
    names = ["Rooftop rain kiss", "Elevator kiss", "Umbrella kiss", "First-aid kiss", "Bus stop kiss",
             "Library kiss", "Piggyback kiss", "Snow globe kiss", "Hospital kiss", "Ferris wheel kiss",
             "Toast kiss"]
    weights = [30, 27, 25, 22, 20, 18, 15, 12, 10, 8, 5]
    rng, profile = random.Random(11), {}
    for _ in range(240):
        pool, odds, ballot = list(names), list(weights), []
        for _ in range(rng.choice([1, 2, 3, 3, 4, 5])):
            pick = rng.choices(range(len(pool)), weights=odds)[0]
            ballot.append(pool.pop(pick))
            odds.pop(pick)
        profile[tuple(ballot)] = profile.get(tuple(ballot), 0) + 1
    return count(profile, names)


def test_charts_of_a_long_count_stay_light(app):
    """The widget page must weigh under 15 KB with its stylesheet and script, and the flow
    of ten rounds of eleven scenes is most of it (about 9.4 KB inside the page, 9.8 KB
    shown alone, for this count; the board of all eleven about 3 KB)."""
    results = long_count()
    assert len(results["rounds"]) == 10 and len(results["ranking"]) == 11
    flow, board = charts.flow_chart(results, True), charts.board_chart(results, 50)
    assert len(flow.bands) > 100  # most eliminations spread over many scenes, as in real polls
    for view, chart, limit in (("flow", flow, 10 * 1024), ("board", board, 4 * 1024)):
        for standalone in (True, False):
            size = len(render(app, view, chart, standalone=standalone).encode())
            assert size < limit, (view, standalone, size)


def test_flow_paths_draw_the_blocks_and_bands_of_its_geometry(irv, stv):
    """The grid-unit paths the template draws put every block and band where the chart's
    numbers (chart units) say."""
    names = [f"Candidate {i:02d}" for i in range(20)]
    longer = count({tuple(names[i:i + 4]): 1 + i % 7 for i in range(20)}, names)  # 19 rounds: shorter bands
    assert len(longer["rounds"]) > 12
    for results in (irv, stv, long_count(), longer):
        chart = charts.flow_chart(results, True)
        a, _, _, d, e, f = grid_matrix(chart.grid)
        ballots_per_unit = math.log10(a / chart.scale)  # a power of ten
        assert abs(ballots_per_unit - round(ballots_per_unit)) < 1e-4
        nodes = [node for round_ in chart.rounds for node in round_.nodes if node.width]
        for name in {node.name for node in nodes}:
            colour = "" if name == charts.INACTIVE else nodes_colour(nodes, name)  # (12 colours: some repeat)
            points = [(round(a * x + e, 1), round(d * y + f, 1))
                      for p in chart.block_paths if p.colour == colour for x, y in path_points(p.d)]
            for node in (n for n in nodes if n.name == name):
                left, right = node.x, round(node.x + node.width, 1)
                if node.inactive:  # filled rectangles
                    assert (left, node.y) in points and (right, node.y + node.height) in points
                else:  # lines along the middle, stroked one grid unit (the block's height) wide
                    middle = node.y + node.height / 2
                    assert {(left, middle), (right, middle)} <= set(points), (name, node, points)
                    assert chart.block_stroke * d == node.height
        bands = chart.keep_paths + chart.move_paths
        corners = {(round(a * x + e, 1), round(d * y + f, 1)) for p in bands for x, y in path_points(p.d)}
        for band in chart.bands:
            assert {(band.source_x, band.y1), (band.source_end, band.y1), (band.target_x, band.y2),
                    (band.target_end, band.y2)} <= corners, band


def nodes_colour(nodes, name):
    return next(node.colour for node in nodes if node.name == name)


def test_counts_over_the_blocks_are_one_text_of_centred_characters(irv):
    chart = charts.flow_chart(irv, True)
    for round_ in chart.rounds:
        xs = [float(x) for x in round_.counts_x.split()]
        assert len(xs) == len(round_.counts_text)
        i = 0
        for node in round_.centred_counts:
            mine = xs[i:i + len(node.count_label)]
            i += len(node.count_label)
            assert abs((mine[0] + mine[-1]) / 2 - node.count_x) <= 0.5  # centred on the block
            assert all(b - a == 6.5 for a, b in zip(mine, mine[1:]))  # digits' usual spacing at 11
    assert charts.spread("1,234", 100, 11)[1] - charts.spread("1,234", 100, 11)[0] < 6.5  # a comma is narrow


def test_templates_render_odd_results(app):
    for results in BROKEN:
        for view in VIEWS:
            chart = chart_for(view, results)
            check_svg(render(app, view, chart), chart, charts.palette_for("light", None))


def test_template_words_in_english_by_default(app, irv, empty):
    words = {
        "board": ["Scene", "First choices", "ballots"],
        "bars": ["Round 5 of 5", "Majority: ", "Elected", "Inactive ballots"],
        "flow": ["Round 1", "eliminated", "elected", "Inactive ballots"],
        "badge": ["Leader", "ballots"],
    }
    for view, expected in words.items():
        everything = "\n".join(texts(ET.fromstring(render(app, view, chart_for(view, irv)))))
        for word in expected:
            assert word in everything, (view, word)
    assert "Winner" in render(app, "badge", charts.badge_chart(irv, True))
    for view in VIEWS:
        assert "No ballots yet" in render(app, view, chart_for(view, empty))


def test_every_word_goes_through_gettext(app, irv, borda, empty):
    """With a marking catalogue, no visible English is left outside the marks except data."""
    app.jinja_env.install_gettext_callables(
        lambda s: f"⟦{s}⟧", lambda s, p, n: f"⟦{s if n == 1 else p}⟧", newstyle=True)
    for results in (irv, borda, empty):
        for view in VIEWS:
            for chart in (chart_for(view, results), chart_for(view, results, closed=True)):
                root = ET.fromstring(render(app, view, chart, title="Poll"))
                data = sorted({v for v in walk(chart) if isinstance(v, str) and v}
                              | {label.full for label in walk(chart) if isinstance(label, Label)}
                              | {"Poll"}, key=len, reverse=True)
                for text in texts(root):
                    rest = re.sub(r"⟦[^⟧]*⟧", "", text)
                    for item in data:
                        rest = rest.replace(item, "")
                    assert not re.search(r"[A-Za-z]", rest), (view, text, rest)
