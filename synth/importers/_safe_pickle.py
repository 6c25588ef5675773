"""A restricted unpickler for model files (FLAME ``.pkl``, pickled ``.npy`` dicts).

``pickle.load`` runs whatever callables a file names, so a downloaded ``.pkl`` can execute
code. ``load_pickle`` instead resolves every global through an allow-list:

- numpy array reconstruction (``numpy.core.multiarray._reconstruct``, ``numpy.ndarray``,
  ``numpy.dtype``, ``scalar``, ``_frombuffer``; also the numpy 2 ``numpy._core`` names),
- ``scipy.sparse`` csc / csr matrices, mapped to ``SparseState`` (captures the state dict;
  ``.to_scipy()`` builds the real matrix from its arrays),
- ``chumpy`` objects (``chumpy.ch.Ch`` and the other chumpy classes), mapped to
  ``ChumpyState`` (captures the state dict; ``.array()`` returns the stored ``x``),
- harmless builtins (``object``, ``set``, ``frozenset``, ``slice``, ``collections.OrderedDict``),
  ``copyreg._reconstructor`` restricted to the stand-ins above, and ``_codecs.encode``
  restricted to latin1 (how Python 3 pickles ``bytes`` at protocol 2),

and refuses anything else with a ``UserError`` naming the file and the global. Neither
chumpy nor the source's scipy version is needed. Python 2 pickles are read with
``encoding="latin1"`` (numpy arrays' raw bytes survive it).
"""

from __future__ import annotations

import collections
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse

from synth.errors import UserError

__all__ = ["ChumpyState", "SparseState", "load_pickle", "loads_pickle", "as_array"]


class _State:
    """Captures the state a pickle gives an object, without running any of its code."""

    def __new__(cls, *args: Any) -> "_State":  # what NEWOBJ / _reconstructor call (never __init__)
        obj = super().__new__(cls)
        obj.args, obj.state = args, {}
        return obj

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots dict)
            state = {**(state[0] or {}), **(state[1] or {})}
        self.state = dict(state) if isinstance(state, dict) else {"state": state}


class ChumpyState(_State):
    """Stand-in for a chumpy object: ``array()`` is the ndarray chumpy keeps under ``x``."""

    def array(self) -> np.ndarray:
        x = self.state.get("x")
        if not isinstance(x, np.ndarray):
            raise TypeError("chumpy object holds no stored array 'x'")
        return x


class SparseState(_State):
    """Stand-in for a scipy sparse matrix (``fmt`` is 'csc' or 'csr')."""

    fmt = "csc"

    def to_scipy(self) -> scipy.sparse.spmatrix:
        s = self.state
        shape = tuple(int(n) for n in s.get("_shape", s.get("shape")))
        cls = scipy.sparse.csc_matrix if self.fmt == "csc" else scipy.sparse.csr_matrix
        return cls((np.asarray(s["data"]), np.asarray(s["indices"]), np.asarray(s["indptr"])), shape=shape)


class _CsrState(SparseState):
    fmt = "csr"


def _reconstructor(cls: type, base: type, state: Any) -> Any:
    """``copyreg._reconstructor`` (protocol 0/1 objects), only for the stand-ins."""
    if not (isinstance(cls, type) and issubclass(cls, _State) and base is object):
        raise pickle.UnpicklingError(f"refusing copyreg._reconstructor for {cls!r}")
    return cls.__new__(cls)


def _codecs_encode(text: str, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    """``_codecs.encode`` as Python 3 uses it to pickle ``bytes`` at protocol < 3 (latin1 only)."""
    if encoding.replace("-", "").replace("_", "").lower() not in ("latin1", "iso88591"):
        raise pickle.UnpicklingError(f"refusing _codecs.encode with encoding {encoding!r}")
    return text.encode("latin1", errors="strict")


_NUMPY_RECONSTRUCT = np.zeros(1).__reduce__()[0]  # numpy.(_)core.multiarray._reconstruct
_NUMPY_SCALAR = np.float64(0).__reduce__()[0]  # numpy.(_)core.multiarray.scalar
_NUMPY_FROMBUFFER = np.zeros(1).__reduce_ex__(5)[0]  # numpy.(_)core.numeric._frombuffer

_ALLOWED: dict[tuple[str, str], Any] = {}
for _np_core in ("numpy.core", "numpy._core"):
    _ALLOWED[(f"{_np_core}.multiarray", "_reconstruct")] = _NUMPY_RECONSTRUCT
    _ALLOWED[(f"{_np_core}.multiarray", "scalar")] = _NUMPY_SCALAR
    _ALLOWED[(f"{_np_core}.numeric", "_frombuffer")] = _NUMPY_FROMBUFFER
_ALLOWED.update({
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("copy_reg", "_reconstructor"): _reconstructor,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("_codecs", "encode"): _codecs_encode,
})
for _builtins in ("__builtin__", "builtins"):
    for _name, _obj in (("object", object), ("set", set), ("frozenset", frozenset), ("slice", slice)):
        _ALLOWED[(_builtins, _name)] = _obj
for _mod in ("scipy.sparse.csc", "scipy.sparse._csc"):
    _ALLOWED[(_mod, "csc_matrix")] = SparseState
for _mod in ("scipy.sparse.csr", "scipy.sparse._csr"):
    _ALLOWED[(_mod, "csr_matrix")] = _CsrState


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, where: str) -> None:
        super().__init__(file, encoding="latin1")
        self.where = where

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "chumpy" or module.startswith("chumpy."):
            return ChumpyState  # any chumpy class: keep its state, run none of its code
        raise UserError(f"{self.where}: refusing to load the pickled global {module}.{name} "
                        "(only numpy arrays, scipy sparse matrices and chumpy arrays are allowed)")

    def persistent_load(self, pid: Any) -> Any:
        raise UserError(f"{self.where}: refusing a pickle with persistent ids")


def loads_pickle(stream: io.BufferedIOBase, where: str) -> Any:
    """Unpickle from an open binary stream with the allow-list; ``where`` names it in errors."""
    try:
        return _RestrictedUnpickler(stream, where).load()
    except UserError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            MemoryError, UnicodeDecodeError) as e:
        raise UserError(f"{where}: not a readable pickle ({type(e).__name__}: {e})") from None


def load_pickle(path: Path) -> Any:
    """Unpickle a file with the allow-list (see the module docstring)."""
    try:
        with open(path, "rb") as f:
            return loads_pickle(f, str(path))
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror or e})") from None


def as_array(value: Any, key: str, where: str) -> np.ndarray:
    """A loaded value as an ndarray: arrays, chumpy stand-ins and sparse stand-ins (dense)."""
    try:
        if isinstance(value, ChumpyState):
            return value.array()
        if isinstance(value, SparseState):
            return np.asarray(value.to_scipy().todense())
        return np.asarray(value)
    except (TypeError, KeyError, ValueError) as e:
        raise UserError(f"{where}: key {key!r} is not a usable array ({e})") from None
