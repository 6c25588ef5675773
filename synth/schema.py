"""The HDF5 dataset schema: per-sample fields, image codecs and root attributes.

Symbols: N samples in a file, H, W, C image height, width, channels.

Layout (see docs/hdf5-schema.md)
--------------------------------
- Every field is a dataset of shape ``(N, *field.shape)`` at the file root, chunked along N,
  written with ``track_times=False`` so the bytes depend only on the content.
- ``kind="array"``: chunks of about 64 KiB of rows, fletcher32 checksums, no compression.
- ``kind="mask"``: (N, H, W) any numeric dtype, one sample per chunk, lzf + fletcher32 (gzip under
  ``raw-gzip``).
- ``kind="image"``: RGB (or grey) uint8. Raw codecs: (N, H, W, C) uint8, one sample per chunk,
  lzf + fletcher32 or gzip. Encoded codecs (jpeg, png): (N,) variable-length uint8 holding
  the encoded file bytes, attribute ``image_shape`` = (H, W, C); read with ``read_image``.
  (HDF5 allows no filters, hence no checksum, on variable-length data.)
- Under ``raw-gzip`` image/mask chunks are deflated by ``encode_sample`` (so in the worker
  processes) and stored with ``write_direct_chunk``; the zlib stream's own adler32 checksum
  replaces fletcher32 there. Plain h5py reads them like any gzip dataset.
- Every dataset has attributes ``kind`` and ``doc``; image datasets also ``codec``.

Convention: images are RGB in memory and in raw datasets; OpenCV's BGR order exists only
inside ``encode_image`` / ``decode_image``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zlib
from dataclasses import dataclass
from importlib import metadata
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from synth.errors import UserError
from synth.seeding import check_seed

__all__ = [
    "SCHEMA_VERSION", "LIBVER", "FIELD_KINDS", "Field", "INDEX_FIELD", "SEED_FIELD",
    "ImageCodec", "encode_image", "decode_image", "read_image",
    "DATASET_ATTRS", "ROOT_ATTRS", "MERGED_SHARD_INDEX", "DatasetSchema", "resolve_dataset_attrs",
    "write_attrs", "read_root_attrs", "write_vlen_rows",
]

SCHEMA_VERSION = 1
#: HDF5 format bounds, fixed so that a newer libhdf5 does not change the bytes (and >64 KiB
#: attributes such as a long ``config`` are allowed).
LIBVER = ("v110", "v110")
FIELD_KINDS = ("array", "image", "mask")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_ARRAY_CHUNK_BYTES = 64 * 1024
_VLEN_CHUNK_ROWS = 256
_GZIP_LEVEL = 4
_PNG_LEVEL = 3


@dataclass(frozen=True)
class Field:
    """One per-sample quantity; stored as a dataset of shape ``(N, *shape)``.

    Args:
        name: dataset name, ``[a-z][a-z0-9_]*``; ``index`` and ``seed`` are added by the writer.
        shape: per-sample shape, e.g. ``(68, 2)``; ``()`` for a scalar.
        dtype: NumPy dtype name (``"float32"``, ``"uint8"``, ``"bool"``, ...).
        kind: ``"array"``, ``"image"`` ((H, W, 3|1) or (H, W) uint8, RGB) or ``"mask"``
            ((H, W) per-pixel map of any numeric dtype: labels, depth; stored losslessly).
        doc: meaning, units and frame, stored as the dataset's ``doc`` attribute.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    kind: str = "array"
    doc: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise ValueError(f"field name must match {_NAME_RE.pattern}, got {self.name!r}")
        shape = tuple(int(s) for s in self.shape)
        if any(s <= 0 for s in shape):
            raise ValueError(f"field {self.name!r}: shape must be positive ints, got {self.shape}")
        dt = np.dtype(self.dtype)
        if dt.hasobject or dt.kind not in "biuf":
            raise ValueError(f"field {self.name!r}: dtype must be bool/int/uint/float, got {dt}")
        if self.kind not in FIELD_KINDS:
            raise ValueError(f"field {self.name!r}: kind must be one of {FIELD_KINDS}, got {self.kind!r}")
        if self.kind == "image" and (dt != np.uint8 or len(shape) not in (2, 3)
                                     or (len(shape) == 3 and shape[2] not in (1, 3))):
            raise ValueError(f"image field {self.name!r}: expected (H, W, 3|1) or (H, W) uint8, "
                             f"got {shape} {dt}")
        if self.kind == "mask" and len(shape) != 2:
            raise ValueError(f"mask field {self.name!r}: expected (H, W), got {shape}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "dtype", dt.name)

    def describe(self) -> list:
        """JSON-able identity of the field (no doc), used in the dataset fingerprint."""
        return [self.name, list(self.shape), self.dtype, self.kind]


INDEX_FIELD = Field("index", (), "int64", "array",
                    "global sample index i, 0-based; sample i is drawn from synth.seeding.sample_rng(seed, i)")
SEED_FIELD = Field("seed", (), "int64", "array",
                   "global seed of the run that drew the sample; (seed, index) regenerates it")


@dataclass(frozen=True)
class ImageCodec:
    """How ``kind="image"`` fields are stored.

    ``raw-lzf`` (default; fast, ~lossless size ratio 1.5-3 on renders), ``raw-gzip`` (smaller,
    slower), ``png`` (lossless, encoded), ``jpeg`` (lossy, ``quality`` 1-100, 4:2:0 chroma).
    """

    name: str = "raw-lzf"
    quality: int = 95

    CHOICES: ClassVar[tuple[str, ...]] = ("raw-lzf", "raw-gzip", "jpeg", "png")

    def __post_init__(self) -> None:
        if self.name not in self.CHOICES:
            raise UserError(f"image codec must be one of {', '.join(self.CHOICES)}, got {self.name!r}")
        if isinstance(self.quality, bool) or not isinstance(self.quality, (int, np.integer)) \
                or not 1 <= self.quality <= 100:
            raise UserError(f"jpeg quality must be an integer in [1, 100], got {self.quality!r}")
        object.__setattr__(self, "quality", int(self.quality))

    @classmethod
    def parse(cls, spec: str) -> "ImageCodec":
        """``"raw-lzf"``, ``"raw-gzip"``, ``"png"``, ``"jpeg"`` or ``"jpeg:90"``."""
        name, _, q = str(spec).partition(":")
        if q and name != "jpeg":
            raise UserError(f"only jpeg takes a quality (jpeg:90), got {spec!r}")
        try:
            quality = int(q) if q else 95
        except ValueError:
            raise UserError(f"jpeg quality must be an integer, got {spec!r}") from None
        return cls(name, quality)

    @property
    def encoded(self) -> bool:
        """True for file-format codecs stored as variable-length bytes."""
        return self.name in ("jpeg", "png")

    def __str__(self) -> str:
        return f"jpeg:{self.quality}" if self.name == "jpeg" else self.name


def _cv2():
    import cv2  # lazy: only encoded codecs need OpenCV

    return cv2


def encode_image(image_rgb: np.ndarray, codec: ImageCodec) -> np.ndarray:
    """Encode one image to file bytes.

    Args:
        image_rgb: (H, W, 3) RGB, (H, W, 1) or (H, W) grey; uint8.
        codec: an encoded codec (``jpeg`` or ``png``).

    Returns:
        (B,) uint8, the bytes of a .jpg / .png file.
    """
    if not codec.encoded:
        raise ValueError(f"codec {codec} stores raw pixels; nothing to encode")
    img = np.asarray(image_rgb)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3)):
        raise ValueError(f"expected (H, W, 3|1) or (H, W) uint8, got {img.shape} {img.dtype}")
    cv2 = _cv2()
    # cvtColor, not img[..., ::-1]: numpy copies a reversed channel axis ~30x slower (159 vs 5 us at 128 px)
    bgr = cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2BGR) if img.ndim == 3 and img.shape[2] == 3 else img
    if codec.name == "jpeg":
        ext, params = ".jpg", [cv2.IMWRITE_JPEG_QUALITY, codec.quality, cv2.IMWRITE_JPEG_OPTIMIZE, 0]
        if hasattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR"):
            params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420]
    else:
        ext, params = ".png", [cv2.IMWRITE_PNG_COMPRESSION, _PNG_LEVEL]
    ok, buf = cv2.imencode(ext, bgr, params)
    if not ok:
        raise RuntimeError(f"OpenCV could not encode a {img.shape} image as {ext}")
    return buf.reshape(-1)


