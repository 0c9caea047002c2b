"""The host's integrity report: bursts, quarantine (kept, excluded, reversible), audit log."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from helpers import csrf_token_from, login
from polls.extensions import db
from polls.models import AuditEntry, Ballot, BotHit, Quarantine, RankingCount

T0 = datetime(2026, 12, 1, 14, 2, 10)


def add_ballots(app, poll, n, *, ranking, address="a" * 32, network="n" * 32, start=T0, step=1, too_fast=False):
    """``n`` ballots one ``step`` seconds apart, as if cast from one address and network."""
    with app.app_context():
        first = db.session.scalar(select(func.count()).select_from(Ballot))
        db.session.add_all(
            Ballot(poll_id=poll["id"], voter_hash=f"v{first + i}", receipt=f"r{first + i:015d}", ranking=ranking,
                   address_hash=address, network_hash=network, too_fast=too_fast,
                   created_at=start + timedelta(seconds=i * step))
            for i in range(n)
        )
        db.session.commit()


def ranking_counts(app, poll) -> dict:
    with app.app_context():
        rows = db.session.execute(select(RankingCount.ranking, RankingCount.ballots)
                                  .where(RankingCount.poll_id == poll["id"], RankingCount.ballots > 0))
        return dict(rows.all())


@pytest.fixture
def stuffed(app, make_host, make_poll):
    """A poll with 8 honest ballots spread over an hour and a 30-ballot burst from one address."""
    # Low thresholds, so the 30 ballots over three minutes are a burst in every minute.
    app.config.update(BURST_FROM_ADDRESS=2, BURST_FROM_NETWORK=2, BURST_SAME_RANKING=2, BURST_TOO_FAST=2)
    host_id = make_host()
    poll = make_poll(host_id=host_id)
    a, b, c = (str(i) for i in poll["ids"])
    for i in range(8):
        add_ballots(app, poll, 1, ranking=f"{a},{b}", address=f"{i:032d}", network=f"{i:032d}",
                    start=T0 - timedelta(minutes=50 - 5 * i))
    add_ballots(app, poll, 30, ranking=f"{c}", step=4, too_fast=True)  # 14:02:10 .. 14:04:06
    return poll


def integrity_page(client, slug="test-poll"):
    return client.get(f"/manage/polls/{slug}/integrity")


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_report_finds_the_burst_by_address_network_ranking_and_speed(app, client, stuffed):
    login(client)
    page = integrity_page(client)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "38 ballots" in html and "30 sent faster than a person ranks" in html
    for caption in ("From one address", "From one network", "The same ranking", "Sent too fast"):
        assert caption in html
    # 30 ballots between 14:02 and 14:04 make one burst, not three minutes apart.
    assert "2026-12-01 14:02–14:04" in html
    assert html.count('value="2026-12-01 14:02"') == 4


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_quarantine_excludes_the_burst_and_release_restores_it(app, client, stuffed):
    ids = stuffed["ids"]
    before = client.get("/api/v1/polls/test-poll/results").get_json()
    assert before["winners"] == ["Charlie"] and before["total_ballots"] == 38
    login(client)
    token = csrf_token_from(integrity_page(client).get_data(as_text=True))
    response = client.post("/manage/polls/test-poll/integrity/quarantine", data={
        "csrf_token": token, "kind": "address", "key": "a" * 32, "start": "2026-12-01 14:02", "end": "2026-12-01 14:04",
    })
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 38  # kept, not deleted
    assert ranking_counts(app, stuffed) == {f"{ids[0]},{ids[1]}": 8}
    after = client.get("/api/v1/polls/test-poll/results").get_json()
    assert after["winners"] == ["Alpha"] and after["total_ballots"] == 8
    assert after["excluded"] == [{"ballots": 30, "reason": "from one address between 14:02 and 14:04 UTC on 2026-12-01"}]
    results_page = client.get("/p/test-poll/results").get_data(as_text=True)
    assert "30 ballots from one address between 14:02 and 14:04 UTC on 2026-12-01 are held out of the count" in results_page
    report = integrity_page(client).get_data(as_text=True)
    assert "Release (count again)" in report and "quarantine" in report
    # The bursts are gone from the report once their ballots are out of the count.
    assert 'value="2026-12-01 14:02"' not in report

    with app.app_context():
        quarantine_id = db.session.scalar(select(Ballot.quarantine_id).where(Ballot.quarantine_id.is_not(None)))
    released = client.post(f"/manage/polls/test-poll/quarantines/{quarantine_id}/release",
                           data={"csrf_token": token})
    assert released.status_code == 303
    assert client.get("/api/v1/polls/test-poll/results").get_json()["total_ballots"] == 38
    assert ranking_counts(app, stuffed) == {f"{ids[0]},{ids[1]}": 8, str(ids[2]): 30}
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions == ["quarantine", "release"]
        assert all(entry.host.email == "host@example.com" for entry in db.session.scalars(select(AuditEntry)))


def test_receipt_of_a_quarantined_ballot_says_it_is_held(app, client, stuffed):
    login(client)
    token = csrf_token_from(integrity_page(client).get_data(as_text=True))
    client.post("/manage/polls/test-poll/integrity/quarantine", data={
        "csrf_token": token, "kind": "too_fast", "key": "1", "start": "2026-12-01 14:02", "end": "2026-12-01 14:04"})
    page = client.get(f"/p/test-poll/receipt/r{20:015d}").get_data(as_text=True)
    assert "This ballot is held for review" in page and "sent faster than a person ranks" in page
    assert "This ballot is in the count" in client.get(f"/p/test-poll/receipt/r{0:015d}").get_data(as_text=True)


@pytest.mark.parametrize("form", [
    {"kind": "address", "key": "a" * 32, "start": "yesterday", "end": "2026-12-01 14:04"},
    {"kind": "voodoo", "key": "a" * 32, "start": "2026-12-01 14:02", "end": "2026-12-01 14:04"},
    {"kind": "address", "key": "", "start": "2026-12-01 14:02", "end": "2026-12-01 14:04"},
    {"kind": "address", "key": "a" * 32, "start": "2026-12-01 14:05", "end": "2026-12-01 14:04"},
])
def test_bad_quarantine_requests_change_nothing(app, client, stuffed, form):
    login(client)
    token = csrf_token_from(integrity_page(client).get_data(as_text=True))
    response = client.post("/manage/polls/test-poll/integrity/quarantine", data={"csrf_token": token, **form})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.quarantine_id.is_not(None))) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_other_hosts_and_strangers_cannot_see_or_quarantine(app, client, make_host, stuffed):
    assert integrity_page(client).status_code == 302  # anonymous: to the login page
    make_host(email="other@example.com")
    login(client, email="other@example.com")
    assert integrity_page(client).status_code == 404
    token = csrf_token_from(client.get("/manage/").get_data(as_text=True))
    response = client.post("/manage/polls/test-poll/integrity/quarantine", data={
        "csrf_token": token, "kind": "address", "key": "a" * 32, "start": "2026-12-01 14:02", "end": "2026-12-01 14:04"})
    assert response.status_code == 404
    assert client.post("/manage/polls/test-poll/quarantines/1/release", data={"csrf_token": token}).status_code == 404
    assert client.get("/manage/polls/test-poll/invites").status_code == 404
    assert client.get("/manage/polls/test-poll/invites.csv").status_code == 404


def test_report_counts_honeypot_hits(app, client, stuffed):
    with app.app_context():
        db.session.add_all(BotHit(poll_id=stuffed["id"], kind="honeypot") for _ in range(3))
        db.session.commit()
    login(client)
    assert "3 refused as bots" in integrity_page(client).get_data(as_text=True)


def test_host_makes_invite_codes_and_turns_on_the_closed_list(app, client, make_host, make_poll):
    make_poll(host_id=make_host())
    login(client)
    page = client.get("/manage/polls/test-poll/invites")
    token = csrf_token_from(page.get_data(as_text=True))
    made = client.post("/manage/polls/test-poll/invites", data={"csrf_token": token, "how_many": "25"})
    assert made.status_code == 200
    csv = client.get("/manage/polls/test-poll/invites.csv")
    lines = csv.get_data(as_text=True).split("\r\n")
    assert lines[0] == "code,used" and len(lines) == 27 and lines[-1] == ""
    codes = [line.split(",")[0] for line in lines[1:-1]]
    assert len(set(codes)) == 25 and all(len(code) == 10 for code in codes)
    assert client.post("/manage/polls/test-poll/invites",
                       data={"csrf_token": token, "how_many": "0"}).status_code == 400
    settings = {"csrf_token": token, "title": "Poll test-poll", "method": "irv",
                "tiebreak": "previousRoundCountsThenRandom", "invite_only": "y"}
    assert client.post("/manage/polls/test-poll", data=settings).status_code == 303
    fan = app.test_client()
    html = fan.get("/p/test-poll").get_data(as_text=True)
    assert 'name="invite"' in html
    with app.app_context():
        assert [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))] == [
            "invites", "invite_only"]


def test_quarantine_that_finds_no_counted_ballot_writes_nothing(app, client, stuffed):
    login(client)
    token = csrf_token_from(integrity_page(client).get_data(as_text=True))
    burst = {"csrf_token": token, "kind": "address", "key": "a" * 32,
             "start": "2026-12-01 14:02", "end": "2026-12-01 14:04"}
    assert client.post("/manage/polls/test-poll/integrity/quarantine", data=burst).status_code == 303
    # The same burst again (or one overlapping it): its ballots are already held.
    again = client.post("/manage/polls/test-poll/integrity/quarantine", data=burst, follow_redirects=True)
    assert "nothing changed" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Quarantine)) == 1
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 1
    assert client.post("/manage/polls/test-poll/quarantines/1/release", data={"csrf_token": token}).status_code == 303
    twice = client.post("/manage/polls/test-poll/quarantines/1/release", data={"csrf_token": token},
                        follow_redirects=True)
    assert "already released" in twice.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 2


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "yesterday", "2026-13-01", "2026-12-01%00"])
def test_report_of_an_impossible_day_is_a_404(client, stuffed, day):
    login(client)
    assert client.get(f"/manage/polls/test-poll/integrity?day={day}").status_code == 404


def test_report_of_another_day_has_no_bursts_of_this_one(client, stuffed):
    login(client)
    html = client.get("/manage/polls/test-poll/integrity?day=2026-11-30").get_data(as_text=True)
    assert "No bursts among the counted ballots" in html and "No ballots on this day" in html
    assert "2026-11-30" in html
