"""``SyntheticDataset``: the generator's HDF5 output (shard folder, one shard or a merged file) as FaceSamples.

Symbols: N samples, J shard files, K = 68 landmarks.

Fields read (``synth.sample.sample_fields``): ``image``; ``lmk2d`` + ``visible`` (convention
"3d") or ``lmk2d_contour`` + ``visible_contour`` (convention "2d"); ``rotation``,
``euler_deg``, ``bbox``, ``index``. Everything is labelled in a synthetic sample, so every
validity mask is True.

Worker safety: the dataset holds *paths* until the first ``__getitem__``; then each process
opens its own h5py handles (one per file, kept open) and reopens them when it finds itself
in a new process (a DataLoader worker forked after the parent had read). Handles are
never pickled, never shared across a fork, and inherited ones are left alone (not closed)
in the child. One sample's image is one HDF5 chunk (raw codecs) or one entry of a
variable-length dataset (jpeg/png); the encoded images a batch needs from one file are read
in one HDF5 call, raw ones with one call each (``read_many``, which the DataLoader reaches
through ``__getitems__``). The small label fields (~0.7 KB a
sample) of a file are read whole, once per process, on its first sample (``_labels``): one
read per field instead of one per field and sample.
"""

from __future__ import annotations

import bisect
import os
from pathlib import Path
from typing import Any, Callable, Literal, Sequence

import numpy as np
from torch.utils.data import Dataset

from synth.data.record import FaceSample
from synth.errors import UserError
from synth.landmarks import NUM_LANDMARKS

__all__ = ["SyntheticDataset", "SYNTHETIC_FIELDS"]

#: convention -> (landmark field, visibility field)
_CONVENTION_FIELDS = {"3d": ("lmk2d", "visible"), "2d": ("lmk2d_contour", "visible_contour")}
#: every field this reader needs (for either convention)
SYNTHETIC_FIELDS = ("image", "lmk2d", "lmk2d_contour", "visible", "visible_contour", "rotation",
                    "euler_deg", "bbox", "index")
#: h5py raw-data chunk cache per open dataset (the labels are read whole, see ``_labels``;
#: h5py's default 1 MiB would also do; raw images are one chunk each).
_CHUNK_CACHE_BYTES = 4 * 1024 * 1024
#: every field is replaced in ``read``; only a starting point for ``FaceSample._evolve``
_TEMPLATE = FaceSample(image=np.zeros((1, 1, 3), np.uint8))


def _h5py():
    try:
        import h5py
    except ImportError:  # pragma: no cover - h5py is a hard dependency of the project
        raise ImportError("SyntheticDataset needs h5py: pip install h5py") from None
    return h5py


def _resolve_files(path: Path) -> list[Path]:
    """The shard files of ``path`` (a folder of shards, one shard, or a merged file)."""
    if path.is_dir():
        from synth.shard_check import check_shards

        return list(check_shards(path).paths)  # raises, naming a missing/partial/bad shard
    if path.is_file():
        return [path]
    raise UserError(f"{path}: no such file or folder (expected a shard folder, a shard-*.h5 or a merged .h5)")


class _VlenRowReader:
    """Rows of a variable-length uint8 dataset, many in one call, via h5py's low-level API.

    One ``H5Dread`` of a point selection costs ~70 us plus ~15 us a row, so a batch of 64 rows
    in one read is ~4x cheaper a row than one read each (and one ``dset[i]`` costs ~150 us).
    """

    def __init__(self, dset: Any) -> None:
        from h5py import h5t

        self.dset = dset
        self._fspace = dset.id.get_space()
        self._mtype = h5t.py_create(dset.dtype)

    def read(self, rows: np.ndarray) -> np.ndarray:
        """(n,) object array of 1-D uint8 arrays: rows ``rows`` ((n,) int, increasing, distinct)."""
        from h5py import h5s

        out = np.empty(len(rows), dtype=object)
        self._fspace.select_elements(np.asarray(rows, np.int64).reshape(-1, 1))
        self.dset.id.read(h5s.create_simple((len(rows),)), self._fspace, out, mtype=self._mtype)
        return out


