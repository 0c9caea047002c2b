"""Results through the app: a hand-counted instant-runoff, every other counting method, stored
rules and their fallbacks; page, API and widget agree, and hostile names stay escaped."""
import contextlib
import json
import logging
from decimal import Decimal

import pytest

from polls.extensions import db
from polls.models import Ballot, Poll
from polls.tally.cli import main as tally_main


@pytest.fixture
def three_round_poll(app, make_poll):
    """14 ballots counted by hand: A leads round 1 but B wins in round 3.

    5 x A | 4 x B>A | 3 x C>B | 2 x D (no second choice)
    Round 1: A5 B4 C3 D2, threshold 8 -> D out, its 2 ballots exhaust.
    Round 2: A5 B4 C3 (12 continuing), threshold 7 -> C out, 3 go to B.
    Round 3: A5 B7, threshold 7 -> B elected.
    """
    poll = make_poll(titles=("A", "B", "C", "D"))
    a, b, c, d = poll["ids"]
    rankings = [[a]] * 5 + [[b, a]] * 4 + [[c, b]] * 3 + [[d]] * 2
    with app.app_context():
        db.session.add_all(
            Ballot(poll_id=poll["id"], voter_hash=f"{n:064d}", ranking=",".join(map(str, r)), receipt=f"r{n}")
            for n, r in enumerate(rankings)
        )
        db.session.commit()
    return poll


def numbers(mapping: dict) -> dict:
    return {key: Decimal(value) for key, value in mapping.items()}


def test_hand_counted_three_rounds(client, three_round_poll):
    body = client.get("/api/v1/polls/test-poll/results").get_json()
    rounds = body["rounds"]
    assert body["winners"] == ["B"]
    assert body["ranking"] == ["B", "A", "C", "D"]
    assert len(rounds) == 3
    assert numbers(rounds[0]["tally"]) == {"A": 5, "B": 4, "C": 3, "D": 2}
    assert Decimal(rounds[0]["threshold"]) == 8
    assert rounds[0]["tallyResults"][0]["eliminated"] == "D"
    assert numbers(rounds[0]["tallyResults"][0]["transfers"]) == {"exhausted": 2}
    assert numbers(rounds[1]["tally"]) == {"A": 5, "B": 4, "C": 3}
    assert Decimal(rounds[1]["threshold"]) == 7
    assert Decimal(rounds[1]["inactiveBallots"]["exhaustedChoices"]) == 2
    assert rounds[1]["tallyResults"][0]["eliminated"] == "C"
    assert numbers(rounds[1]["tallyResults"][0]["transfers"]) == {"B": 3}
    assert numbers(rounds[2]["tally"]) == {"A": 5, "B": 7}
    assert rounds[2]["tallyResults"][0]["elected"] == "B"
    assert body["total_ballots"] == 14
    assert [row["title"] for row in body["leaderboard"]] == ["B", "A", "C", "D"]


def test_results_page_shows_rounds_in_words(client, three_round_poll):
    html = client.get("/p/test-poll/results").get_data(as_text=True)
    assert "B</strong> is leading" in html
    assert "Round 3" in html
    assert "its ballots went to" in html and "no further choice (exhausted) +2" in html


def test_widget_shows_the_leader(client, three_round_poll):
    html = client.get("/embed/test-poll?view=badge").get_data(as_text=True)
    assert "Leader: B (Drama B). 14 ballots." in html  # the badge's summary for screen readers
    assert '<text class="kp-text" x="58" y="35" font-size="14" font-weight="700">B</text>' in html


def test_empty_poll_has_no_winner(client, make_poll):
    make_poll()
    body = client.get("/api/v1/polls/test-poll/results").get_json()
    assert body["winners"] == []
    assert body["total_ballots"] == 0
    assert "No ballots yet" in client.get("/p/test-poll/results").get_data(as_text=True)


# -- every counting method, through the page and the API -------------------------------

CYCLE = {("A", "B", "C"): 4, ("B", "C", "A"): 3, ("C", "A", "B"): 2}
"""A Condorcet cycle, 9 ballots: A beats B 6-3, B beats C 7-2, C beats A 5-4."""

SURPLUS = {("A", "B", "C"): 10, ("A", "C"): 4, ("A", "B"): 1, ("B", "D"): 3, ("C",): 2,
           ("D", "C"): 3, ("E",): 1}
