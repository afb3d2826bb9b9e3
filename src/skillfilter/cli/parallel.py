"""``skillfilter filter --jobs N``: a JSON Lines file split by byte ranges across worker processes.

A regular file whose first value is a one-line object (JSON Lines, as :class:`~skillfilter.cli.records.
RecordReader` decides), of at least :data:`MIN_RANGES` ranges, is cut into ranges of about
:data:`RANGE_SIZE` bytes (up to :data:`GROWTH` times that in a large file), each starting just after a
newline.  Each worker reads its range line by line
(:meth:`RecordReader.json_lines`), with the prefilter and the predicate, and sends back where the matching
lines are (runs of whole lines: the main process copies them from the file, so that a filter most records
match does not send them all through a pipe; as bytes, line end ``\\n``, where they are few, or where a
line ends in ``\\r\\n``; the reader says where each line starts, so the range is not split twice),
how many lines and records the range held, and the problems it met.  The main
process takes the results in input order, so the output, the record and line numbers of every message
(counted on from the ranges before), ``--skip-invalid``'s messages and count, and the progress line are what
one process reading the file gives.

Ranges are handed out a few at a time (:data:`AHEAD` per worker, and one more), so memory stays flat: each
process holds about one range.  A range with a line that only the document reader reads (an array, an
export page, a value that goes on past its line: where it ends is in a later range) is read again, with
everything after it, by the main process alone, from the start of that range: the answers are exactly one
reader's.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, NamedTuple, cast

from .documents import IrregularLines
from .records import MATCHES, RecordError, RecordReader

if TYPE_CHECKING:  # pragma: no cover
    from concurrent.futures import Future, ProcessPoolExecutor

    from .prefilter import LineCondition
    from .projection import Projection

__all__ = [
    "AHEAD", "GROWTH", "MIN_RANGES", "RANGES", "RANGE_SIZE", "Compiled", "Job", "RangeResult",
    "available_cores", "json_lines_start",
    "run_file",
]

#: Bytes per range (a range ends at the first newline from there on).
RANGE_SIZE = 1 << 20
#: A file of more than :data:`RANGES` ranges has longer ones, up to this many times :data:`RANGE_SIZE`: each
#: range costs the main process and the workers a little (handed out, answered, its partial blocks), and
#: 4 MiB ranges took 0.91 s where 1 MiB ones took 0.99 on 516 MiB (the main process 0.16 s of CPU, not 0.22).
GROWTH = 4
RANGES = 64
#: Towards the end of a file ranges shrink again, to an eighth of what is left: the workers finish together.
TAIL = 8
#: Files smaller than this many ranges are read by one process (starting workers costs more).
MIN_RANGES = 8
#: A range's matching lines are sent as bytes when they are less than 1/SPARSE of the stretch of file from
#: the first to the last, else as where they are in the file.
SPARSE = 4
#: Ranges in flight per worker.
AHEAD = 4
#: The main process copies the matching lines of a range from the file in pieces of about this many bytes:
#: each piece stays in the cache while it is read, joined and written (4 MiB at once took the main process
#: twice the time in the kernel).
COPY_SIZE = 1 << 20


def available_cores() -> int:
    """The cores this process may run on."""
    count = getattr(os, "process_cpu_count", None)
    if count is not None:  # pragma: no cover - Python 3.13+
        return max(1, int(count() or 1))
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class Job:
    """What a worker needs to build its own predicate and prefilter."""

    filter: str
    schema: str | None
    entity: str | None
    exact_numbers: bool
    prefilter: bool
    skip_invalid: bool


@dataclass
class RangeResult:
    """What one range gave: the matching lines (each ending in ``\\n``), or where they are in the file
    (``spans``), and the counts and problems."""

    data: bytes = b""
    #: Instead of ``data``: runs of matching lines as ``(start, end)`` offsets in the file, each run ending
    #: after its last line's newline (``newline``: the last run ends the file without one).
    spans: list[tuple[int, int]] = field(default_factory=list)
    newline: bool = False
    matched: int = 0
    lines: int = 0
    records: int = 0
    errors: list[RecordError] = field(default_factory=list)
    fatal: RecordError | None = None
    irregular: bool = False


class Compiled(NamedTuple):
    """What a job's filter compiles to: the predicate, the line condition of the prefilter
    (:mod:`skillfilter.cli.prefilter`) and the part of a record it reads (:mod:`skillfilter.cli.projection`),
    the last two ``None`` with ``--no-prefilter`` or where none is known."""

    test: Callable[[Any], bool]
    check: LineCondition | None
    projection: Projection | None


def compile_job(job: Job) -> Compiled:
    """What ``job``'s filter compiles to."""
    from ..backends.python import predicate
    from ..plan.planner import compile_plan
    from .commands._common import load_schema
    from .prefilter import line_condition
    from .projection import projection

    schema = load_schema(job.schema) if job.schema is not None else None
    entity = job.entity if schema is not None else None
    test = predicate(job.filter, schema=schema, entity=entity)
    if not job.prefilter:
        return Compiled(test, None, None)
    plan = compile_plan(job.filter, schema=schema, entity=entity)[0]
    return Compiled(test, line_condition(plan), projection(plan))