def decode_image(data: np.ndarray | bytes, image_shape: Sequence[int]) -> np.ndarray:
    """Decode the bytes of one encoded image (jpeg or png) back to RGB.

    Args:
        data: (B,) uint8 file bytes, as stored in an encoded image dataset.
        image_shape: the dataset's ``image_shape`` attribute, (H, W, C) or (H, W).

    Returns:
        ``image_shape`` uint8, RGB channel order.

    Raises:
        UserError: the bytes do not decode to an image of that shape (corrupt data).
    """
    buf = np.frombuffer(data, dtype=np.uint8) if isinstance(data, (bytes, bytearray)) else np.asarray(data, np.uint8)
    cv2 = _cv2()
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    shape = tuple(int(s) for s in image_shape)
    if img is None or img.size != math.prod(shape):
        got = "nothing" if img is None else str(img.shape)
        raise UserError(f"encoded image ({buf.size} bytes) decodes to {got}, expected {shape}; corrupt data?")
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(img).reshape(shape)


def read_image(dset: Any, i: int) -> np.ndarray:
    """Image ``i`` of an image dataset (raw or encoded) as (H, W, C) / (H, W) uint8 RGB."""
    if dset.attrs.get("codec", "raw-lzf") in ("raw-lzf", "raw-gzip"):
        return dset[i]
    return decode_image(dset[i], dset.attrs["image_shape"])


