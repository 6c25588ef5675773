"""2D occluders composited over the rendered face, placed from its 2D landmarks.

Kinds (``OCCLUDER_KINDS``, in the order they are layered, back to front): ``mask`` (surgical
or cloth face mask), ``glasses`` (clear lenses: the eyes stay visible), ``sunglasses`` (dark
lenses: the eyes count as occluded), ``hair`` (fringe or loose strands), ``cap``, ``object``
(phone, cup, ball, textured polygon), ``hand``, ``rgba`` (user RGBA images from a folder).

Each drawer paints a layer in a window sized to its geometry (``synth.scene.compose.Window``)
and returns it as colour and opacity inside a box of the image; ``apply_occluders`` puts
the layers over the image and returns the union coverage (full frame), from which
``occluded_landmarks`` marks the hidden landmarks.

Symbols: H, W image size; K = 68 landmarks. Points are pixels with the origin at the centre
of the top-left pixel. Images uint8 RGB, alpha float32 in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import cv2
import numba
import numpy as np

from synth.landmarks import NUM_LANDMARKS
from synth.scene._config_checks import check_fields, check_folder_field, check_probability, check_range
from synth.scene.compose import PremulCanvas, over_box
from synth.scene.image_folder import ImageFolder, cached_folder
from synth.scene.occluders import cap, face_mask, glasses, hair, hand, objects, rgba
from synth.scene.occluders._face import FaceFrame

__all__ = ["Occluder", "OccluderConfig", "sample_occluders", "apply_occluders", "occluded_landmarks",
           "OCCLUDER_KINDS", "RGBAFolder"]

RGBAFolder = rgba.RGBAFolder


@dataclass(eq=False)
class Occluder:
    """One occluder layer: colour and opacity inside a box of the image, nothing outside it.

    Attributes:
        kind: one of ``OCCLUDER_KINDS``.
        rgb: (h, w, 3) uint8 RGB colour (straight alpha; meaningless where alpha is 0).
        alpha: (h, w) float32 opacity in [0, 1].
        box: (y0, y1, x0, x1), where the arrays lie in the image (h = y1 - y0, w = x1 - x0;
            may be empty); None: they cover the whole image.
    """

    kind: str
    rgb: np.ndarray
    alpha: np.ndarray
    box: tuple[int, int, int, int] | None = None

    def full(self, hw: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """The layer over the whole (H, W) image: (rgb (H, W, 3) uint8, alpha (H, W) float32)."""
        y0, y1, x0, x1 = self._box(hw)
        rgb, alpha = np.zeros((*hw, 3), np.uint8), np.zeros(hw, np.float32)
        rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1] = self.rgb, self.alpha
        return rgb, alpha

    def _box(self, hw: tuple[int, int]) -> tuple[int, int, int, int]:
        """``box`` (the whole image for None), checked against the arrays and the image."""
        y0, y1, x0, x1 = (0, hw[0], 0, hw[1]) if self.box is None else (int(v) for v in self.box)
        if not (0 <= y0 <= y1 <= hw[0] and 0 <= x0 <= x1 <= hw[1]):
            raise ValueError(f"occluder {self.kind!r}: box {self.box} is not inside the {hw} image")
        if self.alpha.shape != (y1 - y0, x1 - x0) or self.rgb.shape != (y1 - y0, x1 - x0, 3):
            raise ValueError(f"occluder {self.kind!r}: expected rgb {(y1 - y0, x1 - x0, 3)} and alpha "
                             f"{(y1 - y0, x1 - x0)} for box {(y0, y1, x0, x1)}, got {self.rgb.shape} and {self.alpha.shape}")
        return y0, y1, x0, x1


@dataclass(frozen=True)
class OccluderConfig:
    """Per-kind probabilities (each drawn independently) and options (YAML section ``occluders:``).

    With the defaults about 41% of images get at least one occluder (``p_any()``).
    ``glasses`` and ``sunglasses`` exclude each other: if both are drawn only sunglasses are kept.

    Attributes:
        p_mask, p_glasses, p_sunglasses, p_hair, p_cap, p_object, p_hand: probabilities in [0, 1].
        p_rgba: probability of one image from ``rgba_folder``; ignored while it is None.
        rgba_folder: folder of png/webp images with alpha (searched recursively), or None.
        rgba_scale: longer side of an RGBA occluder as a fraction of the face size.
        p_defocus: probability that a near-camera occluder (hand, object, rgba) is blurred.
        defocus_sigma_px: its blur standard deviation range, pixels.
    """

    p_mask: float = 0.06
    p_glasses: float = 0.08
    p_sunglasses: float = 0.04
    p_hair: float = 0.10
    p_cap: float = 0.05
    p_object: float = 0.06
    p_hand: float = 0.12
    p_rgba: float = 0.15
    rgba_folder: Path | None = None
    rgba_scale: tuple[float, float] = (0.3, 0.9)
    p_defocus: float = 0.3
    defocus_sigma_px: tuple[float, float] = (0.5, 2.0)

    def __post_init__(self):
        p = (check_probability,)
        check_fields(self, {
            **{f"p_{k}": p for k in OCCLUDER_KINDS}, "p_defocus": p,
            "rgba_folder": (check_folder_field,),
            "rgba_scale": (check_range, 0.01, 10.0),
            "defocus_sigma_px": (check_range, 0.0, 50.0),
        })

    def probabilities(self, with_rgba: bool) -> dict[str, float]:
        """Kind -> probability in layering order (``rgba`` is 0 unless ``with_rgba``)."""
        return {k: (getattr(self, f"p_{k}") if (k != "rgba" or with_rgba) else 0.0) for k in OCCLUDER_KINDS}

    def p_any(self, with_rgba: bool = False) -> float:
        """Probability that an image gets at least one occluder."""
        q = self.probabilities(with_rgba)
        q["glasses"] *= 1.0 - q["sunglasses"]  # dropped when sunglasses are drawn too
        return 1.0 - float(np.prod([1.0 - v for v in q.values()]))


Drawer = Callable[[np.random.Generator, FaceFrame, tuple[int, int]], PremulCanvas]

#: Procedural kinds: kind -> ``f(rng, face, (H, W)) -> PremulCanvas`` (in a window of its choice).
_DRAWERS: dict[str, Drawer] = {
    "mask": face_mask.draw,
    "glasses": glasses.draw_clear,
    "sunglasses": glasses.draw_sun,
    "hair": hair.draw,
    "cap": cap.draw,
    "object": objects.draw,
    "hand": hand.draw,
}
#: Every kind, in layering order (back to front); ``rgba`` needs a folder.
OCCLUDER_KINDS: tuple[str, ...] = (*_DRAWERS, "rgba")
_NEAR_CAMERA = ("object", "hand", "rgba")


def sample_occluders(rng: np.random.Generator, image_hw: tuple[int, int], lmk2d_px: np.ndarray,
                     face_bbox: np.ndarray, cfg: OccluderConfig,
                     rgba_index: ImageFolder | None = None) -> list[Occluder]:
    """Sample the occluders of one image (possibly none), back to front.

    Args:
        rng: the only source of randomness (same state -> identical layers).
        image_hw: (H, W) of the image they will cover.
        lmk2d_px: (68, 2) float landmarks, pixels, origin at the top-left pixel's centre.
        face_bbox: (4,) x0, y0, x1, y1 of the face, pixels.
        cfg: probabilities and options.
        rgba_index: an ``RGBAFolder`` to draw RGBA occluders from; if None and
            ``cfg.rgba_folder`` is set, that folder is listed once per process and reused.

    Returns:
        list of ``Occluder``, one per kind drawn (its box may be empty: drawn off the image).
    """
    hw = (int(image_hw[0]), int(image_hw[1]))
    if hw[0] < 1 or hw[1] < 1:
        raise ValueError(f"image_hw: expected positive (H, W), got {image_hw}")
    lmk, bbox = FaceFrame.check_inputs(lmk2d_px, face_bbox)
    has_rgba = rgba_index is not None or cfg.rgba_folder is not None
    probs = cfg.probabilities(has_rgba)
    draws = rng.random(len(probs)).tolist()
    chosen = [k for (k, p), u in zip(probs.items(), draws) if u < p]
    if "sunglasses" in chosen and "glasses" in chosen:
        chosen.remove("glasses")
    if not chosen:  # the common case: skip the face frame
        return []
    face = FaceFrame.from_landmarks(lmk, bbox)
    out = []
    for kind in chosen:
        if kind == "rgba":
            folder = rgba_index if rgba_index is not None else cached_folder(RGBAFolder, cfg.rgba_folder)
            canvas = rgba.draw(rng, face, hw, folder, cfg.rgba_scale)
        else:
            canvas = _DRAWERS[kind](rng, face, hw)
        if kind in _NEAR_CAMERA and rng.random() < cfg.p_defocus:
            canvas.blur(rng.uniform(*cfg.defocus_sigma_px))
        out.append(Occluder(kind, *canvas.straight()))
    return out


def apply_occluders(image: np.ndarray, occluders: list[Occluder]) -> tuple[np.ndarray, np.ndarray]:
    """Composite ``occluders`` (back to front) over ``image``.

    Args:
        image: (H, W, 3) uint8 RGB.
        occluders: layers inside boxes of that image.

    Returns:
        image_out: (H, W, 3) uint8 RGB.
        occluder_alpha: (H, W) float32 union coverage ``1 - prod(1 - alpha_i)``.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"image: expected (H, W, 3) uint8, got {image.shape} {image.dtype}")
    hw = image.shape[:2]
    coverage = np.zeros(hw, np.float32)
    out = image.copy()
    layers = [(oc, oc._box(hw)) for oc in occluders]
    layers = [(oc, b) for oc, b in layers if b[0] < b[1] and b[2] < b[3]]
    if not layers:
        return out, coverage
    # Blend in float32 inside the union of the boxes only; round once at the end.
    uy0, uy1 = min(b[0] for _, b in layers), max(b[1] for _, b in layers)
    ux0, ux1 = min(b[2] for _, b in layers), max(b[3] for _, b in layers)
    acc = out[uy0:uy1, ux0:ux1].astype(np.float32)
    for oc, (y0, _, x0, _) in layers:
        over_box(acc, coverage[uy0:uy1, ux0:ux1], np.ascontiguousarray(oc.rgb, np.uint8),
                 np.ascontiguousarray(oc.alpha, np.float32), y0 - uy0, x0 - ux0)
    out[uy0:uy1, ux0:ux1] = cv2.convertScaleAbs(acc)
    return out, coverage


