"""The command line's failures, loaded only when one happens: closed standard streams, output that cannot
be written, input that cannot be read or decoded, an interrupt; each ends in one line on standard error and
its exit status (see :mod:`skillfilter.cli`)."""

from __future__ import annotations

import contextlib
import errno
import os
from typing import Any, NoReturn


class StreamClosed(OSError):
    """A standard stream that was closed when the process started (``>&-``, ``<&-``)."""


class ClosedInput:
    """Standard input when it was closed at start-up: reading it is an input error."""

    def _fail(self) -> NoReturn:
        raise StreamClosed(errno.EBADF, "standard input is closed")

    def read(self, *_: Any) -> NoReturn:
        self._fail()

    def readline(self, *_: Any) -> NoReturn:
        self._fail()

    def readinto(self, *_: Any) -> NoReturn:
        self._fail()

    def __iter__(self) -> NoReturn:
        self._fail()

    def fileno(self) -> NoReturn:
        self._fail()

    def isatty(self) -> bool:
        return False

    @property
    def buffer(self) -> ClosedInput:
        return self

    name = "<stdin>"
    encoding = "utf-8"


def silence(stream: Any) -> None:
    """Output failed: send whatever is still buffered to the null device, so that the interpreter's final
    flush at exit does not fail again ("Exception ignored ...")."""
    try:
        fd = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except (AttributeError, OSError, ValueError, TypeError):
        pass


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def report(exc: BaseException, prog: str, out: Any, err: Any) -> int:
    """Tell ``exc`` (raised while running ``prog``) on ``err``, the exit status; ``out`` is the command's
    standard output (its ``errors``: the failures writing it)."""
    if isinstance(exc, BrokenPipeError):  # the reader of the output went away (`| head`): stop quietly
        silence(out)
        return 0
    if isinstance(exc, OSError):
        if any(exc is e for e in out.errors):
            silence(out)
            err.write(f"{prog}: cannot write the output: {_reason(exc)}\n")
        elif isinstance(exc, StreamClosed):
            err.write(f"{prog}: cannot read the input: {_reason(exc)}\n")
        else:
            err.write(f"{prog}: input/output error: {_reason(exc)}\n")
        return 2
    if isinstance(exc, UnicodeEncodeError):  # e.g. a lone surrogate (undecodable bytes in an argument)
        err.write(f"{prog}: cannot write the output in its encoding ({exc.encoding}): {exc.reason}\n")
        return 2
    if isinstance(exc, UnicodeDecodeError):
        err.write(f"{prog}: input is not UTF-8 text ({exc.reason} at byte {exc.start})\n")
        return 2
    with contextlib.suppress(OSError):  # KeyboardInterrupt
        out.flush()
    err.write("interrupted\n")
    return 130
