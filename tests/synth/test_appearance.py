"""synth.scene.appearance on a tiny labelled icosphere head: ranges, determinism, region order."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from synth.errors import UserError
from synth.morphable import MorphableModel, region_id
from synth.scene.appearance import (
    HAIR_COLOR_NAMES,
    AppearanceConfig,
    fitzpatrick_from_ita,
    sample_albedo,
    skin_lab_from_tone,
)
from synth.scene.color import luminance

R_MM = 90.0


def _icosphere(level: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit icosphere: (V, 3) vertices, (F, 3) counter-clockwise (outward) triangles."""
    t = (1.0 + 5**0.5) / 2.0
    v = np.array([[-1, t, 0], [1, t, 0], [-1, -t, 0], [1, -t, 0], [0, -1, t], [0, 1, t],
                  [0, -1, -t], [0, 1, -t], [t, 0, -1], [t, 0, 1], [-t, 0, -1], [-t, 0, 1]], float)
    f = np.array([[0, 11, 5], [0, 5, 1], [0, 1, 7], [0, 7, 10], [0, 10, 11], [1, 5, 9], [5, 11, 4],
                  [11, 10, 2], [10, 7, 6], [7, 1, 8], [3, 9, 4], [3, 4, 2], [3, 2, 6], [3, 6, 8],
                  [3, 8, 9], [4, 9, 5], [2, 4, 11], [6, 2, 10], [8, 6, 7], [9, 8, 1]])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    for _ in range(level):
        edges = np.sort(np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]]), axis=1)
        uniq, inv = np.unique(edges, axis=0, return_inverse=True)
        mid = v[uniq].mean(1)
        mid /= np.linalg.norm(mid, axis=1, keepdims=True)
        m = len(v) + inv.reshape(3, -1).T  # (F, 3): midpoints of edges 01, 12, 20
        v = np.concatenate([v, mid])
        a, b, c = f.T
        f = np.concatenate([np.stack([a, m[:, 0], m[:, 2]], 1), np.stack([b, m[:, 1], m[:, 0]], 1),
                            np.stack([c, m[:, 2], m[:, 1]], 1), m])
    return v, f


def _landmarks_xy() -> np.ndarray:
    """(68, 2) a rough frontal iBUG layout in mm (x = subject's left, y up)."""
    th = np.linspace(-np.pi / 2, np.pi / 2, 17)
    jaw = np.stack([62 * np.sin(th), -5 - 65 * np.cos(th)], 1)
    brow_r = np.stack([np.linspace(-55, -12, 5), [38, 41, 42, 41, 40]], 1)
    brow_l = brow_r[::-1] * [-1, 1]
    nose = [[0, 25], [0, 15], [0, 5], [0, -5], [-14, -15], [-7, -16], [0, -17], [7, -16], [14, -15]]
    eye_r = [[-46, 20], [-37, 25], [-27, 25], [-18, 20], [-27, 16], [-37, 16]]
    eye_l = [[18, 20], [27, 25], [37, 25], [46, 20], [37, 16], [27, 16]]
    mouth = [[-25, -35], [-16, -30], [-7, -28], [0, -29], [7, -28], [16, -30], [25, -35], [16, -42],
             [7, -45], [0, -46], [-7, -45], [-16, -42], [-20, -35], [-7, -33], [0, -33], [7, -33],
             [20, -35], [7, -38], [0, -38], [-7, -38]]
    return np.concatenate([jaw, brow_r, brow_l, nose, eye_r, eye_l, mouth]).astype(float)


