"""ballot cards: scene titles in Korean, uploaded thumbnails

Revision ID: f4b8d2e6a1c7
Revises: e7a1c9d2f3b4
Create Date: 2026-12-02 17:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4b8d2e6a1c7'
down_revision = 'e7a1c9d2f3b4'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN, as in e7a1c9d2f3b4: a batch rebuild of candidate (SQLite) would trip
    # the foreign keys pointing at it.
    op.add_column('candidate', sa.Column('title_ko', sa.String(length=200), server_default='', nullable=False))
    op.add_column('candidate', sa.Column('thumbnail_digest', sa.String(length=16), server_default='', nullable=False))
    op.create_table(
        'scene_thumbnail',
        sa.Column('candidate_id', sa.Integer(), nullable=False),
        sa.Column('content_type', sa.String(length=40), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'],
                                name=op.f('fk_scene_thumbnail_candidate_id_candidate'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('candidate_id', name=op.f('pk_scene_thumbnail')),
    )


def downgrade():
    op.drop_table('scene_thumbnail')
    op.execute("ALTER TABLE candidate DROP COLUMN thumbnail_digest")
    op.execute("ALTER TABLE candidate DROP COLUMN title_ko")