"""24 ballots for 3 seats: Droop threshold 24/4+1 = 7; A's 15 first choices
elect it in round 1 and its surplus of 8 moves on at 8/15 = 0.5333 a ballot."""


def add_ballots(app, poll, profile: dict) -> None:
    """Store `profile` (titles best first -> count) as ballots, bypassing the API."""
    with app.app_context():
        ids = {c.title: c.id for c in db.session.get(Poll, poll["id"]).candidates}
        start = db.session.query(Ballot).count()
        rows = [ranking for ranking, count in profile.items() for _ in range(count)]
        db.session.add_all(
            Ballot(poll_id=poll["id"], voter_hash=f"{start + n:064d}", receipt=f"r{start + n}",
                   ranking=",".join(str(ids[t]) for t in ranking))
            for n, ranking in enumerate(rows)
        )
        db.session.commit()


def set_counting(app, poll, method: str, seats: int = 1, rules: str = "{}") -> None:
    with app.app_context():
        row = db.session.get(Poll, poll["id"])
        row.method, row.seats, row.rules = method, seats, rules
        db.session.commit()


def both(client) -> tuple[dict, str]:
    api = client.get("/api/v1/polls/test-poll/results")
    page = client.get("/p/test-poll/results")
    assert api.status_code == 200 and page.status_code == 200
    return api.get_json(), page.get_data(as_text=True)


@pytest.fixture
def cycle_poll(app, make_poll):
    poll = make_poll(titles=("A", "B", "C"))
    add_ballots(app, poll, CYCLE)
    return poll


@pytest.mark.parametrize("method, name, winners, ranking", [
    ("irv", "instant runoff", ["A"], ["A", "B", "C"]),
    ("schulze", "Schulze", ["A"], ["A", "B", "C"]),
    ("ranked-pairs", "ranked pairs", ["A"], ["A", "B", "C"]),
    ("borda", "Borda count", ["B"], ["B", "A", "C"]),
    ("plurality", "plurality", ["A"], ["A", "B", "C"]),
])
def test_every_method_counts_on_page_api_and_widget(app, client, cycle_poll, method, name, winners, ranking):
    set_counting(app, cycle_poll, method)
    body, html = both(client)
    assert body["method"] == method and body["seats"] == 1 and body["method_name"] == name
    assert body["winners"] == winners and body["ranking"] == ranking
    assert [row["title"] for row in body["leaderboard"]] == ranking
    assert body["total_ballots"] == 9 and body["slug"] == "test-poll" and body["status"] == "open"
    assert f"counted by {name}" in html
    assert f"<strong>{winners[0]}</strong> is leading" in html
    round_based = method == "irv"
    assert bool(body["rounds"]) == round_based and ("Round by round" in html) == round_based
    assert ("pairwise" in body) == (method in ("schulze", "ranked-pairs", "borda"))
    assert ("Head to head: who beats whom" in html) == ("pairwise" in body)
    assert ("scores" in body) == (method in ("borda", "plurality"))
    widget = client.get("/embed/test-poll").get_data(as_text=True)
    assert f"9 ballots · {name}" in widget


def test_condorcet_cycle_schulze(app, client, cycle_poll):
    set_counting(app, cycle_poll, "schulze")
    body, html = both(client)
    assert body["pairwise"] == {"A": {"B": "6", "C": "4"}, "B": {"A": "3", "C": "7"},
                                "C": {"A": "5", "B": "2"}}
    # A→B 6, A→C via B min(6,7) = 6; B→A via C min(7,5) = 5; C→B via A min(5,6) = 5.
    assert body["strongestPaths"] == {"A": {"B": "6", "C": "6"}, "B": {"A": "5", "C": "7"},
                                      "C": {"A": "5", "B": "5"}}
    assert body["condorcetWinner"] is None
    assert "No scene beats every other one head to head" in html
    assert "wins&nbsp;6&#8288;–&#8288;3" in html and "loses&nbsp;3&#8288;–&#8288;6" in html
    assert "wins&nbsp;5&#8288;–&#8288;4" in html
    assert "Strongest paths" in html
    assert '<th scope="col" class="num">vs B</th>' in html and "<caption" in html