def _decode_rgb(data: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """Encoded (jpeg/png) bytes -> RGB. Same result as ``synth.schema.decode_image``, which this
    bypasses only for speed: OpenCV decodes straight to RGB (no channel-reversing copy)."""
    import cv2

    flag = getattr(cv2, "IMREAD_COLOR_RGB", None)
    if flag is None or len(image_shape) != 3 or image_shape[2] != 3:
        from synth.schema import decode_image

        return decode_image(data, image_shape)
    img = cv2.imdecode(np.asarray(data, np.uint8), flag)
    if img is None or img.shape != tuple(image_shape):
        raise UserError(f"encoded image ({np.asarray(data).size} bytes) decodes to "
                        f"{None if img is None else img.shape}, expected {tuple(image_shape)}; corrupt data?")
    return img


class SyntheticDataset(Dataset):
    """A ``torch.utils.data.Dataset`` of ``FaceSample`` over a generated dataset.

    Args:
        path: a folder of ``shard-*-of-*.h5`` files (all shards must be present and
            complete), one shard file, or a merged file (``synth.shards.merge_shards``).
        convention: ``"3d"`` (``lmk2d``, ``visible``: fixed model points, hidden ones
            included) or ``"2d"`` (``lmk2d_contour``, ``visible_contour``: the jaw follows the
            visible outline, as 300W / WFLW annotate).
        transform: optional ``FaceSample -> anything`` applied in ``__getitem__`` (crop,
            augmentation, ``FaceSample.to_dict`` for the default collate).
        source: the ``FaceSample.source`` name.

    ``__getitem__(i)`` returns sample i in file order (global index ``i`` of a full dataset);
    ``FaceSample.name`` is the stored global ``index``. Landmarks, bbox: crop pixels, origin
    at the top-left pixel's centre; euler_deg: yaw, pitch, roll (``synth.geometry``).
    """

    def __init__(self, path: str | Path, convention: Literal["3d", "2d"] = "3d", *,
                 transform: Callable[[FaceSample], Any] | None = None, source: str = "synthetic") -> None:
        if convention not in _CONVENTION_FIELDS:
            raise ValueError(f"convention must be one of {sorted(_CONVENTION_FIELDS)}, got {convention!r}")
        self.path = Path(path)
        self.convention = convention
        self.transform = transform
        self.source = source
        self.files = _resolve_files(self.path)
        lengths = []
        h5py = _h5py()
        for p in self.files:  # opened and closed here: no handle survives into a fork
            try:
                with h5py.File(p, "r") as f:
                    missing = [k for k in SYNTHETIC_FIELDS if k not in f]
                    if missing:
                        raise UserError(f"{p}: not a facesynth synthetic dataset, missing fields {missing}; "
                                        f"expected {list(SYNTHETIC_FIELDS)}")
                    lengths.append(len(f["index"]))
            except OSError as e:
                raise UserError(f"{p}: cannot open as HDF5 ({str(e).splitlines()[0]})") from None
        self._starts = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64).tolist()
        self._handles: list[Any] | None = None
        self._pid: int | None = None

    # -- pickling / worker safety -------------------------------------------------------------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_handles"], state["_pid"] = None, None  # paths only; each process opens its own
        state.pop("_inherited", None)
        return state

    def _datasets(self) -> list[dict[str, Any]]:
        """This process's open datasets, one dict per file (opened on first use per process)."""
        pid = os.getpid()
        if self._handles is None or self._pid != pid:
            # A handle inherited across fork is dropped without closing (the parent owns it).
            if self._handles is not None:
                self.__dict__.setdefault("_inherited", []).append(self._handles)
            h5py = _h5py()
            lmk_name, vis_name = _CONVENTION_FIELDS[self.convention]
            handles = []
            for p in self.files:
                f = h5py.File(p, "r", rdcc_nbytes=_CHUNK_CACHE_BYTES)
                image = f["image"]
                raw = image.attrs.get("codec", "raw-lzf") in ("raw-lzf", "raw-gzip")
                handles.append({"file": f, "image": image if raw else _VlenRowReader(image),
                                "image_shape": tuple(int(v) for v in image.attrs.get("image_shape", image.shape[1:])),
                                "lmk": f[lmk_name], "vis": f[vis_name], "rotation": f["rotation"],
                                "euler_deg": f["euler_deg"], "bbox": f["bbox"], "index": f["index"], "raw": raw,
                                "labels": None})
            self._handles, self._pid = handles, pid
        return self._handles

    def close(self) -> None:
        """Close this process's handles (they reopen on the next read)."""
        if self._handles is not None and self._pid == os.getpid():
            for h in self._handles:
                h["file"].close()
        self._handles, self._pid = None, None

    # -- Dataset protocol --------------------------------------------------------------------
    def __len__(self) -> int:
        return self._starts[-1]

    def _locate(self, i: int) -> tuple[int, int]:
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"sample index {i} out of range for a dataset of {n}")
        i = i % n
        j = bisect.bisect_right(self._starts, i) - 1
        return j, i - self._starts[j]

    @staticmethod
    def _labels(d: dict[str, Any]) -> dict[str, np.ndarray]:
        """The label fields of one open file, read whole on first use (this process only).

        (n, 68, 2) float32 ``lmk``, (n, 68) bool ``vis``, (n, 3, 3) float32 ``rotation``,
        (n, 3) float32 ``euler_deg``, (n, 4) float32 ``bbox``, (n,) ``index``.
        """
        if d["labels"] is None:
            d["labels"] = {
                "lmk": np.asarray(d["lmk"][:], np.float32), "vis": np.asarray(d["vis"][:], bool),
                "rotation": np.asarray(d["rotation"][:], np.float32),
                "euler_deg": np.asarray(d["euler_deg"][:], np.float32),
                "bbox": np.asarray(d["bbox"][:], np.float32), "index": d["index"][:].tolist(),
            }
        return d["labels"]

    def _images(self, j: int, rows: list[int]) -> list[np.ndarray]:
        """(H, W, 3) uint8 RGB images of ``rows`` (any order, repeats allowed) of file ``j``, one HDF5 read."""
        d = self._datasets()[j]
        distinct, where = np.unique(rows, return_inverse=True)
        if d["raw"]:  # a read per row: h5py's fancy indexing took ~7 ms an image (vs ~35 us)
            stored = [d["image"][r] for r in distinct.tolist()]
        else:
            stored = [_decode_rgb(data, d["image_shape"]) for data in d["image"].read(distinct)]
        images = []
        for row, k in zip(rows, where.tolist()):
            image = stored[k]
            if image.ndim == 2 or image.shape[2] == 1:
                image = np.repeat(image.reshape(image.shape[0], image.shape[1], 1), 3, axis=2)
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise UserError(f"{self.files[j]}: row {row}: image must be (H, W, 3) uint8 RGB, got {image.shape} {image.dtype}")
            images.append(image)
        return images

    def read_many(self, indices: Sequence[int]) -> list[FaceSample]:
        """Samples ``indices`` (any order, repeats allowed) as FaceSamples, without ``transform``.

        The images of each file come from one HDF5 read (``_VlenRowReader``), so a batch is
        cheaper than ``read`` per sample; the results are the same.
        """
        located = [self._locate(int(i)) for i in indices]
        by_file: dict[int, list[int]] = {}
        for k, (j, _) in enumerate(located):
            by_file.setdefault(j, []).append(k)
        images: list[np.ndarray] = [None] * len(located)  # type: ignore[list-item]
        for j, ks in by_file.items():
            for k, image in zip(ks, self._images(j, [located[k][1] for k in ks])):
                images[k] = image
        handles = self._datasets()
        # Every label is valid, so FaceSample's masking is the identity: build it directly
        # (rows are copied, so a sample never aliases the cache).
        samples = []
        for (j, row), image in zip(located, images):
            lab = self._labels(handles[j])
            samples.append(FaceSample._evolve(
                _TEMPLATE,
                image=image,
                landmarks=lab["lmk"][row].copy(),
                landmark_valid=np.ones(NUM_LANDMARKS, bool),
                visible=lab["vis"][row].copy(),
                visible_valid=np.ones(NUM_LANDMARKS, bool),
                euler_deg=lab["euler_deg"][row].copy(),
                euler_valid=np.ones(3, bool),
                rotation=lab["rotation"][row].copy(),
                rotation_valid=True,
                bbox=lab["bbox"][row].copy(),
                bbox_valid=True,
                convention=self.convention,
                source=self.source,
                name=str(lab["index"][row]),
            ))
        return samples

    def read(self, i: int) -> FaceSample:
        """Sample ``i`` as a FaceSample, without ``transform``."""
        return self.read_many([i])[0]

    def __getitem__(self, i: int) -> Any:
        sample = self.read(i)
        return self.transform(sample) if self.transform is not None else sample

    def __getitems__(self, indices: Sequence[int]) -> list[Any]:
        """``[self[i] for i in indices]`` with ``read_many``'s batched reads (a DataLoader with a
        batch size fetches a batch through this)."""
        samples = self.read_many(indices)
        return samples if self.transform is None else [self.transform(s) for s in samples]

    def read_field(self, name: str) -> np.ndarray:
        """A whole label field, (N, *shape), e.g. ``euler_deg`` for yaw-balanced sampling.

        Opens and closes its own handles (safe to call in the main process before forking).
        """
        h5py = _h5py()
        parts = []
        for p in self.files:
            with h5py.File(p, "r") as f:
                if name not in f:
                    raise KeyError(f"{p}: no field {name!r}; have {sorted(f)}")
                parts.append(f[name][:])
        return np.concatenate(parts)

    def yaw_deg(self) -> np.ndarray:
        """(N,) float32 yaw labels in degrees (all known), for ``synth.data.mixing``."""
        return self.read_field("euler_deg")[:, 0].astype(np.float32)

    def __repr__(self) -> str:
        return f"SyntheticDataset({str(self.path)!r}, convention={self.convention!r}, n={len(self)}, files={len(self.files)})"
