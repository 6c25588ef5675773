"""Fixtures for the readers' tests: the real shared data (skipped when absent), unpacked once."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def aflw2000_dev_dir(shared_dir) -> Path:
    """The 250 AFLW2000-3D photos + .mat in ../shared (read-only)."""
    folder = shared_dir / "aflw2000-dev"
    if not (folder / "image00014.mat").is_file():
        pytest.skip(f"AFLW2000-3D dev subset not available at {folder} (needed for tests on real labels)")
    return folder


@pytest.fixture(scope="session")
def aflw_crops_dir(shared_dir, unpack_once) -> Path:
    """The shared AFLW crops, unpacked once per session into a temp cache (never into the repo)."""
    archive = shared_dir / "aflw-crops" / "aflw-crops.tar"
    if not archive.is_file():
        pytest.skip(f"AFLW crops not available at {archive} (needed for tests on real AFLW labels)")
    return unpack_once(archive, "aflw-crops", "aflw-crops/labels.npz").parent
