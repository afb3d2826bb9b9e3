"""Schemas: entities, fields, types, relations, custom properties, and the operators each type takes.

A schema is plain data (JSON; see ``docs/schema.md``).  Two ship with the package:

- ``skillengine``: the SkillEngine API's filterable entities, derived from its public documentation;
- ``export``: the records of the skill-cluster export endpoint (``employees`` with ``skill_clusters``).

This module gathers the public names of the modules that do the work:

- :mod:`.model`: :class:`Schema`, :class:`Entity`, :class:`Field`, :class:`Relation`,
  :class:`CustomProperties`, :class:`Resolution`, :class:`SchemaError`, :class:`UnknownSchemaError`;
- :mod:`.schema_loading`: the data format and the built-in schemas (``Schema.load``, ``Schema.from_dict``,
  ``Schema.builtin``);
- :mod:`.resolve`: ``Schema.resolve``, the one place where a comparison meets a schema, and
  :class:`ResolveError`;
- :mod:`.literals`: :func:`convert_literal`, :class:`ConversionError`, :func:`show_literal`;
- :mod:`.values`: :func:`parse_datetime` and the other value rules.
"""

from __future__ import annotations

from . import model
from .dates import parse_datetime
from .literals import ConversionError, convert_literal, show_literal
from .model import *  # noqa: F403 - the model's names (its __all__) are this module's
from .resolve import ResolveError

__all__ = ["ConversionError", "ResolveError", "convert_literal", "parse_datetime", "show_literal"]
__all__ += model.__all__
