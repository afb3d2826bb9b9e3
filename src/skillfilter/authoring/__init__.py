"""Authoring helpers for tools that build filters for people.

- :func:`split`: fit a long filter into requests within the API's cap of logical operators;
- :func:`simplify`: an equivalent filter, never larger;
- :func:`to_json` / :func:`from_json`: the documented, versioned JSON form of a filter;
- :func:`complete`: completion candidates at a cursor position, on incomplete text;
- :mod:`.export`: request bodies of the export endpoint (``POST /export/employees/skill_clusters``).

Every module is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _lazy_getattr

if TYPE_CHECKING:  # pragma: no cover
    from .complete import Completion, complete
    from .jsonform import FilterJSONError, from_json, to_json
    from .simplify import simplify
    from .split import split

__all__ = ["Completion", "FilterJSONError", "complete", "from_json", "simplify", "split", "to_json"]

_LAZY = {
    "Completion": "complete",
    "complete": "complete",
    "FilterJSONError": "jsonform",
    "from_json": "jsonform",
    "to_json": "jsonform",
    "simplify": "simplify",
    "split": "split",
}


__getattr__ = _lazy_getattr(_LAZY, globals())