# ----------------------------------------------------------------------------- root attributes

#: Root attributes the caller supplies (``facesynth_version`` defaults to the installed one).
DATASET_ATTRS = ("facesynth_version", "config", "model_name", "model_checksum", "seed")
#: Every root attribute, in the order written; ``complete`` is always written last.
ROOT_ATTRS = ("schema_version", *DATASET_ATTRS, "num_samples", "shard_size", "num_shards",
              "shard_index", "first_index", "fingerprint", "complete")
#: ``shard_index`` of a merged file (it covers every shard).
MERGED_SHARD_INDEX = -1


def _installed_version() -> str:
    try:
        return metadata.version("facesynth")
    except metadata.PackageNotFoundError:
        return "unknown"


def resolve_dataset_attrs(root_attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the caller's root attributes; ``DATASET_ATTRS`` first, then extras by name.

    ``config`` is the resolved config as a YAML/JSON string; ``seed`` the global seed.
    Extra keys (e.g. ``preset``, or a JSON list naming the columns of a field) are allowed:
    names ``[a-z][a-z0-9_]*`` other than the standard ones, values str/int/float/bool. They
    are written to every shard and count in the fingerprint.
    """
    attrs = dict(root_attrs)
    attrs.setdefault("facesynth_version", _installed_version())
    missing = [k for k in DATASET_ATTRS if k not in attrs]
    extras = sorted(set(attrs) - set(DATASET_ATTRS))
    bad = [k for k in extras if k in ROOT_ATTRS or not isinstance(k, str) or not _NAME_RE.match(k)]
    if missing or bad:
        raise ValueError(f"root_attrs: need keys {DATASET_ATTRS}; missing {missing}; "
                         f"extra keys must match {_NAME_RE.pattern} and not be one of {ROOT_ATTRS}: {bad}")
    for key in ("facesynth_version", "config", "model_name", "model_checksum"):
        if not isinstance(attrs[key], str):
            raise ValueError(f"root_attrs[{key!r}] must be a str, got {type(attrs[key]).__name__}")
    for key in extras:
        if not isinstance(attrs[key], (str, int, float, bool, np.integer, np.floating, np.bool_)):
            raise ValueError(f"root_attrs[{key!r}] must be a str, int, float or bool, got {type(attrs[key]).__name__}")
        if isinstance(attrs[key], np.generic):
            attrs[key] = attrs[key].item()
    attrs["seed"] = check_seed(attrs["seed"])
    return {k: attrs[k] for k in (*DATASET_ATTRS, *extras)}


def write_attrs(obj: Any, attrs: Mapping[str, Any]) -> None:
    """Write attributes in the mapping's order, with fixed HDF5 types (int64, bool, utf-8 str)."""
    for key, value in attrs.items():
        if isinstance(value, (bool, np.bool_)):
            value = np.bool_(value)
        elif isinstance(value, (int, np.integer)):
            value = np.int64(value)
        obj.attrs[key] = value


def write_vlen_rows(dset: Any, start: int, values: np.ndarray) -> None:
    """Write rows ``start .. start + len(values) - 1`` of a variable-length uint8 dataset.

    ``values``: (n,) object array of 1-D uint8 arrays. (``dset[a:b] = values`` would let h5py
    turn equal-length rows into a 2-D array and fail.)
    """
    from h5py import h5s, h5t

    rows = np.empty(len(values), dtype=object)
    for k, v in enumerate(values):
        rows[k] = np.ascontiguousarray(v, dtype=np.uint8).reshape(-1)
    mspace = h5s.create_simple((len(rows),))
    fspace = dset.id.get_space()
    fspace.select_hyperslab((start,), (len(rows),))
    dset.id.write(mspace, fspace, rows, mtype=h5t.py_create(dset.dtype))


def read_root_attrs(f: Any) -> dict[str, Any]:
    """Root attributes of an open file as Python values (str, int, bool, list)."""
    out: dict[str, Any] = {}
    for key, value in f.attrs.items():
        if isinstance(value, bytes):
            value = value.decode()
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


@dataclass(frozen=True)
class DatasetSchema:
    """The fields of a dataset and how its images are stored; creates and fills HDF5 datasets.

    ``fields`` are the caller's fields; ``all_fields`` adds ``index`` and ``seed``.
    """

    fields: tuple[Field, ...]
    codec: ImageCodec = ImageCodec()

    def __post_init__(self) -> None:
        fields = tuple(self.fields)
        if not all(isinstance(f, Field) for f in fields):
            raise ValueError("fields must be synth.schema.Field instances")
        names = [f.name for f in fields]
        dup = sorted({n for n in names if names.count(n) > 1})
        reserved = sorted({INDEX_FIELD.name, SEED_FIELD.name} & set(names))
        if dup or reserved:
            raise ValueError(f"field names must be unique and not {INDEX_FIELD.name!r}/{SEED_FIELD.name!r}; "
                             f"duplicates {dup}, reserved {reserved}")
        object.__setattr__(self, "fields", fields)

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return (*self.fields, INDEX_FIELD, SEED_FIELD)

    def fingerprint(self, dataset_attrs: Mapping[str, Any], num_samples: int, shard_size: int) -> str:
        """sha256 (hex) of everything that determines the samples and their layout.

        Covers schema version, config, model name and checksum, seed, extra root attributes,
        N, shard size, codec and field names/shapes/dtypes/kinds; not ``facesynth_version``
        nor field docs.
        """
        ident = {
            "schema_version": SCHEMA_VERSION,
            **{k: v for k, v in dataset_attrs.items() if k != "facesynth_version"},
            "num_samples": int(num_samples), "shard_size": int(shard_size),
            "codec": str(self.codec), "fields": [f.describe() for f in self.all_fields],
        }
        return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()

    def precompressed(self, field: Field) -> bool:
        """True when ``encode_sample`` returns this field as a ready deflated HDF5 chunk."""
        return self.codec.name == "raw-gzip" and field.kind in ("image", "mask")

    def block_rows(self, field: Field, num_rows: int) -> int:
        """Rows per HDF5 chunk (and per write) of ``field`` in a file of ``num_rows`` samples."""
        if field.kind in ("image", "mask"):
            return min(num_rows, _VLEN_CHUNK_ROWS) if (field.kind == "image" and self.codec.encoded) else 1
        row_bytes = np.dtype(field.dtype).itemsize * math.prod(field.shape)
        return max(1, min(num_rows, _ARRAY_CHUNK_BYTES // row_bytes))

    def create_datasets(self, f: Any, num_rows: int) -> dict[str, Any]:
        """Create one empty dataset per field (``all_fields`` order) in open h5py file ``f``."""
        import h5py

        out = {}
        lossless = "gzip" if self.codec.name == "raw-gzip" else "lzf"
        for field in self.all_fields:
            rows = self.block_rows(field, num_rows)
            encoded = field.kind == "image" and self.codec.encoded
            if encoded:
                ds = f.create_dataset(field.name, shape=(num_rows,), dtype=h5py.vlen_dtype(np.uint8),
                                      chunks=(rows,), track_times=False)
            else:
                comp: dict[str, Any] = {"fletcher32": True}
                if self.precompressed(field):
                    comp = {"compression": "gzip", "compression_opts": _GZIP_LEVEL}
                elif field.kind != "array":
                    comp["compression"] = lossless
                ds = f.create_dataset(field.name, shape=(num_rows, *field.shape), dtype=field.dtype,
                                      chunks=(rows, *field.shape), track_times=False, **comp)
            attrs = {"kind": field.kind, "doc": field.doc}
            if field.kind == "image":
                attrs["codec"] = str(self.codec)
                if encoded:
                    attrs["image_shape"] = np.array(field.shape, dtype=np.int64)
            write_attrs(ds, attrs)
            out[field.name] = ds
        return out

    def encode_sample(self, sample: Mapping[str, Any], index: int) -> dict[str, np.ndarray]:
        """Check one sample against the fields and convert it to what is stored.

        Args:
            sample: field name -> array of ``field.shape``; dtypes are cast with
                ``same_kind`` casting. Must hold exactly the caller's fields.
            index: the sample's global index (for error messages).

        Returns:
            field name -> stored value (for encoded images, the (B,) uint8 file bytes; for
            ``precompressed`` fields, the deflated chunk as bytes), in
            ``fields`` order; ``index`` and ``seed`` are not included.
        """
        if not isinstance(sample, Mapping):
            raise TypeError(f"sample {index}: make_sample must return a dict, got {type(sample).__name__}")
        names = {f.name for f in self.fields}
        if set(sample) != names:
            raise ValueError(f"sample {index}: fields {sorted(sample)} != schema fields {sorted(names)}")
        out = {}
        for field in self.fields:
            value = sample[field.name]
            if not isinstance(value, np.ndarray):
                value = np.asarray(value)
            if value.shape != field.shape:
                raise ValueError(f"sample {index}, field {field.name!r}: expected shape {field.shape}, "
                                 f"got {value.shape}")
            if value.dtype != field.dtype:  # (the common case, equal dtypes, skips ~3 us of checks a field)
                if not np.can_cast(value.dtype, field.dtype, casting="same_kind"):
                    raise ValueError(f"sample {index}, field {field.name!r}: cannot store {value.dtype} "
                                     f"as {field.dtype}")
                value = value.astype(field.dtype)
            if field.kind == "image" and self.codec.encoded:
                value = encode_image(value, self.codec)
            elif self.precompressed(field):
                value = zlib.compress(np.ascontiguousarray(value).tobytes(), _GZIP_LEVEL)
            out[field.name] = value
        return out