def occluded_landmarks(lmk2d_px: np.ndarray, occluder_alpha: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Which landmarks lie under an occluder.

    Args:
        lmk2d_px: (68, 2) float, pixels, origin at the centre of the top-left pixel.
        occluder_alpha: (H, W) float32 coverage from ``apply_occluders``.
        threshold: a landmark is occluded when the coverage at its pixel is >= threshold.

    Returns:
        (68,) bool. The coverage is read at the nearest pixel (``floor(x + 0.5)``); points
        outside the image (or not finite) are not occluded by an object.
    """
    lmk = np.asarray(lmk2d_px, np.float64)
    if lmk.shape != (NUM_LANDMARKS, 2):
        raise ValueError(f"lmk2d_px: expected ({NUM_LANDMARKS}, 2), got {lmk.shape}")
    return _occluded_kernel(lmk, np.asarray(occluder_alpha, np.float32), float(threshold))


@numba.njit(cache=True, nogil=True)
def _occluded_kernel(lmk, alpha, threshold):  # pragma: no cover - numba
    h, w = alpha.shape
    out = np.zeros(lmk.shape[0], np.bool_)
    for k in range(lmk.shape[0]):
        x, y = lmk[k, 0], lmk[k, 1]
        if -0.5 <= x < w - 0.5 and -0.5 <= y < h - 0.5:  # nearest pixel floor(x + 0.5) inside (NaN fails)
            out[k] = alpha[int(np.floor(y + 0.5)), int(np.floor(x + 0.5))] >= threshold
    return out
