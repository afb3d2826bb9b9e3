"""``skillfilter filter FILTER [FILE ...]``: the records that match, as JSON Lines.

Usage::

    skillfilter filter [--schema FILE|NAME] [--entity E] [--skip-invalid] [--jobs N] [--no-prefilter]
                       [--engine python|duckdb] FILTER [FILE ...]

Records come from the files in turn (``-`` or no file at all: standard input), each a JSON array, JSON
Lines, or export pages one after another (:mod:`skillfilter.cli.records` reads them all, streaming: memory
stays
flat however large the input).  Matching records are written to standard output as JSON Lines in input
order, each as it was written: a line of JSON Lines byte for byte (its line end as ``\n``), a record of an
array or a page as its text without whitespace outside strings.  Numbers and strings are never re-encoded.

Speed: a JSON Lines file of 8 MiB or more is split by byte ranges across ``--jobs`` processes (default: the
cores available; :mod:`skillfilter.cli.parallel`), and a line whose bytes cannot hold what the filter needs
is not decoded (:mod:`skillfilter.cli.prefilter`), and the others only as far as the filter reads them
(:mod:`skillfilter.cli.projection`; ``--no-prefilter`` decodes every line whole).  Output and
messages are the same either way.  ``--engine duckdb`` hands the checked filter to
:func:`skillfilter.backends.duckdb_nested.run_filter`.

A progress line appears on standard error after a while when standard error is a terminal and standard
output is not that same terminal (so that it never runs into the records).

Typing: without ``--schema`` and ``--entity`` the filter is schemaless (a comparison holds only between
values of the same kind).  ``--schema`` (a schema file, or a built-in schema: ``export``, ``skillengine``)
validates the filter against ``--entity`` first and converts its literals to the field types; without
``--entity`` the schema's default entity is used (``employees`` for ``export``).  ``--entity`` without
``--schema`` means the built-in ``export`` schema: this command reads exported records.

Exit status: 0 done (whether or not anything matched); 1 the filter has problems (a syntax error or, with
a schema, a validation error: the message shows where); 2 a usage error (bad schema, unknown entity) or
input that cannot be read: the message names the file, line, column and record, and every matching record
before it has been written (none twice).  ``--skip-invalid`` goes on past records that are malformed or
not objects, reports them on standard error and ends with their count.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import io
import json
import math
import os
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

from ...errors import FilterError
from .. import parallel
from ..parallel import Job, Tally, Workers, available_cores, run_file
from ..records import MATCHES, Record, RecordError, RecordReader, read_sources

if TYPE_CHECKING:  # pragma: no cover
    from ...semantics.schema import Schema

__all__ = ["add_arguments", "run"]

PROG = "skillfilter filter"
#: Problems with single records shown one by one under --skip-invalid; the rest are only counted.
MAX_SHOWN_SKIPS = 10
#: A progress line appears once the work has taken this long (seconds), on a terminal only...
PROGRESS_AFTER = 1.0
#: ... and is redrawn at most this often (seconds).
PROGRESS_EVERY = 0.25
#: Records between two looks at the clock.
PROGRESS_STRIDE = 2048
#: Output lines gathered before one write.
BATCH = 256


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "filter", metavar="FILTER", help="the filter, as in \"skill_clusters__domain_name='Finance'\""
    )
    p.add_argument(
        "files", nargs="*", metavar="FILE",
        help="JSON array, JSON Lines or export pages; `-` or none: standard input",
    )
    p.add_argument(
        "--schema", "-s", metavar="FILE|NAME",
        help="validate and type the filter with this schema: a file (docs/schema.md) or a built-in one, "
        "export or skillengine (default: none, schemaless; `export` when only --entity is given)",
    )
    p.add_argument(
        "--entity", "-e",
        help="the records' entity in the schema (default: the schema's default entity, `employees` "
        "for export)",
    )
    p.add_argument(
        "--skip-invalid", action="store_true",
        help="go on past malformed records and records that are not JSON objects; report their count",
    )
    p.add_argument(
        "--jobs", "-j", type=_jobs, default=None, metavar="N",
        help="processes for JSON Lines files (default: the cores available; 1: this process only)",
    )
    p.add_argument(
        "--no-prefilter", dest="prefilter", action="store_false",
        help="decode every line of JSON Lines whole (default: a line whose bytes cannot match is only "
        "validated, and the others are decoded only as far as the filter reads them)",
    )
    p.add_argument(
        "--engine", choices=("python", "duckdb"), default="python",
        help="python (default) or duckdb (needs the `duckdb` extra, --schema and --entity)",
    )


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of processes: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1 process, not {value}")
    return value


# --------------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------------
def _fast_dumps() -> Callable[[Any], bytes] | None:
    from ..records import orjson_module

    module = orjson_module()
    return None if module is None else module.dumps


_COMPACT: dict[str, Any] = {"separators": (",", ":"), "allow_nan": False, "check_circular": False}
_ENCODE = json.JSONEncoder(ensure_ascii=False, **_COMPACT).encode
_ENCODE_ASCII = json.JSONEncoder(**_COMPACT).encode


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities (which JSON cannot write) replaced by ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def encode_text(record: Mapping[str, Any]) -> str:
    """One record as compact JSON text (what :mod:`json` writes; NaN and infinities as ``null``)."""
    try:
        return _ENCODE(record)
    except ValueError:  # NaN or an infinity (json accepts them on input; JSON has no such number)
        return _ENCODE(_finite(record))


def encode_bytes(record: Mapping[str, Any], fast: Callable[[Any], bytes] | None) -> bytes:
    """One record as compact UTF-8 JSON, the same record :func:`encode_text` writes."""
    if fast is not None:
        try:
            return fast(record)  # orjson: compact, UTF-8, writes NaN and infinities as null
        except TypeError:  # an integer beyond 64 bits, a lone surrogate
            pass
    text = encode_text(record)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (from a "\ud800" escape): keep it escaped
        try:
            return _ENCODE_ASCII(record).encode("ascii")
        except ValueError:
            return _ENCODE_ASCII(_finite(record)).encode("ascii")


class _Writer:
    """JSON Lines to standard output, in batches; :meth:`flush` before any message and at the end.

    :meth:`write_raw` takes a record's own text (:attr:`RecordReader.raw`); :meth:`write` encodes one.
    """

    def __init__(self, stdout: TextIO) -> None:
        self.count = 0
        self._text = stdout
        self._binary: Any = getattr(stdout, "buffer", None)
        self._fast = _fast_dumps()
        self._lines: list[Any] = []
        if self._binary is not None:
            stdout.flush()  # whatever went through the text layer goes first

    def write(self, record: Mapping[str, Any]) -> None:
        self.write_raw(encode_bytes(record, self._fast))

    def write_block(self, data: bytes, count: int) -> None:
        """``count`` records' lines, each ending in ``\n`` (UTF-8, as :meth:`write_raw` takes them)."""
        self._drain()
        self.count += count
        if self._binary is not None:
            self._binary.write(data)
        else:
            self._text.write(data.decode("utf-8", "replace"))

    def write_raw(self, line: bytes) -> None:
        """One record's UTF-8 text (one line, without its line end)."""
        self.count += 1
        if self._binary is not None:
            self._lines.append(line)
        else:  # a text stream: the same text (valid UTF-8: the reader checked it)
            self._lines.append(line.decode("utf-8", "replace"))
        if len(self._lines) >= BATCH:
            self._drain()

    def _drain(self) -> None:
        lines, self._lines = self._lines, []
        if not lines:
            return
        if self._binary is not None:
            self._binary.write(b"\n".join(lines) + b"\n")
        else:
            self._text.write("\n".join(lines) + "\n")

    def flush(self) -> None:
        self._drain()
        (self._binary if self._binary is not None else self._text).flush()


