"""ranking counts kept by triggers on ballot, filled from the ballots already cast

Revision ID: c3f1e2a4b5d6
Revises: 9d0218a3f69e
Create Date: 2026-12-01 23:50:00

"""
from alembic import op
import sqlalchemy as sa

from polls.models import RANKING_COUNT_DROPS, ranking_count_triggers

# revision identifiers, used by Alembic.
revision = 'c3f1e2a4b5d6'
down_revision = '9d0218a3f69e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ranking_count',
        sa.Column('poll_id', sa.Integer(), nullable=False),
        sa.Column('ranking', sa.Text(), nullable=False),
        sa.Column('ballots', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_ranking_count_poll_id_poll')),
        sa.PrimaryKeyConstraint('poll_id', 'ranking', name=op.f('pk_ranking_count')),
        sqlite_with_rowid=False,
    )
    # Ballots cast before this revision, then every later one through the triggers.
    op.execute("INSERT INTO ranking_count (poll_id, ranking, ballots) "
               "SELECT poll_id, ranking, count(*) FROM ballot GROUP BY poll_id, ranking")
    # As they were at this revision: quarantine came later (b9e0c194e19c).
    for statement in ranking_count_triggers(op.get_bind().dialect.name, quarantine=False):
        op.execute(statement)


def downgrade():
    for statement in RANKING_COUNT_DROPS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.drop_table('ranking_count')
