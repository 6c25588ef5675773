"""The square face crop used for every source, so synthetic and real crops match in scale and centring.

Symbols: K = 68 landmarks, S = ``out_size``.

Convention: pixel coordinates with the origin at the *centre* of the top-left pixel
(``synth.geometry``): pixel i covers [i - 0.5, i + 0.5]. A crop box of side ``side`` with
left/top edges (x0, y0) maps a source point p to

    p_crop = (p - (x0, y0)) * S / side - 0.5

(the box edge x0 goes to the crop's edge -0.5, so the box centre goes to (S - 1) / 2). That
is one similarity (translate + scale), applied by ``cv2.warpAffine`` to the image (which
samples with the same pixel-centre convention) and by ``apply_affine_to_points`` to the
landmarks and the bbox, so a landmark on a pixel's centre lands on the centre of the
pixel that pixel moved to. A crop does not change the pose (the labels are weak-perspective
rotations, see ``synth.data.augment`` for what an in-plane rotation does).

Default margin: ``DEFAULT_MARGIN = 1.4`` x the larger side of the landmark box. The 68
landmarks span brows to chin and jaw end to jaw end, so 1.4 leaves room for the forehead
and the ears, with little background. It also lies inside the synthetic renders' own
framing (``synth.framing.CropConfig.scale`` >= 1.25 x the landmarks' bounding-sphere
diameter, which is about 1.1-1.15 x the frontal landmark-box side, i.e. >= ~1.4 box sides),
so re-cropping a synthetic sample with the default needs (almost) no padding, while a real
image cropped the same way gets the same framing.

Border: ``"replicate"`` by default: a constant (black) border would be a cue that only real
crops at the image edge carry (the synthetic renders have background everywhere) and its
straight edges look like face outlines; replicated pixels carry no new edges.

Downscaling by more than ~1.25x is anti-aliased: the source region is Gaussian-blurred with
sigma = (1/scale - 1) / 2 source pixels (scikit-image's ``rescale`` rule) before the warp.
The blur does not move anything, so the warp stays the one affine above.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numba
import numpy as np

from synth.data.record import FaceSample

__all__ = ["DEFAULT_MARGIN", "BorderMode", "face_crop", "crop_square", "crop_affine",
           "apply_affine_to_points", "warp_image", "warp_labels", "warp_sample"]

DEFAULT_MARGIN = 1.4
BorderMode = Literal["replicate", "constant"]
_BORDERS = {"replicate": cv2.BORDER_REPLICATE, "constant": cv2.BORDER_CONSTANT}
#: blur only when sigma exceeds this (scale below ~0.67); smaller sigmas change little
_MIN_AA_SIGMA = 0.25


def crop_square(sample: FaceSample, margin: float = DEFAULT_MARGIN,
                from_: Literal["landmarks", "bbox"] = "landmarks") -> tuple[np.ndarray, float]:
    """Centre (2,) and side (pixels) of the square crop: the landmark box or bbox centre, side = margin * max(w, h).

    Only valid landmarks count. Raises ValueError when the chosen source is missing.
    """
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    if from_ == "landmarks":
        x0, y0, x1, y1 = _valid_box(sample.landmarks, np.asarray(sample.landmark_valid, np.bool_))
        if not x0 <= x1:  # NaN: no valid landmark
            raise ValueError(f"{sample.source}/{sample.name}: no valid landmark to crop around; use from_='bbox'")
    elif from_ == "bbox":
        if not sample.bbox_valid:
            raise ValueError(f"{sample.source}/{sample.name}: bbox is not valid; use from_='landmarks'")
        x0, y0, x1, y1 = sample.bbox.tolist()
    else:
        raise ValueError(f"from_ must be 'landmarks' or 'bbox', got {from_!r}")
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    side = margin * max(x1 - x0, y1 - y0)
    return centre, max(side, 1.0)


@numba.njit(cache=True, nogil=True)
def _valid_box(pts, valid):  # pragma: no cover - numba
    """(x0, y0, x1, y1) extent of the valid (N, 2) points; NaNs when none is valid."""
    x0, y0, x1, y1 = np.inf, np.inf, -np.inf, -np.inf
    for i in range(pts.shape[0]):
        if valid[i]:
            x, y = np.float64(pts[i, 0]), np.float64(pts[i, 1])
            x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
    if x0 > x1:
        return np.nan, np.nan, np.nan, np.nan
    return x0, y0, x1, y1


def crop_affine(centre: np.ndarray, side: float, out_size: int) -> np.ndarray:
    """(2, 3) float64 ``crop_from_src``: the square of ``side`` centred on ``centre`` -> S x S pixels."""
    s = out_size / side
    x0, y0 = centre[0] - side / 2, centre[1] - side / 2
    return np.array([[s, 0.0, -x0 * s - 0.5], [0.0, s, -y0 * s - 0.5]])


def apply_affine_to_points(A_dst_from_src: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """(..., 2) points (pixels) -> (..., 2) float32 under the (2, 3) affine."""
    pts = np.asarray(pts, np.float64)
    return (pts @ A_dst_from_src[:, :2].T + A_dst_from_src[:, 2]).astype(np.float32)


def _warp_image(img: np.ndarray, A: np.ndarray, size_wh: tuple[int, int], border: int,
                border_value: tuple[int, int, int]) -> np.ndarray:
    """``cv2.warpAffine`` (bilinear) of an (H, W, C) image; 3-channel uint8 goes through RGBA.

    OpenCV's bilinear remap has a vector path for 4 channels but not for 3: padding to RGBA,
    warping and dropping alpha gives the same bytes (channels are independent) in ~0.55x the time.
    """
    if img.ndim == 3 and img.shape[2] == 3 and img.dtype == np.uint8:
        rgba = cv2.warpAffine(cv2.cvtColor(img, cv2.COLOR_RGB2RGBA), A, size_wh, flags=cv2.INTER_LINEAR,
                              borderMode=border, borderValue=(*border_value, 0))
        return cv2.cvtColor(rgba, cv2.COLOR_RGBA2RGB)
    return cv2.warpAffine(img, A, size_wh, flags=cv2.INTER_LINEAR, borderMode=border, borderValue=border_value)


def warp_image(img: np.ndarray, A_dst_from_src: np.ndarray, out_size: tuple[int, int],
               border: BorderMode = "replicate", border_value: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """(H, W, 3) uint8 image -> (h_out, w_out, 3) under the (2, 3) affine (bilinear, anti-aliased
    when it shrinks by more than ~1.5x: see the module doc). ``out_size``: (w_out, h_out)."""
    w_out, h_out = int(out_size[0]), int(out_size[1])
    A = np.asarray(A_dst_from_src, np.float64)
    scale = abs(float(A[0, 0] * A[1, 1] - A[0, 1] * A[1, 0])) ** 0.5  # sqrt |det| of the linear part
    sigma = (1.0 / scale - 1.0) / 2.0 if scale > 0 else 0.0
    if sigma > _MIN_AA_SIGMA:
        # blur only the source region the output reads from (plus the kernel's reach)
        A_inv = cv2.invertAffineTransform(A)
        corners = np.array([[-0.5, -0.5], [w_out - 0.5, -0.5], [-0.5, h_out - 0.5], [w_out - 0.5, h_out - 0.5]])
        src = apply_affine_to_points(A_inv, corners)
        pad = int(np.ceil(3 * sigma)) + 2
        x0 = max(int(np.floor(src[:, 0].min())) - pad, 0)
        y0 = max(int(np.floor(src[:, 1].min())) - pad, 0)
        x1 = min(int(np.ceil(src[:, 0].max())) + pad + 1, img.shape[1])
        y1 = min(int(np.ceil(src[:, 1].max())) + pad + 1, img.shape[0])
        if x1 > x0 and y1 > y0:
            img = cv2.GaussianBlur(np.ascontiguousarray(img[y0:y1, x0:x1]), (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
            A = A.copy()
            A[:, 2] += A[:, :2] @ np.array([x0, y0], np.float64)  # ROI pixel (0, 0) is source (x0, y0)
    return _warp_image(img, A, (w_out, h_out), _BORDERS[border], border_value)


def warp_labels(sample: FaceSample, A_dst_from_src: np.ndarray, out_size: tuple[int, int]) -> FaceSample:
    """``warp_sample``'s labels: landmarks, visibility and bbox moved by the (2, 3) affine; the
    image is left as it is (the caller warps it, see ``warp_image``). ``out_size``: (w_out, h_out)."""
    w_out, h_out = out_size
    A = np.asarray(A_dst_from_src, np.float64)
    lmk, visible = _warp_points(sample.landmarks, np.asarray(sample.landmark_valid, np.bool_),
                                np.asarray(sample.visible, np.bool_), A, float(w_out), float(h_out))
    bbox = sample.bbox
    if sample.bbox_valid:
        (a, b, c), (d, e, f) = A.tolist()
        x0, y0, x1, y1 = sample.bbox.tolist()
        xs = [a * x + b * y + c for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
        ys = [d * x + e * y + f for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
        bbox = np.array([min(xs), min(ys), max(xs), max(ys)], np.float32)
    return sample._evolve(landmarks=lmk, visible=visible, bbox=bbox)


@numba.njit(cache=True, nogil=True)
def _warp_points(pts, valid, visible, A, w_out, h_out):  # pragma: no cover - numba
    """Landmarks through the (2, 3) affine -> ((N, 2) float32, (N,) visible): a valid point
    leaving the output ([-0.5, W - 0.5) x [-0.5, H - 0.5)) becomes not visible; unlabelled
    rows stay 0 (the affine would move them off the origin) and keep their visibility."""
    n = pts.shape[0]
    out = np.zeros((n, 2), np.float32)
    vis = visible.copy()
    for i in range(n):
        if not valid[i]:
            continue
        x, y = np.float64(pts[i, 0]), np.float64(pts[i, 1])
        u = A[0, 0] * x + A[0, 1] * y + A[0, 2]
        v = A[1, 0] * x + A[1, 1] * y + A[1, 2]
        out[i, 0], out[i, 1] = u, v
        fu, fv = np.float32(u), np.float32(v)  # the inside test on the stored float32 values
        vis[i] = visible[i] and fu >= -0.5 and fu < w_out - 0.5 and fv >= -0.5 and fv < h_out - 0.5
    return out, vis


def warp_sample(sample: FaceSample, A_dst_from_src: np.ndarray, out_size: tuple[int, int],
                border: BorderMode = "replicate", border_value: tuple[int, int, int] = (0, 0, 0)) -> FaceSample:
    """Warp image, landmarks and bbox by one (2, 3) affine; pose and other labels unchanged.

    Args:
        A_dst_from_src: (2, 3) affine, source pixels -> output pixels (pixel-centre origin).
        out_size: (width, height) of the output.

    Landmarks that leave the output become not visible (``visible`` False); ``visible_valid``
    is left as it was (a source without visibility labels does not get one-sided labels).
    The bbox becomes the extent of its four moved corners. The caller updates the pose if
    the affine rotates (``synth.data.augment``).
    """
    size = (int(out_size[0]), int(out_size[1]))
    return warp_labels(sample, A_dst_from_src, size)._evolve(
        image=warp_image(sample.image, A_dst_from_src, size, border, border_value))


def face_crop(
    sample: FaceSample,
    out_size: int,
    margin: float = DEFAULT_MARGIN,
    from_: Literal["landmarks", "bbox"] = "landmarks",
    jitter: tuple[np.random.Generator, tuple[float, float], float] | None = None,
    border: BorderMode = "replicate",
) -> FaceSample:
    """Crop a square around the face and resample it to ``out_size`` x ``out_size``.

    Args:
        sample: any source's FaceSample; landmarks and bbox in its image's pixels.
        out_size: S, output side in pixels.
        margin: crop side / the larger side of the landmark box (or bbox); see
            ``DEFAULT_MARGIN`` for the default's reasoning.
        from_: centre and size from the box of the valid landmarks, or from ``bbox``.
        jitter: ``(rng, (scale_lo, scale_hi), shift_frac)``: side *= U(scale_lo, scale_hi),
            centre += U(-shift_frac, shift_frac) * side in x and y (after the scale).
        border: ``"replicate"`` (default, see the module doc) or ``"constant"`` (black).

    Returns:
        a FaceSample with an (S, S, 3) image, landmarks and bbox in crop pixels (origin at
        the top-left pixel's centre), visibility cleared for landmarks outside the crop,
        pose unchanged.
    """
    if int(out_size) < 1:
        raise ValueError(f"out_size must be a positive number of pixels, got {out_size}")
    centre, side = crop_square(sample, margin, from_)
    if jitter is not None:
        rng, (lo, hi), shift_frac = jitter
        if not 0 < lo <= hi:
            raise ValueError(f"jitter scale range must satisfy 0 < lo <= hi, got {(lo, hi)}")
        u = rng.random(3)
        side *= lo + u[0] * (hi - lo)
        centre = centre + (2 * u[1:] - 1) * shift_frac * side
    A = crop_affine(centre, side, int(out_size))
    return warp_sample(sample, A, (int(out_size), int(out_size)), border)
