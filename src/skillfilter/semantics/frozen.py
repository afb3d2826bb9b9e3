""":class:`Frozen`: the base of the library's small immutable records (operators, the schema model).

What ``@dataclass(frozen=True, slots=True)`` gives, written out once: a subclass lists its fields in
``_fields`` (and ``__slots__``), sets them in its ``__init__`` with ``self._set_fields(...)``, and gets
equality and hashing by those fields (in order, only between instances of the same class), a dataclass-like
``repr``, immutability (:class:`dataclasses.FrozenInstanceError`) and pickling.  Building a dataclass costs
about a millisecond at import, at every start of the command line; this costs nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = ["Frozen"]


class Frozen:
    """Immutable, slotted, equal and hashed by ``_fields`` (in order), printed as a dataclass is."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _set_fields(self, *values: object) -> None:
        """Set the ``_fields``, in order (for ``__init__``)."""
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def _key(self) -> tuple[Any, ...]:
        """What equality and the hash compare: every field (a subclass may leave some out)."""
        return self._values()

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._values())
