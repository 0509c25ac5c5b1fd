"""Alembic environment of the review database."""

from alembic import context

from services.review.db.models import Base
from shared.db import run_migrations_from_env

run_migrations_from_env(context.config, Base.metadata)
