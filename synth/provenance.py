"""What produced an output: package versions, platform and the facesynth version.

Every run writes ``versions()`` beside its outputs (with its resolved config and seed).
"""

from __future__ import annotations

import functools
import platform
import sys
from importlib import metadata

__all__ = ["facesynth_version", "versions", "environment"]

_PACKAGES = ("numpy", "scipy", "h5py", "opencv-python-headless", "numba", "trimesh", "torch", "torchvision", "lightly")


def facesynth_version() -> str:
    """Installed version of the ``facesynth`` distribution ("unknown" when not installed)."""
    try:
        return metadata.version("facesynth")
    except metadata.PackageNotFoundError:
        return "unknown"


def versions() -> dict[str, str]:
    """Versions of facesynth, Python, the platform and the main dependencies."""
    return dict(_versions())


@functools.cache
def _versions() -> dict[str, str]:
    # Looked up once per process: reading the packages' metadata took ~40 ms per call.
    out = {"facesynth": facesynth_version(), "python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def environment() -> dict[str, str]:
    """``versions()`` plus what a training run here would use: device, GPUs, torch threads."""
    import torch

    info = dict(versions())
    info["device"] = "cuda" if torch.cuda.is_available() else "cpu"
    info["cuda_devices"] = str(torch.cuda.device_count())
    info["torch_threads"] = str(torch.get_num_threads())
    return info