def make_tiny_head(level: int = 5, with_albedo: bool = False) -> MorphableModel:
    """An icosphere 'head' (radius 90 mm) with regions painted by position."""
    v, f = _icosphere(level)
    v = v * R_MM
    x, y, z = v.T
    region = np.full(len(v), region_id("skin"), np.uint8)
    front = z > 0

    def paint(name: str, mask: np.ndarray) -> None:
        region[mask] = region_id(name)

    paint("scalp", (y > 50) | ((z < -20) & (y > -20)))
    paint("neck", y < -75)
    paint("ears", (np.abs(x) > 80) & (np.abs(y) < 25))
    paint("brows", front & (np.abs(y - 40) < 5) & (np.abs(x) > 12) & (np.abs(x) < 55))
    for cx in (-32.0, 32.0):
        d = np.hypot(x - cx, y - 20)
        paint("eyelids", front & (d < 19))
        paint("sclera", front & (d < 14))
        paint("iris", front & (d < 7))
    ell = lambda rx, ry: front & (((x / rx) ** 2 + ((y + 37) / ry) ** 2) < 1)  # noqa: E731
    paint("lips", ell(27, 11))
    paint("mouth_interior", ell(18, 3.5))
    paint("teeth", ell(12, 2))
    paint("nostrils", front & ((np.hypot(x - 7, y + 15) < 4) | (np.hypot(x + 7, y + 15) < 4)))

    lmk_xy = _landmarks_xy()
    lmk_3d = np.concatenate([lmk_xy, np.sqrt(R_MM**2 - (lmk_xy**2).sum(1, keepdims=True))], 1)
    lmk = np.argmin(((v[None] - lmk_3d[:, None]) ** 2).sum(-1), axis=1)
    extra = {}
    if with_albedo:
        g = np.random.default_rng(1)
        extra = dict(albedo_mean=np.full((len(v), 3), [0.5, 0.35, 0.3]), albedo_basis=0.03 * g.standard_normal((4, len(v), 3)))
    return MorphableModel(
        mean_shape=v, triangles=f, id_basis=np.zeros((0, len(v), 3)), expr_basis=np.zeros((0, len(v), 3)),
        expr_range=np.zeros((0, 2)), landmarks68=lmk, contour_right=lmk[0:9], contour_left=lmk[8:17],
        vertex_region=region, meta={"name": "tiny_head"}, **extra,
    )


@pytest.fixture(scope="module")
def head() -> MorphableModel:
    return make_tiny_head()


def _region_mean(albedo: np.ndarray, model: MorphableModel, name: str) -> np.ndarray:
    return albedo[model.region_mask(name)].mean(0)


def test_shape_range_dtype(head):
    rng = np.random.default_rng(0)
    for _ in range(20):
        a, params = sample_albedo(rng, head)
        assert a.shape == (head.num_vertices, 3) and a.dtype == np.float32
        assert np.isfinite(a).all() and a.min() >= 0.0 and a.max() <= 1.0
        assert all(isinstance(v, (float, np.ndarray)) for v in params.values())


def test_deterministic_under_rng(head):
    a1, p1 = sample_albedo(np.random.default_rng(42), head)
    a2, p2 = sample_albedo(np.random.default_rng(42), head)
    np.testing.assert_array_equal(a1, a2)
    assert p1.keys() == p2.keys() and all(np.array_equal(p1[k], p2[k]) for k in p1)
    a3, _ = sample_albedo(np.random.default_rng(43), head)
    assert not np.array_equal(a1, a3)


def test_skin_tones_span_light_to_dark(head):
    rng = np.random.default_rng(1)
    skin = head.region_mask("skin")
    lum, fitz = [], set()
    for _ in range(500):
        a, p = sample_albedo(rng, head)
        lum.append(float(np.median(luminance(a[skin]))))
        fitz.add(int(p["fitzpatrick"]))
    lum = np.array(lum)
    assert lum.min() < 0.07 and lum.max() > 0.4, (lum.min(), lum.max())
    assert fitz == {1, 2, 3, 4, 5, 6}


def test_tone_curve_monotone_and_ita_classes():
    lab = skin_lab_from_tone(np.linspace(0, 1, 50))
    assert np.all(np.diff(lab[:, 0]) < 0)  # L* falls as tone darkens
    ita = np.degrees(np.arctan2(lab[:, 0] - 50, lab[:, 2]))
    assert fitzpatrick_from_ita(ita[0]) == 1 and fitzpatrick_from_ita(ita[-1]) == 6