_STATE: dict[str, Any] = {}


def _init(job: Job) -> None:
    # Ctrl-C is the main process's to handle: it ends the workers (no traceback from each of them).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if _STATE.get("job") == job:  # forked from the process that compiled it
        return
    _STATE.update(job=job, compiled=compile_job(job))


class _Slice:
    """``size`` bytes of a binary file from its current position."""

    def __init__(self, handle: Any, size: int) -> None:
        self._handle = handle
        #: Bytes not read yet.
        self.left = size

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        data: bytes = self._handle.read(self.left if n < 0 else min(n, self.left))
        self.left -= len(data)
        if not data:
            self.left = 0
        return data


def _run_range(task: tuple[str, int, int]) -> RangeResult:
    """A worker's part: the range ``[start, end)`` of file ``path``, numbered from line 1 and record 1."""
    path, start, end = task
    job: Job = _STATE["job"]
    compiled: Compiled = _STATE["compiled"]
    test = compiled.test
    result = RangeResult()
    raws: list[bytes] = []  # the matching lines (without line ends) ...
    where: list[int] = []  # ... where each starts in the file
    crlf = False  # whether one of them ends in `\r\n` in the file
    texts: list[bytes] | None = None
    at = upto = 0  # where line `upto` of the block `texts` starts in the file
    with open(path, "rb") as handle:
        handle.seek(start)
        stream = _Slice(handle, end - start)
        on_error = result.errors.append if job.skip_invalid else None
        reader = RecordReader(cast("IO[bytes]", stream), path, on_error=on_error,
                              exact_numbers=job.exact_numbers)
        reader.prefilter, reader.projection, reader.select = compiled.check, compiled.projection, test
        reader.lines_only = True
        try:
            for record in reader.json_lines(0):
                if record is MATCHES:  # a block read in part: its matching lines
                    picked: Iterable[int] = reader.block_matches
                elif test(record):
                    picked = (reader.last_index,)
                else:
                    continue
                if reader.block_texts is not texts:  # a new block
                    texts = reader.block_texts
                    at, upto = start + reader.block_base, 0
                for index in picked:
                    # Where the line starts: counted on from the last one (the next line: one length).
                    gap = index - upto
                    if gap == 1:
                        at += len(texts[upto]) + 1
                    elif gap:
                        at += sum(map(len, texts[upto:index])) + gap
                    upto = index
                    raw = texts[index]  # the record as written (JSON Lines: its line, without `\r`)
                    if raw[-1:] == b"\r":
                        raw = raw[:-1]
                        crlf = True
                    raws.append(raw)
                    where.append(at)
        except RecordError as exc:
            result.fatal = exc
        except IrregularLines:
            result.irregular = True
        except OSError as exc:
            result.fatal = RecordError(f"cannot read: {exc.strerror or exc}", source=path)
    result.matched = len(raws)
    if raws:
        _matches(result, raws, where, crlf, end - max(stream.left, 0))
    result.lines = reader.lines_read  # (a range that ends in a newline: no line after it)
    result.records = reader.records
    return result


