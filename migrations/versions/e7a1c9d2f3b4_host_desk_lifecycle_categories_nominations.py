"""host desk: poll life (nominations, schedule, results visibility), categories, nominations

Revision ID: e7a1c9d2f3b4
Revises: b9e0c194e19c
Create Date: 2026-12-02 12:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a1c9d2f3b4'
down_revision = 'b9e0c194e19c'
branch_labels = None
depends_on = None


def _add_columns(table, *columns):
    # Plain ADD COLUMN: a batch rebuild of poll (SQLite) would trip the foreign keys
    # pointing at it, and of ballot would drop the ranking-count triggers.
    for column in columns:
        op.add_column(table, column)


def upgrade():
    _add_columns('host', sa.Column('timezone', sa.String(length=64), server_default='UTC', nullable=False))
    _add_columns(
        'poll',
        sa.Column('opens_at', sa.DateTime(), nullable=True),
        sa.Column('closes_at', sa.DateTime(), nullable=True),
        sa.Column('results_visibility', sa.String(length=12), server_default='live', nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    )
    # SQLite can add no constraint to an existing table (and could then not drop the column);
    # there the application alone keeps parent_id pointing at a poll.
    if op.get_bind().dialect.name == 'postgresql':
        op.create_foreign_key('fk_poll_parent_id_poll', 'poll', 'poll', ['parent_id'], ['id'])
    op.create_index('ix_poll_parent_id', 'poll', ['parent_id'], unique=False)
    _add_columns('candidate', sa.Column('image_url', sa.String(length=500), server_default='', nullable=False))
    op.create_table(
        'nomination',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('poll_id', sa.Integer(), nullable=False),
        sa.Column('drama', sa.String(length=200), nullable=False),
        sa.Column('episode', sa.String(length=40), nullable=False),
        sa.Column('scene', sa.String(length=200), nullable=False),
        sa.Column('why', sa.Text(), nullable=False),
        sa.Column('voter_hash', sa.String(length=64), nullable=False),
        sa.Column('address_hash', sa.String(length=32), nullable=True),
        sa.Column('network_hash', sa.String(length=32), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('merged_into_id', sa.Integer(), nullable=True),
        sa.Column('candidate_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_nomination_candidate_id_candidate'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['merged_into_id'], ['nomination.id'], name=op.f('fk_nomination_merged_into_id_nomination'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['poll_id'], ['poll.id'], name=op.f('fk_nomination_poll_id_poll')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_nomination')),
        sa.UniqueConstraint('poll_id', 'voter_hash', name='uq_nomination_poll_voter'),
    )
    op.create_index(op.f('ix_nomination_poll_id'), 'nomination', ['poll_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_nomination_poll_id'), table_name='nomination')
    op.drop_table('nomination')
    op.drop_index('ix_poll_parent_id', table_name='poll')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('fk_poll_parent_id_poll', 'poll', type_='foreignkey')
    # Plain DROP COLUMN (SQLite 3.35+), for the same reason as the ADD COLUMN above.
    for table, column in [('candidate', 'image_url'), ('poll', 'position'), ('poll', 'parent_id'),
                          ('poll', 'results_visibility'), ('poll', 'closes_at'), ('poll', 'opens_at'),
                          ('host', 'timezone')]:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
