# The shop's migration, a one-shot job: creates the tables the web app needs. Idempotent, so
# it can run on every release and every change.
import os

import psycopg2

MIGRATIONS = [
    """CREATE TABLE IF NOT EXISTS orders (
           id SERIAL PRIMARY KEY,
           item TEXT NOT NULL,
           placed TIMESTAMPTZ NOT NULL DEFAULT now())""",
]

with psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5) as connection:
    with connection.cursor() as cursor:
        for statement in MIGRATIONS:
            cursor.execute(statement)
print(f"migrate: {len(MIGRATIONS)} migration(s) applied")