def _matches(result: RangeResult, raws: list[bytes], where: list[int], crlf: bool, end: int) -> None:
    """Put the matching lines ``raws`` (without line ends; ``where``: where each starts in the file, which
    was read up to offset ``end``) in ``result``: as runs of whole lines in the file (the main process
    copies them from there: less to send back when most lines match), or as bytes where they are few
    (:data:`SPARSE`) or a line ends in ``\\r`` (``crlf``: which is not written)."""
    if crlf or sum(map(len, raws)) * SPARSE < where[-1] + len(raws[-1]) - where[0]:
        # Few of the range's bytes: sent as they are (less work than the main process reading the part of
        # the file that holds them).
        raws.append(b"")
        result.data = b"\n".join(raws)
        return
    spans = result.spans
    first = stop = where[0]
    for begin, raw in zip(where, raws, strict=True):
        if begin != stop:  # a run of lines ends at `stop`
            spans.append((first, stop))
            first = begin
        stop = begin + len(raw) + 1
    spans.append((first, stop))
    if stop > end:  # the file's last line, without a newline
        spans[-1] = (first, end)
        result.newline = True


def json_lines_start(path: str) -> tuple[int, int] | None:
    """Where the JSON Lines of file ``path`` start (byte offset, lines before), when it is JSON Lines
    (:meth:`RecordReader._sniff`); ``None`` otherwise (an array, pages, pretty-printed, empty)."""
    with open(path, "rb") as handle:
        reader = RecordReader(handle, path)
        sniffed = reader._sniff()
        if sniffed is None:
            return None
        data, lines = sniffed
        return reader.bytes_read - len(data), lines


def _moved(error: RecordError, lines: int, records: int) -> RecordError:
    """``error`` of a range, numbered as in the whole file."""
    return RecordError(
        error.reason, source=error.source,
        line=None if error.line is None else error.line + lines, column=error.column,
        record=None if error.record is None else error.record + records,
        record_line=None if error.record_line is None else error.record_line + lines,
        recoverable=error.recoverable,
    )


