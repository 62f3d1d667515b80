"""The one Taichi runtime of this process, owned by one dedicated thread.

Taichi keeps global state (one program, one set of fields, kernels compiled against both) and must not be
driven from several threads at once. So every field creation and kernel launch in DreamNet goes through
`call`, which hands the callable to a daemon owner thread and blocks on its result. The owner thread is
started, and `ti.init` runs, lazily on the first `call`, so importing this module costs nothing and a
process that never computes never starts Taichi.

Fork safety: a forked child (Django-Q2 workers, `multiprocessing` with the fork context) gets a fresh,
uninitialised runtime and initialises its own lazily in its own owner thread. A fork waits until the owner
thread is between calls, so a child never inherits a half-run kernel. Initialising in a process that later
forks still costs memory in every child, which is why the rule is to initialise only where the work runs.

Configuration comes from the environment, read when the runtime initialises (no Django here):
- `DREAMNET_COMPUTE_ARCH`: `auto` (CUDA when available, else CPU, the default) | `cuda` | `cpu`.
- `DREAMNET_COMPUTE_THREADS`: CPU worker threads; unset means all cores, `1` gives reproducible CPU runs.
- `DREAMNET_HOME`: the offline kernel cache lives in `$DREAMNET_HOME/taichi-cache` (default `./var`).
"""

from __future__ import annotations

import ctypes
import os
import queue
import sys
import threading
import warnings
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

# Taichi calls home for a version check at import unless this is set; it must precede any `import taichi`,
# which in DreamNet only happens through `import_taichi` below.
os.environ["TI_SKIP_VERSION_CHECK"] = "ON"

ARCH_ENV = "DREAMNET_COMPUTE_ARCH"
THREADS_ENV = "DREAMNET_COMPUTE_THREADS"
HOME_ENV = "DREAMNET_HOME"
ARCHES = ("auto", "cuda", "cpu")


@dataclass(frozen=True)
class RuntimeInfo:
    """What the initialised runtime runs on."""

    arch: str  # "cpu" or "cuda"
    taichi_arch: str  # Taichi's own name, e.g. "x64", "arm64", "cuda"
    taichi_version: str
    threads: int  # CPU worker threads Taichi uses (meaningful on CPU)
    cache_dir: str


def arch_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """Return the requested arch from `DREAMNET_COMPUTE_ARCH`; raise ValueError naming the allowed values."""
    value = environ.get(ARCH_ENV, "").strip().lower() or "auto"
    if value not in ARCHES:
        raise ValueError(f"{ARCH_ENV}={value!r} is not supported; use one of: {', '.join(ARCHES)}")
    return value


def threads_from_env(environ: Mapping[str, str] = os.environ) -> int | None:
    """Return the CPU thread count from `DREAMNET_COMPUTE_THREADS` (None: all cores); raise ValueError if bad."""
    raw = environ.get(THREADS_ENV, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{THREADS_ENV}={raw!r} must be a positive integer (1 gives reproducible CPU runs)")
    return int(raw)


def cache_dir_from_env(environ: Mapping[str, str] = os.environ) -> Path:
    """Return the offline kernel cache folder, `$DREAMNET_HOME/taichi-cache` (DREAMNET_HOME defaults to ./var)."""
    return Path(environ.get(HOME_ENV, "").strip() or "var").resolve() / "taichi-cache"


def import_taichi() -> ModuleType:
    """Import and return the `taichi` module (after TI_SKIP_VERSION_CHECK is set); does not initialise it."""
    with warnings.catch_warnings():
        # Taichi 1.7.4 calls locale.getdefaultlocale() at import, deprecated since Python 3.11: its noise, not ours.
        warnings.filterwarnings("ignore", ".*getdefaultlocale", DeprecationWarning)
        try:
            import taichi
        except ImportError as exc:
            # The container image runs Python 3.13, for which Taichi publishes no build (pyproject's marker).
            raise ImportError(
                f"Taichi is not installed for Python {sys.version_info.major}.{sys.version_info.minor} "
                "(it publishes builds up to 3.12): run compute jobs on a worker with Python 3.12 "
                "(docs/deploy.md#containers)"
            ) from exc

    return taichi


class _State:
    """One process's runtime: the owner thread, its job queue and what lives on it."""

    def __init__(self, arch: str | None, threads: int | None) -> None:
        self.arch_override = arch
        self.threads_override = threads
        self.lock = threading.Lock()  # guards starting the thread and the overrides
        # Held by the owner thread while it runs a job; a fork takes it so it never splits a Taichi call.
        self.busy = threading.RLock()
        self.jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any], Future[Any]]] = (
            queue.SimpleQueue()
        )
        self.thread: threading.Thread | None = None
        self.info: RuntimeInfo | None = None
        self.resources: dict[Hashable, Any] = {}

    def submit(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Future[Any]:
        future: Future[Any] = Future()
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self.serve, name="dreamnet-taichi", daemon=True)
                self.thread.start()
            self.jobs.put((fn, args, kwargs, future))
        return future

    def serve(self) -> None:
        while True:
            fn, args, kwargs, future = self.jobs.get()
            if not future.set_running_or_notify_cancel():
                continue
            with self.busy:
                try:
                    if self.info is None:
                        self.info = self.initialise()
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # the owner thread must outlive any job's failure
                    future.set_exception(exc)
                else:
                    future.set_result(result)

    def initialise(self) -> RuntimeInfo:
        arch = self.arch_override or arch_from_env()
        threads = self.threads_override or threads_from_env()
        cache = cache_dir_from_env()
        cache.mkdir(parents=True, exist_ok=True)
        ti = import_taichi()
        _abandon_inherited_program(ti)
        options: dict[str, Any] = {"offline_cache": True, "offline_cache_file_path": str(cache)}
        if threads is not None:
            options["cpu_max_num_threads"] = threads
        targets = {"auto": [ti.cuda, ti.cpu], "cuda": [ti.cuda], "cpu": [ti.cpu]}[arch]
        try:
            ti.init(arch=targets, enable_fallback=False, **options)
        except RuntimeError as exc:
            if arch == "cuda":
                raise RuntimeError(f"{ARCH_ENV}=cuda but CUDA is not available here; set it to auto or cpu") from exc
            raise
        cfg = ti.lang.impl.current_cfg()
        return RuntimeInfo(
            arch="cuda" if cfg.arch == ti.cuda else "cpu",
            taichi_arch=cfg.arch.name,
            taichi_version=".".join(map(str, ti.__version__)),
            threads=cfg.cpu_max_num_threads,
            cache_dir=str(cache),
        )


