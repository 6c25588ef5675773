"""The one sample record every reader yields.

Missing labels are explicit: each label has a validity mask, and invalid entries hold
zeros that must never be read as data.

Symbols: K = 68 landmarks (iBUG order, ``synth.landmarks``).
Conventions: pixels with the origin at the centre of the top-left pixel; pose in the
project convention (``synth.geometry``: yaw, pitch, roll in degrees, 300W-LP ``Pose_Para``
signs; ``rotation`` = R_cam_from_model).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, Sequence

import numpy as np

from synth.landmarks import NUM_LANDMARKS

__all__ = ["FaceSample", "LandmarkConvention", "collate_dicts"]

#: "3d": fixed model points projected, hidden ones included (AFLW2000-3D ``pt3d_68``,
#: 300W-LP, synthetic ``lmk2d``); "2d": jaw on the visible outline (300W, WFLW, synthetic
#: ``lmk2d_contour``); "sparse": only some points (AFLW 21, CelebA 5) mapped to iBUG indices.
LandmarkConvention = Literal["3d", "2d", "sparse"]


@dataclass
class FaceSample:
    """One face with whatever labels its source has.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        landmarks: (68, 2) float32 pixels; rows with ``landmark_valid`` False are 0.
        landmark_valid: (68,) bool, the landmark is labelled.
        visible: (68,) bool, the landmark is visible (not self-occluded, not covered);
            meaningful only where ``visible_valid``.
        visible_valid: (68,) bool, visibility is known.
        euler_deg: (3,) float32 yaw, pitch, roll in degrees; entries with ``euler_valid``
            False are 0 (e.g. AFLW crops give yaw only).
        euler_valid: (3,) bool.
        rotation: (3, 3) float32 R_cam_from_model, meaningful only if ``rotation_valid``
            (all three angles known).
        rotation_valid: bool.
        bbox: (4,) float32 face box x0, y0, x1, y1 (pixels); meaningful if ``bbox_valid``.
        bbox_valid: bool.
        convention: which landmark convention ``landmarks`` follow.
        source: dataset name (e.g. "aflw2000", "synthetic").
        name: sample identifier within the source (file name or index).
    """

    image: np.ndarray
    landmarks: np.ndarray = field(default_factory=lambda: np.zeros((NUM_LANDMARKS, 2), np.float32))
    landmark_valid: np.ndarray = field(default_factory=lambda: np.zeros(NUM_LANDMARKS, bool))
    visible: np.ndarray = field(default_factory=lambda: np.zeros(NUM_LANDMARKS, bool))
    visible_valid: np.ndarray = field(default_factory=lambda: np.zeros(NUM_LANDMARKS, bool))
    euler_deg: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    euler_valid: np.ndarray = field(default_factory=lambda: np.zeros(3, bool))
    rotation: np.ndarray = field(default_factory=lambda: np.eye(3, dtype=np.float32))
    rotation_valid: bool = False
    bbox: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    bbox_valid: bool = False
    convention: LandmarkConvention = "3d"
    source: str = ""
    name: str = ""

    def __post_init__(self) -> None:
        img = np.asarray(self.image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"{self.source}/{self.name}: image must be (H, W, 3) uint8 RGB, got {img.shape} {img.dtype}")
        self.landmarks = np.where(np.asarray(self.landmark_valid, bool)[:, None], np.asarray(self.landmarks, np.float32), 0).astype(np.float32)
        self.euler_deg = np.where(np.asarray(self.euler_valid, bool), np.asarray(self.euler_deg, np.float32), 0).astype(np.float32)

    def with_(self, **changes) -> "FaceSample":
        """A copy with some fields replaced (arrays are not copied)."""
        return replace(self, **changes)

    def _evolve(self, **changes) -> "FaceSample":
        """Package-internal ``with_`` without ``__post_init__``: no image check, no masking.

        ~20x cheaper than ``with_``; for the crop/augment ops, whose outputs keep the
        invariants by construction: image (H, W, 3) uint8, ``landmarks`` / ``euler_deg``
        float32 with invalid entries already 0. Arrays are shared, not copied.
        """
        unknown = changes.keys() - _FIELD_NAMES
        if unknown:
            raise TypeError(f"FaceSample has no field(s) {sorted(unknown)}")
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.update(changes)
        return new

    def to_dict(self) -> dict:
        """Plain dict of arrays (for ``collate_dicts`` or a DataLoader's default collate); strings stay strings."""
        return {
            "image": self.image, "landmarks": self.landmarks, "landmark_valid": self.landmark_valid,
            "visible": self.visible, "visible_valid": self.visible_valid, "euler_deg": self.euler_deg,
            "euler_valid": self.euler_valid, "rotation": self.rotation, "rotation_valid": np.bool_(self.rotation_valid),
            "bbox": self.bbox, "bbox_valid": np.bool_(self.bbox_valid), "convention": self.convention,
            "source": self.source, "name": self.name,
        }


_FIELD_NAMES = frozenset(f.name for f in fields(FaceSample))


def collate_dicts(batch: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """DataLoader ``collate_fn`` for ``FaceSample.to_dict`` outputs: ``default_collate``'s result, faster.

    Same keys, types, dtypes and shapes as ``torch.utils.data.default_collate`` (a test pins
    it): each array field (and the numpy bool scalars) becomes one (B, ...) tensor, strings a
    list of B strings. It stacks each field with one ``np.stack`` instead of converting the
    B arrays to tensors one by one (~1 us instead of ~80 us a sample at 14 fields).

    In a DataLoader worker the stacks go straight into shared memory, as ``default_collate``
    does, so handing a batch to the main process copies nothing; but into ONE shared block
    for the whole batch (the tensors are views of it at 64-byte aligned offsets), where
    ``default_collate`` makes one per field. Each block is a file descriptor that the main
    process receives and maps: with 14 fields, one block instead of 14 cut the main
    process's CPU from ~120 to ~45 us a sample (2 workers, 128 px), which on 2 cores is
    time the workers get back.
    """
    import torch
    from torch.utils.data import get_worker_info

    out: dict[str, Any] = {}
    arrays: list[tuple[str, list[np.ndarray], np.dtype, tuple[int, ...]]] = []
    for key, first in batch[0].items():
        if isinstance(first, str):
            out[key] = [d[key] for d in batch]
        else:
            out[key] = None  # keeps the key order; filled below
            first = np.asarray(first)
            arrays.append((key, [d[key] for d in batch], first.dtype, (len(batch), *first.shape)))
    if get_worker_info() is None:
        for key, values, _, _ in arrays:
            out[key] = torch.from_numpy(np.stack(values))
        return out
    offsets, total = [], 0
    for _, _, dtype, shape in arrays:
        offsets.append(total)
        total += -(-math.prod(shape) * dtype.itemsize // _ALIGN) * _ALIGN
    block = torch.empty(0, dtype=torch.uint8).set_(torch.UntypedStorage._new_shared(max(total, 1)))
    for (key, values, dtype, shape), start in zip(arrays, offsets):
        t = block[start:start + math.prod(shape) * dtype.itemsize].view(torch.from_numpy(np.empty(0, dtype)).dtype)
        t = t.view(shape)
        np.stack(values, out=t.numpy())
        out[key] = t
    return out


#: byte alignment of the fields in a worker's shared batch block
_ALIGN = 64
