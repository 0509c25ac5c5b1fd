"""Alembic environment of the orders database."""

from alembic import context

from services.orders.db.models import Base
from shared.db import run_migrations_from_env

run_migrations_from_env(context.config, Base.metadata)