def test_condorcet_cycle_ranked_pairs(app, client, cycle_poll):
    set_counting(app, cycle_poll, "ranked-pairs")
    body, html = both(client)
    assert body["lockedPairs"] == [{"winner": "B", "loser": "C", "margin": "5"},
                                   {"winner": "A", "loser": "B", "margin": "3"}]
    assert body["skippedPairs"] == [{"winner": "C", "loser": "A", "margin": "1"}]
    assert "<strong>B</strong> over C, margin 5" in html
    assert "C over A, margin 1: it would close a circle" in html


def test_condorcet_winner_is_named(app, client, make_poll):
    poll = make_poll(titles=("A", "B", "C"))
    add_ballots(app, poll, {("B", "A", "C"): 3, ("A", "B", "C"): 2, ("C", "B", "A"): 2})
    set_counting(app, poll, "borda")
    body, html = both(client)
    assert body["condorcetWinner"] == "B"
    assert "<strong>B</strong> beats every other scene head to head" in html


def test_borda_scores_and_tie_in_words(app, client, cycle_poll):
    set_counting(app, cycle_poll, "borda")
    body, html = both(client)
    # A: 4x2 + 2x1 = 10, B: 4x1 + 3x2 = 10, C: 3x1 + 2x2 = 7; the A/B tie goes to the seeded order.
    assert body["scores"] == {"B": "10", "A": "10", "C": "7"}
    assert [row["score"] for row in body["leaderboard"]] == ["10", "10", "7"]
    assert body["tie_breaks"][0]["tied"] == ["A", "B"]
    assert "Borda points" in html and "10 points" in html
    assert "Tie for 1st place between A and B: each has 10 points." in html


def test_plurality_scores(app, client, cycle_poll):
    set_counting(app, cycle_poll, "plurality")
    body, html = both(client)
    assert body["scores"] == {"A": "4", "B": "3", "C": "2"}
    assert "First-choice votes" in html and "4 votes" in html


def test_stv_three_seats_with_surplus(app, client, make_poll):
    poll = make_poll(titles=("A", "B", "C", "D", "E"))
    add_ballots(app, poll, SURPLUS)
    set_counting(app, poll, "stv", seats=3)
    body, html = both(client)
    assert body["method"] == "stv" and body["seats"] == 3
    assert body["method_name"] == "single transferable vote, 3 seats"
    assert body["winners"] == ["A", "B", "C"]
    assert body["ranking"] == ["A", "B", "C", "D", "E"]
    first = body["rounds"][0]
    assert first["threshold"] == "7" and numbers(first["tally"])["A"] == 15
    # 11 A>B ballots at 0.5333 = 5.8663, 4 A>C at 0.5333 = 2.1332; 15 - 15 x 0.5333 - 7 is left over.
    assert first["tallyResults"] == [{"elected": "A", "transfers": {
        "B": "5.8663", "C": "2.1332", "residual surplus": "0.0005"}}]
    second = body["rounds"][1]
    assert second["tally"]["A"] == "7" and second["tallyResults"][0]["elected"] == "B"
    assert "exhausted" in second["tallyResults"][0]["transfers"]
    # D's ballots: 3 D>C whole, 3 B>D at B's surplus fraction; then C wins the last seat,
    # and its surplus, with every seat filled, stays as the final-round surplus.
    assert body["rounds"][3]["tallyResults"] == [{"eliminated": "D", "transfers": {"C": "3", "exhausted": "0.6312"}}]
    assert body["rounds"][4]["tallyResults"][0]["elected"] == "C"
    assert body["rounds"][-1]["tallyResults"] == []
    assert body["rounds"][-1]["inactiveBallots"]["finalRoundSurplus"] == "1.2540"
    assert "<strong>A</strong>, <strong>B</strong>, <strong>C</strong>" in html
    assert "hold 3 of the 3 seats so far" in html
    assert "<strong>A</strong> is elected with 15 votes, reaching the 7 needed." in html
    assert "Its surplus moved on at a fraction of each ballot" in html
    assert "B +5.8663" in html and "residual surplus (fractions lost to rounding) +0.0005" in html
    assert "no further choice (exhausted) +0.1122" in html
    assert "<strong>C</strong> is elected with 8.2552 votes" in html
    assert "no seat left to fill (final-round surplus) +1.2540" in html
    assert "Surplus left when the last seat was filled" in html
    assert "all seats are filled; this is the final tally." in html
    widget = client.get("/embed/test-poll").get_data(as_text=True)
    assert "single transferable vote, 3 seats" in widget
    assert widget.count('fill-opacity=".12"') == 3  # the three winners' rows are highlighted


