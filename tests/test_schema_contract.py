"""The warehouse DDL (sql/ddl/warehouse.sql) and the column contract (ingestion/schema.py) agree."""
import duckdb

from ingestion.schema import TABLES
from ingestion.sqlfiles import create_warehouse_tables

LINEAGE = {"load_id", "source_file", "source_sha256", "source_id", "source_row", "partition_key", "loaded_at"}


def columns(con, schema, table):
    return [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = $s AND table_name = $t ORDER BY column_index",
        {"s": schema, "t": table}).fetchall()]


def test_raw_keeps_every_delivered_column_and_staging_drops_personal_data():
    con = duckdb.connect()
    create_warehouse_tables(con)
    create_warehouse_tables(con)  # idempotent
    for name, t in TABLES.items():
        raw = columns(con, "raw", name)
        assert raw[: len(t.columns)] == t.column_names and set(raw[len(t.columns):]) == LINEAGE
        staging = [c for c in columns(con, "staging", name) if c not in LINEAGE]
        expected = [c.name for c in t.columns if not c.pii]
        if name == "complaints":
            expected = [c for c in expected if c != "content"] + ["complainant_key", "complainant_id_valid", "complainant_id_format", "content"]
            staging = [c for c in staging if c != "content"] + ["content"]
        assert sorted(staging) == sorted(expected)
        assert not set(t.pii_columns) & set(staging)


def test_every_column_has_a_chinese_header_and_headers_are_unambiguous():
    from ingestion.readers import normalise_header

    for t in TABLES.values():
        labels = [normalise_header(x) for c in t.columns for x in (c.name, c.zh, *c.aliases)]
        assert len(labels) == len(set(labels)), t.name
        assert all(c.zh for c in t.columns)
