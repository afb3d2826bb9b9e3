"""``skillfilter_fold`` in the database: rule 5's simple case mapping as an SQL function.

:func:`register_functions` registers it on a :mod:`sqlite3` connection; :func:`install_functions` asks the
connection's dialect to make it available (PostgreSQL: ``CREATE FUNCTION``).  :func:`fold_table` is the
mapping as a table, for dialects that spell it with ``translate()``.
"""

from __future__ import annotations

import functools
import sys
from typing import Any

from ...semantics.operators import simple_fold
from .dialect import FOLD_FUNCTION
from .dialect import dialect as get_dialect

__all__ = ["FOLD_FUNCTION", "fold_table", "install_functions", "register_functions"]


def _fold_value(value: Any) -> Any:
    return simple_fold(value) if isinstance(value, str) else value


def register_functions(conn: Any) -> None:
    """Register ``skillfilter_fold`` (rule 5's simple case mapping) on a :mod:`sqlite3` connection.

    Needed on every connection that runs SQL with a case-insensitive operator (``iexact``, ``icontains``,
    ...); without it SQLite says ``no such function: skillfilter_fold``.
    """
    conn.create_function(FOLD_FUNCTION, 1, _fold_value, deterministic=True)


@functools.lru_cache(maxsize=1)
def fold_table() -> tuple[str, str]:
    """``(from, to)``: every character whose ``upper()`` is one other character, and that character."""
    src: list[str] = []
    dst: list[str] = []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        u = c.upper()
        if len(u) == 1 and u != c:
            src.append(c)
            dst.append(u)
    return "".join(src), "".join(dst)


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
