"""One thread per process for the native libraries under the per-sample code.

The generator and the data loaders get their parallelism from worker processes. Left alone,
OpenCV and OpenBLAS each keep a thread pool per process (one thread per core), and the idle
threads spin-wait after every call: measured on the 2-core VM, the generator's OpenCV pool
made ~320 ``sched_yield`` calls per sample (~0.8 ms of system CPU) on the core that a
second worker needs. So worker processes run these libraries on one thread.

- ``single_threaded()``: context manager for work done in the calling process (restores
  the previous settings on exit).
- ``single_thread_worker()``: for a worker process's initializer (a ``multiprocessing``
  pool or a DataLoader ``worker_init_fn``); lasts for the process's life.

Fork safety: OpenCV's thread pool is not fork-safe. A forked child inherits the pool's
bookkeeping but not its threads, and reconfiguring it there (``cv2.setNumThreads``) waits
forever for those threads (seen: ``make demo`` hung in ``pthread_cond_destroy`` after the
parent had drawn a preview with OpenCV). So importing this module registers an
``os.register_at_fork`` hook: just before a fork the parent sets OpenCV to one thread
(stopping its pool threads), and restores its setting right after; the child starts with
one thread and no pool. OpenBLAS handles forks itself (``pthread_atfork``).
"""

from __future__ import annotations

import contextlib
import os
from functools import lru_cache
from typing import Any, Iterator

import cv2
from threadpoolctl import ThreadpoolController

__all__ = ["single_threaded", "single_thread_worker", "one_blas_thread"]


@lru_cache(maxsize=1)
def _controller() -> ThreadpoolController:
    return ThreadpoolController()  # inspects the loaded libraries once (~1 ms)


def one_blas_thread() -> Any:
    """Context manager: BLAS on one thread inside (~20 us to enter)."""
    return _controller().limit(limits=1, user_api="blas")


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """OpenCV and BLAS on one thread inside the block."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with one_blas_thread():
            yield
    finally:
        cv2.setNumThreads(before)


def single_thread_worker(*_: Any) -> None:
    """OpenCV and BLAS on one thread for the rest of this process (accepts and ignores a
    DataLoader worker id)."""
    cv2.setNumThreads(1)
    _controller().limit(limits=1, user_api="blas")


_OPENCV_THREADS_AT_FORK: list[int] = []


def _before_fork() -> None:
    _OPENCV_THREADS_AT_FORK.append(cv2.getNumThreads())
    cv2.setNumThreads(1)


def _after_fork_in_parent() -> None:
    cv2.setNumThreads(_OPENCV_THREADS_AT_FORK.pop())


def _after_fork_in_child() -> None:
    _OPENCV_THREADS_AT_FORK.clear()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_after_fork_in_child)
