"""Backgrounds: every kind's shape/dtype/determinism, the folder reader's errors, config validation."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from synth.errors import UserError
from synth.scene.background import BACKGROUND_KINDS, BackgroundConfig, BackgroundFolder, sample_background


def _write(path: Path, rgb: tuple[int, int, int], hw=(40, 60)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.empty((*hw, 3), np.uint8)
    img[:] = rgb
    assert cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))


@pytest.fixture
def folder(tmp_path) -> Path:
    _write(tmp_path / "a.png", (200, 30, 10))
    _write(tmp_path / "sub" / "deeper" / "b.JPG", (200, 30, 10))
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


@pytest.mark.parametrize("kind", sorted(BACKGROUND_KINDS))
@pytest.mark.parametrize("hw", [(64, 64), (37, 90)])
def test_each_kind_shape_dtype_and_determinism(kind, hw):
    f = BACKGROUND_KINDS[kind]
    a = f(np.random.default_rng(7), *hw)
    b = f(np.random.default_rng(7), *hw)
    c = f(np.random.default_rng(8), *hw)
    assert a.shape == (*hw, 3) and a.dtype == np.uint8 and a.flags.c_contiguous
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()
    assert a.std() > 1.0  # not a blank image


def test_sample_background_same_rng_state_same_bytes_and_kinds_vary():
    cfg = BackgroundConfig()
    outs = [sample_background(np.random.default_rng(s), 48, 64, cfg) for s in range(12)]
    again = [sample_background(np.random.default_rng(s), 48, 64, cfg) for s in range(12)]
    assert all(o.shape == (48, 64, 3) and o.dtype == np.uint8 for o in outs)
    assert [o.tobytes() for o in outs] == [o.tobytes() for o in again]
    assert len({o.tobytes() for o in outs}) == 12
    rng = np.random.default_rng(0)  # consecutive draws from one generator differ too
    assert sample_background(rng, 32, 32, cfg).tobytes() != sample_background(rng, 32, 32, cfg).tobytes()


def test_folder_lists_recursively_sorted_and_crops_from_the_images(folder):
    idx = BackgroundFolder(folder)
    assert [p.name for p in idx.paths] == ["a.png", "b.JPG"]
    cfg = BackgroundConfig(w_noise=0, w_gradient=0, w_shapes=0, w_clutter=0, folder=folder)
    for seed in range(6):
        out = sample_background(np.random.default_rng(seed), 30, 50, cfg, folder_index=idx)
        assert out.shape == (30, 50, 3) and out.dtype == np.uint8
        np.testing.assert_allclose(out.reshape(-1, 3).mean(0), (200, 30, 10), atol=4)  # RGB, not BGR
    # Without an explicit index the folder from the config is listed (once) and used.
    out = sample_background(np.random.default_rng(0), 30, 50, cfg)
    np.testing.assert_allclose(out.reshape(-1, 3).mean(0), (200, 30, 10), atol=4)


def test_folder_sample_is_deterministic(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (80, 120, 3), dtype=np.uint8)
    cv2.imwrite(str(tmp_path / "n.png"), noise)
    idx = BackgroundFolder(tmp_path)
    a = idx.sample(np.random.default_rng(3), 32, 32)
    b = idx.sample(np.random.default_rng(3), 32, 32)
    assert a.tobytes() == b.tobytes()


def test_empty_or_missing_folder_error_names_the_path(tmp_path):
    (tmp_path / "readme.txt").write_text("no images here")
    with pytest.raises(UserError, match=str(tmp_path)):
        BackgroundFolder(tmp_path)
    missing = tmp_path / "nope"
    with pytest.raises(UserError, match=str(missing)):
        BackgroundFolder(missing)


def test_unreadable_image_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8 this is not really a jpeg")
    idx = BackgroundFolder(tmp_path)
    cfg = BackgroundConfig(w_noise=0, w_gradient=0, w_shapes=0, w_clutter=0, folder=tmp_path)
    with pytest.raises(UserError, match="broken.jpg"):
        sample_background(np.random.default_rng(0), 16, 16, cfg, folder_index=idx)


@pytest.mark.parametrize("kwargs, field", [
    (dict(w_noise=-1.0), "w_noise"),
    (dict(p_blur=1.5), "p_blur"),
    (dict(blur_sigma_px=(2.0, 1.0)), "blur_sigma_px"),
    (dict(folder_crop_frac=(0.0, 1.0)), "folder_crop_frac"),
    (dict(w_folder="lots"), "w_folder"),
    (dict(folder=3), "folder"),
])
def test_config_errors_name_field_and_value(kwargs, field):
    with pytest.raises(UserError, match=field) as e:
        BackgroundConfig(**kwargs)
    assert "\n" not in str(e.value)
    assert repr(next(iter(kwargs.values()))) in str(e.value)


def test_config_rejects_no_usable_kind_and_normalises_yaml_values(tmp_path):
    with pytest.raises(UserError, match="w_noise"):
        BackgroundConfig(w_noise=0, w_gradient=0, w_shapes=0, w_clutter=0)
    with pytest.raises(UserError, match="w_folder"):
        BackgroundConfig(w_noise=0, w_gradient=0, w_shapes=0, w_clutter=0, w_folder=0, folder=tmp_path)
    cfg = BackgroundConfig(w_noise=0, w_gradient=0, w_shapes=0, w_clutter=0, folder=str(tmp_path),
                           blur_sigma_px=[0.5, 1])  # YAML gives lists and strings
    assert cfg.folder == tmp_path and cfg.blur_sigma_px == (0.5, 1.0)
    hash(cfg)  # frozen and hashable


def test_speed_sanity_printed():
    cv2.setNumThreads(1)
    cfg = BackgroundConfig()
    for s in (128, 256):
        rng = np.random.default_rng(0)
        sample_background(rng, s, s, cfg)
        t = time.perf_counter()
        for _ in range(40):
            sample_background(rng, s, s, cfg)
        print(f"sample_background {s}px: {(time.perf_counter() - t) / 40 * 1e3:.2f} ms")