def test_inactive_ballots_broken_down_and_ties_in_words(app, client, make_poll):
    """Ballots with a repeated scene (as an import may hold them) under exhaustOnDuplicateCandidate,
    and a first-round tie broken by the default seeded draw."""
    poll = make_poll(titles=("A", "B", "C"))
    add_ballots(app, poll, {("A",): 3, ("B",): 3, ("C", "C", "A"): 1, ("C",): 1})
    set_counting(app, poll, "irv", rules='{"exhaustOnDuplicateCandidate": true}')
    body, html = both(client)
    assert body["rounds"][1]["inactiveBallots"]["repeatedRankings"] == "1"
    assert "Repeated rankings (a scene ranked twice)" in html
    assert "Overvotes" not in html  # reasons nobody hit stay out of the table
    tie = body["tie_breaks"][0]
    assert tie["tied"] == ["A", "B"] and tie["explanation"] in html
    assert "broken at random (seed 0)" in html


def test_results_match_the_counting_cli_on_exported_ballots(app, client, make_poll, tmp_path):
    """Same report from the page and from `python -m polls.tally` with no --rules: the default
    tie-break seed, not a per-poll one (this profile needs a random draw in round 1)."""
    poll = make_poll(titles=("Alpha", "Bravo", "Charlie", "Delta"))
    profile = {("Alpha", "Delta"): 2, ("Bravo", "Delta"): 2, ("Charlie",): 4, ("Delta", "Alpha"): 3}
    add_ballots(app, poll, profile)
    csv = tmp_path / "ballots.csv"
    lines = ["rank1,rank2,rank3,rank4,count", "Alpha,Bravo,Charlie,Delta,0"]  # declares the order
    lines += [",".join(ranking + ("",) * (4 - len(ranking))) + f",{n}" for ranking, n in profile.items()]
    csv.write_text("\n".join(lines) + "\n")
    for method, seats in (("irv", 1), ("stv", 2), ("schulze", 1), ("borda", 1)):
        set_counting(app, poll, method, seats)
        body = client.get("/api/v1/polls/test-poll/results").get_json()
        if method == "irv":  # Alpha and Bravo tie for last in round 1: a draw with seed 0
            assert body["tie_breaks"][0]["tied"] == ["Alpha", "Bravo"]
            assert "broken at random (seed 0)" in body["tie_breaks"][0]["explanation"]
        out = tmp_path / f"{method}.json"
        with open(out, "w") as stream, contextlib.redirect_stdout(stream):
            assert tally_main([str(csv), "--method", method, "--seats", str(seats), "--json"]) == 0
        report = json.loads(out.read_text())
        assert body["winners"] == report["winners"], method
        assert body["ranking"] == report["ranking"], method
        assert body["rounds"] == report.get("results", []), method
        assert body["tie_breaks"] == report["tieBreaks"], method
        assert body.get("pairwise") == report.get("pairwise"), method


HOSTILE = ('<script>alert("kiss")</script>', '"><img src=x onerror=alert(1)>', "Tom & Jerry's 'kiss'")


