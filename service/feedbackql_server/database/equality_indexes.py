"""Expression indexes that let PostgreSQL serve FerretDB's equality lookups.

FerretDB 1.24 on PostgreSQL turns each top-level equality of a filter into
``_jsonb->'key' @> value`` and evaluates everything else itself, after reading every row the
equality part selects. Its own indexes (btree on ``_jsonb->'key'``) do not serve ``@>``; a GIN
``jsonb_path_ops`` index on the same expression does (an ``_id`` lookup at 20,000 documents:
13.4 ms without, 0.9 ms with). The indexes have no pending list (``fastupdate = off``): GIN
otherwise queues new entries in a list that every lookup scans until a vacuum merges it, so
lookups slowed with the size of the last ingest (the labeler loop ran at 0.75-0.78 of its
1,000-record speed at 100,000 records; 1.05 without the list). These are the keys the service looks documents up by, per
collection; an event trigger gives every table FerretDB creates for such a collection its
indexes, and start-up adds any that an older version did not create.
"""

from __future__ import annotations

EQUALITY_KEYS: dict[str, tuple[str, ...]] = {
    # Only keys that select a few documents: every index costs on every write of a row (a
    # record's state is written twice per answer), and a key that selects a whole dataset
    # (dataset_id) saves nothing over PostgreSQL checking @> row by row.
    # search_tokens: a record's distinct words (storage/search_words.py); a text search looks
    # records up by one word, so that it reads only the records that have it.
    # metadata_keys: one key per metadata value (storage/filter_keys.py); a similar search
    # filtered by a value reads that value's records by it (domain/similar.py). Written only
    # with a record's content, never by an answer. response_keys is not indexed: it is
    # written with every answer, and most of its keys select most of a dataset.
    "records": ("_id", "ext_key", "bucket", "search_tokens", "metadata_keys"),
    # user_id: "the records I answered" reads the caller's responses, not the dataset's records.
    "responses": ("record_id", "bucket", "user_id"),
    "datasets": ("_id", "workspace_id"),
    "users": ("_id", "api_key_hash", "username"),
    "workspaces": ("_id", "name"),
    "meta": ("_id",),
    "intents": ("_id",),
    "user_tallies": ("_id", "dataset_id"),  # a dataset's labelers: a few hundred at most
    "idempotency_keys": ("_id", "key"),  # a key is looked up with its user: the key selects one
    # record_vectors: a vector is read, replaced and deleted by its _id (record and space); an
    # export reads a page's vectors a bucket at a time; a search's catch-up after a few writes
    # looks their numbers up (storage/vectors.py since).
    "record_vectors": ("_id", "bucket", "seq"),
    "metadata_bands": ("dataset_id",),  # a range filter reads its dataset's bands of one property
    "vector_seqs": ("_id",),  # a search reads its dataset's vector sequence first
}


def _keys_case() -> str:
    branches = "\n".join(
        f"    WHEN '{collection}' THEN ARRAY[{', '.join(repr(k) for k in keys)}]"
        for collection, keys in EQUALITY_KEYS.items())
    return f"CASE collection\n{branches}\n    ELSE ARRAY[]::text[] END"


def setup_sql(database: str) -> str:
    """Idempotent SQL: the indexing function, the event trigger, and indexes for existing tables.

    FerretDB names a collection's table ``<collection>_<8 hex digits>`` in a schema per
    MongoDB database, which also holds ``_ferretdb_database_metadata``.
    """
    return f"""
ALTER DATABASE "{database}" SET plan_cache_mode = force_custom_plan;

CREATE OR REPLACE FUNCTION feedbackql_index_table(target regclass) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  table_name text := (SELECT relname FROM pg_class WHERE oid = target);
  schema_name text := (SELECT nspname FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid
                       WHERE c.oid = target);
  collection text := substring(table_name FROM '^(.*)_[0-9a-f]{{8}}$');
  key text;
  index_name text;
BEGIN
  IF collection IS NULL THEN RETURN; END IF;
  FOREACH key IN ARRAY ({_keys_case()}) LOOP
    index_name := left(table_name, 40) || '_eq_' || substr(md5(key), 1, 8);
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %s USING gin ((_jsonb->%L) jsonb_path_ops)'
                   ' WITH (fastupdate = off)', index_name, target, key);
    -- Indexes of older versions kept GIN's pending list, which every lookup scans.
    IF NOT coalesce((SELECT 'fastupdate=off' = ANY(reloptions) FROM pg_class
                     WHERE oid = format('%I.%I', schema_name, index_name)::regclass), false) THEN
      EXECUTE format('ALTER INDEX %I.%I SET (fastupdate = off)', schema_name, index_name);
      PERFORM gin_clean_pending_list(format('%I.%I', schema_name, index_name)::regclass);
    END IF;
  END LOOP;
END $fn$;

CREATE OR REPLACE FUNCTION feedbackql_on_create_table() RETURNS event_trigger
LANGUAGE plpgsql AS $fn$
DECLARE created record;
BEGIN
  FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands()
                 WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    PERFORM feedbackql_index_table(created.objid::regclass);
  END LOOP;
END $fn$;

DROP EVENT TRIGGER IF EXISTS feedbackql_equality_indexes;
CREATE EVENT TRIGGER feedbackql_equality_indexes ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION feedbackql_on_create_table();

DO $do$
DECLARE existing record;
BEGIN
  FOR existing IN
    SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND EXISTS (
      SELECT 1 FROM pg_class m WHERE m.relnamespace = n.oid AND m.relname = '_ferretdb_database_metadata')
  LOOP
    PERFORM feedbackql_index_table(existing.oid::regclass);
  END LOOP;
END $do$;
"""