def _cuts(handle: Any, start: int, size: int) -> list[int]:
    """Range boundaries from ``start``: each just after a newline, about :data:`RANGE_SIZE` apart (up to
    :data:`GROWTH` times that, while there are more than :data:`RANGES` ranges and more than :data:`TAIL`
    of them left)."""
    longest = max(RANGE_SIZE, min(GROWTH * RANGE_SIZE, (size - start) // RANGES))
    cuts = [start]
    pos = start
    while True:
        pos = max(pos, cuts[-1])
        pos += max(RANGE_SIZE, min(longest, (size - pos) // TAIL))
        if pos >= size:
            break
        handle.seek(pos - 1)
        while True:
            chunk = handle.read(1 << 12)
            if not chunk:
                pos = size
                break
            nl = chunk.find(b"\n")
            if nl >= 0:
                pos = handle.tell() - len(chunk) + nl + 1
                break
        if pos >= size:
            break
        cuts.append(pos)
    cuts.append(size)
    return cuts


class Tally:
    """Progress of a file read in ranges, shaped as a reader for the progress line."""

    def __init__(self, name: str, size: int) -> None:
        self.name = name
        self.size: int | None = size
        self.records = 0
        self.bytes_read = 0


class Workers:
    """A pool of worker processes for one command, started on first use.

    A :class:`concurrent.futures.ProcessPoolExecutor`, not :class:`multiprocessing.pool.Pool`: a worker
    that dies (killed, out of memory) ends the run with a clear error instead of a wait that never ends,
    and closing the pool lets the few ranges in flight finish instead of killing workers that may hold the
    task queue's lock (``Pool.terminate`` can then wait forever: that hung a test run).
    """

    def __init__(
        self, job: Job, jobs: int, compiled: Compiled | None = None) -> None:
        self.job = job
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None
        #: The job compiled here already, for workers forked from here.
        self._compiled = compiled

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing  # only when a file is worth splitting
            from concurrent.futures import ProcessPoolExecutor

            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            if self._compiled is not None and context.get_start_method() == "fork":
                _STATE.update(job=self.job, compiled=self._compiled)
            self._pool = ProcessPoolExecutor(self.jobs, mp_context=context, initializer=_init,
                                             initargs=(self.job,))
        return self._pool

    def close(self) -> None:
        """Stop the workers: ranges not started are dropped, the few in flight are let finish."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)


def run_file(
    path: str,
    start: tuple[int, int],
    workers: Workers,
    *,
    write_block: Callable[[bytes, int], None],
    skip: Callable[[RecordError], None] | None,
    sequential: Callable[[RecordReader, int], None],
    tally: Tally,
    tick: Callable[[], None] | None,
) -> None:
    """Filter the JSON Lines of ``path`` from ``start`` (offset, lines before) with ``workers``, writing
    the matches in input order with ``write_block(data, count)``; problems go to ``skip`` (``None``: raised
    as :class:`RecordError` after the matches before them are written).  A range that the workers cannot
    read alone goes, with the rest of the file, to ``sequential(reader, lines_before)``."""
    offset, lines_before = start
    size = tally.size or 0
    with open(path, "rb") as handle:
        cuts = _cuts(handle, offset, size)
    tasks = [(path, cuts[i], cuts[i + 1]) for i in range(len(cuts) - 1)]
    pool = workers.pool()
    with open(path, "rb") as handle:
        _collect(path, tasks, workers, pool, handle.fileno(), write_block=write_block, skip=skip,
                 sequential=sequential, tally=tally, tick=tick, lines_before=lines_before, size=size)


def _copied(fd: int, result: RangeResult) -> Iterator[bytes]:
    """The matching lines of ``result``, copied from the file (each ending in ``\\n``), in pieces of about
    :data:`COPY_SIZE` bytes: runs of lines close together are read at once and joined, a long run is read a
    piece at a time."""
    spans = result.spans
    count = len(spans)
    i = 0
    while i < count:
        base, stop = spans[i]
        if stop - base > COPY_SIZE:  # a long run of lines
            for at in range(base, stop, COPY_SIZE):
                yield os.pread(fd, min(COPY_SIZE, stop - at), at)
            i += 1
            continue
        j = i + 1
        while j < count and spans[j][1] - base <= COPY_SIZE:
            j += 1
        data = os.pread(fd, spans[j - 1][1] - base, base)
        if j - i > 1:
            view = memoryview(data)
            data = b"".join([view[s - base : e - base] for s, e in spans[i:j]])
        yield data
        i = j
    if result.newline:
        yield b"\n"


def _collect(
    path: str, tasks: list[tuple[str, int, int]], workers: Workers, pool: ProcessPoolExecutor, fd: int, *,
    write_block: Callable[[bytes, int], None], skip: Callable[[RecordError], None] | None,
    sequential: Callable[[RecordReader, int], None], tally: Tally, tick: Callable[[], None] | None,
    lines_before: int, size: int,
) -> None:
    """:func:`run_file`'s loop: hand out the ranges, take their results in order.  A worker that died
    (killed, out of memory) breaks the pool, which then refuses new ranges as well as results: either ends
    the run with one :class:`RecordError`."""
    from concurrent.futures.process import BrokenProcessPool

    window = workers.jobs * AHEAD + 1
    pending: list[Future[RangeResult]] = []
    records_before = 0
    submitted = 0
    done = 0
    while done < len(tasks):
        try:
            while submitted < len(tasks) and len(pending) < window:
                pending.append(pool.submit(_run_range, tasks[submitted]))
                submitted += 1
            result = pending.pop(0).result()
        except BrokenProcessPool:
            raise RecordError("a worker process ended unexpectedly (killed, or out of memory?); "
                              "try again, or with --jobs 1", source=path) from None
        range_start = tasks[done][1]
        done += 1
        if result.irregular:
            workers.close()  # the ranges in flight are not needed: the rest is read in one piece
            with open(path, "rb") as handle:
                handle.seek(range_start)
                reader = RecordReader(handle, path, on_error=skip, exact_numbers=workers.job.exact_numbers)
                reader.records = records_before
                reader.bytes_read = range_start
                reader.size = size
                tally.records = records_before
                sequential(reader, lines_before)
            return
        if result.data:
            write_block(result.data, result.matched)
        elif result.spans:
            matched = result.matched
            for piece in _copied(fd, result):
                write_block(piece, matched)
                matched = 0
        for error in result.errors:
            assert skip is not None
            skip(_moved(error, lines_before, records_before))
        if result.fatal is not None:
            raise _moved(result.fatal, lines_before, records_before)
        lines_before += result.lines
        records_before += result.records
        tally.records = records_before
        tally.bytes_read = tasks[done - 1][2]
        if tick is not None:
            tick()