# --------------------------------------------------------------------------------------------------
# progress
# --------------------------------------------------------------------------------------------------
def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False


def _same_terminal(stdout: Any, stderr: Any) -> bool:
    """Whether standard output is a terminal that may be standard error's (then no progress line: it
    would run into the records); when that cannot be told, a terminal is taken to be the same."""
    if not _isatty(stdout):
        return False
    try:
        out, err = os.fstat(stdout.fileno()), os.fstat(stderr.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return True
    if stat.S_ISCHR(out.st_mode) and stat.S_ISCHR(err.st_mode):
        return out.st_rdev == err.st_rdev
    return (out.st_dev, out.st_ino) == (err.st_dev, err.st_ino)


class _Progress:
    """A line on standard error (a terminal) that says how far the work is, once it takes a while."""

    def __init__(self, stderr: TextIO, writer: _Writer) -> None:
        self._stderr = stderr
        self._writer = writer
        self._start = time.monotonic()
        self._last = 0.0
        self._shown = False
        self._readers: list[RecordReader] = []
        self._done_records = 0

    def reader(self, reader: RecordReader) -> None:
        if self._readers:
            self._done_records += self._readers[-1].records
        self._readers.append(reader)

    def tick(self) -> None:
        now = time.monotonic()
        if now - self._start < PROGRESS_AFTER or now - self._last < PROGRESS_EVERY:
            return
        self._last = now
        reader = self._readers[-1] if self._readers else None
        parts = []
        if reader is not None:
            where = reader.name
            if reader.size:
                where += f" {min(100, 100 * reader.bytes_read // reader.size)}%"
            parts.append(where)
            parts.append(f"{self._done_records + reader.records:,} records")
        parts.append(f"{self._writer.count:,} matched")
        self._stderr.write(f"\r\x1b[K{PROG}: " + " · ".join(parts))
        self._stderr.flush()
        self._shown = True

    def clear(self) -> None:
        if self._shown:
            self._stderr.write("\r\x1b[K")
            self._stderr.flush()
            self._shown = False


# --------------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------------
class _Usage(Exception):
    pass


def _typing(args: argparse.Namespace) -> tuple[Schema | None, str | None]:
    """The schema and entity to compile with (``(None, None)``: schemaless)."""
    if args.schema is None and args.entity is None:
        return None, None
    from ._common import UsageError, load_schema

    try:
        schema = load_schema(args.schema if args.schema is not None else "export")
    except UsageError as exc:
        raise _Usage(str(exc)) from None
    entity = args.entity if args.entity is not None else schema.implied_entity()
    if entity is None:
        raise _Usage(f"which entity? pass --entity ({', '.join(sorted(schema.entities))})")
    if entity not in schema.entities:
        raise _Usage(
            f"unknown entity `{entity}`; schema `{schema.name}` has: {', '.join(sorted(schema.entities))}"
        )
    return schema, entity


def _engine(args: argparse.Namespace, schema: Schema | None, entity: str | None, *, stdin: TextIO,
            stdout: TextIO, stderr: TextIO) -> int:
    """``--engine duckdb``: the filter checked, then :func:`skillfilter.backends.duckdb_nested.run_filter`."""
    if args.schema is None or args.entity is None:
        stderr.write(f"{PROG}: --engine duckdb needs --schema and --entity\n")
        return 2
    try:
        run_filter = importlib.import_module("skillfilter.backends.duckdb_nested").run_filter
    except ImportError as exc:
        return _no_duckdb(exc, stderr)
    stdout.flush()
    binary = getattr(stdout, "buffer", None)
    out: Any = binary if binary is not None else _TextBytes(stdout)
    extra: dict[str, Any] = {}
    parameters = inspect.signature(run_filter).parameters.values()
    if any(p.name == "stdin" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        extra["stdin"] = getattr(stdin, "buffer", stdin)
    try:
        status = run_filter(
            args.filter, schema=schema, entity=entity, paths=list(args.files) or ["-"], out=out,
            skip_invalid=bool(args.skip_invalid), err=stderr, **extra,
        )
    except ImportError as exc:  # the engine imports DuckDB when it starts
        if not (exc.name or "").startswith("duckdb"):
            raise
        return _no_duckdb(exc, stderr)
    out.flush()
    return int(status)


def _no_duckdb(exc: ImportError, stderr: TextIO) -> int:
    stderr.write(
        f"{PROG}: --engine duckdb needs DuckDB: install the `duckdb` extra "
        f"(pip install 'skillfilter[duckdb]') ({exc})\n"
    )
    return 2


class _TextBytes:
    """A binary stream over a text one (for an engine that writes bytes)."""

    def __init__(self, text: TextIO) -> None:
        self._text = text

    def write(self, data: bytes) -> int:
        self._text.write(data.decode("utf-8", "replace"))
        return len(data)

    def flush(self) -> None:
        self._text.flush()


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    try:
        schema, entity = _typing(args)
    except _Usage as exc:
        stderr.write(f"{PROG}: {exc}\n")
        return 2
    from ...backends.python import compile_plan, plan_predicate

    try:
        plan, checked = compile_plan(args.filter, schema=schema, entity=entity)  # checked and planned once
        test = plan_predicate(plan, checked)
        # Numbers need reading exactly only when the filter compares some (records are written as read).
        exact_numbers = any(
            isinstance(c.value, (int, float, Decimal)) and not isinstance(c.value, bool)
            for c in checked.comparisons()
        )
    except FilterError as exc:
        stderr.write(f"{PROG}: invalid filter\n{exc}\n")
        return 1
    if getattr(args, "engine", "python") == "duckdb":
        return _engine(args, schema, entity, stdin=stdin, stdout=stdout, stderr=stderr)
    compiled = parallel.Compiled(test, None, None)
    if getattr(args, "prefilter", True):
        from ..prefilter import line_condition
        from ..projection import projection

        compiled = parallel.Compiled(test, line_condition(plan), projection(plan))

    writer = _Writer(stdout)
    progress = _Progress(stderr, writer) if _isatty(stderr) and not _same_terminal(stdout, stderr) else None
    skipped = 0

    def skip(error: RecordError) -> None:
        nonlocal skipped
        skipped += 1
        if skipped <= MAX_SHOWN_SKIPS + 1:
            if progress is not None:
                progress.clear()
            if skipped <= MAX_SHOWN_SKIPS:
                stderr.write(f"{PROG}: skipped {error}\n")
            else:
                stderr.write(f"{PROG}: (more invalid records: only counted from here on)\n")

    if not args.files and _isatty(stdin):
        stderr.write(f"{PROG}: reading records from standard input (end it with Ctrl-D)\n")
    readers: list[RecordReader] = []
    on_error = skip if args.skip_invalid else None

    def on_reader(reader: RecordReader) -> None:
        reader.prefilter, reader.projection, reader.select = compiled.check, compiled.projection, test
        if progress is not None:
            reader.tick, reader.tick_every = progress.tick, PROGRESS_STRIDE
        readers[:] = [reader]
        if progress is not None:
            progress.reader(reader)

    write = writer.write_raw

    def matches(reader: RecordReader) -> None:
        """The matching lines of a block the reader read in part (``MATCHES``), as they were written."""
        texts = reader.block_texts
        for index in reader.block_matches:
            text = texts[index]
            write(text[:-1] if text[-1:] == b"\r" else text)

    def consume(records: Iterable[Record]) -> None:
        # A reader that read a block in part tested its records already (``MATCHES``).
        if progress is None:
            for record in records:
                reader = readers[0]
                if record is MATCHES:
                    matches(reader)
                elif test(record):
                    write(reader.raw)  # the record as it was written
        else:
            for record in records:
                reader = readers[0]
                if record is MATCHES:  # (the reader counts its records, and ticks, once they are taken)
                    matches(reader)
                    continue
                if test(record):
                    write(reader.raw)
                if not reader.records % PROGRESS_STRIDE:
                    progress.tick()

    def sequential(reader: RecordReader, lines_before: int) -> None:
        on_reader(reader)
        consume(reader.json_lines(lines_before))

    jobs = args.jobs if getattr(args, "jobs", None) is not None else available_cores()
    workers: Workers | None = None
    status = 0
    try:
        for name in [str(p) for p in args.files] or ["-"]:
            start = _parallel_start(name) if jobs > 1 else None
            if start is None:
                consume(read_sources([name], stdin, on_error=on_error, on_reader=on_reader,
                                     exact_numbers=exact_numbers))
                continue
            if workers is None:
                workers = Workers(Job(
                    filter=args.filter, schema=_schema_spec(args), entity=entity, exact_numbers=exact_numbers,
                    prefilter=bool(getattr(args, "prefilter", True)), skip_invalid=bool(args.skip_invalid),
                ), jobs, compiled=compiled)
            tally = Tally(name, os.stat(name).st_size)
            if progress is not None:
                progress.reader(tally)  # type: ignore[arg-type]  # shaped as a reader
            run_file(
                name, start, workers, write_block=writer.write_block, skip=on_error, sequential=sequential,
                tally=tally, tick=None if progress is None else progress.tick,
            )
    except RecordError as exc:
        status = 2
        writer.flush()
        if progress is not None:
            progress.clear()
        stderr.write(f"{PROG}: {exc}\n")
    except BrokenPipeError:
        _silence(stdout)
        raise
    finally:
        if workers is not None:
            workers.close()
        if progress is not None:
            progress.clear()
        try:
            writer.flush()
        except BrokenPipeError:
            _silence(stdout)
            raise
    if skipped:
        stderr.write(f"{PROG}: skipped {skipped} invalid record{'s' if skipped != 1 else ''}\n")
    return status


def _schema_spec(args: argparse.Namespace) -> str | None:
    """The ``--schema`` a worker loads (``export`` when only ``--entity`` is given)."""
    if args.schema is None and args.entity is None:
        return None
    return str(args.schema) if args.schema is not None else "export"


def _parallel_start(name: str) -> tuple[int, int] | None:
    """Where the JSON Lines of file ``name`` start, when it is worth splitting across processes."""
    if name == "-":
        return None
    try:
        info = os.stat(name)
        least = parallel.MIN_RANGES * parallel.RANGE_SIZE
        if not stat.S_ISREG(info.st_mode) or info.st_size < least:
            return None
        start = parallel.json_lines_start(name)
    except (OSError, RecordError):
        return None
    if start is None or info.st_size - start[0] < least:
        return None
    return start


def _silence(stdout: TextIO) -> None:
    """The reader of our output went away (``| head``): send what is still buffered nowhere, quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass
