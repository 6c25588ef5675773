"""Merge a finished shard folder into one HDF5 file of virtual datasets (no data copied).

Fixed-size datasets become HDF5 virtual datasets (VDS) mapping rows [first, first + n) to
each shard, with source file names stored *relative to the merged file's folder* (HDF5
resolves a relative source name against the folder of the file holding the VDS), so the
merged file and the shards can be moved together. Variable-length datasets (jpeg/png image
bytes) are copied: HDF5 1.x does not support them in a VDS (2.0 accepted one in a quick
test, but readers may be older); they are small compared with raw images.

VDS are made with h5py's low-level API so ``track_times`` is off and merged files are
byte-deterministic like the shards.

A VDS whose source file is missing reads as fill values without error: ``index`` is filled
with -1 so ``inspect``/readers can spot it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from synth.errors import UserError
from synth.schema import LIBVER, MERGED_SHARD_INDEX, ROOT_ATTRS, read_root_attrs, write_attrs, write_vlen_rows
from synth.shard_check import check_shards

__all__ = ["merge_shards"]

_COPY_ROWS = 1024


def merge_shards(in_dir: Path, out_path: Path) -> Path:
    """Write ``out_path``: one file over all shards of ``in_dir``, in index order.

    Root attributes are those of the shards with ``shard_index = -1``, ``first_index = 0``;
    ``complete`` is written last and the file is renamed into place when done.

    Raises:
        UserError: a shard is missing, incomplete, unreadable or inconsistent (named), or
            ``out_path`` is a folder.
    """
    import h5py

    report = check_shards(in_dir)  # raises, naming the first bad shard
    out_path = Path(out_path)
    if out_path.is_dir():
        raise UserError(f"merge output {out_path} is a folder; give a file name such as {out_path / 'all.h5'}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.partial")
    tmp.unlink(missing_ok=True)
    folder = out_path.resolve().parent
    sources = []  # (relative path, open file)
    try:
        for p in report.paths:
            sources.append((os.path.relpath(p.resolve(), folder), h5py.File(p, "r")))
        first = sources[0][1]
        attrs = read_root_attrs(first)
        attrs.update(shard_index=MERGED_SHARD_INDEX, first_index=0)
        head = ROOT_ATTRS[: ROOT_ATTRS.index("seed") + 1]  # the shards' order: extras after seed
        order = [*head, *sorted(set(attrs) - set(ROOT_ATTRS)), *ROOT_ATTRS[len(head):-1]]
        attrs = {k: attrs[k] for k in order}
        num_samples = attrs["num_samples"]
        with h5py.File(tmp, "w", libver=LIBVER) as out:
            write_attrs(out, attrs)
            for key in first.keys():
                ds0 = first[key]
                if ds0.dtype.kind == "O":
                    dst = out.create_dataset(key, shape=(num_samples,), dtype=ds0.dtype, chunks=ds0.chunks,
                                             track_times=False)
                    start = 0
                    for _, f in sources:
                        src = f[key]
                        for s in range(0, len(src), _COPY_ROWS):
                            block = src[s:s + _COPY_ROWS]
                            write_vlen_rows(dst, start + s, block)
                        start += len(src)
                else:
                    dst = _create_vds(out, key, ds0, [(rel, f[key]) for rel, f in sources], num_samples)
                for name, value in ds0.attrs.items():
                    dst.attrs[name] = value
            write_attrs(out, {"complete": True})
    finally:
        for _, f in sources:
            f.close()
    os.replace(tmp, out_path)
    return out_path


def _create_vds(out, key: str, ds0, sources: list, num_samples: int):
    """Virtual dataset ``key`` of shape (N, ...) over ``sources`` [(relative file, dataset)].

    Low-level h5py so that ``track_times`` can be off (h5py's ``VirtualLayout`` has no
    option for it), which keeps merged files byte-deterministic too.
    """
    import h5py
    from h5py import h5d, h5p, h5s, h5t

    row_shape = ds0.shape[1:]
    vspace = h5s.create_simple((num_samples, *row_shape))
    dcpl = h5p.create(h5p.DATASET_CREATE)
    dcpl.set_obj_track_times(False)
    if key == "index":
        dcpl.set_fill_value(np.array([-1], dtype=ds0.dtype))
    start = 0
    for rel, src in sources:
        n = len(src)
        vspace.select_hyperslab((start, *(0,) * len(row_shape)), (n, *row_shape))
        dcpl.set_virtual(vspace, rel.encode(), key.encode(), h5s.create_simple(src.shape))
        start += n
    vspace.select_all()
    dsid = h5d.create(out.id, key.encode(), h5t.py_create(ds0.dtype, logical=True), vspace, dcpl=dcpl)
    return h5py.Dataset(dsid)
