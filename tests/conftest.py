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
    return _unpack_once(archive, tmp_path_factory, "ict", "FaceXModel/generic_neutral_mesh.obj").parent


@pytest.fixture(scope="session")
def unpack_once(tmp_path_factory):
    """``unpack_once(archive, name, marker) -> Path``: a shared archive extracted once per session."""
    return lambda archive, name, marker: _unpack_once(archive, tmp_path_factory, name, marker)


def _unpack_once(archive: Path, tmp_path_factory, name: str, marker: str) -> Path:
    """Extract ``archive`` into the session cache (``$FACESYNTH_CACHE`` or a pytest temp dir)
    under ``name`` unless ``marker`` (a path inside it) already exists; returns that path."""
    cache = Path(os.environ.get("FACESYNTH_CACHE", tmp_path_factory.getbasetemp() / "cache")) / name
    if not (cache / marker).exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive) as tar:
            tar.extractall(cache, filter="data")
    return cache / marker


@pytest.fixture(scope="session")
def ict_import(ict_dir):
    """(MorphableModel, seconds): the real ICT-FaceKit imported once per session (default parts)."""
    import time

    from synth.importers import import_model

    t0 = time.perf_counter()
    model = import_model("ict", ict_dir)
    return model, time.perf_counter() - t0


def _tiny_model(**overrides):
    """An 8-vertex cube 'head' with 2 identity and 2 expression modes (fields overridable)."""
    import numpy as np

    from synth.morphable import MorphableModel, region_id

    v = np.array([[x, y, z] for x in (-50, 50) for y in (-60, 60) for z in (-50, 50)], dtype=np.float32)
    f = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1],
                  [2, 3, 7], [2, 7, 6], [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])
    rng = np.random.default_rng(0)
    kw = dict(
        mean_shape=v, triangles=f, id_basis=rng.normal(size=(2, 8, 3)), expr_basis=rng.normal(size=(2, 8, 3)),
        expr_range=[[0, 1], [-1, 1]], landmarks68=np.arange(68) % 8, contour_right=[0, 1], contour_left=[4, 5],
        vertex_region=np.full(8, region_id("skin")), expr_names=("jawOpen", "smile"), meta={"name": "cube"},
    )
    kw.update(overrides)
    return MorphableModel(**kw)


@pytest.fixture(scope="session")
def tiny_model():
    """Factory: ``tiny_model(**overrides) -> MorphableModel`` (a cube, for format tests)."""
    return _tiny_model
