"""SyntheticDataset: shard folder / single shard / merged VDS, both conventions, codecs, DataLoader workers."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from synth.data.record import FaceSample
from synth.data.synthetic import SyntheticDataset
from synth.errors import UserError
from synth.geometry import euler_to_matrix
from synth.schema import Field, ImageCodec
from synth.shards import merge_shards, write_shards

SIZE = 16
K = 68


def fake_fields(size: int = SIZE) -> list[Field]:
    return [
        Field("image", (size, size, 3), "uint8", "image"),
        Field("lmk2d", (K, 2), "float32"),
        Field("lmk2d_contour", (K, 2), "float32"),
        Field("visible", (K,), "bool"),
        Field("visible_contour", (K,), "bool"),
        Field("rotation", (3, 3), "float32"),
        Field("euler_deg", (3,), "float32"),
        Field("bbox", (4,), "float32"),
    ]


class FakeMaker:
    """Picklable ``index -> fields``: every value is a known function of the index."""

    def __init__(self, size: int = SIZE):
        self.size = size

    def __call__(self, i: int) -> dict[str, np.ndarray]:
        yaw, pitch, roll = (i * 7) % 180 - 90.0, (i % 11) - 5.0, (i % 13) - 6.0
        img = np.zeros((self.size, self.size, 3), np.uint8)
        img[..., 0] = i % 256
        img[..., 1] = (i * 3) % 256
        lmk = np.stack([np.arange(K), np.full(K, i)], axis=1).astype(np.float32)
        return {
            "image": img, "lmk2d": lmk, "lmk2d_contour": lmk + 0.5,
            "visible": (np.arange(K) + i) % 2 == 0, "visible_contour": (np.arange(K) + i) % 3 == 0,
            "rotation": euler_to_matrix(yaw, pitch, roll).astype(np.float32),
            "euler_deg": np.array([yaw, pitch, roll], np.float32),
            "bbox": np.array([0, i, K - 1, i], np.float32),
        }


def _write(folder, n=10, shard_size=4, codec=ImageCodec()):
    attrs = {"config": "{}", "model_name": "fake", "model_checksum": "0", "seed": 0}
    write_shards(folder, n, FakeMaker(), fake_fields(), shard_size=shard_size, root_attrs=attrs,
                 codec=codec, progress=False)
    return folder


@pytest.fixture(scope="module")
def shard_dir(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("shards") / "ds")


def _check(s: FaceSample, i: int, convention: str = "3d") -> None:
    ref = FakeMaker()(i)
    assert s.name == str(i) and s.source == "synthetic" and s.convention == convention
    np.testing.assert_array_equal(s.image, ref["image"])
    lmk, vis = (ref["lmk2d"], ref["visible"]) if convention == "3d" else (ref["lmk2d_contour"], ref["visible_contour"])
    np.testing.assert_array_equal(s.landmarks, lmk)
    np.testing.assert_array_equal(s.visible, vis)
    np.testing.assert_array_equal(s.euler_deg, ref["euler_deg"])
    np.testing.assert_allclose(s.rotation, ref["rotation"])
    np.testing.assert_array_equal(s.bbox, ref["bbox"])
    assert s.landmark_valid.all() and s.visible_valid.all() and s.euler_valid.all()
    assert s.rotation_valid and s.bbox_valid


@pytest.mark.parametrize("convention", ["3d", "2d"])
def test_folder_reads_every_sample_in_order(shard_dir, convention):
    ds = SyntheticDataset(shard_dir, convention)
    assert len(ds) == 10 and len(ds.files) == 3
    for i in range(10):
        _check(ds[i], i, convention)
    _check(ds[-1], 9, convention)
    with pytest.raises(IndexError):
        ds[10]


def test_single_shard_and_merged_file(shard_dir, tmp_path):
    one = SyntheticDataset(sorted(shard_dir.glob("shard-*.h5"))[1])
    assert len(one) == 4
    _check(one[0], 4)
    merged = SyntheticDataset(merge_shards(shard_dir, tmp_path / "all.h5"))
    assert len(merged) == 10 and len(merged.files) == 1
    for i in (0, 5, 9):
        _check(merged[i], i)


def test_jpeg_codec(tmp_path):
    ds = SyntheticDataset(_write(tmp_path / "jpg", n=3, codec=ImageCodec("png")))
    _check(ds[2], 2)


def test_lazy_open_and_pickle(shard_dir):
    ds = SyntheticDataset(shard_dir)
    assert ds._handles is None  # paths only until first use
    ds[0]
    assert ds._handles is not None
    clone = pickle.loads(pickle.dumps(ds))
    assert clone._handles is None
    _check(clone[3], 3)
    ds.close()
    _check(ds[3], 3)


def test_reopens_in_a_new_process(shard_dir):
    ds = SyntheticDataset(shard_dir)
    ds[0]
    first = ds._handles
    ds._pid = -1  # as if we were a forked child
    _check(ds[1], 1)
    assert ds._handles is not first and ds._pid == os.getpid()


def test_dataloader_two_workers_after_parent_read(shard_dir):
    ds = SyntheticDataset(shard_dir, transform=lambda s: {"name": int(s.name), "lmk": s.landmarks})
    ds[0]  # the parent opened its handles before the fork
    loader = torch.utils.data.DataLoader(ds, batch_size=3, num_workers=2, shuffle=False)
    names = torch.cat([b["name"] for b in loader]).tolist()
    assert names == list(range(10))


def test_read_field_and_yaw(shard_dir):
    ds = SyntheticDataset(shard_dir)
    yaw = ds.yaw_deg()
    assert yaw.shape == (10,)
    assert yaw[3] == FakeMaker()(3)["euler_deg"][0]
    assert ds._handles is None


def test_errors(tmp_path, shard_dir):
    with pytest.raises(UserError, match="no such file"):
        SyntheticDataset(tmp_path / "nope")
    with pytest.raises(ValueError, match="convention"):
        SyntheticDataset(shard_dir, "sparse")
    broken = tmp_path / "broken"
    broken.mkdir()
    for p in sorted(shard_dir.glob("shard-*.h5"))[:2]:
        (broken / p.name).write_bytes(p.read_bytes())
    with pytest.raises(UserError, match="missing"):
        SyntheticDataset(broken)


def test_with_the_real_generator(tmp_path):
    pytest.importorskip("synth.default_model")
    from synth.gen_config import resolve_config
    from synth.generate import generate

    cfg = resolve_config(overrides=["crop.image_size=64", "output.shard_size=2"])
    generate(cfg, tmp_path / "gen", 3, workers=1, progress=False)
    ds = SyntheticDataset(tmp_path / "gen")
    s = ds[2]
    assert s.image.shape == (64, 64, 3) and s.name == "2"
    assert np.isfinite(s.landmarks).all() and s.rotation_valid


def test_label_cache_is_not_aliased(shard_dir):
    """Labels are read whole once per process; a sample gets copies, so editing it leaves the cache alone."""
    ds = SyntheticDataset(shard_dir)
    a = ds[5]
    a.landmarks[:] = -1
    a.visible[:] = ~a.visible
    a.euler_deg[:] = 0
    a.bbox[:] = 0
    a.rotation[:] = 0
    _check(ds[5], 5)


@pytest.mark.parametrize("codec", ["raw-lzf", "raw-gzip", "png", "jpeg"])
def test_batched_read_equals_one_by_one(tmp_path, codec):
    """``read_many`` / ``__getitems__`` (one HDF5 read per file and batch) give what ``read`` /
    ``__getitem__`` give, in any order, with repeats, across files."""
    ds = SyntheticDataset(_write(tmp_path / codec, codec=ImageCodec(codec)), transform=lambda s: s.name)
    indices = [7, 2, 2, 9, 0, -1, 4, 5, 3]
    many = ds.read_many(indices)
    assert [s.name for s in many] == [str(i % 10) for i in indices]
    for i, s in zip(indices, many):
        one = ds.read(i)
        for f in ("image", "landmarks", "visible", "euler_deg", "rotation", "bbox"):
            np.testing.assert_array_equal(getattr(s, f), getattr(one, f), err_msg=f)
        if codec != "jpeg":
            _check(s, i % 10)
    assert ds.__getitems__(indices) == [ds[i] for i in indices]
    assert ds.read_many([]) == []


def test_collate_dicts_equals_default_collate(shard_dir):
    from torch.utils.data import DataLoader, default_collate

    from synth.data.record import collate_dicts

    ds = SyntheticDataset(shard_dir, transform=FaceSample.to_dict)
    for workers in (0, 1):  # in a worker the batch is built in shared memory
        fast = list(DataLoader(ds, batch_size=4, num_workers=workers, collate_fn=collate_dicts))
        ref = list(DataLoader(ds, batch_size=4, num_workers=workers, collate_fn=default_collate))
        assert len(fast) == len(ref) == 3
        for a, b in zip(fast, ref):
            assert list(a) == list(b)
            for k in a:
                if isinstance(b[k], torch.Tensor):
                    assert a[k].dtype == b[k].dtype and a[k].shape == b[k].shape, k
                    assert torch.equal(a[k], b[k]), k
                    assert a[k].is_shared() == (workers > 0), k
                    assert torch.equal(a[k].pin_memory() if torch.cuda.is_available() else a[k].clone(), b[k]), k
                else:
                    assert a[k] == b[k], k
            if workers:  # one shared block per batch, received once by the main process
                assert len({t.untyped_storage().data_ptr() for t in a.values() if isinstance(t, torch.Tensor)}) == 1