def test_eyes_pupil_darker_than_sclera(head):
    rng = np.random.default_rng(2)
    iris = head.region_mask("iris")
    for _ in range(30):
        a, p = sample_albedo(rng, head)
        y = luminance(a)
        assert y[iris].mean() < _region_mean(a, head, "sclera") @ [0.2126, 0.7152, 0.0722]
        assert y[iris].min() < 0.01  # the pupil
    # The pupil is at each iris' centre (the icosphere's forward-most iris point).
    blue = AppearanceConfig(pupil_fraction_range=(0.3, 0.3), iris_color_probs=(0, 0, 0, 0, 1, 0), tone_correlated=False)
    a, p = sample_albedo(np.random.default_rng(3), head, blue)
    v = head.mean_shape
    for cx in (-32.0, 32.0):
        eye = np.flatnonzero(iris & (np.sign(v[:, 0]) == np.sign(cx)))
        centre = eye[np.argmin(np.hypot(v[eye, 0] - cx, v[eye, 1] - 20))]
        rim = eye[np.argmax(np.hypot(v[eye, 0] - cx, v[eye, 1] - 20))]
        assert luminance(a[centre]) < 0.01 < luminance(a[rim])


def test_region_colours_are_plausible(head):
    rng = np.random.default_rng(4)
    for _ in range(50):
        a, p = sample_albedo(rng, head)
        skin, lips = _region_mean(a, head, "skin"), _region_mean(a, head, "lips")
        mouth = _region_mean(a, head, "mouth_interior")
        assert lips[0] / lips[1] > skin[0] / skin[1]  # lips redder than skin
        assert mouth[0] > mouth[1] and mouth[0] > mouth[2] and luminance(mouth) < 0.1
        assert luminance(_region_mean(a, head, "nostrils")) < luminance(skin)
        assert luminance(_region_mean(a, head, "eyelids")) < luminance(skin) * 1.05
        assert luminance(_region_mean(a, head, "teeth")) > 0.3


def test_bald_and_hair_scalp(head):
    hair = sample_albedo(np.random.default_rng(5), head, AppearanceConfig(p_bald=0.0, hair_color_probs=(1, 0, 0, 0, 0, 0)))[0]
    bald = sample_albedo(np.random.default_rng(5), head, AppearanceConfig(p_bald=1.0, hair_color_probs=(1, 0, 0, 0, 0, 0)))[0]
    assert luminance(_region_mean(hair, head, "scalp")) < 0.03  # black hair
    assert luminance(_region_mean(bald, head, "scalp")) > luminance(_region_mean(hair, head, "scalp"))
    assert HAIR_COLOR_NAMES[0] == "black"


def test_beard_darkens_lower_face_only(head):
    base = dict(skin_tone_range=(0.1, 0.1), hair_color_probs=(1, 0, 0, 0, 0, 0), noise_amplitude=0.0,
                tone_variation=0.0, redness_max=0.0, p_freckles=0.0)
    v, skin = head.mean_shape, head.region_mask("skin")
    forehead = skin & (v[:, 1] > 30) & (v[:, 2] > 40)
    nose_base_y = v[head.landmarks68[33], 1]
    for seed in range(5):
        no = sample_albedo(np.random.default_rng(seed), head, AppearanceConfig(p_beard=0.0, **base))[0]
        yes, p = sample_albedo(np.random.default_rng(seed), head, AppearanceConfig(p_beard=1.0, beard_density_range=(0.8, 0.8), **base))
        assert p["beard_parts"].any() and p["beard_density"] == 0.8
        darker = (luminance(yes) < 0.7 * luminance(no)) & head.region_mask("skin", "neck")
        assert darker.sum() > 20
        assert np.all(v[darker, 1] < v[head.landmarks68[40], 1])  # below the eyes (sideburns reach up)
        mid = np.abs(v[:, 0]) < 20
        assert np.all(v[darker & mid, 1] < nose_base_y + 4.0)  # below the nose on the midface
        np.testing.assert_allclose(yes[forehead], no[forehead], atol=1e-6)


