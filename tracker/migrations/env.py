"""Alembic environment: runs on the connection the store hands over, or on DATABASE_URL."""

from alembic import context

from tracker.models import Base
from tracker.store import make_engine

config = context.config
target_metadata = Base.metadata


def run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    with make_engine().connect() as conn:
        run(conn)
        conn.commit()
