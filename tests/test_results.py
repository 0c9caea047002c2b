"""Results through the app: a hand-counted instant-runoff, pages and widget agree."""
from decimal import Decimal

import pytest

from polls.extensions import db
from polls.models import Ballot


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
    html = client.get("/embed/test-poll").get_data(as_text=True)
    assert 'class="leader"' in html
    assert "14 ballots" in html


def test_empty_poll_has_no_winner(client, make_poll):
    make_poll()
    body = client.get("/api/v1/polls/test-poll/results").get_json()
    assert body["winners"] == []
    assert body["total_ballots"] == 0
    assert "No ballots yet" in client.get("/p/test-poll/results").get_data(as_text=True)
