"""DuckDB over nested records: filters as one condition on the rows ``read_json``/Parquet give, and the
``skillfilter filter --engine duckdb`` engine.  Needs the ``duckdb`` extra (imported only when used).

- :func:`to_sql_nested` / :func:`duckdb_columns`: :mod:`.compile`;
- :func:`run_filter`: :mod:`.engine`.
"""

from __future__ import annotations

from typing import Any

from .compile import duckdb_columns, to_sql_nested

__all__ = ["duckdb_columns", "run_filter", "to_sql_nested"]


def run_filter(*args: Any, **kwargs: Any) -> int:
    """See :func:`skillfilter.backends.duckdb_nested.engine.run_filter`."""
    from .engine import run_filter as run

    return run(*args, **kwargs)
