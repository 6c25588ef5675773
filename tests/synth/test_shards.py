"""Shard writer, checker, merger and inspector, on a small deterministic toy sample function.

Run as a script (``python test_shards.py child OUT ...``) this file is the child process of
the SIGKILL test.
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from synth.errors import UserError
from synth.schema import Field, ImageCodec, read_image
from synth.seeding import sample_rng
from synth.shards import (ShardCheckError, check_shards, inspect_dataset, merge_shards, parse_shard_spec,
                          write_shards)

H, W = 12, 16
FIELDS = (
    Field("image", (H, W, 3), "uint8", "image", "RGB render"),
    Field("mask", (H, W), "uint8", "mask", "face mask, 1 = face"),
    Field("euler_deg", (3,), "float32", "array", "yaw, pitch, roll; degrees"),
    Field("visible", (68,), "bool", "array", "landmark visible"),
    Field("lmk2d_px", (68, 2), "float32", "array", "pixels"),
    Field("depth", (H, W), "float16", "mask", "depth, mm"),
    Field("occluder_kinds", (3,), "bool", "array", "occluder kinds present (root attribute occluder_kinds)"),
)
ATTRS = dict(config="size: 12x16\n", model_name="toy", model_checksum="0" * 64, seed=7, facesynth_version="test",
             occluder_kinds='["hand", "glasses", "hair"]', preset="toy")


class ToySample:
    """Deterministic sample i from sample_rng(seed, i); optional delay and a stall at one index."""

    def __init__(self, seed: int = 7, delay_s: float = 0.0, stall_at: int | None = None):
        self.seed, self.delay_s, self.stall_at = seed, delay_s, stall_at

    def __call__(self, i: int) -> dict[str, np.ndarray]:
        if self.delay_s:
            time.sleep(self.delay_s)
        if i == self.stall_at:
            time.sleep(3600)
        rng = sample_rng(self.seed, i)
        yy, xx = np.mgrid[0:H, 0:W]
        base = rng.integers(0, 150, 3)
        image = (base + 3 * yy[..., None] + 2 * xx[..., None]).astype(np.uint8)  # smooth, jpeg-friendly
        return {
            "image": image,
            "mask": (rng.random((H, W)) < 0.5).astype(np.uint8),
            "euler_deg": rng.uniform(-100, 100, 3),  # float64 -> float32 (same_kind cast)
            "visible": rng.random(68) < 0.7,
            "lmk2d_px": rng.uniform(0, W, (68, 2)).astype(np.float32),
            "depth": rng.uniform(500, 900, (H, W)).astype(np.float16),
            "occluder_kinds": rng.random(3) < 0.2,
        }


def write(out: Path, n: int = 10, size: int = 4, **kw) -> list[Path]:
    kw.setdefault("root_attrs", ATTRS)
    kw.setdefault("progress", False)
    make = kw.pop("make", ToySample())
    return write_shards(out, n, make, FIELDS, shard_size=size, **kw)


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("shard-*.h5"))}


@pytest.fixture(scope="module")
def ref(tmp_path_factory) -> Path:
    """Uninterrupted single-worker run: 10 samples, shards of 4 (the last holds 2)."""
    out = tmp_path_factory.mktemp("ref")
    write(out)
    return out


def test_layout_and_attributes(ref):
    names = sorted(p.name for p in ref.iterdir())
    assert names == [f"shard-{j:05d}-of-00003.h5" for j in range(3)]
    with h5py.File(ref / "shard-00002-of-00003.h5") as f:
        assert f.attrs["complete"] and f.attrs["shard_index"] == 2
        assert f.attrs["num_samples"] == 10 and f.attrs["first_index"] == 8 and f.attrs["num_shards"] == 3
        assert f.attrs["config"] == ATTRS["config"] and f.attrs["seed"] == 7
        assert f["index"][:].tolist() == [8, 9] and f["seed"][:].tolist() == [7, 7]
        assert f["image"].chunks == (1, H, W, 3) and f["image"].compression == "lzf"
        assert f["euler_deg"].dtype == np.float32
        expected = ToySample()(9)
        assert np.array_equal(f["image"][1], expected["image"])
        assert np.allclose(f["euler_deg"][1], expected["euler_deg"].astype(np.float32))


def test_no_timestamps_in_files(ref):
    with h5py.File(ref / "shard-00000-of-00003.h5") as f:
        for key, ds in f.items():
            assert not ds.id.get_create_plist().get_obj_track_times(), key


@pytest.mark.parametrize("chunk_align", [1, 3])
def test_workers_are_byte_identical(ref, tmp_path, chunk_align):
    write(tmp_path, workers=2, chunk_align=chunk_align)
    assert digests(tmp_path) == digests(ref)


def test_worker_chunks_are_cut_at_multiples_of_the_alignment():
    from synth.shards import _chunks

    assert list(_chunks(range(5, 15), 4)) == [[5, 6, 7, 8], [9, 10, 11, 12], [13, 14]]
    assert list(_chunks(range(5, 15), 4, align=4)) == [[5, 6, 7], [8, 9, 10, 11], [12, 13, 14]]
    assert list(_chunks([1, 2, 9, 10], 8, align=8)) == [[1, 2], [9, 10]]  # a gap (job split) too


def test_packed_chunks_give_back_every_row_in_order_whatever_the_cuts():
    from synth.shards import _pack, _Rows

    samples = [(i, ToySample()(i)) for i in range(10)]
    samples[3][1]["image"] = samples[3][1]["image"][:5]  # rows of another shape stay a list
    chunks = [_pack(samples[a:b]) for a, b in ((0, 3), (3, 8), (8, 10))]
    assert isinstance(chunks[0][1]["visible"], np.ndarray) and chunks[0][1]["visible"].shape == (3, 68)
    assert isinstance(chunks[1][1]["image"], list)
    rows, got = _Rows(iter(chunks)), []
    for n in (2, 4, 1, 9, 9):  # cuts inside and across chunks; a take stops where its chunk ends
        indices, block = rows.take(n)
        assert 1 <= len(indices) <= n
        got += [(int(i), {k: v[r] for k, v in block.items()}) for r, i in enumerate(indices)]
    assert [i for i, _ in got] == list(range(10))
    for (i, mine), (_, theirs) in zip(got, samples):
        assert all(np.array_equal(mine[k], theirs[k]) for k in theirs), i


def test_job_array_split_is_byte_identical(ref, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert [p.name for p in write(a, shard=(0, 2))] == ["shard-00000-of-00003.h5", "shard-00002-of-00003.h5"]
    write(b, shard=(1, 2))
    assert sorted(digests(a)) == ["shard-00000-of-00003.h5", "shard-00002-of-00003.h5"]
    assert {**digests(a), **digests(b)} == digests(ref)


def _child_pids(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _assert_finished_shards_are_complete(folder: Path) -> None:
    for p in folder.glob("shard-*.h5"):
        with h5py.File(p, "r") as f:
            assert f.attrs["complete"], p.name


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and SIGKILL")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_kill_then_resume_equals_uninterrupted_run(sig, ref, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, __file__, "child", str(out), "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    partial = out / ".shard-00001-of-00003.h5.partial"
    deadline = time.monotonic() + 60
    try:
        # The child stalls on sample 6: shard 0 done, shard 1 mid-way (samples 4, 5 written).
        while not ((out / "shard-00000-of-00003.h5").exists() and partial.exists()):
            assert proc.poll() is None, proc.stdout.read().decode()
            assert time.monotonic() < deadline, "child made no progress"
            if out.exists():
                _assert_finished_shards_are_complete(out)
            time.sleep(0.01)
        time.sleep(0.1)
        workers = _child_pids(proc.pid)
    finally:
        proc.send_signal(sig)
        assert proc.wait(timeout=20) != 0
    assert sorted(p.name for p in out.iterdir()) == [partial.name, "shard-00000-of-00003.h5"]
    _assert_finished_shards_are_complete(out)
    t_end = time.monotonic() + 10  # workers die with the parent (PR_SET_PDEATHSIG / pool.terminate)
    while any(_alive(p) for p in workers) and time.monotonic() < t_end:
        time.sleep(0.02)
    assert len(workers) == 2 and not any(_alive(p) for p in workers)

    shard0 = (out / "shard-00000-of-00003.h5").stat()
    write(out, resume=True)
    assert sorted(p.name for p in out.iterdir()) == sorted(digests(ref))
    assert digests(out) == digests(ref)
    after = (out / "shard-00000-of-00003.h5").stat()
    assert (after.st_ino, after.st_mtime_ns) == (shard0.st_ino, shard0.st_mtime_ns), "complete shard rewritten"


def test_truncated_shard_is_reported_by_name_and_resume_repairs_it(ref, tmp_path):
    shutil.copytree(ref, tmp_path, dirs_exist_ok=True)
    victim = tmp_path / "shard-00001-of-00003.h5"
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    with pytest.raises(UserError, match=r"^shard-00001-of-00003\.h5: cannot open") as info:
        check_shards(tmp_path)
    assert "\n" not in str(info.value)
    assert "shard-00001" in inspect_dataset(tmp_path)  # listed as unreadable, no crash
    with pytest.raises(UserError, match="shard-00001-of-00003.h5"):
        merge_shards(tmp_path, tmp_path / "all.h5")
    write(tmp_path, resume=True)
    assert digests(tmp_path) == digests(ref)


@pytest.mark.parametrize("codec", ["raw-lzf", "raw-gzip"])  # fletcher32 / zlib's adler32
def test_corrupt_chunk_is_found_by_deep_check(codec, tmp_path):
    write(tmp_path, codec=ImageCodec(codec))
    victim = tmp_path / "shard-00000-of-00003.h5"
    with h5py.File(victim) as f:
        info = f["image"].id.get_chunk_info(1)  # a middle chunk: the quick check does not read it
    data = bytearray(victim.read_bytes())
    for k in range(info.byte_offset, info.byte_offset + info.size):
        data[k] ^= 0xFF
    victim.write_bytes(bytes(data))
    assert check_shards(tmp_path).ok
    with pytest.raises(ShardCheckError, match=r"^shard-00000-of-00003\.h5: cannot read dataset 'image'") as e:
        check_shards(tmp_path, deep=True)
    assert [s.problem is None for s in e.value.report.shards] == [False, True, True]


def test_missing_and_partial_shards_are_named(ref, tmp_path):
    shutil.copytree(ref, tmp_path, dirs_exist_ok=True)
    (tmp_path / "shard-00002-of-00003.h5").rename(tmp_path / ".shard-00002-of-00003.h5.partial")
    with pytest.raises(UserError, match=r"shard-00002-of-00003\.h5 is missing \(an interrupted .partial"):
        merge_shards(tmp_path, tmp_path / "all.h5")
    (tmp_path / ".shard-00002-of-00003.h5.partial").unlink()
    with pytest.raises(UserError, match=r"shard-00002-of-00003\.h5 is missing"):
        check_shards(tmp_path)


def test_merge_gives_vds_equal_to_concatenation(ref, tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(ref, folder)
    merged = merge_shards(folder, folder / "all.h5")
    shards = sorted(folder.glob("shard-*.h5"))
    moved = tmp_path / "moved"
    shutil.move(folder, moved)  # relative source paths: the folder can move
    with h5py.File(moved / "all.h5") as f:
        assert f.attrs["num_samples"] == 10 and f.attrs["shard_index"] == -1 and f.attrs["complete"]
        assert f["image"].is_virtual and f["image"].attrs["codec"] == "raw-lzf"
        for key in ("image", "mask", "depth", "euler_deg", "visible", "lmk2d_px", "occluder_kinds", "index", "seed"):
            parts = []
            for p in shards:
                with h5py.File(moved / p.name) as s:
                    parts.append(s[key][:])
            assert np.array_equal(f[key][:], np.concatenate(parts)), key
        assert f["index"][:].tolist() == list(range(10))
    assert "samples: 10 present of 10" in inspect_dataset(moved / "all.h5")
    assert merged.name == "all.h5"
    again = merge_shards(moved, tmp_path / "again.h5")  # merged files are deterministic too
    assert merge_shards(moved, moved / "all2.h5").read_bytes() == (moved / "all.h5").read_bytes()
    with h5py.File(again) as f:
        assert not any(ds.id.get_create_plist().get_obj_track_times() for ds in f.values())


def test_merge_outside_the_folder_and_encoded_images(tmp_path):
    write(tmp_path / "shards", codec=ImageCodec("png"))
    merged = merge_shards(tmp_path / "shards", tmp_path / "merged" / "all.h5")
    with h5py.File(merged) as f:
        assert not f["image"].is_virtual and f["euler_deg"].is_virtual  # vlen bytes are copied
        for i in (0, 5, 9):
            assert np.array_equal(read_image(f["image"], i), ToySample()(i)["image"])


@pytest.mark.parametrize("codec", ["raw-lzf", "raw-gzip", "png", "jpeg:90"])
def test_codec_round_trip(codec, tmp_path):
    write(tmp_path, n=5, size=5, codec=ImageCodec.parse(codec))
    with h5py.File(tmp_path / "shard-00000-of-00001.h5") as f:
        assert f["image"].attrs["codec"] == codec
        for i in range(5):
            want = ToySample()(i)
            got = read_image(f["image"], i)
            assert got.shape == (H, W, 3) and got.dtype == np.uint8
            if codec.startswith("jpeg"):
                assert np.abs(got.astype(int) - want["image"]).mean() < 3
            else:
                assert np.array_equal(got, want["image"])
            assert np.array_equal(f["mask"][i], want["mask"])  # masks are always lossless
            assert np.array_equal(f["depth"][i], want["depth"])
    check_shards(tmp_path, deep=True)


def test_existing_folder_of_another_dataset_is_refused(ref, tmp_path):
    shutil.copytree(ref, tmp_path, dirs_exist_ok=True)
    other = {**ATTRS, "config": "size: 99\n"}
    with pytest.raises(UserError, match="--resume"):
        write(tmp_path, root_attrs=other)
    with pytest.raises(UserError, match="different settings"):
        write(tmp_path, root_attrs=other, resume=True)
    with pytest.raises(UserError, match="of 3 shards"):
        write(tmp_path, n=20)
    assert digests(tmp_path) == digests(ref)  # nothing touched


@pytest.mark.parametrize("kwargs, match", [
    (dict(shard=(3, 2)), r"--shard 3/2"),
    (dict(shard=(0, 0)), r"--shard"),
    (dict(workers=0), "workers"),
    (dict(n=0), "number of samples"),
    (dict(size=0), "shard size"),
])
def test_bad_arguments(kwargs, match, tmp_path):
    with pytest.raises(UserError, match=match):
        write(tmp_path / "out", **kwargs)


def test_out_dir_is_a_file(tmp_path):
    (tmp_path / "out").write_text("x")
    with pytest.raises(UserError, match="not a folder"):
        write(tmp_path / "out")


def test_parse_shard_spec():
    assert parse_shard_spec("1/4") == (1, 4)
    for bad in ("3/2", "1", "a/b", "-1/2"):
        with pytest.raises(UserError, match="--shard"):
            parse_shard_spec(bad)


def test_bad_sample_names_field_and_index(tmp_path):
    class Bad(ToySample):
        def __call__(self, i):
            s = super().__call__(i)
            if i == 3:
                s["lmk2d_px"] = s["lmk2d_px"][:5]
            return s

    with pytest.raises(ValueError, match=r"sample 3, field 'lmk2d_px': expected shape \(68, 2\)"):
        write(tmp_path, make=Bad())
    assert not list(tmp_path.glob("shard-00000*"))  # only a .partial is left
    assert list(tmp_path.glob(".shard-00000-of-00003.h5.partial"))


def test_a_sample_is_cast_to_the_field_dtypes_or_refused(tmp_path):
    from synth.schema import DatasetSchema

    schema = DatasetSchema(FIELDS)
    sample = ToySample()(0)
    cast = schema.encode_sample({**sample, "euler_deg": [10.0, 20.0, 30.0]}, 0)  # a float64 list
    assert cast["euler_deg"].dtype == np.float32 and cast["euler_deg"].tolist() == [10.0, 20.0, 30.0]
    euler = np.array([1.0, 2.0, 3.0], np.float32)
    assert schema.encode_sample({**sample, "euler_deg": euler}, 0)["euler_deg"] is euler  # already float32: as given
    with pytest.raises(ValueError, match=r"sample 5, field 'visible': cannot store float64 as bool"):
        schema.encode_sample({**sample, "visible": np.ones(68)}, 5)


def test_progress_bar(tmp_path, capsys):
    write(tmp_path / "a", progress=True)
    assert "img/s" in capsys.readouterr().err
    write(tmp_path / "b", progress=False)
    assert capsys.readouterr().err == ""


def test_inspect_shard_folder_and_single_shard(ref):
    text = inspect_dataset(ref)
    assert "samples: 10 present of 10" in text and "shard-00002-of-00003.h5" in text
    assert "head pose" in text and "yaw" in text and "right_eye" in text
    assert "occluded samples" in text and "glasses" in text
    one = inspect_dataset(ref / "shard-00001-of-00003.h5")
    assert "samples: 4 present of 10" in one
    with pytest.raises(UserError, match="does not exist"):
        inspect_dataset(ref / "nope.h5")


if __name__ == "__main__" and sys.argv[1:2] == ["child"]:
    # Child of the SIGKILL test: 10 samples in shards of 4, stalls forever on sample 6.
    write_shards(Path(sys.argv[2]), 10, ToySample(delay_s=0.01, stall_at=6), FIELDS, shard_size=4,
                 workers=int(sys.argv[3]), root_attrs=ATTRS, progress=False)
