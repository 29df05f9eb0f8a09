"""The embedded PostgreSQL's expression indexes (database/equality_indexes.py), against a real
server: tables FerretDB creates get them without GIN's pending list, and indexes an older
version created with one lose it at start-up."""

from __future__ import annotations

from pathlib import Path

from feedbackql_server.database.children import Records
from feedbackql_server.database.equality_indexes import EQUALITY_KEYS, setup_sql
from feedbackql_server.database.postgres import FERRETDB_DATABASE, PostgresServer, postgres_server

FERRETDB_LIKE_SCHEMA = """
CREATE SCHEMA IF NOT EXISTS app;
CREATE TABLE IF NOT EXISTS app._ferretdb_database_metadata (_jsonb jsonb);
"""


def gin_options(server: PostgresServer, table: str) -> dict[str, str]:
    """Index name -> its options, for the GIN indexes of ``app.<table>``."""
    rows = server.run_sql(f"""SELECT i.relname, coalesce(array_to_string(i.reloptions, ','), '')
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am a ON a.oid = i.relam
        WHERE x.indrelid = 'app.{table}'::regclass AND a.amname = 'gin'""")
    return dict(line.split("|", 1) for line in rows.strip().splitlines())


def test_new_and_older_tables_get_indexes_without_a_pending_list(tmp_path: Path) -> None:
    with postgres_server(tmp_path / "postgres", Records(tmp_path / "children.json"), tmp_path / "pg.log") as server:
        server.run_sql(FERRETDB_LIKE_SCHEMA)
        # A table of an older version: its indexes were made with GIN's default pending list.
        server.run_sql("CREATE TABLE app.records_0123abcd (_jsonb jsonb)")
        old_indexes = server.run_sql("SELECT indexrelid::regclass FROM pg_index "
                                     "WHERE indrelid = 'app.records_0123abcd'::regclass").split()
        assert len(old_indexes) == len(EQUALITY_KEYS["records"])  # the event trigger made them
        for index in old_indexes:
            server.run_sql(f"ALTER INDEX {index} RESET (fastupdate)")
        assert set(gin_options(server, "records_0123abcd").values()) == {""}
        server.run_sql("INSERT INTO app.records_0123abcd SELECT jsonb_build_object('_id', g) "
                       "FROM generate_series(1, 500) g")

        server.run_sql(setup_sql(FERRETDB_DATABASE))  # what every start-up runs
        server.run_sql("CREATE TABLE app.responses_89abcdef (_jsonb jsonb)")  # FerretDB creating a table

        for table, collection in (("records_0123abcd", "records"), ("responses_89abcdef", "responses")):
            options = gin_options(server, table)
            assert len(options) == len(EQUALITY_KEYS[collection]), options
            assert set(options.values()) == {"fastupdate=off"}, options
        found = server.run_sql("SELECT count(*) FROM app.records_0123abcd WHERE _jsonb->'_id' @> '42'")
        assert found.strip() == "1"
