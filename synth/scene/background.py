"""Backgrounds behind the rendered head: procedural kinds and crops of user images.

Kinds (registry ``BACKGROUND_KINDS``; weights in ``BackgroundConfig``):

- ``noise``: fractal value noise (plain, ridged or marbled) through a random colour ramp.
- ``gradient``: linear or radial colour ramp, slightly perturbed by low-frequency noise.
- ``shapes``: rectangles, ellipses, polygons, circles and lines over a flat/gradient/noise base.
- ``clutter``: many overlapping textured shapes with drop shadows and uneven light ("a room").
- ``folder``: a random crop of an image from ``BackgroundConfig.folder`` (see ``BackgroundFolder``).

Output: (H, W, 3) uint8 RGB. Cost (measured on one thread of a busy 2-core VM): 0.3-1 ms per
kind at 128 px (clutter 2-3 ms), 1-2.7 ms at 256 px; ``sample_background`` with the default
weights averages ~1.3 ms at 128 px and ~2.5 ms at 256 px. The folder kind costs an image decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from synth.errors import UserError
from synth.scene._config_checks import check_fields, check_folder_field, check_number, check_probability, check_range
from synth.scene.compose import fast_blur
from synth.scene.image_folder import IMAGE_SUFFIXES, ImageFolder, cached_folder
from synth.scene.textures import apply_palette, choice, fractal_noise, lut_rgb, palette_lut, random_colours

__all__ = ["BackgroundConfig", "BackgroundFolder", "sample_background", "BACKGROUND_KINDS"]

_SHIFT = 4
_ONE = 1 << _SHIFT
_CLUTTER_MAX_PX = 160


@dataclass(frozen=True)
class BackgroundConfig:
    """How backgrounds are sampled (YAML section ``background:``).

    Attributes:
        w_noise, w_gradient, w_shapes, w_clutter: relative weights (>= 0) of the procedural kinds.
        w_folder: weight of crops from ``folder``; ignored while ``folder`` is None.
        folder: a folder of jpg/png/bmp/webp images, searched recursively; None = procedural only.
        folder_crop_frac: side of the random crop as a fraction of the largest crop with the
            output's aspect ratio that fits the image (1.0 = as much of the image as fits).
        p_blur: probability of a Gaussian defocus of a procedural background.
        blur_sigma_px: its standard deviation range, output pixels.
    """

    w_noise: float = 1.0
    w_gradient: float = 0.5
    w_shapes: float = 1.0
    w_clutter: float = 1.5
    w_folder: float = 3.0
    folder: Path | None = None
    folder_crop_frac: tuple[float, float] = (0.3, 1.0)
    p_blur: float = 0.3
    blur_sigma_px: tuple[float, float] = (0.5, 2.0)

    def __post_init__(self):
        w = (check_number, 0.0, None)
        check_fields(self, {
            "w_noise": w, "w_gradient": w, "w_shapes": w, "w_clutter": w, "w_folder": w,
            "folder": (check_folder_field,),
            "folder_crop_frac": (check_range, 0.01, 1.0),
            "p_blur": (check_probability,),
            "blur_sigma_px": (check_range, 0.0, 50.0),
        })
        if not any(self.weights(with_folder=self.folder is not None).values()):
            raise UserError("BackgroundConfig: the weights w_noise, w_gradient, w_shapes, w_clutter "
                            f"(and w_folder, with folder={self.folder}) are all 0, expected at least one > 0")

    def weights(self, with_folder: bool) -> dict[str, float]:
        """Kind -> weight, in ``BACKGROUND_KINDS`` order (``folder`` only if ``with_folder``)."""
        w = {"noise": self.w_noise, "gradient": self.w_gradient, "shapes": self.w_shapes,
             "clutter": self.w_clutter}
        if with_folder:
            w["folder"] = self.w_folder
        return w


class BackgroundFolder(ImageFolder):
    """Background images under a folder (recursive; jpg/jpeg/png/bmp/webp); holds paths only."""

    def __init__(self, root: Path | str):
        super().__init__(root, IMAGE_SUFFIXES, "background")

    def sample(self, rng: np.random.Generator, height: int, width: int,
               crop_frac: tuple[float, float] = (0.3, 1.0)) -> np.ndarray:
        """A random image, randomly cropped to the output aspect, resized, maybe flipped.

        Returns (height, width, 3) uint8 RGB. An unreadable file raises ``UserError`` naming it.
        """
        i = int(rng.integers(len(self)))
        frac, u, v, flip = rng.uniform(*crop_frac), rng.random(), rng.random(), rng.random() < 0.5
        img = self.read_rgb(i)
        ih, iw = img.shape[:2]
        s = min(ih / height, iw / width) * frac  # source pixels per output pixel
        ch, cw = max(1, min(ih, round(height * s))), max(1, min(iw, round(width * s)))
        y0, x0 = int(u * (ih - ch + 1)), int(v * (iw - cw + 1))
        crop = img[y0:y0 + ch, x0:x0 + cw]
        interp = cv2.INTER_AREA if s > 1.0 else cv2.INTER_LINEAR
        out = cv2.resize(crop, (width, height), interpolation=interp)
        return np.ascontiguousarray(out[:, ::-1]) if flip else out


def sample_background(rng: np.random.Generator, height: int, width: int, cfg: BackgroundConfig,
                      folder_index: BackgroundFolder | None = None) -> np.ndarray:
    """Sample one background, (height, width, 3) uint8 RGB.

    Args:
        rng: the only source of randomness (same state -> identical bytes).
        height, width: output size, pixels.
        cfg: kind weights and parameters.
        folder_index: a ``BackgroundFolder`` to draw from; if None and ``cfg.folder`` is set,
            the folder is listed once per process and reused.
    """
    if height < 1 or width < 1:
        raise ValueError(f"background size must be positive, got height={height}, width={width}")
    has_folder = folder_index is not None or cfg.folder is not None
    weights = cfg.weights(with_folder=has_folder)
    kind = list(weights)[int(choice(rng, list(weights.values())))]
    if kind == "folder":
        folder = folder_index if folder_index is not None else cached_folder(BackgroundFolder, cfg.folder)
        return folder.sample(rng, height, width, cfg.folder_crop_frac)
    img = BACKGROUND_KINDS[kind](rng, height, width)
    if rng.random() < cfg.p_blur:
        img = fast_blur(img, rng.uniform(*cfg.blur_sigma_px))
    return img


# --------------------------------------------------------------------------- procedural kinds


def _noise(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    t = fractal_noise(rng, h, w, cells=int(rng.integers(2, 7)), octaves=int(rng.integers(2, 6)),
                      persistence=float(rng.uniform(0.35, 0.7)))
    style = rng.integers(3)
    if style == 1:  # ridged
        t = 1.0 - np.abs(t - np.float32(0.5)) * np.float32(2.0)
    elif style == 2:  # marble: periodic ramp of the noise
        t = 0.5 + 0.5 * np.sin(t * np.float32(rng.uniform(6.0, 25.0)))
    return apply_palette(t, palette_lut(rng, int(rng.integers(2, 5))))


def _ramp(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """(h, w) float32 in [0, 1]: a linear or radial ramp in a random direction / centre."""
    y = np.arange(h, dtype=np.float32)[:, None]
    x = np.arange(w, dtype=np.float32)[None, :]
    if rng.random() < 0.5:
        a = rng.uniform(0, 2 * np.pi)
        t = x * np.float32(np.cos(a) / w) + y * np.float32(np.sin(a) / h)
    else:
        cx, cy = rng.uniform(-0.2, 1.2) * w, rng.uniform(-0.2, 1.2) * h
        t = cv2.magnitude(np.broadcast_to(x - np.float32(cx), (h, w)).copy(),
                          np.broadcast_to(y - np.float32(cy), (h, w)).copy())
    return cv2.normalize(t, None, 0.0, 1.0, cv2.NORM_MINMAX)


def _gradient(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    t = _ramp(rng, h, w)
    t += np.float32(rng.uniform(0.0, 0.15)) * fractal_noise(rng, h, w, cells=4, octaves=3)
    return apply_palette(cv2.normalize(t, None, 0.0, 1.0, cv2.NORM_MINMAX), palette_lut(rng, int(rng.integers(2, 4))))


def _base(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    r = rng.random()
    if r < 0.4:
        return np.broadcast_to(random_colours(rng, 1)[0].astype(np.uint8), (h, w, 3)).copy()
    return _gradient(rng, h, w) if r < 0.75 else _noise(rng, h, w)


class _ShapeBatch:
    """``n`` random shapes, all parameters drawn at once (vectorised), drawn one by one with cv2.

    Kinds: 0 rotated rectangle (mostly near axis-aligned), 1 random polygon (3-8 vertices),
    2 rotated ellipse, 3 thick line. Sizes are log-uniform radii in ``r_frac`` * max(h, w).
    """

    def __init__(self, rng: np.random.Generator, n: int, h: int, w: int, r_frac: tuple[float, float],
                 p_kind: tuple[float, ...], big_first: bool = False):
        size = max(h, w)
        self.kind = choice(rng, p_kind, n).tolist()
        r = size * np.exp(rng.uniform(np.log(r_frac[0]), np.log(r_frac[1]), n))
        if big_first:
            r = np.sort(r)[::-1]
        c = rng.uniform(-0.1, 1.1, (n, 2)) * (w, h)
        ang = np.where(rng.random(n) < 0.6, rng.normal(0.0, 0.08, n), rng.uniform(0.0, np.pi, n))
        half = r[:, None] * rng.uniform(0.2, 1.0, (n, 2))
        cos, sin = np.cos(ang)[:, None], np.sin(ang)[:, None]
        sq = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
        lx, ly = sq[None, :, 0] * half[:, :1], sq[None, :, 1] * half[:, 1:]
        rect = np.stack([lx * cos - ly * sin, lx * sin + ly * cos], -1) + c[:, None]
        # Polygons: k in 3..8 vertices at random angular gaps that add up to a full turn.
        self.nvert = rng.integers(3, 9, n).tolist()
        gaps = rng.uniform(0.4, 1.6, (n, 8)) * (np.arange(8)[None, :] < np.array(self.nvert)[:, None])
        pa = 2 * np.pi * np.cumsum(gaps, axis=1) / gaps.sum(axis=1, keepdims=True) + rng.uniform(0, 2 * np.pi, (n, 1))
        pr = r[:, None] * rng.uniform(0.35, 1.0, (n, 8))
        poly = np.stack([pr * np.cos(pa), pr * np.sin(pa)], -1) + c[:, None]
        d = rng.normal(size=(n, 2))
        d *= r[:, None] / (np.linalg.norm(d, axis=1, keepdims=True) + 1e-9)
        self.rect = _fix(rect)
        self.poly = _fix(poly)
        self.centre = _fix(c).tolist()
        self.axes = _fix(half).tolist()
        self.angle_deg = np.degrees(ang).tolist()
        self.line = _fix(np.stack([c - d, c + d], 1)).tolist()
        self.thick = rng.integers(1, max(2, size // 40), n).tolist()

    def draw(self, img: np.ndarray, i: int, colour, line_type: int = cv2.LINE_AA) -> None:
        """Draw shape ``i`` filled with ``colour`` (a cv2 scalar) into ``img``."""
        k = self.kind[i]
        if k == 0:
            cv2.fillPoly(img, [self.rect[i]], colour, line_type, _SHIFT)
        elif k == 1:
            cv2.fillPoly(img, [self.poly[i, : self.nvert[i]]], colour, line_type, _SHIFT)
        elif k == 2:
            cv2.ellipse(img, tuple(self.centre[i]), tuple(self.axes[i]), self.angle_deg[i],
                        0.0, 360.0, colour, -1, line_type, _SHIFT)
        else:
            (x0, y0), (x1, y1) = self.line[i]
            cv2.line(img, (x0, y0), (x1, y1), colour, self.thick[i], line_type, _SHIFT)


def _fix(pts: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(pts) * _ONE).astype(np.int32)


def _shapes(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    img = _base(rng, h, w)
    n = int(rng.integers(3, 25))
    shapes = _ShapeBatch(rng, n, h, w, (0.03, 0.5), (0.3, 0.25, 0.3, 0.15))
    cols = random_colours(rng, n).tolist()
    for i in range(n):
        shapes.draw(img, i, cols[i])
    return img


def _soft_downup(img: np.ndarray, factor: int) -> np.ndarray:
    """A cheap wide blur: area-downscale by ``factor``, bilinear upscale back."""
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def _clutter(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Overlapping textured shapes drawn back to front into a label map, then shaded in one pass.

    Per-label colour and texture amplitudes are looked up with cv2.LUT; textures are fractal
    noise and two stripe fields (made separable: sin(a x + b y) = sin(a x)cos(b y) + ...).
    Drop shadows: a pixel is shadowed when the label one light-offset away is higher (that
    shape lies above this one in painter's order and so casts its shadow here).
    Outputs larger than ``_CLUTTER_MAX_PX`` are rendered at that size and resized up.
    """
    if max(h, w) > _CLUTTER_MAX_PX:  # render smaller, enlarge: edges a little soft, 3-4x cheaper
        s = _CLUTTER_MAX_PX / max(h, w)
        small = _clutter(rng, max(1, round(h * s)), max(1, round(w * s)))
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    n = int(rng.integers(12, 45))
    size = max(h, w)
    shapes = _ShapeBatch(rng, n, h, w, (0.04, 0.7), (0.6, 0.2, 0.2), big_first=True)
    label = np.zeros((h, w), np.uint8)
    for i in range(n):
        shapes.draw(label, i, i + 1, cv2.LINE_8)
    dx, dy = np.round(rng.normal(0.0, 0.025 * size, 2)).astype(int)
    caster = cv2.warpAffine(label, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h), flags=cv2.INTER_NEAREST,
                            borderMode=cv2.BORDER_REPLICATE)
    shadow = cv2.compare(caster, label, cv2.CMP_GT)
    colour_lut = np.zeros((256, 3), np.uint8)
    colour_lut[: n + 1] = random_colours(rng, n + 1, (0.0, 0.8), (0.15, 0.95))
    tex_kind = choice(rng, (0.35, 0.35, 0.15, 0.15), n + 1)  # flat, noise, stripes A, stripes B
    amp = rng.uniform(40.0, 150.0, n + 1)
    amp_lut = np.zeros((256, 3), np.uint8)
    for j in range(3):
        amp_lut[: n + 1, j] = np.where(tex_kind == j + 1, amp, 0.0)
    yy = np.arange(h, dtype=np.float32)
    xx = np.arange(w, dtype=np.float32)
    tex = [fractal_noise(rng, h, w, cells=int(rng.integers(3, 7)), octaves=3) * 2.0 - 1.0]
    for _ in range(2):
        a, period = rng.uniform(0, np.pi), rng.uniform(0.02, 0.08) * size
        fx, fy = np.float32(np.cos(a) * 2 * np.pi / period), np.float32(np.sin(a) * 2 * np.pi / period)
        tex.append(np.outer(np.cos(yy * fy), np.sin(xx * fx)) + np.outer(np.sin(yy * fy), np.cos(xx * fx)))
    prod = lut_rgb(label, amp_lut).astype(np.float32) * cv2.merge(tex)
    mod = cv2.transform(prod, np.full((1, 3), 1.0 / 510.0, np.float32)) + np.float32(1.0)
    light = fractal_noise(rng, h, w, cells=2, octaves=2)
    mod *= np.float32(0.55) + np.float32(0.6) * light
    shade = _soft_downup(shadow, max(2, size // 32))
    mod *= np.float32(1.0) - shade.astype(np.float32) * np.float32(rng.uniform(0.2, 0.5) / 255.0)
    out = lut_rgb(label, colour_lut).astype(np.float32) * cv2.merge([mod, mod, mod])
    return cv2.convertScaleAbs(out)


#: Procedural kinds: name -> ``f(rng, height, width) -> (H, W, 3) uint8 RGB``.
BACKGROUND_KINDS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "noise": _noise,
    "gradient": _gradient,
    "shapes": _shapes,
    "clutter": _clutter,
}