def test_model_albedo_used_when_asked():
    m = make_tiny_head(level=3, with_albedo=True)
    cfg = AppearanceConfig(use_model_albedo=1.0, noise_amplitude=0.0, tone_variation=0.0, redness_max=0.0, p_beard=0.0)
    a, p = sample_albedo(np.random.default_rng(7), m, cfg)
    assert p["model_albedo"] == 1.0
    skin = m.region_mask("skin")
    np.testing.assert_allclose(a[skin].mean(0), [0.5, 0.35, 0.3], atol=0.03)
    plain = make_tiny_head(level=3)
    assert sample_albedo(np.random.default_rng(7), plain, cfg)[1]["model_albedo"] == 0.0


@pytest.mark.parametrize(
    "field, value",
    [("p_beard", 1.5), ("p_bald", -0.1), ("use_model_albedo", 2.0), ("skin_tone_range", (0.8, 0.2)),
     ("hair_color_probs", (1.0, 0.0)), ("iris_color_probs", (-1, 1, 1, 1, 1, 1)), ("noise_amplitude", -0.1),
     ("tone_variation", float("nan")), ("pupil_fraction_range", (0.2, 1.5)), ("skin_tone_range", 0.5),
     ("p_freckles", "often")],
)
def test_bad_config_names_field(field, value):
    with pytest.raises(UserError, match=field):
        AppearanceConfig(**{field: value})


def test_config_is_frozen():
    cfg = AppearanceConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.p_beard = 0.5  # type: ignore[misc]


def _lowbias32_uniform(seed: int, nv: int) -> np.ndarray:
    """numpy reference of the kernel's per-vertex hash: (nv,) float32 uniforms in [0, 1)."""
    with np.errstate(over="ignore"):  # wrapping uint32 arithmetic
        z = np.arange(nv, dtype=np.uint32) * np.uint32(0x9E3779B9) + np.uint32(seed)
        z ^= z >> np.uint32(16)
        z *= np.uint32(0x7FEB352D)
        z ^= z >> np.uint32(15)
        z *= np.uint32(0x846CA68B)
        z ^= z >> np.uint32(16)
    return (z >> np.uint32(8)).astype(np.float32) / np.float32(2**24)


def test_assemble_kernel_matches_numpy_reference():
    from synth.scene.appearance import _assemble_kernel

    g = np.random.default_rng(8)
    nv, nc, nr = 500, 7, 13
    beard, beard_w = g.random(nv).astype(np.float32), np.float32([-0.5, -0.6, -0.7])
    color_idx = g.integers(0, nr, nv).astype(np.int32)
    colors = g.random((nr, 3)).astype(np.float32)
    fields_cv = (0.3 * g.standard_normal((nc, nv))).astype(np.float32)
    W = (0.3 * g.standard_normal((nc, 3))).astype(np.float32)
    noise_w, freckle_w = g.random(nv).astype(np.float32), g.random(nv).astype(np.float32)
    iris_r = np.where(g.random(nv) < 0.3, g.random(nv), -1.0).astype(np.float32)
    pupil_rgb = np.float32([0.01, 0.02, 0.03])
    seed = 3_141_592_653
    u = _lowbias32_uniform(seed, nv)
    out = np.empty((nv, 3), np.float32)
    _assemble_kernel(color_idx, colors, fields_cv, W, beard, beard_w, noise_w, freckle_w, iris_r, np.uint32(seed),
                     np.float32(0.2), np.float32(0.3), np.float32(0.6), np.float32(0.4), pupil_rgb, out)
    jitter = np.where(u < 0.3 * freckle_w, 0.6, 1 + 0.2 * noise_w * (2 * u - 1)) * np.where(iris_r > 0.85, 0.55, 1.0)
    want = np.clip(colors[color_idx] * (1 + beard[:, None] * beard_w) * (1 + fields_cv.T @ W) * jitter[:, None], 0, 1)
    pupil = (iris_r >= 0) & (iris_r <= 0.4)
    want[pupil] = pupil_rgb
    assert pupil.any() and (iris_r > 0.85).any()
    np.testing.assert_allclose(out, want, atol=1e-5)
    assert 0.45 < u.mean() < 0.55 and u.min() >= 0 and u.max() < 1
