"""Importers: third-party 3DMMs -> ``MorphableModel`` in the project frame.

Each importer is a short function registered by kind (``@register_importer("ict", ...)``),
taking the source path and keyword options, and returning a validated ``MorphableModel``
in the convention of ``synth.morphable`` (mm; x toward the subject's left, y up, z out of
the face; origin between the ears at eye height, see ``synth.importers._common``;
triangles counter-clockwise from outside; identity weights N(0, 1)).

==========  =====================================================  ======================
kind        source                                                 module
==========  =====================================================  ======================
ict         ICT-FaceKit ``FaceXModel/`` folder (OBJ blendshapes)    ``importers.ict``
bfm2009     Basel Face Model 2009 ``01_MorphableModel.mat``         ``importers.bfm``
bfm2017     Basel Face Model 2017/2019 ``model20*.h5``              ``importers.bfm``
flame       FLAME ``generic_model.pkl`` (2017/2019/2020/2023)       ``importers.flame``
==========  =====================================================  ======================

Options are declared with the importer (``IMPORTER_OPTIONS``) so a CLI can expose them;
``import_model`` converts string values (as a CLI passes them) to the declared types and
rejects unknown options.

Usage::

    from synth.importers import import_model
    model = import_model("ict", "ICT-FaceKit/FaceXModel", n_id=50)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from synth.errors import UserError
from synth.morphable import MorphableModel

__all__ = ["IMPORTERS", "IMPORTER_OPTIONS", "ImporterFn", "ImporterOption", "register_importer", "import_model"]

#: An importer: ``fn(src: Path, **options) -> MorphableModel``.
ImporterFn = Callable[..., MorphableModel]


@dataclass(frozen=True)
class ImporterOption:
    """One keyword option of an importer.

    Attributes:
        name: keyword name (a CLI shows it as ``--name`` with ``_`` -> ``-``).
        type: ``int``, ``float``, ``str``, ``bool`` or ``Path``; ``None`` is always allowed
            when ``default`` is ``None``.
        default: value when not given.
        help: one line for ``--help``.
    """

    name: str
    type: type
    default: Any
    help: str

    def coerce(self, value: Any, kind: str) -> Any:
        """``value`` converted to ``type`` (strings parsed); ``UserError`` if impossible."""
        if value is None:
            if self.default is None:
                return None
            raise UserError(f"{kind} importer: option {self.name} needs a {self.type.__name__} value")
        if self.type is bool and isinstance(value, str):
            low = value.strip().lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise UserError(f"{kind} importer: option {self.name} expects true/false, got {value!r}")
        if self.type is str and isinstance(value, (list, tuple)):  # e.g. parts=["face", "eyeballs"]
            return ",".join(str(v) for v in value)
        if isinstance(value, self.type) and not (self.type is int and isinstance(value, bool)):
            return value
        try:
            return self.type(value)
        except (TypeError, ValueError):
            raise UserError(f"{kind} importer: option {self.name} expects {self.type.__name__}, got {value!r}") from None


IMPORTERS: dict[str, ImporterFn] = {}
IMPORTER_OPTIONS: dict[str, tuple[ImporterOption, ...]] = {}


def register_importer(kind: str, options: tuple[ImporterOption, ...] = ()) -> Callable[[ImporterFn], ImporterFn]:
    """Decorator: register ``fn(src, **options)`` as the importer for ``kind``."""

    def deco(fn: ImporterFn) -> ImporterFn:
        if kind in IMPORTERS:
            raise ValueError(f"importer {kind!r} registered twice")
        IMPORTERS[kind] = fn
        IMPORTER_OPTIONS[kind] = tuple(options)
        return fn

    return deco


def import_model(kind: str, src: str | os.PathLike, **options: Any) -> MorphableModel:
    """Import a third-party model file or folder.

    Args:
        kind: a key of ``IMPORTERS`` (``ict``, ``bfm2009``, ``bfm2017``, ``flame``).
        src: the source file or folder.
        **options: the importer's options (see ``IMPORTER_OPTIONS[kind]``); strings are
            converted to the declared type; ``None`` means "use the default".

    Returns:
        A validated ``MorphableModel`` in the project frame.
    """
    if kind not in IMPORTERS:
        raise UserError(f"unknown model kind {kind!r}; known kinds: {', '.join(sorted(IMPORTERS))}")
    src = Path(src)
    if not src.exists():
        raise UserError(f"{src}: no such file or folder (source for the {kind} importer)")
    declared = {o.name: o for o in IMPORTER_OPTIONS[kind]}
    unknown = sorted(set(options) - set(declared))
    if unknown:
        raise UserError(f"{kind} importer: unknown option(s) {unknown}; it takes {sorted(declared) or 'none'}")
    values = {name: declared[name].coerce(v, kind) for name, v in options.items() if v is not None}
    return IMPORTERS[kind](src, **values)


# Register the built-in importers (each module registers itself on import).
from synth.importers import bfm, flame, ict  # noqa: E402,F401
