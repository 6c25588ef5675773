"""Human-readable summary of a dataset: shard counts, fields and label statistics.

Works on a shard folder, a single shard or a merged (VDS) file. Label statistics appear for
the fields that exist:

- ``euler_deg`` (N, 3) yaw, pitch, roll in degrees: text histograms, 15 degree bins.
- ``visible`` (N, 68) bool: visibility rate per landmark group (``synth.landmarks``).
- ``occluder_kinds`` (N,) or (N, K): a sample is occluded when any entry is non-zero; per
  column rates when 2-D, named by the dataset's ``names`` attribute or else the root
  attribute ``occluder_kinds`` (a JSON list) if present.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from synth.errors import UserError
from synth.landmarks import LANDMARK_GROUPS, NUM_LANDMARKS
from synth.schema import MERGED_SHARD_INDEX, read_root_attrs
from synth.shard_layout import first_line, list_shard_files

__all__ = ["inspect_dataset"]

_BIN_DEG = 15
_EDGES_DEG = np.arange(-180, 180 + _BIN_DEG, _BIN_DEG)
_BAR = 16
_ROWS = 4096
_MAX_SHARD_LINES = 12


def inspect_dataset(path: Path) -> str:
    """Summary text (multi-line) of the dataset at ``path`` (folder, shard or merged file).

    Raises:
        UserError: ``path`` does not exist, holds no shards, or is not a readable HDF5 file.
    """
    import h5py

    path = Path(path)
    if path.is_dir():
        files = [sf.path for sf in list_shard_files(path) if not sf.partial]
        partials = [sf.path.name for sf in list_shard_files(path) if sf.partial]
        if not files:
            raise UserError(f"{path} holds no finished shard-*-of-*.h5 files")
    elif path.is_file():
        files, partials = [path], []
    else:
        raise UserError(f"{path} does not exist")

    lines = [f"facesynth dataset: {path}"]
    shard_lines: list[str] = []
    stats = _LabelStats()
    header: dict[str, Any] = {}
    present = 0
    for p in files:
        try:
            with h5py.File(p, "r") as f:
                attrs = read_root_attrs(f)
                n = len(f["index"]) if "index" in f else 0
                state = "complete" if attrs.get("complete") is True else "INCOMPLETE"
                shard_lines.append(f"    {p.name:<28} {n:>9}  {state}")
                if not header:
                    lines += _header(attrs, f, p)
                    header = attrs
                present += n
                stats.update(f)
        except (OSError, KeyError, RuntimeError, ValueError) as e:
            if len(files) == 1:
                raise UserError(f"{p}: cannot read ({first_line(e)})") from None
            shard_lines.append(f"    {p.name:<28} {'?':>9}  UNREADABLE ({first_line(e, 80)})")
    total = header.get("num_samples", present)
    lines.append(f"  samples: {present} present of {total}")
    if len(shard_lines) > 1:
        lines.append(f"  shards ({len(shard_lines)} files, {len(partials)} partial):")
        if len(shard_lines) > _MAX_SHARD_LINES:
            keep = [s for s in shard_lines[5:-5] if "INCOMPLETE" in s or "UNREADABLE" in s]
            shard_lines = shard_lines[:5] + ["    ..."] + keep + shard_lines[-5:]
        lines += shard_lines
    lines += stats.render()
    return "\n".join(lines)


def _header(attrs: dict[str, Any], f: Any, p: Path) -> list[str]:
    kind = ("merged file" if attrs.get("shard_index") == MERGED_SHARD_INDEX
            else f"shard size {attrs.get('shard_size')}, {attrs.get('num_shards')} shards")
    out = [f"  schema v{attrs.get('schema_version')}, facesynth {attrs.get('facesynth_version')}, "
           f"seed {attrs.get('seed')}, {kind}",
           f"  model: {attrs.get('model_name')} (checksum {str(attrs.get('model_checksum'))[:16]})"
           + (f", rendered with {attrs['render_triangles']} triangles" if "render_triangles" in attrs else ""),
           "  fields:"]
    for key, ds in f.items():
        kind = ds.attrs.get("kind", "?")
        if ds.dtype.kind == "O":
            shape, dtype = tuple(int(s) for s in ds.attrs.get("image_shape", ())), "uint8"
        else:
            shape, dtype = ds.shape[1:], ds.dtype.name
        codec = f"  codec {ds.attrs['codec']}" if "codec" in ds.attrs else ""
        out.append(f"    {key:<16} {str(shape):<16} {dtype:<8} {kind}{codec}")
    if any(ds.is_virtual for ds in f.values()):
        folder = p.resolve().parent
        missing = sorted({m.file_name for ds in f.values() if ds.is_virtual for m in ds.virtual_sources()
                          if not (folder / m.file_name).is_file() and not os.path.isabs(m.file_name)})
        if missing:
            out.append(f"  WARNING: missing source shard(s) {missing} read as fill values (index -1)")
    return out


class _LabelStats:
    """Accumulates label statistics block by block over one or more files."""

    def __init__(self) -> None:
        self.euler_counts = np.zeros((3, len(_EDGES_DEG) - 1), np.int64)
        self.n_euler = 0
        self.visible_sum = np.zeros(NUM_LANDMARKS, np.int64)
        self.n_visible = 0
        self.occ_any = 0
        self.occ_cols: np.ndarray | None = None
        self.occ_names: list[str] | None = None
        self.n_occ = 0

    def update(self, f: Any) -> None:
        for start in range(0, len(f["index"]) if "index" in f else 0, _ROWS):
            sl = slice(start, start + _ROWS)
            if "euler_deg" in f and f["euler_deg"].shape[1:] == (3,):
                e = np.clip(f["euler_deg"][sl].astype(np.float64), -180, 180)
                for a in range(3):
                    self.euler_counts[a] += np.histogram(e[:, a], bins=_EDGES_DEG)[0]
                self.n_euler += len(e)
            if "visible" in f and f["visible"].shape[1:] == (NUM_LANDMARKS,):
                v = f["visible"][sl].astype(bool)
                self.visible_sum += v.sum(axis=0)
                self.n_visible += len(v)
            if "occluder_kinds" in f:
                ds = f["occluder_kinds"]
                block = ds[sl]
                o = block.reshape(len(block), -1) != 0
                self.occ_any += int(o.any(axis=1).sum())
                self.n_occ += len(o)
                if ds.ndim == 2:
                    self.occ_cols = o.sum(axis=0) + (0 if self.occ_cols is None else self.occ_cols)
                    self.occ_names = _column_names(f, ds)

    def render(self) -> list[str]:
        out: list[str] = []
        if self.n_euler:
            out.append(f"  head pose (deg, {_BIN_DEG} deg bins, n={self.n_euler}):")
            out += _histograms(self.euler_counts, ("yaw", "pitch", "roll"), self.n_euler)
        if self.n_visible:
            out.append(f"  landmark visibility by group (n={self.n_visible}):")
            for group, idx in LANDMARK_GROUPS.items():
                rate = self.visible_sum[list(idx)].sum() / (len(idx) * self.n_visible)
                out.append(f"    {group:<12} {100 * rate:5.1f}%")
        if self.n_occ:
            out.append(f"  occluded samples: {100 * self.occ_any / self.n_occ:.1f}% (n={self.n_occ})")
            if self.occ_cols is not None:
                names = self.occ_names or [f"kind {k}" for k in range(len(self.occ_cols))]
                out += [f"    {n:<12} {100 * c / self.n_occ:5.1f}%" for n, c in zip(names, self.occ_cols)]
        return out


def _column_names(f: Any, ds: Any) -> list[str] | None:
    """Names of the K columns of ``ds``: its ``names`` attribute, or a JSON list root attribute."""
    names = ds.attrs.get("names")
    if names is None:
        try:
            names = json.loads(f.attrs.get(ds.name.lstrip("/"), ""))
        except (TypeError, ValueError):
            return None
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
    return names if len(names) == ds.shape[1] else None


def _histograms(counts: np.ndarray, labels: tuple[str, ...], n: int) -> list[str]:
    """Side-by-side text histograms; ``counts`` (A, B) over the bins of ``_EDGES_DEG``."""
    nz = np.flatnonzero(counts.sum(axis=0))
    out = [("    bin (deg)       " + "".join(f"{label:<{_BAR + 8}}" for label in labels)).rstrip()]
    for b in range(nz[0], nz[-1] + 1):
        cells = []
        for c in counts[:, b]:
            bar = "#" * int(round(_BAR * c / max(1, counts.max())))
            cells.append(f"{100 * c / n:5.1f}% {bar:<{_BAR + 1}}")
        out.append(f"    [{_EDGES_DEG[b]:4d}, {_EDGES_DEG[b + 1]:4d})  " + "".join(cells).rstrip())
    return out
