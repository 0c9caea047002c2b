"""The life of a poll: draft -> nominations -> voting -> closed, by hand and on schedule;
who sees the results (live, after closing, hidden)."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from helpers import OWNER, get_poll, open_page, post_ballot, snapshot, with_token
from polls.extensions import db
from polls.lifecycle import apply_schedules
from polls.models import Host, Poll, utcnow
from polls.timezones import format_local, to_local, to_utc


def set_poll(app, slug, **values):
    with app.app_context():
        poll = db.session.scalar(select(Poll).where(Poll.slug == slug))
        for name, value in values.items():
            setattr(poll, name, value)
        db.session.commit()


def press(client, slug, action):
    return client.post(f"/manage/polls/{slug}/status", data=with_token(client, {"action": action}))


@pytest.fixture
def draft(app, owner, make_poll):
    with app.app_context():
        host_id = db.session.scalar(select(Host.id).where(Host.email == OWNER))
    return make_poll(status="draft", host_id=host_id)


# --- by hand ---------------------------------------------------------------------


def test_draft_to_nominations_to_voting_to_closed(app, owner, draft, client):
    slug = draft["slug"]
    assert client.get(f"/p/{slug}").status_code == 404  # a draft is the host's alone
    assert press(owner, slug, "nominate").status_code == 303
    assert get_poll(app, slug).status == "nominations"
    page = client.get(f"/p/{slug}").get_data(as_text=True)
    assert "Voting has not started yet" in page and 'id="ballot"' not in page
    token = open_page(client, slug)
    refused = post_ballot(client, token, {"ranking": draft["ids"][:1]}, slug=slug)
    assert refused.status_code == 409 and refused.json["error"] == "poll_not_open"

    assert press(owner, slug, "open").status_code == 303
    assert get_poll(app, slug).status == "open"
    assert post_ballot(client, open_page(client, slug), {"ranking": draft["ids"][:2]}, slug=slug).status_code == 201

    assert press(owner, slug, "close").status_code == 303
    assert get_poll(app, slug).status == "closed"
    assert press(owner, slug, "reopen").status_code == 303
    assert get_poll(app, slug).status == "open"


@pytest.mark.parametrize("status, action", [
    ("draft", "close"), ("draft", "reopen"), ("nominations", "nominate"), ("nominations", "close"),
    ("open", "open"), ("open", "nominate"), ("closed", "close"), ("closed", "nominate"),
])
def test_moves_the_poll_cannot_make_change_nothing(app, owner, draft, status, action):
    set_poll(app, draft["slug"], status=status)
    before = snapshot(app)
    response = press(owner, draft["slug"], action)
    assert response.status_code == 303
    assert "cannot do that now" in owner.get(response.headers["Location"]).get_data(as_text=True)
    assert snapshot(app) == before


def test_reopening_clears_a_closing_time_already_past(app, owner, draft):
    set_poll(app, draft["slug"], status="closed", closes_at=utcnow() - timedelta(hours=1))
    press(owner, draft["slug"], "reopen")
    poll = get_poll(app, draft["slug"])
    assert (poll.status, poll.closes_at) == ("open", None)


# --- on schedule -----------------------------------------------------------------


def test_schedule_is_typed_in_the_hosts_zone_and_kept_in_utc(app, owner, draft):
    with app.app_context():
        host = db.session.scalar(select(Host).where(Host.email == OWNER))
        host.timezone = "Asia/Seoul"
        db.session.commit()
    response = owner.post(f"/manage/polls/{draft['slug']}/schedule", data=with_token(owner, {
        "opens_at": "2026-12-20T09:00", "closes_at": "2026-12-31T23:59"}))
    assert response.status_code == 303
    poll = get_poll(app, draft["slug"])
    assert poll.opens_at == datetime(2026, 12, 20, 0, 0)  # 09:00 in Seoul (UTC+9)
    assert poll.closes_at == datetime(2026, 12, 31, 14, 59)
    page = owner.get(f"/manage/polls/{draft['slug']}").get_data(as_text=True)
    assert "2026-12-31 23:59 KST" in page and 'value="2026-12-20T09:00"' in page


@pytest.mark.parametrize("opens, closes, message", [
    ("2026-12-31T10:00", "2026-12-31T09:00", "Voting must close after it opens."),
    ("not a time", "", "Not a valid datetime value."),
    ("1500-01-01T00:00", "", "Pick a time from 1990 to 2100."),
])
def test_a_bad_schedule_is_refused_with_nothing_written(app, owner, draft, opens, closes, message):
    before = snapshot(app)
    response = owner.post(f"/manage/polls/{draft['slug']}/schedule", data=with_token(owner, {
        "opens_at": opens, "closes_at": closes}))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_the_sweep_opens_and_closes_polls_when_their_time_comes(app, draft, make_poll):
    now = utcnow()
    set_poll(app, draft["slug"], opens_at=now - timedelta(minutes=1), closes_at=now + timedelta(hours=1))
    make_poll(titles=("Lonely",), slug="too-few", status="nominations")
    set_poll(app, "too-few", opens_at=now - timedelta(minutes=1))
    ending = make_poll(slug="ending", status="open")
    set_poll(app, "ending", closes_at=now - timedelta(seconds=1))
    with app.app_context():
        moved = apply_schedules()
    assert sorted(moved) == sorted([(draft["slug"], "open"), (ending["slug"], "closed")])
    assert get_poll(app, "too-few").status == "nominations"  # one scene: not ready, left as it is
    with app.app_context():
        assert apply_schedules() == []  # nothing more to do


def test_ballots_stop_at_the_closing_time_before_any_sweep(app, client, make_poll):
    poll = make_poll(status="open")
    token = open_page(client)
    set_poll(app, poll["slug"], closes_at=utcnow() - timedelta(seconds=1))
    with app.app_context():
        assert db.session.scalar(select(Poll.status).where(Poll.slug == poll["slug"])) == "open"
    refused = post_ballot(client, token, {"ranking": poll["ids"][:1]})
    assert refused.status_code == 409 and refused.json["error"] == "poll_not_open"


def test_a_request_runs_the_sweep(app, client, make_poll):
    make_poll(status="open")
    set_poll(app, "test-poll", closes_at=utcnow() - timedelta(seconds=1))
    client.get("/")
    assert get_poll(app, "test-poll").status == "closed"


def test_zone_helpers_round_trip_and_fall_back_to_utc():
    moment = datetime(2026, 7, 1, 12, 0)
    assert to_utc(to_local(moment, "America/New_York").replace(tzinfo=None), "America/New_York") == moment
    assert format_local(moment, "No/Such_Zone") == "2026-07-01 12:00 UTC"
    # 02:30 on the spring-forward night does not exist in New York: read as the earlier offset.
    assert to_utc(datetime(2026, 3, 8, 2, 30), "America/New_York") == datetime(2026, 3, 8, 7, 30)


# --- who sees the results ----------------------------------------------------------


@pytest.mark.parametrize("visibility, status, public", [
    ("live", "open", True), ("live", "closed", True),
    ("closed", "open", False), ("closed", "closed", True),
    ("hidden", "open", False), ("hidden", "closed", False),
])
def test_results_visibility(app, client, owner, draft, visibility, status, public):
    slug = draft["slug"]
    set_poll(app, slug, status=status, results_visibility=visibility)
    page, api = client.get(f"/p/{slug}/results"), client.get(f"/api/v1/polls/{slug}/results")
    widget = client.get(f"/embed/{slug}")
    if public:
        assert (page.status_code, api.status_code, widget.status_code) == (200, 200, 200)
    else:
        assert (page.status_code, api.status_code, widget.status_code) == (403, 403, 403)
        assert api.json["error"] == "results_hidden"
        assert "Alpha" not in page.get_data(as_text=True)
        assert "Alpha" not in widget.get_data(as_text=True)
        # The host still sees them, marked as private.
        mine = owner.get(f"/p/{slug}/results")
        assert mine.status_code == 200 and "Only you can see these standings" in mine.get_data(as_text=True)
        assert owner.get(f"/api/v1/polls/{slug}/results").status_code == 200


def test_hidden_results_leave_the_leaderboards(app, client, draft):
    set_poll(app, draft["slug"], status="closed", results_visibility="hidden")
    page = client.get("/leaderboard/2014").get_data(as_text=True)
    assert "The host will announce the results." in page and "Alpha" not in page
    assert "Alpha" not in client.get("/leaderboard").get_data(as_text=True)


def test_the_settings_form_saves_results_visibility(app, owner, draft):
    response = owner.post(f"/manage/polls/{draft['slug']}", data=with_token(owner, {
        "title": "Renamed", "method": "irv", "tiebreak": "random", "results_visibility": "hidden"}))
    assert response.status_code == 303, response.get_data(as_text=True)
    assert get_poll(app, draft["slug"]).results_visibility == "hidden"
    before = snapshot(app)
    bad = owner.post(f"/manage/polls/{draft['slug']}", data=with_token(owner, {
        "title": "Renamed", "method": "irv", "tiebreak": "random", "results_visibility": "sometimes"}))
    assert bad.status_code == 400 and snapshot(app) == before
