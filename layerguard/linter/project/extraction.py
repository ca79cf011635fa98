"""Facts for every file of a run: from the cache when the content is known, else parsed by
worker processes. libcst is imported only there.

Parsing always happens in workers, even for one file: libcst's native parser can crash or
take gigabytes on hostile input (linter/facts/nesting.py refuses what it can see coming), and
only a process contains that. Each worker is bounded in address space and in CPU time per
file; a worker that dies for any reason (a crash, the out-of-memory killer, a limit) costs
only the file it was parsing, which is tried once more alone and then reported as LG001, and
its other files go to a new worker. Workers die with the process that started them
(`PR_SET_PDEATHSIG` on Linux, a watchdog thread elsewhere), so killing a run leaves none
behind, and ignore SIGINT: Ctrl-C reaches the whole process group, and the run itself stops
them and exits 130.
"""

from __future__ import annotations

import gc
import itertools
import os
import selectors
import signal
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layerguard.contracts.file_access import (
    DEFAULT_MAX_FILE_BYTES,
    MIB,
    FileTooLargeError,
    UnreadableFileError,
    read_regular_file,
    size_text,
)
from layerguard.linter.caching.parses import FileStat, ParseCache, content_hash
from layerguard.linter.facts.model import UNREAD_MESSAGES, FileFacts, SyntaxErrorFact
from layerguard.linter.facts.serialize import InvalidFactsDataError, facts_from_data, facts_to_data
from layerguard.linter.facts.settings import ExtractionSettings

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.context import ForkContext, SpawnContext
    from multiprocessing.process import BaseProcess

EXCLUDE_IT = "exclude it (`exclude` in layerguard.yaml)"
REPORT_IT = f"{EXCLUDE_IT}; please report it"  # to layerguard: a crash is its defect

_CHUNK_LIMIT = 32
"""Files handed to a worker at once, at most (fewer when there are few files per worker)."""

_CONTENT_BUDGET = 16 * MIB
"""The bytes of files read to look up their parse that a run keeps to send to the workers
when the cache does not hold it (past it, a worker reads the file again)."""

_COLLECT_EVERY = 64
"""Files a worker extracts between two cyclic garbage collections."""

_worker_settings: ExtractionSettings | None = None
_extracted = 0

Task = tuple[int, "str | bytes"]
"""A file to extract: its index, and its path to read or its content."""
Result = tuple["str | None", dict[str, Any]]
"""What a worker answers for a file: the hash of the bytes it read and parsed (GIVEN when it
parsed the content it was sent, whose hash the sender knows; None when it parsed nothing) and
the facts data."""
GIVEN = ""
"""The hash a worker answers for content it was sent: not hashed again (the sender did)."""


@dataclass(frozen=True, slots=True)
class ExtractionStats:
    """How a run got the facts of its Python files: `parsed + cached + not_read == files`."""

    files: int
    parsed: int
    cached: int
    jobs: int
    not_read: int = 0  # not regular files, unreadable, too large: their facts are LG001


