"""Shared fixtures: paths to the read-only data in ../shared and caches for unpacked copies."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("FACESYNTH_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return SHARED


@pytest.fixture(scope="session")
def ict_dir(tmp_path_factory) -> Path:
    """The real ICT-FaceKit ``FaceXModel/`` folder, unpacked once per session into a temp cache."""
    archive = SHARED / "ict-facekit" / "FaceXModel.tar.xz"
    if not archive.is_file():
        pytest.skip(f"ICT-FaceKit not available at {archive} (needed for tests on a real head model)")
    cache = Path(os.environ.get("FACESYNTH_CACHE", tmp_path_factory.getbasetemp() / "cache")) / "ict"
    folder = cache / "FaceXModel"
    if not (folder / "generic_neutral_mesh.obj").is_file():
        cache.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(cache, filter="data")
    return folder


@pytest.fixture(scope="session")
def ict_import(ict_dir):
    """(MorphableModel, seconds): the real ICT-FaceKit imported once per session (default parts)."""
    import time

    from synth.importers import import_model

    t0 = time.perf_counter()
    model = import_model("ict", ict_dir)
    return model, time.perf_counter() - t0
