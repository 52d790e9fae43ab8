"""One stack-matrix cell on a real PostgreSQL: the ``pg`` nox sessions and their checks.

Migrations are generated on SQLite and applied on PostgreSQL (then one the other way round);
the server, the entity API, the generated tests (``TEST_DATABASE_URL``) and the container's
start script (on an empty database) all use it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from scaffold.matrix import Orm, Stack
from tests.support.entity_api import EntityApi
from tests.support.postgres import PostgresServer, running_postgres
from tests.support.reporter import Reporter
from tests.support.workflow import (
    ENTITY_TABLES,
    GROWN_ENTITY,
    RETIRED_TABLE,
    UUID_KEY_CELL,
    CellWorkflow,
    reference_columns,
    sqlite_tables,
)

if TYPE_CHECKING:
    import nox

__all__ = [
    "MIGRATION_TABLES",
    "expect_foreign_key",
    "expect_portable_migrations",
    "expect_reads_survive_a_restart",
    "expect_reference_index",
    "expect_sqlite_tables",
    "expect_tables",
    "run_on_postgres",
]

# Each migration tool's own table.
MIGRATION_TABLES = {Orm.SQLALCHEMY: "alembic_version", Orm.TORTOISE: "aerich"}


def run_on_postgres(session: nox.Session, stack: Stack, project: Path) -> None:
    """The cell's workflow on a PostgreSQL that this starts and stops, then the checks."""
    database = project.name.replace("-", "_")
    with running_postgres() as postgres:
        session.log(f"PostgreSQL on 127.0.0.1:{postgres.port} (data in {postgres.root})")
        workflow = CellWorkflow(
            session,
            stack,
            project,
            database_url=postgres.create_database(database),
            # Each run of the generated tests gets it anew, empty.
            test_database=lambda: postgres.create_database(f"{database}_tests"),
            checks=False,
        )
        workflow.run()
        migrated = {*ENTITY_TABLES, MIGRATION_TABLES[stack.orm]}
        expect_tables(session, postgres, database, migrated)
        if RETIRED_TABLE in postgres.tables(database):
            session.error(f"PostgreSQL {database} still has {RETIRED_TABLE} after its removal")
        # The generated tests' server created its tables in TEST_DATABASE_URL.
        expect_tables(session, postgres, f"{database}_tests", set(ENTITY_TABLES))
        # The reference is a foreign key, and its filtered list an index scan, as migrated
        # and as the ORM creates the tables.
        for schema in (database, f"{database}_tests"):
            expect_foreign_key(session, postgres, schema)
            expect_reference_index(session, postgres, schema)
        expect_portable_migrations(session, project, stack)
        # The other way round: a revision generated against PostgreSQL applies on SQLite.
        workflow.commit("Before the tags")
        workflow.add("tag", "label:str")
        on_postgres = {"DATABASE_URL": postgres.url(database)}
        workflow.make("makemigration", "MIGRATION_MESSAGE=tags", env=on_postgres)
        workflow.make("migrate", env=on_postgres)
        workflow.make("migrate")
        migrated.add("tags")
        expect_tables(session, postgres, database, migrated)
        expect_sqlite_tables(session, project / "app.db", {*ENTITY_TABLES, "tags"})
        # The container's command on a fresh database: it migrates from zero, then serves.
        fresh = postgres.create_database(f"{database}_start")
        workflow.serve(workflow.exercise_entities, start_script=True, database_url=fresh)
        expect_tables(session, postgres, f"{database}_start", migrated)
        # A restart closes every pooled connection under the running service.
        grown = (GROWN_ENTITY, workflow.entities[GROWN_ENTITY])
        workflow.serve(
            lambda base_url: expect_reads_survive_a_restart(session, postgres, base_url, grown),
            database_url=postgres.url(database),
        )


def expect_reads_survive_a_restart(
    reporter: Reporter, postgres: PostgresServer, base_url: str, entity: tuple[str, str]
) -> None:
    """Reads of ``entity`` (name, --fields) succeed right after PostgreSQL restarts under the
    service: none is a 5xx."""
    api = EntityApi(reporter, base_url, *entity)
    # Reads first, so that the pool holds connections for the restart to close.
    for _ in range(3):
        api.expect("before the restart", 200, "GET", "?limit=5")
    postgres.restart()
    reporter.log("PostgreSQL restarted under the running service")
    for attempt in range(5):
        api.expect(f"read {attempt + 1} after the restart", 200, "GET", "?limit=5")


def expect_foreign_key(reporter: Reporter, postgres: PostgresServer, database: str) -> None:
    """The reference's column is a foreign key to the referenced table's id, ON DELETE RESTRICT."""
    table, column, target = reference_columns()
    keys = postgres.psql(
        "SELECT a.attname, c.confrelid::regclass, b.attname, c.confdeltype FROM pg_constraint c"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
        " JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = ANY (c.confkey)"
        f" WHERE c.contype = 'f' AND c.conrelid = '{table}'::regclass",
        database=database,
    )
    # confdeltype r: RESTRICT (a would be NO ACTION, c CASCADE, n SET NULL).
    expected = f"{column}|{target}|id|r"
    if expected not in keys.splitlines():
        reporter.error(
            f"{database}: {table}.{column} is not a foreign key to {target}.id ON DELETE "
            f"RESTRICT; its foreign keys (column|table|column|action):\n{keys}"
        )
    reporter.log(f"{database}: {table}.{column} references {target}.id ON DELETE RESTRICT")


