"""``skillfilter_fold`` in the database: rule 5's simple case mapping as an SQL function.

:func:`register_functions` registers it on a :mod:`sqlite3` connection; :func:`install_functions` asks the
connection's dialect to make it available (PostgreSQL: ``CREATE FUNCTION``).  :func:`fold_table` is the
mapping as a table, for dialects that spell it with ``translate()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...semantics.values import fold_table, simple_fold
from .dialect import FOLD_FUNCTION
from .dialect import dialect as get_dialect

__all__ = ["FOLD_FUNCTION", "fold_differences", "fold_table", "install_functions", "register_functions"]


def _fold_value(value: Any) -> Any:
    return simple_fold(value) if isinstance(value, str) else value


def register_functions(conn: Any) -> None:
    """Register ``skillfilter_fold`` (rule 5's simple case mapping) on a :mod:`sqlite3` connection.

    Needed on every connection that runs SQL with a case-insensitive operator (``iexact``, ``icontains``,
    ...); without it SQLite says ``no such function: skillfilter_fold``.
    """
    conn.create_function(FOLD_FUNCTION, 1, _fold_value, deterministic=True)


def fold_differences(theirs: Mapping[str, str]) -> set[str]:
    """The characters where an engine's ``upper()`` differs from rule 5; ``theirs`` maps each character the
    engine's ``upper()`` changes to its result."""
    src, dst = fold_table()
    ours = dict(zip(src, dst, strict=True))
    return {c for c in set(theirs) | set(ours) if theirs.get(c) != ours.get(c)}


def install_functions(conn: Any, dialect: str | None = None) -> None:
    """Make ``skillfilter_fold`` available on ``conn``: create it in a PostgreSQL database (a psycopg
    connection; needs the right to create functions; the function goes into the first schema of the search
    path), or register it on a sqlite3 connection.

    On PostgreSQL the function is exactly rule 5 as this Python computes it, whatever the database's
    collation: ``upper()`` under the libc ``C.utf8`` collation, checked here character by character against
    Python, with ``translate()`` over the exact table for text holding one of the characters where they differ
    (such as ``ᾳ``, which ``upper()`` maps but rule 5 keeps).  Run it again after upgrading the operating
    system's C library or Python (their Unicode versions may change).
    """
    from .run import detect_dialect

    get_dialect(dialect or detect_dialect(conn)).install_functions(conn)
