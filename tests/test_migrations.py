"""Flask-Migrate: the migrations build the schema the models describe, and upgrading an
existing database (what `make run` does) keeps every ballot."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from polls.extensions import db
from polls.models import Ballot, Poll
from polls.results import compute_results
from test_ranking_counts import counted, wipe_schema

BEFORE_THE_DESK = "b9e0c194e19c"  # the revision before issue 7's schema


def seed_old_schema() -> None:
    """A host, an open poll with two scenes and four ballots, written as the old schema had them."""
    db.session.execute(text("INSERT INTO host (email, password_hash, created_at) VALUES ('h@x', 'x', '2026-01-01')"))
    db.session.execute(text("INSERT INTO poll (host_id, slug, title, description, status, method, seats, rules,"
                            " created_at) VALUES (1, 'old', 'Old', '', 'open', 'irv', 1, '{}', '2026-01-01')"))
    for n, title in enumerate(["Wall kiss", "Rain kiss"]):
        db.session.execute(text("INSERT INTO candidate (poll_id, position, title, drama, couple, episode, nickname,"
                                " description, video_url, video_start, spoiler) VALUES "
                                f"(1, {n}, '{title}', 'Healer', '', '', '', '', '', 0, false)"))
    for n, ranking in enumerate(["1,2", "1,2", "2", "2,1"]):
        db.session.execute(text("INSERT INTO ballot (poll_id, voter_hash, ranking, receipt, created_at) "
                                f"VALUES (1, 'v{n}', '{ranking}', 'r{n}', '2026-01-01')"))
    db.session.commit()


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_upgrading_in_place_keeps_every_ballot_and_count(app):
    with app.app_context():
        wipe_schema()
        upgrade(revision=BEFORE_THE_DESK)
        seed_old_schema()
        upgrade()
        db.session.expire_all()
        poll = db.session.scalar(select(Poll).where(Poll.slug == "old"))
        assert (poll.status, poll.results_visibility, poll.parent_id, poll.opens_at) == ("open", "live", None, None)
        assert [(c.image_url, c.title_ko, c.thumbnail_digest, c.thumbnail) for c in poll.candidates] == [("", "", "", None)] * 2
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 4
        assert counted(app) == {(1, "1,2"): 2, (1, "2"): 1, (1, "2,1"): 1}
        assert compute_results(poll)["winners"] == ["Wall kiss"]
        # And back down: the ballots stay. (The session's reads end first: PostgreSQL's
        # ALTER TABLE would wait on their locks.)
        db.session.rollback()
        downgrade(revision=BEFORE_THE_DESK)
        assert db.session.execute(text("SELECT count(*) FROM ballot")).scalar() == 4
        upgrade()


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_the_migrations_build_the_schema_the_models_describe(app):
    with app.app_context():
        wipe_schema()
        upgrade()
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
        dialect = db.engine.dialect.name
    if dialect == "sqlite":
        # SQLite cannot add a constraint to an existing table (see the migration).
        differences = [d for d in differences
                       if not (d[0] == "add_fk" and d[1].name == "fk_poll_parent_id_poll")]
    assert differences == []
