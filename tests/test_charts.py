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


def assert_sane(chart) -> None:
    assert chart.width == VIEWBOX_WIDTH
    assert chart.height > 0
    for value in walk(chart):
        if isinstance(value, float) and not isinstance(value, bool):
            assert math.isfinite(value) and value >= 0, (value, chart)
        if isinstance(value, str) and value.startswith("M"):  # a path
            numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", value)]
            assert "nan" not in value.lower() and "inf" not in value.lower()
            assert all(abs(n) <= max(chart.width, chart.height) + 1 for n in numbers), value
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
            assert bar.width == pytest.approx(bar.votes * scale, abs=0.02)
        out = {r["eliminated"] for r in round_["tallyResults"] if "eliminated" in r}
        assert {bar.name.full for bar in chart.bars if bar.mark == "eliminated"} == out
        line = chart.threshold
        assert line.value == format_number(round_["threshold"]) and line.kind == "majority"
        assert line.x == pytest.approx(chart.left + float(round_["threshold"]) * scale, abs=0.01)
        assert chart.left <= line.x <= chart.right
        inactive = sum(Decimal(v) for v in round_["inactiveBallots"].values())
        assert chart.inactive.votes == float(inactive)
        assert chart.inactive.width == pytest.approx(float(inactive) * scale, abs=0.01)
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
        # Geometry: every band is value * scale wide and starts and ends inside its blocks.
        source = {n.name: n for n in here.nodes}
        target = {n.name: n for n in there.nodes}
        for band in leaving:
            width = band.value * chart.scale
            assert source[band.source].x - 0.01 <= band.source_x
            assert band.source_x + width <= source[band.source].x + source[band.source].width + 0.02
            assert target[band.target].x - 0.01 <= band.target_x
            assert band.target_x + width <= target[band.target].x + target[band.target].width + 0.02
    # Blocks are as wide as their ballots, left to right without overlapping.
    for round_ in chart.rounds:
        for node in round_.nodes:
            assert node.width == pytest.approx(node.value * chart.scale, abs=0.01)
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


def render(app, view: str, chart, theme: str = "light", title: str = "Best kiss <2014> & more") -> str:
    with app.test_request_context("/"):
        return render_template(f"embed/svg/{view}.svg", chart=chart,
                               palette=charts.palette_for(theme, None), title=title)


def check_svg(text: str, chart, palette) -> ET.Element:
    """Well-formed, sized, labelled, script- and style-free SVG; returns its root."""
    assert text.startswith("<svg ")
    root = ET.fromstring(text)
    assert root.tag == SVG + "svg"
    assert root.get("viewBox") == f"0 0 {chart.width} {chart.height}"
    assert root.get("viewBox").split()[2] == str(VIEWBOX_WIDTH)
    assert root.get("width") == "100%" and root.get("role") == "img"
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    assert set(root.get("aria-labelledby").split()) <= ids and all(i.startswith("kp-") for i in ids)
    assert root.find(SVG + "title").text and "".join(root.find(SVG + "desc").itertext()).strip()
    for el in root.iter():
        tag = el.tag.removeprefix(SVG)
        assert tag in ELEMENTS, tag
        assert "style" not in el.attrib
        assert not any(name.lower().startswith("on") or ":" in name for name in el.attrib), el.attrib
        if tag in ("rect", "text", "path", "line", "circle"):
            classes = set((el.get("class") or "").split())
            if not classes:  # series colours are attributes only
                assert el.get("fill") in palette.series, (tag, el.attrib)
            else:
                assert len(classes) == 1 and classes <= CLASSES, classes
        if tag == "text":
            assert float(el.get("font-size")) >= 11
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
