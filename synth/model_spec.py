"""Resolve a model given on the command line or in a config: ``default`` or a file path.

``default`` is the built-in head (``synth.default_model``); anything else is a
``facesynth-3dmm`` file (import third-party models first: ``synth model import``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from synth.errors import UserError
from synth.model_io import load_model
from synth.morphable import MorphableModel

__all__ = ["DEFAULT_SPEC", "resolve_model_path", "open_model"]

DEFAULT_SPEC = "default"


def resolve_model_path(spec: str | os.PathLike) -> Path:
    """``"default"`` -> the built-in model's file; a path -> itself (must exist)."""
    if str(spec) == DEFAULT_SPEC:
        from synth.default_model import DEFAULT_MODEL_PATH

        path = Path(DEFAULT_MODEL_PATH)
    else:
        path = Path(spec).expanduser()
    if not path.is_file():
        hint = " (run `make assets` to rebuild the built-in model)" if str(spec) == DEFAULT_SPEC else \
            " (expected a facesynth-3dmm .npz; convert third-party models with `synth model import`)"
        raise UserError(f"model {spec}: no such file {path}{hint}")
    return path.resolve()


@functools.lru_cache(maxsize=4)
def _load(path: Path, mtime_ns: int) -> MorphableModel:
    return load_model(path)


def open_model(spec: str | os.PathLike) -> MorphableModel:
    """Load (once per process and file version) the model named by ``spec``."""
    path = resolve_model_path(spec)
    return _load(path, path.stat().st_mtime_ns)
