"""The dialect registry: dialects are plug-ins, found by name, and everything reads the registry."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from skillfilter.backends.sql import (
    DialectError,
    detect_dialect,
    dialect,
    dialect_names,
    register_dialect,
    select_keys,
    to_sql,
)
from skillfilter.backends.sql.sqlite import SQLite
from skillfilter.errors import FilterError


class Shouting(SQLite):
    """A toy dialect: SQLite under another name (and an alias), registered at run time."""

    name = "shouting"
    aliases = ("loud",)
    connection_modules = ()
    description = "shouting (a test dialect)"


def test_a_registered_dialect_is_found_by_name_and_alias() -> None:
    register_dialect("shouting", Shouting)
    try:
        assert "shouting" in dialect_names()
        assert dialect("loud").name == "shouting"
        sql, params = to_sql("external_id='1'", dialect="loud", schema="export")
        assert (sql, params) == to_sql("external_id='1'", dialect="sqlite", schema="export")
        conn = sqlite3.connect(":memory:")
        conn.execute('CREATE TABLE "employees" ("id" INTEGER, "external_id" TEXT)')
        conn.execute("INSERT INTO employees VALUES (1, '1'), (2, '2')")
        assert select_keys(conn, "external_id='1'", schema="export", dialect="shouting") == [1]
    finally:
        import importlib

        registry = importlib.import_module("skillfilter.backends.sql.dialect")
        registry._REGISTRY.pop("shouting", None)
        registry._ALIASES.pop("loud", None)
        registry._INSTANCES.pop("shouting", None)


def test_the_cli_offers_every_registered_dialect() -> None:
    import io

    from skillfilter.cli import main

    out = io.StringIO()
    assert main(["sql", "--help"], stdin=io.StringIO(), stdout=out, stderr=io.StringIO()) == 0
    for name in dialect_names():
        assert name in out.getvalue()


@pytest.mark.parametrize("bad", ["oracle", "", "sqlite.x", "_values", "compiler", 5])
def test_unknown_dialects_are_filter_errors(bad: Any) -> None:
    with pytest.raises(DialectError) as info:
        dialect(bad)
    assert isinstance(info.value, FilterError) and isinstance(info.value, ValueError)
    with pytest.raises(FilterError):
        to_sql("external_id='1'", dialect=bad)


def test_connections_tell_their_dialect() -> None:
    assert detect_dialect(sqlite3.connect(":memory:")) == "sqlite"
    duckdb = pytest.importorskip("duckdb")
    assert detect_dialect(duckdb.connect()) == "duckdb"
    with pytest.raises(DialectError, match="cannot tell"):
        detect_dialect(object())