def _abandon_inherited_program(ti: ModuleType) -> None:
    """Retire a Taichi program copied in by fork, without destroying it.

    Taichi allows one program per process, so the parent's must be finalised before `ti.init`. Its
    destructor would join the parent's CPU worker threads, which do not exist in the child, and hang
    forever (measured with Taichi 1.7.4); so the finalised program is kept alive on purpose with one
    extra reference and its memory stays a copy-on-write leak in the child.
    """
    runtime = ti.lang.impl.get_runtime()
    program = runtime.prog
    if program is None:
        return
    program.finalize()
    _keep_forever(program)
    runtime.prog = None


def _keep_forever(obj: object) -> None:
    """Take a reference that is never dropped, so obj is never deallocated, not even at interpreter exit."""
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))


_state = _State(arch=None, threads=None)


def _before_fork() -> None:
    _state.busy.acquire()


def _after_fork_in_parent() -> None:
    _state.busy.release()


def _after_fork_in_child() -> None:
    global _state
    inherited = _state
    # Its resources (ndarrays, fields) belong to the parent's program; freeing them would call into that
    # program, or into the child's new one. They are abandoned with the program.
    _keep_forever(inherited)
    _state = _State(arch=inherited.arch_override, threads=inherited.threads_override)


os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)


def configure(*, arch: str | None = None, threads: int | None = None) -> None:
    """Override the environment's arch and/or CPU thread count for this process's runtime.

    Takes effect at initialisation, so call it before the first `call`. Once initialised, a request that
    matches the running runtime is a no-op and a different one raises RuntimeError (Taichi cannot switch
    without dropping every field). Overrides carry over to forked children.
    """
    if arch is not None:
        arch_from_env({ARCH_ENV: arch})
    if threads is not None and threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads}")
    state = _state
    with state.lock:
        info = state.info
        if info is not None:
            if (arch not in (None, "auto", info.arch)) or (threads is not None and threads != info.threads):
                raise RuntimeError(
                    f"The Taichi runtime is already initialised (arch={info.arch}, threads={info.threads}); "
                    "configure it before the first compute call in this process"
                )
            return
        state.arch_override = arch or state.arch_override
        state.threads_override = threads or state.threads_override


def call[T](fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` on the runtime's owner thread and return its result (or raise its error).

    Blocks the calling thread until done. Initialises Taichi first if needed; an initialisation error (bad
    `DREAMNET_COMPUTE_ARCH`, no CUDA when `cuda` is required) is raised here and retried on the next call.
    Calls from inside a job run inline, so jobs may compose.
    """
    state = _state
    if threading.current_thread() is state.thread:
        return fn(*args, **kwargs)
    return state.submit(fn, args, kwargs).result()


def resource[T](key: Hashable, factory: Callable[[], T]) -> T:
    """Return this runtime's object for `key`, built once by `factory()` on the owner thread.

    For fields and other Taichi state that must be allocated once and reused. The cache belongs to the
    runtime: a forked child starts with an empty one.
    """

    def get() -> T:
        resources = _state.resources
        if key not in resources:
            resources[key] = factory()
        return resources[key]

    return call(get)


def info() -> RuntimeInfo:
    """Return what the runtime runs on, initialising it if needed."""
    return call(lambda: _state.info)


def arch_name() -> str:
    """Return "cuda" or "cpu": the arch the runtime runs on, initialising it if needed."""
    return info().arch
