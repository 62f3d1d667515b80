"""The Taichi runtime: one owner thread serves every caller, a forked child gets its own, bad settings say why."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from compute import runtime

# Forking a process that runs threads is what Django-Q2 does; the runtime's fork hooks make it safe here.
forks = pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")


def _fill_and_read(value: float) -> list[float]:
    """Create a field, fill it (a kernel launch) and read it back (another); runs on the owner thread."""
    ti = runtime.import_taichi()
    field = ti.field(ti.f64, 8)
    field.fill(value)
    return field.to_numpy().tolist()


def in_forked_child(fn: Callable[[], Any], timeout: float = 90) -> Any:
    """Run fn in a forked child; return its result or raise what it raised. Fails the test if it hangs."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(("ok", fn()))
        except BaseException as exc:
            send.send(("error", f"{type(exc).__name__}: {exc}"))

    process = context.Process(target=child, daemon=True)
    process.start()
    try:
        assert receive.poll(timeout), f"the forked child produced nothing in {timeout} s (hung?)"
        status, value = receive.recv()
    finally:
        process.join(10)
        if process.is_alive():
            process.kill()
    if status == "error":
        raise RuntimeError(value)
    return value


def test_it_serves_concurrent_callers_from_many_threads() -> None:
    results: dict[int, list[float]] = {}
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for round_ in range(5):
                results[index * 10 + round_] = runtime.call(_fill_and_read, float(index * 10 + round_))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors
    assert not any(thread.is_alive() for thread in threads)
    assert len(results) == 30
    assert results == {key: [float(key)] * 8 for key in results}


def test_it_runs_jobs_on_one_owner_thread() -> None:
    owners = {runtime.call(threading.get_ident) for _ in range(3)}
    owners |= {runtime.call(lambda: runtime.call(threading.get_ident))}  # a nested call runs inline

    assert len(owners) == 1
    assert owners != {threading.get_ident()}


def test_it_reports_what_it_runs_on() -> None:
    info = runtime.info()

    assert runtime.arch_name() == info.arch in ("cpu", "cuda")
    assert info.taichi_version.count(".") == 2
    assert info.threads >= 1
    assert info.cache_dir.endswith("taichi-cache")


@forks
def test_a_forked_child_runs_kernels_after_the_parent_did() -> None:
    before = runtime.call(_fill_and_read, 1.5)

    child = in_forked_child(lambda: (runtime.call(_fill_and_read, 2.5), os.getpid()))

    assert before == [1.5] * 8
    assert child[0] == [2.5] * 8
    assert child[1] != os.getpid()
    assert runtime.call(_fill_and_read, 3.5) == [3.5] * 8  # the parent's runtime is untouched


@forks
def test_a_bad_arch_fails_with_the_variable_and_allowed_values() -> None:
    runtime.info()

    def child() -> str:
        os.environ[runtime.ARCH_ENV] = "opengl"
        return runtime.arch_name()

    with pytest.raises(RuntimeError, match=r"ValueError: DREAMNET_COMPUTE_ARCH='opengl' .* auto, cuda, cpu"):
        in_forked_child(child)


def test_it_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="DREAMNET_COMPUTE_ARCH='gpu' is not supported; use one of: auto, cuda, cpu"):
        runtime.arch_from_env({runtime.ARCH_ENV: "gpu"})
    with pytest.raises(ValueError, match="DREAMNET_COMPUTE_THREADS='0' must be a positive integer"):
        runtime.threads_from_env({runtime.THREADS_ENV: "0"})
    assert runtime.arch_from_env({}) == "auto"
    assert runtime.arch_from_env({runtime.ARCH_ENV: " CPU "}) == "cpu"
    assert runtime.threads_from_env({runtime.THREADS_ENV: "1"}) == 1


def test_it_refuses_to_reconfigure_a_running_runtime() -> None:
    info = runtime.info()

    runtime.configure(threads=info.threads)  # what it already runs with is fine
    with pytest.raises(RuntimeError, match="already initialised"):
        runtime.configure(threads=info.threads + 1)


def test_it_keeps_one_resource_per_key() -> None:
    first = runtime.resource(("test", "array"), lambda: np.zeros(3))

    assert runtime.resource(("test", "array"), lambda: np.ones(3)) is first


def test_a_missing_taichi_says_which_python_to_use(monkeypatch):
    import sys

    from compute.runtime import import_taichi

    monkeypatch.setitem(sys.modules, "taichi", None)  # as on Python 3.13, where no Taichi build exists
    with pytest.raises(ImportError, match=r"Taichi is not installed for Python 3\.\d+ .*worker with Python 3\.12"):
        import_taichi()