@pytest.mark.parametrize("method", ["schulze", "ranked-pairs", "borda", "irv"])
def test_hostile_names_are_escaped(app, client, make_poll, method):
    poll = make_poll(titles=HOSTILE)
    s, i, t = HOSTILE
    add_ballots(app, poll, {(s, i, t): 3, (i, t, s): 2, (t, s): 2})
    set_counting(app, poll, method)
    _, html = both(client)
    widget = client.get("/embed/test-poll").get_data(as_text=True)
    for page in (html, widget):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(&#34;kiss&#34;)&lt;/script&gt;" in page
        assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    if method != "irv":
        assert "vs &lt;script&gt;alert(&#34;kiss&#34;)&lt;/script&gt;" in html
        assert "Tom &amp; Jerry&#39;s &#39;kiss&#39;" in html


# -- stored rules ---------------------------------------------------------------------


def test_stored_rule_overrides_are_used(app, client, three_round_poll):
    set_counting(app, three_round_poll, "irv", rules='{"excluded": ["C"], "tiebreakMode": "useCandidateOrder"}')
    body, html = both(client)
    assert "C" not in body["ranking"] and "C" not in body["rounds"][0]["tally"]
    # Without C, its 3 ballots go straight to B: A5 B7 D2, then D out and B wins 7-5.
    assert numbers(body["rounds"][0]["tally"]) == {"A": 5, "B": 7, "D": 2}


@pytest.mark.parametrize("method, seats, rules", [
    ("irv", 1, "not json at all"),
    ("irv", 1, "[1, 2]"),
    ("irv", 1, '"a string"'),
    ("irv", 1, '{"noSuchRule": true}'),
    ("irv", 1, '{"tiebreakMode": "coinFlip"}'),
    ("irv", 1, '{"randomSeed": 1.5}'),
    ("irv", 1, '{"method": "borda"}'),
    ("irv", 1, '{"excluded": ["Nobody"]}'),
    ("irv", 1, '{"excluded": ["A", "B", "C", "D"]}'),
    ("irv", 3, "{}"),
    ("condorcet", 1, "{}"),
    ("schulze", 2, "{}"),
    ("stv", 0, "{}"),
])
def test_unusable_stored_rules_fall_back_with_a_warning(app, client, three_round_poll, caplog,
                                                        method, seats, rules):
    set_counting(app, three_round_poll, method, seats, rules)
    with caplog.at_level(logging.WARNING, logger="polls.results"):
        body, html = both(client)
    assert body["winners"] == ["B"] and body["method"] == "irv" and body["seats"] == 1
    assert "counted by instant runoff" in html
    assert any("falling back" in record.getMessage() for record in caplog.records)


def test_rules_fall_back_to_the_method_not_to_irv(app, client, cycle_poll, caplog):
    set_counting(app, cycle_poll, "schulze", rules='{"seats": 3}')
    with caplog.at_level(logging.WARNING, logger="polls.results"):
        body, _ = both(client)
    assert body["method"] == "schulze" and "strongestPaths" in body
    assert "falling back" in caplog.text


def test_poll_rules_use_the_engine_default_seed(app, make_poll):
    from polls.results import poll_rules
    from polls.tally import Rules

    poll = make_poll()
    with app.app_context():
        rules = poll_rules(db.session.get(Poll, poll["id"]))
    assert rules == Rules() and rules.randomSeed == Rules().randomSeed


@pytest.mark.parametrize("method, seats, rules, expected", [
    ("irv", 1, '{"excluded": ["Nobody"]}', {}),
    ("schulze", 2, "{}", {}),
    ("stv", 2, '{"excluded": ["Nobody"]}', {"method": "stv", "seats": 2}),
    ("borda", 1, '{"tiebreakMode": "useCandidateOrder"}',
     {"method": "borda", "tiebreakMode": "useCandidateOrder"}),
])
def test_poll_rules_are_the_rules_the_page_counts_with(app, client, three_round_poll, method, seats,
                                                      rules, expected):
    """What the export's tally options are built from must match the count, fallbacks included."""
    from polls.results import poll_rules
    from polls.tally import Rules

    set_counting(app, three_round_poll, method, seats, rules)
    with app.app_context():
        chosen = poll_rules(db.session.get(Poll, three_round_poll["id"]))
    assert chosen == Rules(**expected)
    body = client.get("/api/v1/polls/test-poll/results").get_json()
    assert (body["method"], body["seats"]) == (chosen.method, chosen.seats)


def test_a_poll_no_rules_can_count_still_renders(app, client, make_poll, caplog):
    """A candidate title the engine refuses (only possible by writing the database directly)."""
    poll = make_poll(titles=("exhausted", "Bravo"))
    add_ballots(app, poll, {("exhausted",): 2, ("Bravo",): 1})
    with caplog.at_level(logging.WARNING, logger="polls.results"):
        body, html = both(client)
    assert body["winners"] == [] and body["total_ballots"] == 3
    assert "No winner yet." in html
    assert client.get("/embed/test-poll").status_code == 200
