"""Schema: field validation, codec parsing, image encode/decode round trips, fingerprint."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synth.errors import UserError
from synth.schema import DatasetSchema, Field, ImageCodec, decode_image, encode_image, resolve_dataset_attrs

ATTRS = dict(config="a: 1", model_name="toy", model_checksum="abc", seed=7, facesynth_version="0.1.0")


@pytest.mark.parametrize("kwargs, match", [
    (dict(name="Image", shape=(2,), dtype="uint8"), "name"),
    (dict(name="x", shape=(0,), dtype="uint8"), "positive"),
    (dict(name="x", shape=(2,), dtype="object"), "dtype"),
    (dict(name="x", shape=(2,), dtype="uint8", kind="video"), "kind"),
    (dict(name="x", shape=(8, 8, 4), dtype="uint8", kind="image"), "image"),
    (dict(name="x", shape=(8, 8, 3), dtype="float32", kind="image"), "image"),
    (dict(name="x", shape=(8, 8, 1), dtype="uint8", kind="mask"), "mask"),
    (dict(name="x", shape=(8,), dtype="float16", kind="mask"), "mask"),
])
def test_field_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Field(**kwargs)


def test_field_normalises_dtype_and_shape():
    f = Field("lmk2d_px", [68, 2], np.float32)
    assert f.shape == (68, 2) and f.dtype == "float32"


def test_reserved_and_duplicate_names():
    with pytest.raises(ValueError, match="reserved"):
        DatasetSchema((Field("index", (), "int64"),))
    with pytest.raises(ValueError, match="duplicates"):
        DatasetSchema((Field("a", (), "int64"), Field("a", (), "int64")))


def test_codec_parse():
    assert ImageCodec.parse("jpeg:80") == ImageCodec("jpeg", 80)
    assert str(ImageCodec.parse("jpeg")) == "jpeg:95"
    assert ImageCodec.parse("raw-gzip").encoded is False and ImageCodec("png").encoded
    for bad in ("webp", "png:3", "jpeg:x", "jpeg:0"):
        with pytest.raises(UserError):
            ImageCodec.parse(bad)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 20), w=st.integers(1, 20), c=st.sampled_from([None, 1, 3]), seed=st.integers(0, 2**32 - 1))
def test_png_round_trip_exact(h, w, c, seed):
    shape = (h, w) if c is None else (h, w, c)
    img = np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
    buf = encode_image(img, ImageCodec("png"))
    assert buf.dtype == np.uint8 and buf.ndim == 1
    assert np.array_equal(decode_image(buf, shape), img)


def test_rgb_order_survives_encoding():
    img = np.zeros((16, 16, 3), np.uint8)
    img[..., 0] = 250  # pure red in RGB
    for codec in (ImageCodec("png"), ImageCodec("jpeg", 95)):
        out = decode_image(encode_image(img, codec).tobytes(), img.shape)
        assert out[..., 0].mean() > 240 and out[..., 2].mean() < 10


def test_decode_corrupt_bytes_is_user_error():
    with pytest.raises(UserError, match="corrupt"):
        decode_image(np.arange(10, dtype=np.uint8), (4, 4, 3))


def test_fingerprint_covers_settings_but_not_version():
    schema = DatasetSchema((Field("a", (3,), "float32"),))
    base = schema.fingerprint(ATTRS, 10, 4)
    assert base == schema.fingerprint({**ATTRS, "facesynth_version": "9"}, 10, 4)
    assert base != schema.fingerprint({**ATTRS, "seed": 8}, 10, 4)
    assert base != schema.fingerprint({**ATTRS, "config": "a: 2"}, 10, 4)
    assert base != schema.fingerprint(ATTRS, 11, 4)
    assert base != DatasetSchema(schema.fields, ImageCodec("png")).fingerprint(ATTRS, 10, 4)


def test_resolve_dataset_attrs():
    attrs = resolve_dataset_attrs({k: v for k, v in ATTRS.items() if k != "facesynth_version"})
    assert list(attrs)[0] == "facesynth_version" and attrs["seed"] == 7
    with pytest.raises(ValueError, match="missing"):
        resolve_dataset_attrs({"config": "x"})
    extra = resolve_dataset_attrs({**ATTRS, "zeta": np.int32(3), "preset": "extreme"})
    assert list(extra)[-2:] == ["preset", "zeta"] and extra["zeta"] == 3
    for bad in ({"num_samples": 3}, {"Bad": 1}, {"lst": [1]}):
        with pytest.raises(ValueError, match="root_attrs"):
            resolve_dataset_attrs({**ATTRS, **bad})
    schema = DatasetSchema((Field("a", (3,), "float32"),))
    assert schema.fingerprint(extra, 10, 4) != schema.fingerprint({**extra, "preset": "frontal"}, 10, 4)
