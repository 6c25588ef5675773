"""Worker processes run OpenCV and BLAS on one thread (``synth.threads``)."""

from __future__ import annotations

import cv2
import numpy as np
from threadpoolctl import threadpool_info

from synth.threads import single_threaded


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_single_threaded_limits_opencv_and_blas_inside_and_restores_after():
    np.ones((4, 4)) @ np.ones((4, 4))  # BLAS loaded
    cv2.setNumThreads(2)
    before = _blas_threads()
    with single_threaded():
        assert cv2.getNumThreads() == 1
        assert all(n == 1 for n in _blas_threads())
    assert cv2.getNumThreads() == 2 and _blas_threads() == before


_FORK_AFTER_OPENCV_THREADS = """
import multiprocessing as mp, numpy as np, cv2
from synth.threads import single_thread_worker
cv2.setNumThreads(2)
img = np.zeros((512, 512, 3), np.uint8)
for _ in range(5):
    cv2.GaussianBlur(img, (31, 31), 5)  # OpenCV's pool now has threads in this process
with mp.get_context("fork").Pool(1, initializer=single_thread_worker) as pool:
    print(pool.apply_async(int, ("7",)).get(timeout=30), cv2.getNumThreads())
"""


def test_a_forked_worker_can_go_single_threaded_after_the_parent_used_opencv_threads():
    """Without the fork hook of ``synth.threads`` the child hangs in ``cv2.setNumThreads``."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", _FORK_AFTER_OPENCV_THREADS], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["7", "2"]  # the child answered; the parent kept its 2 threads
