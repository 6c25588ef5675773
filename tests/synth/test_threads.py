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
