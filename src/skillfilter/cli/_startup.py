"""Start-up of the command line: standard-library modules that a command may never use load on first use.

Imported first by :mod:`skillfilter.cli` only (never by ``import skillfilter``): a ``skillfilter`` process
owns its interpreter.  ``dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis``, ``tokenize``) but
needs it only for a class without a docstring; ``datetime`` and ``difflib`` serve literals of date fields
and "did you mean" hints.  Each gets a module object at once, holding only its spec; the module's own
code runs into that same object on the first access of any other attribute, so behaviour is unchanged.
(Unlike :class:`importlib.util.LazyLoader`, reading ``__spec__``, as every later ``import`` of the module
does, does not load it.)  A module that is already imported is left as it is.
"""

from __future__ import annotations

import _thread
import importlib.util
import sys
import types
from typing import Any

#: Modules made lazy in a command-line process.
LAZY_MODULES = ("inspect", "datetime", "difflib")

_lock = _thread.RLock()


class _LazyModule(types.ModuleType):
    def __getattr__(self, attr: str) -> Any:  # only for attributes the module does not have yet
        with _lock:
            if self.__class__ is _LazyModule:
                self.__class__ = types.ModuleType  # type: ignore[assignment]
                try:
                    self.__spec__.loader.exec_module(self)  # type: ignore[union-attr]
                except BaseException:
                    sys.modules.pop(self.__name__, None)  # a later import tries again, as usual
                    raise
        return getattr(self, attr)


def lazy_stdlib(names: tuple[str, ...] = LAZY_MODULES) -> None:
    for name in names:
        if name in sys.modules:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):  # pragma: no cover
            continue
        module = importlib.util.module_from_spec(spec)
        module.__class__ = _LazyModule
        sys.modules[name] = module


lazy_stdlib()
