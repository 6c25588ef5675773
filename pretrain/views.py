"""Two-view augmentation for self-supervised pretraining on face crops.

Every op is a pure function of (image, ``np.random.Generator``): the views of a sample are
a function of its stream position (``pretrain.data``), whatever the worker, rank or resume
point. Images are (H, W, 3) uint8 RGB; the output is (3, S, S) float32, normalised by
``mean`` / ``std`` (RGB, on [0, 1] intensities).

Face-specific choices (``ViewConfig``):

- random resized crop with scale (0.5, 1.0) of the image area (not SimCLR's (0.08, 1)):
  the inputs are already face-centred crops, so a view keeps most of the face;
- horizontal flip OFF by default: a mirrored face has the opposite yaw and roll, and the
  features are meant for pose regression, so invariance to mirroring is unwanted;
- colour jitter, grayscale, Gaussian blur, solarize (BYOL's set) and optional random
  erasing (a stand-in for occluders: hands, glasses, hair).

Colour jitter, blur and erasing reuse ``synth.data.augment``'s ops (same parameter
conventions as the fine-tuning augmentation).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from synth.data.augment import ColorJitter, GaussianBlur, RandomErasing
from synth.data.record import FaceSample

__all__ = ["ViewConfig", "random_resized_crop", "make_view", "IMAGENET_MEAN", "IMAGENET_STD"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ViewConfig:
    """Augmentation of each view; probabilities ``*_p`` in [0, 1] (0 disables an op).

    Attributes:
        crop_scale: area fraction of the source kept by the random resized crop.
        crop_ratio: aspect ratio (w / h) range of the crop (log-uniform).
        flip_p: horizontal flip probability. Off by default: mirroring swaps the sign of
            yaw and roll, so it would teach invariance to the very pose a fine-tuned model
            must regress.
        color_p, brightness, contrast, saturation, hue_deg: colour jitter
            (``synth.data.augment.ColorJitter``).
        gray_p: convert to grayscale (3 equal channels).
        blur_p, blur_sigma_frac: Gaussian blur, sigma as a fraction of the output size
            (SimCLR: 0.1 - 2.0 px at 224 -> ~(0.0005, 0.01); here a face-scale default).
        solarize_p, solarize_threshold: invert pixels above the threshold (BYOL).
        erase_p, erase_area_frac: random erasing with noise (synthetic occluder).
        mean, std: RGB normalisation written into ``backbone.pt``.
    """

    crop_scale: tuple[float, float] = (0.5, 1.0)
    crop_ratio: tuple[float, float] = (0.75, 4 / 3)
    flip_p: float = 0.0
    color_p: float = 0.8
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.2
    hue_deg: float = 18.0
    gray_p: float = 0.2
    blur_p: float = 0.5
    blur_sigma_frac: tuple[float, float] = (0.005, 0.02)
    solarize_p: float = 0.1
    solarize_threshold: int = 128
    erase_p: float = 0.0
    erase_area_frac: tuple[float, float] = (0.02, 0.15)
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self) -> None:
        for name in ("flip_p", "color_p", "gray_p", "blur_p", "solarize_p", "erase_p"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"views.{name}: expected a probability in [0, 1], got {v}")
        lo, hi = self.crop_scale
        if not 0 < lo <= hi <= 1:
            raise ValueError(f"views.crop_scale: expected 0 < low <= high <= 1, got {self.crop_scale}")
        if min(self.std) <= 0:
            raise ValueError(f"views.std: expected positive values, got {self.std}")


def random_resized_crop(image: np.ndarray, out_size: int, scale: tuple[float, float], ratio: tuple[float, float],
                        rng: np.random.Generator) -> np.ndarray:
    """A random box of area U(scale) x H W and aspect log-U(ratio), resized to (out_size, out_size).

    image: (H, W, 3) uint8. The box lies inside the image (its side is clipped to fit), at a
    uniform position. Returns (out_size, out_size, 3) uint8 (area interpolation when
    shrinking, linear when enlarging).
    """
    h, w = image.shape[:2]
    area = rng.uniform(*scale) * h * w
    aspect = float(np.exp(rng.uniform(np.log(ratio[0]), np.log(ratio[1]))))
    cw = int(np.clip(round(np.sqrt(area * aspect)), 1, w))
    ch = int(np.clip(round(np.sqrt(area / aspect)), 1, h))
    x0 = int(rng.integers(0, w - cw + 1))
    y0 = int(rng.integers(0, h - ch + 1))
    crop = image[y0:y0 + ch, x0:x0 + cw]
    interp = cv2.INTER_AREA if cw > out_size or ch > out_size else cv2.INTER_LINEAR
    return cv2.resize(crop, (out_size, out_size), interpolation=interp)


def make_view(image: np.ndarray, out_size: int, cfg: ViewConfig, rng: np.random.Generator) -> np.ndarray:
    """One augmented, normalised view: (H, W, 3) uint8 RGB -> (3, S, S) float32.

    Order: crop, flip, colour jitter, grayscale, blur, solarize, erasing; all draws come
    from ``rng``, so the view is a function of (image, rng state).
    """
    img = random_resized_crop(image, out_size, cfg.crop_scale, cfg.crop_ratio, rng)
    if rng.random() < cfg.flip_p:
        img = cv2.flip(img, 1)  # (numpy's copy of img[:, ::-1] is ~30x slower)
    s = FaceSample(image=img)
    s = ColorJitter(cfg.color_p, cfg.brightness, cfg.contrast, cfg.saturation, cfg.hue_deg)(s, rng)
    img = s.image
    if rng.random() < cfg.gray_p:
        img = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)
    lo, hi = cfg.blur_sigma_frac
    img = GaussianBlur(cfg.blur_p, (lo * out_size, hi * out_size))(FaceSample(image=img), rng).image
    if rng.random() < cfg.solarize_p:
        img = np.where(img >= cfg.solarize_threshold, 255 - img, img).astype(np.uint8)
    img = RandomErasing(cfg.erase_p, cfg.erase_area_frac)(FaceSample(image=img), rng).image
    x = img.astype(np.float32) * (1.0 / 255.0)
    x = (x - np.asarray(cfg.mean, np.float32)) / np.asarray(cfg.std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))