def expect_reference_index(reporter: Reporter, postgres: PostgresServer, database: str) -> None:
    """The rows that refer to one row (``WHERE customer_id = $1``, what the reference's filter
    and nested list select) are found through an index of the reference's column.

    The tables are tiny, so sequential scans are switched off: what is left is an index scan
    if an index on the column exists, and a sequential scan (at a prohibitive cost) if not.
    """
    table, column, _ = reference_columns()
    definitions = postgres.psql(
        f"SELECT indexname, indexdef FROM pg_indexes WHERE tablename = '{table}'",
        database=database,
    )
    # The column alone, or first: `CREATE INDEX ix_orders_customer_id ON public.orders USING
    # btree (customer_id)`.
    leading = re.compile(rf"USING \w+ \({column}[,)]")
    indexes = [line.split("|", 1)[0] for line in definitions.splitlines() if leading.search(line)]
    if not indexes:
        reporter.error(f"{database}: no index of {table} leads with {column}:\n{definitions}")
    # The generic plan: the one for any id, as a prepared statement of the service gets it.
    # The parameter takes the column's type (integer or uuid); with a generic plan its value
    # (NULL here) does not shape the plan.
    plan = postgres.psql(
        "SET enable_seqscan = off; SET plan_cache_mode = force_generic_plan; "
        f"PREPARE referrers AS SELECT * FROM {table} WHERE {column} = $1; "
        "EXPLAIN EXECUTE referrers(NULL)",
        database=database,
    )
    scans = re.findall(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan) (?:using|on) (\w+)", plan)
    if not set(scans) & set(indexes):
        reporter.error(
            f"{database}: {table} WHERE {column} = $1 does not scan an index of {column} "
            f"({', '.join(indexes)}):\n{plan}"
        )
    reporter.log(f"{database}: {table} WHERE {column} = $1 scans {', '.join(sorted(set(scans)))}")


def expect_tables(
    reporter: Reporter, postgres: PostgresServer, database: str, expected: set[str]
) -> None:
    """``database`` on ``postgres`` has (at least) the ``expected`` tables."""
    tables = postgres.tables(database)
    if not expected <= tables:
        reporter.error(
            f"PostgreSQL database {database} lacks {sorted(expected - tables)}: {tables}"
        )
    reporter.log(f"PostgreSQL {database} has {sorted(tables)}")


def expect_sqlite_tables(reporter: Reporter, path: Path, expected: set[str]) -> None:
    """The project's SQLite database (``SQLITE_URL``) has (at least) the ``expected`` tables."""
    tables = sqlite_tables(path)
    if not expected <= tables:
        reporter.error(f"SQLite {path.name} lacks {sorted(expected - tables)}: {tables}")
    reporter.log(f"SQLite {path.name} has {sorted(tables)}")


def expect_portable_migrations(reporter: Reporter, project: Path, stack: Stack) -> None:
    """Aerich's SQLite trap is present and defused: each revision picks its SQL by dialect.

    Aerich writes ``AUTOINCREMENT`` for SQLite, which PostgreSQL rejects; the entities'
    revision must carry it for SQLite only, with ``SERIAL`` for PostgreSQL.
    """
    if stack.orm is not Orm.TORTOISE:
        return
    revisions = sorted((project / "migrations" / "models").glob("*.py"))
    for revision in revisions:
        source = revision.read_text()
        if "AUTOINCREMENT" in source and "db.capabilities.dialect" not in source:
            reporter.error(f"{revision.name} has SQLite-only DDL for every dialect")
    entities = next((path for path in revisions if path.stem.endswith("_entities")), None)
    source = entities.read_text() if entities else ""
    # upgrade(): the SQLite branch is indented under the `if`, PostgreSQL's return is not.
    sqlite_sql, _, postgres_sql = source.partition("\n    return ")
    # Each dialect's own key column: an int key numbered by the database, or a UUID key.
    uuid_keys = stack.id == UUID_KEY_CELL
    sqlite_key, postgres_key = (
        ('"id" CHAR(36)', '"id" UUID') if uuid_keys else ("AUTOINCREMENT", "SERIAL")
    )
    if not (sqlite_key in sqlite_sql and postgres_key in postgres_sql):
        reporter.error(
            f"the entities revision does not split SQLite and PostgreSQL DDL: {entities}"
        )
    reporter.log(
        f"Aerich revisions pick their SQL by dialect ({sqlite_key} for SQLite, {postgres_key} "
        "for PostgreSQL)"
    )