@dataclass(frozen=True, slots=True)
class WorkerLimits:
    """What one worker may take. The address space grows with the file size limit: libcst
    needs ~350 bytes of memory per byte of ordinary code and up to ~3,000 on dense literals
    (measured: a 1 MB module 390 MB, a 1 MB list of small integers 2.2 GB), so the default
    1 GiB parses any ordinary file under the default 1 MiB limit and stops the rest."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES

    @property
    def memory_bytes(self) -> int:
        """1 GiB, more for a raised size limit, never more than half the machine's memory."""
        wanted = max(1024 * MIB, 512 * self.max_file_bytes)
        try:
            physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # not known here
            return wanted
        return max(min(wanted, physical // 2), 256 * MIB)

    @property
    def cpu_seconds(self) -> int:
        """Per file: 25 times what an ordinary file of the size limit takes (2.4 s/MiB)."""
        return max(60, 60 * self.max_file_bytes // MIB)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def problem_facts(message: str, remedy: str) -> FileFacts:
    """The facts of a file that is not analysed, and why (reported as LG001)."""
    return FileFacts(syntax_error=SyntaxErrorFact(1, 1, message, remedy))


def unreadable_facts(reason: str) -> FileFacts:
    message = f"{UNREAD_MESSAGES[0]}{reason}"
    return problem_facts(message, f"fix or remove it, or {EXCLUDE_IT}")


def too_large_facts(size: int, limit: int) -> FileFacts:
    return problem_facts(
        f"{UNREAD_MESSAGES[1]}({size_text(size)}; `max_file_size_kb` is {limit // 1024:,})",
        f"{EXCLUDE_IT}, or raise `max_file_size_kb`",
    )


def _init_worker(settings: ExtractionSettings) -> None:
    """Worker set-up. The cyclic garbage collector is switched off: a syntax tree is tens of
    thousands of acyclic objects that reference counting frees, and each collection would walk
    them all (about a fifth of the parse time). A collection every few dozen files bounds
    whatever cycles there are."""
    global _worker_settings, _extracted
    _worker_settings = settings
    _extracted = 0
    gc.disable()


_BIG_FILE_BYTES = 64 * 1024
"""A file this large (~1,500 lines) makes a syntax tree of 40 MB and more (a 3,000-line module:
55 MB above the worker's 25 MB), which the allocator keeps after the tree is freed. So workers
parse such files one at a time, and give the memory back to the system after each: the
2,000-file benchmark's process tree peaked at 228 MB without this, 190 MB with it."""

_big_files: Any = None  # the pool's semaphore: one big file parsed at a time


def _extract_big(source: bytes, settings: ExtractionSettings) -> FileFacts:
    from layerguard.linter.facts.extract import extract_facts

    # Bounded: a worker that died holding the semaphore never leaves the others waiting.
    held = _big_files is not None and _big_files.acquire(timeout=10)
    try:
        return extract_facts(source, settings)
    finally:
        if held:
            _big_files.release()
        _release_memory()


def _release_memory() -> None:
    """glibc's `malloc_trim(0)`: freed heap memory back to the system (elsewhere nothing)."""
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _extract_one(task: str | bytes, limits: WorkerLimits) -> Result:
    """The facts of a file (a path to read, or its content)."""
    from layerguard.linter.facts.extract import extract_facts

    global _extracted
    assert _worker_settings is not None
    _extracted += 1
    if _extracted % _COLLECT_EVERY == 0:
        gc.collect()
    max_bytes = limits.max_file_bytes
    given = isinstance(task, bytes)
    if isinstance(task, bytes):
        source = task
    else:
        try:
            source = read_regular_file(task, max_bytes)
        except FileTooLargeError as error:
            return None, facts_to_data(too_large_facts(error.size, error.limit))
        except UnreadableFileError as error:
            return None, facts_to_data(unreadable_facts(str(error)))
    if len(source) > max_bytes:
        return None, facts_to_data(too_large_facts(len(source), max_bytes))
    try:
        if len(source) < _BIG_FILE_BYTES:
            facts = extract_facts(source, _worker_settings)
        else:
            facts = _extract_big(source, _worker_settings)
    except MemoryError:
        reason = f"not analysed: it needs {_more_memory(limits)}"
        return None, facts_to_data(problem_facts(reason, EXCLUDE_IT))
    return GIVEN if given else content_hash(source), facts_to_data(facts)


def _worker(
    connection: Connection, parent: int, inherited: list[Connection], big_files: Any = None
) -> None:
    """A worker's life: take the settings and limits of a run, then extract the files it is
    sent, one answer per file, until the process that started it closes the pipe."""
    global _big_files
    _big_files = big_files
    for other in inherited:  # the other workers' pipes, copied by fork: only they may hold them
        other.close()
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _silence_stderr()
    mapped = _address_space()
    limits = WorkerLimits()
    while True:
        try:
            message: tuple[ExtractionSettings, WorkerLimits] | list[Task] = connection.recv()
        except (EOFError, OSError):
            return
        if isinstance(message, tuple):
            settings, limits = message
            _limit_resources(limits, mapped)
            _init_worker(settings)
            continue
        for index, task in message:
            _limit_cpu_from_now(limits.cpu_seconds)
            try:
                result = _extract_one(task, limits)
            except Exception as error:  # a defect of extraction: this file's, not the run's
                reason = f"not analysed: its analysis failed ({type(error).__name__}: {error})"
                result = None, facts_to_data(problem_facts(reason, REPORT_IT))
            connection.send((index, result))


def _silence_stderr() -> None:
    """What a dying parser writes (a Rust allocator's message, a fatal error) would land in
    the middle of the report: the death itself is what the run reports."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def _die_with_parent(parent: int) -> None:
    """Make the kernel kill this worker when the run dies, even by SIGKILL; where it cannot
    (not Linux), a thread watches for the parent to change."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            done = libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            done = False
        if done:
            if os.getppid() != parent:  # the run died before the request was made
                os._exit(1)
            return
    import threading

    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    import time

    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _address_space() -> int:
    """The bytes of address space this process has mapped (0 where it cannot tell)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _limit_resources(limits: WorkerLimits, inherited: int) -> None:
    """Bound the address space the worker may add to what it `inherited` from the process
    that forked it (a large one, an IDE perhaps, must not leave its workers none), and write
    no core file when it crashes (into the project, perhaps)."""
    import contextlib

    try:
        import resource
    except ImportError:  # pragma: no cover - not on a POSIX system
        return
    memory = inherited + limits.memory_bytes
    for kind, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CORE, 0)):
        _, hard = resource.getrlimit(kind)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        with contextlib.suppress(ValueError, OSError):  # a lower limit stays
            resource.setrlimit(kind, (value, hard))


def _limit_cpu_from_now(seconds: int) -> None:
    """SIGXCPU if the next file takes more than `seconds` of CPU (the kernel enforces it,
    even inside native code)."""
    import contextlib

    try:
        import resource
    except ImportError:  # pragma: no cover - not on a POSIX system
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime) + 1 + seconds
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _death(exitcode: int | None, limits: WorkerLimits) -> FileFacts:
    """Why a worker died, as the facts of the file it was analysing; whether to try the file
    again is the caller's business (a CPU limit is not worth a second minute)."""
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        if name == "SIGXCPU":
            reason = f"its analysis took more than {limits.cpu_seconds} s of CPU time"
            return problem_facts(f"not analysed: {reason}", EXCLUDE_IT)
        if name in ("SIGKILL", "SIGABRT"):  # the kernel's OOM killer; a failed allocation
            reason = f"the process analysing it was ended ({name}), most likely for needing"
            return problem_facts(f"not analysed: {reason} {_more_memory(limits)}", EXCLUDE_IT)
        return problem_facts(f"not analysed: the process analysing it crashed ({name})", REPORT_IT)
    reason = f"the process analysing it exited unexpectedly (status {exitcode})"
    return problem_facts(f"not analysed: {reason}", REPORT_IT)


def _more_memory(limits: WorkerLimits) -> str:
    return f"more memory than a worker may take ({limits.memory_bytes // MIB:,} MB)"


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    connection: Connection
    outstanding: deque[int] = field(default_factory=deque)


class _Pool:
    """Worker processes, started when first needed and kept for the next run of the same
    process (`check --changed` extracts twice; a test suite hundreds of times)."""

    def __init__(self) -> None:
        import multiprocessing

        self.context: ForkContext | SpawnContext = (
            multiprocessing.get_context("fork")
            if "fork" in multiprocessing.get_all_start_methods()
            else multiprocessing.get_context("spawn")
        )
        self.pid = os.getpid()
        self.idle: list[_Worker] = []
        self.big_files = self.context.Semaphore(1)

    def start(
        self,
        tasks: list[str | bytes],
        settings: ExtractionSettings,
        jobs: int,
        limits: WorkerLimits,
        progress: Progress | None = None,
    ) -> _Run:
        size = max(1, min(jobs, len(tasks)))
        run = _Run(self, tasks, settings, limits, size, progress)
        run.start()
        return run

    def take(self, run: _Run) -> _Worker:
        """An idle worker, or a new one, set up for `run` (an idle one may have died since:
        killed from outside, say)."""
        while True:
            worker = self.idle.pop() if self.idle else self._start(run.workers)
            try:
                worker.connection.send((run.settings, run.limits))
            except OSError:
                self.give_back(worker, dead=True)
                continue
            return worker

    def _start(self, busy: list[_Worker]) -> _Worker:
        ours, theirs = self.context.Pipe()
        inherited = [w.connection for w in (*self.idle, *busy)] + [ours]
        if self.context.get_start_method() != "fork":
            inherited = []  # only fork copies the process's open pipes into a child
        process = self.context.Process(
            target=_worker, args=(theirs, self.pid, inherited, self.big_files), daemon=True
        )
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def give_back(self, worker: _Worker, dead: bool = False) -> None:
        """Keep an idle worker; end a busy one (its run was interrupted) or a dead one."""
        if dead or worker.outstanding or not worker.process.is_alive():
            worker.connection.close()
            worker.process.kill()
            worker.process.join()
        else:
            self.idle.append(worker)


class _Run:
    """One extraction: `tasks` spread over `size` workers, each answer kept by task index."""

    def __init__(
        self,
        pool: _Pool,
        tasks: list[str | bytes],
        settings: ExtractionSettings,
        limits: WorkerLimits,
        size: int,
        progress: Progress | None = None,
    ) -> None:
        self.pool = pool
        self.progress = progress
        self.tasks = tasks
        self.settings = settings
        self.limits = limits
        self.size = size
        self.answers: dict[int, Result] = {}
        self.pending: deque[int] = deque(range(len(tasks)))
        self.retried: set[int] = set()
        self.alone: deque[int] = deque()  # tried again, each while nothing else is
        self.chunk = max(1, min(_CHUNK_LIMIT, len(tasks) // (size * 8)))
        # Contents (not paths) go one at a time, each to an idle worker: two processes
        # sending each other large messages at once would both wait forever.
        self.prefetch = all(isinstance(task, str) for task in tasks)
        if not self.prefetch:
            self.chunk = 1
        self.workers: list[_Worker] = []
        # One selector for the run: waiting costs one system call per wake-up.
        self.ready = selectors.DefaultSelector()
        self.closed = False

    def start(self) -> None:
        """Start the workers and hand them their first files (they run from now on)."""
        try:
            for _ in range(self.size):
                self._add_worker()
        except BaseException:
            self.close()
            raise

    def poll(self, timeout: float | None = 0) -> bool:
        """Take the answers that have come, waiting up to `timeout` seconds for each (None: as
        long as it takes); True once no more can come (all are in, or no worker is left)."""
        try:
            while len(self.answers) < len(self.tasks) and self.workers:
                events = self.ready.select(timeout)
                if not events:
                    return False
                for key, _ in events:
                    self._receive(key.data)
        except BaseException:
            self.close()
            raise
        return True

    def results(self) -> list[Result]:
        """Every answer, in task order (waits for the workers, then gives them back)."""
        try:
            self.poll(None)
        finally:
            self.close()
        if len(self.answers) < len(self.tasks):
            self._in_process()
        return [self.answers[index] for index in range(len(self.tasks))]

    def close(self) -> None:
        """Give the workers back to the pool (a busy one is ended: its run was abandoned)."""
        if self.closed:
            return
        self.closed = True
        self.ready.close()
        workers, self.workers = self.workers, []
        for worker in workers:
            self.pool.give_back(worker)

    def _in_process(self) -> None:
        """The last resort when no worker process can be started (the system refuses to
        fork): the rest is parsed here, guarded only by the nesting estimate."""
        enabled = gc.isenabled()
        _init_worker(self.settings)
        try:
            for index in (*self.alone, *self.pending):
                self.answers[index] = _extract_one(self.tasks[index], self.limits)
        finally:
            if enabled:
                gc.enable()

    def _add_worker(self) -> None:
        try:
            worker = self.pool.take(self)
        except OSError:  # no process to be had: the others, or the run itself, go on
            return
        self.workers.append(worker)
        self.ready.register(worker.connection, selectors.EVENT_READ, worker)
        self._feed(worker)
        if self.prefetch:
            self._feed(worker)  # a second chunk, so that it never waits for the run

    def _feed(self, worker: _Worker) -> None:
        if self.alone and not worker.outstanding:
            batch = [self.alone.popleft()]
        else:
            batch = [self.pending.popleft() for _ in range(min(self.chunk, len(self.pending)))]
        if batch:
            worker.outstanding.extend(batch)
            try:
                worker.connection.send([(index, self.tasks[index]) for index in batch])
            except OSError:  # it died: the end of its pipe says so next, and the batch goes back
                return

    def _receive(self, worker: _Worker) -> None:
        """The next answer of a worker whose pipe is readable (the selector says so again
        while there are more); a closed pipe means it died."""
        try:
            index, result = worker.connection.recv()
        except (EOFError, OSError):
            self._bury(worker)
            return
        worker.outstanding.remove(index)
        self.answers[index] = result
        if isinstance(self.tasks[index], bytes):
            self.tasks[index] = b""  # answered: its content need not be kept
        if self.progress is not None:
            self.progress(len(self.answers), len(self.tasks))
        if len(worker.outstanding) <= (self.chunk if self.prefetch else 0):
            self._feed(worker)

    def _bury(self, worker: _Worker) -> None:
        """A dead worker: its current file is tried once more alone, or reported; its other
        files go back to the queue, and a new worker takes its place."""
        self.ready.unregister(worker.connection)
        worker.process.join()
        worker.connection.close()
        self.workers.remove(worker)
        if worker.outstanding:
            culprit = worker.outstanding.popleft()
            exitcode = worker.process.exitcode
            out_of_time = exitcode == -getattr(signal, "SIGXCPU", 0)  # not on Windows
            if culprit in self.retried or out_of_time:
                self.answers[culprit] = (None, facts_to_data(_death(exitcode, self.limits)))
            else:
                self.retried.add(culprit)
                self.alone.append(culprit)
            self.pending.extendleft(reversed(worker.outstanding))
            worker.outstanding.clear()
        if self.pending or self.alone:
            self._add_worker()


_pool: _Pool | None = None


def extract_all(
    tasks: list[str | bytes],
    settings: ExtractionSettings,
    jobs: int,
    limits: WorkerLimits,
    progress: Progress | None = None,
) -> list[Result]:
    """The answer for each task (a file path or a file's content), in order."""
    if not tasks:
        return []
    return start_extraction(tasks, settings, jobs, limits, progress).results()


def start_extraction(
    tasks: list[str | bytes],
    settings: ExtractionSettings,
    jobs: int,
    limits: WorkerLimits,
    progress: Progress | None = None,
) -> _Run:
    """Workers extracting `tasks` from now on, while the caller does other work: `poll()` takes
    the answers that came, `results()` waits for the rest, `close()` abandons the run. Call it
    from the thread that lives as long as the run: a worker dies with the thread that forked
    it."""
    global _pool
    if _pool is None or _pool.pid != os.getpid():  # none yet, or the one of a parent process
        _pool = _Pool()
    return _pool.start(tasks, settings, jobs, limits, progress)


Progress = Callable[[int, int], None]
"""Told (files parsed so far, files to parse) as parsing goes: a progress bar's feed."""


class Collecting:
    """Facts being collected. The files the cache does not know go to the workers at once;
    meanwhile the caller decodes the cached facts (`decode_some`) and does whatever else it can
    (a run after one edit need not wait for a worker to import libcst before it loads the
    rest), asking now and then whether the answers came (`answered`). `parsed()` waits for the
    workers only, which is what a run needs to tell whether anything the rules read changed;
    `result()` finishes. Workers are started from the calling thread, which must live as long
    as the run: a worker dies with the thread that started it."""

    def __init__(
        self,
        root: Path,
        paths: Sequence[str],
        settings: ExtractionSettings,
        cache: ParseCache,
        jobs: int,
        limits: WorkerLimits,
        progress: Progress | None = None,
    ) -> None:
        self.root = root
        self.paths = paths
        self.settings = settings
        self.cache = cache
        self.jobs = jobs
        self.limits = limits  # the project's size limit: a default would ignore it
        self.progress = progress
        self.facts: dict[str, FileFacts] = {}
        self.digests: dict[str, str] = {}
        """Path -> the content hash whose facts the path got (absent: the file was not read)."""
        self._cached: dict[str, str] = {}
        self.to_parse: list[str] = []
        self._unreadable = 0
        self._unread_by_workers = 0
        # Each file is read and hashed once. A file the stat memo cannot vouch for is read
        # and hashed here only when the cache may hold its parse; if it does not, the worker
        # is sent those bytes (within a budget) and their hash is this one. Otherwise the
        # worker reads the file and hashes what it parsed, and the stat taken here, before
        # that read, goes into the memo with the worker's hash.
        self._given: dict[str, str] = {}  # path -> hash of the content sent to the worker
        self._unhashed: dict[str, FileStat] = {}  # path -> its stat, before a worker read it
        tasks: list[str | bytes] = []
        budget = _CONTENT_BUDGET
        may_hit = cache.holds_any()
        for path in paths:
            data = None
            try:
                digest, stat = cache.vouched(root, path)
                if digest is None and may_hit:
                    digest, data = cache.read_hash(root, path, stat, limits.max_file_bytes)
            except OSError as error:
                self.facts[path] = unreadable_facts(f"cannot read it: {error.strerror or error}")
                self._unreadable += 1
                continue
            if digest is not None and cache.has(digest):
                self._cached[path] = digest
                continue
            self.to_parse.append(path)
            if digest is not None and data is not None and len(data) <= budget:
                budget -= len(data)
                self._given[path] = digest
                tasks.append(data)
                continue
            if digest is None:
                self._unhashed[path] = stat
            tasks.append(f"{root}/{path}")
        self._undecoded = iter(list(self._cached.items()))
        self._left = len(self._cached)
        self._damaged: list[str] = []
        self._answers: list[Result] | None = None
        self._run: _Run | None = None
        if tasks:
            self._run = start_extraction(tasks, settings, jobs, self.limits, progress)

    def decode_some(self, count: int | None = None) -> bool:
        """Decode up to `count` cached facts (None: all); True while some are left."""
        for path, digest in itertools.islice(self._undecoded, count):
            self._left -= 1
            try:
                self.facts[path] = facts_from_data(self.cache.get(digest))
                self.digests[path] = digest
            except InvalidFactsDataError:  # damaged: parse it after all
                self._damaged.append(path)
        return self._left > 0

    def answered(self) -> bool:
        """Whether the workers' answers are all in (takes those that came; never waits)."""
        return self._run is None or self._run.poll()

    def parsed(self) -> None:
        """Wait for what the cache did not know to be parsed, and keep it."""
        if self._answers is not None:
            return
        self._answers = [] if self._run is None else self._run.results()
        self._store(self.to_parse, self._answers)

    def close(self) -> None:
        """Abandon the parsing, if it is not done (the run stops early)."""
        if self._run is not None:
            self._run.close()

    def meaning(self, path: str) -> str | None:
        """What `path` means to the rules: a digest of its stored facts (see
        ParseCache.meaning); None when it is not known. Call after `parsed()`."""
        digest = self.digests.get(path) or self._cached.get(path)
        return None if digest is None else self.cache.meaning(digest)

    @property
    def stats(self) -> ExtractionStats:
        unread = self._unreadable + self._unread_by_workers
        files = len(self.paths)
        parsed = len(self.to_parse) + len(self._damaged) - self._unread_by_workers
        return ExtractionStats(files, parsed, files - parsed - unread, self.jobs, unread)

    def result(self) -> tuple[dict[str, FileFacts], ExtractionStats]:
        """Every file's facts."""
        self.decode_some()
        self.parsed()
        if self._damaged:
            tasks: list[str | bytes] = [str(self.root / path) for path in self._damaged]
            self._store(self._damaged, extract_all(tasks, self.settings, self.jobs, self.limits))
        return self.facts, self.stats

    def _store(self, paths: list[str], answers: list[Result]) -> None:
        for path, (parsed_digest, data) in zip(paths, answers, strict=True):
            # Keyed by the hash of the bytes parsed, even if the file changed since.
            digest = self._given.pop(path) if parsed_digest == GIVEN else parsed_digest
            stat = self._unhashed.pop(path, None)
            facts = self.facts[path] = facts_from_data(data)
            if digest is not None:
                self.cache.put(digest, data)
                self.digests[path] = digest
                if stat is not None:
                    self.cache.remember(path, stat, digest)
            elif facts.unread:  # the worker could not read it (it changed since)
                self._unread_by_workers += 1


def collect_facts(
    root: Path,
    paths: Sequence[str],
    settings: ExtractionSettings,
    cache: ParseCache,
    jobs: int,
    limits: WorkerLimits,
    progress: Progress | None = None,
) -> tuple[dict[str, FileFacts], ExtractionStats]:
    """Facts for each project-relative path; unreadable files get a syntax-error fact."""
    return Collecting(root, paths, settings, cache, jobs, limits, progress).result()
