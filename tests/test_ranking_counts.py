"""ranking_count: the database keeps one row per distinct ranking of a poll, whatever writes
the ballots, and counting reads those rows instead of grouping every ballot."""
import io

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, func, select, text, update

from helpers import open_page, post_ballot
from polls.extensions import db
from polls.factory import create_app
from polls.models import Ballot, RankingCount
from polls.results import ballot_profile, compute_results
from polls.transfer import find_poll, import_ballots


def counted(app) -> dict:
    with app.app_context():
        return {(r.poll_id, r.ranking): r.ballots
                for r in db.session.scalars(select(RankingCount)) if r.ballots}


def grouped(app) -> dict:
    with app.app_context():
        rows = db.session.execute(select(Ballot.poll_id, Ballot.ranking, func.count())
                                  .group_by(Ballot.poll_id, Ballot.ranking))
        return {(poll_id, ranking): n for poll_id, ranking, n in rows}


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_counts_follow_every_way_a_ballot_is_written(app, make_poll):
    poll = make_poll()
    other = make_poll(slug="other-poll")
    a, b, c = poll["ids"]
    for ranking in ([a, b], [a, b], [b]):
        fan = app.test_client()
        assert post_ballot(fan, open_page(fan), {"ranking": ranking}).status_code == 201
    fan = app.test_client()
    assert post_ballot(fan, open_page(fan, "other-poll"), {"ranking": other["ids"][:1]},
                       slug="other-poll").status_code == 201
    assert counted(app) == {(poll["id"], f"{a},{b}"): 2, (poll["id"], f"{b}"): 1,
                            (other["id"], f"{other['ids'][0]}"): 1}
    with app.app_context():
        assert import_ballots(find_poll("test-poll"), io.StringIO("count,rank1,rank2\n3,Charlie,Alpha\n1,Bravo,\n")) == 4
    assert counted(app)[(poll["id"], f"{c},{a}")] == 3
    assert counted(app)[(poll["id"], f"{b}")] == 2
    # Changed or removed by hand (a console, a later moderation tool): still in step.
    with app.app_context():
        db.session.execute(update(Ballot).where(Ballot.ranking == f"{b}").values(ranking=f"{c}"))
        db.session.execute(delete(Ballot).where(Ballot.ranking == f"{c},{a}"))
        db.session.commit()
    assert counted(app) == grouped(app)
    assert counted(app)[(poll["id"], f"{c}")] == 2


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_a_rolled_back_ballot_leaves_no_count(app, make_poll):
    poll = make_poll()
    with app.app_context():
        db.session.add(Ballot(poll_id=poll["id"], voter_hash="x", ranking="1", receipt="r"))
        db.session.flush()
        db.session.rollback()
    assert counted(app) == {}


def test_results_come_from_the_counts(app, make_poll):
    poll = make_poll()
    a, b, _ = poll["ids"]
    with app.app_context():
        # Rankings only the counts table knows: the page must be reading it.
        db.session.add(RankingCount(poll_id=poll["id"], ranking=f"{b},{a}", ballots=5))
        db.session.add(RankingCount(poll_id=poll["id"], ranking=f"{a}", ballots=0))
        db.session.commit()
        poll_row = find_poll("test-poll")
        assert ballot_profile(poll_row) == {("Bravo", "Alpha"): 5}
        assert compute_results(poll_row)["winners"] == ["Bravo"]


def test_upgrade_fills_counts_for_ballots_cast_before_it(tmp_path, redis_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}", "SECRET_KEY": "x",
                      "REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": redis_url})
    with app.app_context():
        upgrade(revision="9d0218a3f69e")  # the schema before ranking counts
        db.session.execute(text("INSERT INTO host (email, password_hash, created_at) VALUES ('h@x', 'x', '2026-01-01')"))
        db.session.execute(text("INSERT INTO poll (host_id, slug, title, description, status, method, seats, rules,"
                                " created_at) VALUES (1, 'old', 'Old', '', 'open', 'irv', 1, '{}', '2026-01-01')"))
        for n, ranking in enumerate(["1,2", "1,2", "2"]):
            db.session.execute(text("INSERT INTO ballot (poll_id, voter_hash, ranking, receipt, created_at) "
                                    f"VALUES (1, 'v{n}', '{ranking}', 'r{n}', '2026-01-01')"))
        db.session.commit()
        upgrade()
        assert counted(app) == {(1, "1,2"): 2, (1, "2"): 1}
        db.session.execute(text("INSERT INTO ballot (poll_id, voter_hash, ranking, receipt, created_at) "
                                "VALUES (1, 'v9', '2', 'r9', '2026-01-01')"))
        db.session.commit()
        assert counted(app) == {(1, "1,2"): 2, (1, "2"): 2}
        db.engine.dispose()


def wipe_schema() -> None:
    """An empty database, as before the first migration (PostgreSQL keeps functions apart from tables)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP SCHEMA public CASCADE"))
        db.session.execute(text("CREATE SCHEMA public"))
        db.session.commit()
    else:
        db.drop_all()


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_quarantine_migration_keeps_held_ballots_out_and_downgrade_counts_them_again(app):
    with app.app_context():
        wipe_schema()
        upgrade(revision="c3f1e2a4b5d6")  # ranking counts, before quarantine
        db.session.execute(text("INSERT INTO host (email, password_hash, created_at) VALUES ('h@x', 'x', '2026-01-01')"))
        db.session.execute(text("INSERT INTO poll (host_id, slug, title, description, status, method, seats, rules,"
                                " created_at) VALUES (1, 'old', 'Old', '', 'open', 'irv', 1, '{}', '2026-01-01')"))
        for n, ranking in enumerate(["1,2", "1,2", "2", "2"]):
            db.session.execute(text("INSERT INTO ballot (poll_id, voter_hash, ranking, receipt, created_at) "
                                    f"VALUES (1, 'v{n}', '{ranking}', 'r{n}', '2026-01-01')"))
        db.session.commit()
        upgrade()
        assert counted(app) == {(1, "1,2"): 2, (1, "2"): 2}
        db.session.execute(text("INSERT INTO quarantine (poll_id, reason, created_at) VALUES (1, 'test', '2026-01-01')"))
        db.session.execute(text("UPDATE ballot SET quarantine_id = 1 WHERE receipt IN ('r0', 'r2', 'r3')"))
        db.session.commit()
        assert counted(app) == {(1, "1,2"): 1}
        downgrade(revision="c3f1e2a4b5d6")
        assert counted(app) == {(1, "1,2"): 2, (1, "2"): 2}
        upgrade()
        db.session.execute(text("DELETE FROM ballot WHERE receipt = 'r0'"))
        db.session.commit()
        assert counted(app) == {(1, "1,2"): 1, (1, "2"): 2}
