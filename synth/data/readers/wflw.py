"""WFLW (Wu et al., "Look at Boundary", CVPR 2018): 98 points, a face box and 6 attribute flags per face.

Layout::

    root/WFLW_images/<event folder>/<image>.jpg
    root/WFLW_annotations/list_98pt_rect_attr_train_test/list_98pt_rect_attr_{train,test}.txt

One face per annotation line, whitespace separated, 207 fields: 196 floats (x0 y0 ... x97 y97),
4 ints (x_min y_min x_max y_max), 6 flags 0/1 (pose, expression, illumination, make-up,
occlusion, blur), the image path relative to ``WFLW_images``. An image with several faces
has several lines; the sample name is ``<path>#<line number>``.

Conversion
    The 98 points are mapped to iBUG 68 by ``_WFLW_TO_IBUG`` below: the mapping used by
    the AdaptiveWingLoss code (Wang et al., ICCV 2019; ``DLIB_68_TO_WFLW_98_IDX_MAPPING``)
    and many repositories after it. The mirror symmetry it induces agrees with
    ``FLIP_PERMUTATION`` and WFLW's own mirror pairs (mmpose ``datasets/wflw.py``), pinned by
    a test. Coordinates are used as written (WFLW states no pixel origin; the common loaders
    treat them as 0-based). Convention "2d"; all 68 mapped points valid; pose and visibility
    unknown; bbox = the annotated rectangle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synth.data.readers import FaceReader, read_image_rgb, register_reader
from synth.data.record import FaceSample
from synth.errors import UserError
from synth.landmarks import LANDMARK_NAMES, NUM_LANDMARKS, group_indices, landmark_index

__all__ = ["WflwReader", "WFLW_ATTRIBUTES", "WFLW98_FOR_IBUG68", "NUM_WFLW_POINTS"]

NUM_WFLW_POINTS = 98
#: The 6 attribute flags, in file order.
WFLW_ATTRIBUTES: tuple[str, ...] = ("pose", "expression", "illumination", "make_up", "occlusion", "blur")
_NUM_FIELDS = 2 * NUM_WFLW_POINTS + 4 + len(WFLW_ATTRIBUTES) + 1

# WFLW numbering: 0-32 contour from the subject's right temple to the left; 33-41 right brow
# (33-37 upper edge outer->inner, 38-41 lower edge inner->outer); 42-50 left brow (42-46
# upper edge inner->outer, 47-50 lower edge); 51-54 nose bridge; 55-59 lower nose right->left;
# 60-67 right eye (60 outer corner, 61-63 upper lid, 64 inner corner, 65-67 lower lid);
# 68-75 left eye (68 inner corner, 69-71 upper lid, 72 outer corner, 73-75 lower lid);
# 76-87 outer lip, 88-95 inner lip (iBUG order); 96, 97 pupils (right, left).
#: (WFLW index, iBUG name) for every iBUG point.
_WFLW_TO_IBUG: tuple[tuple[int, str], ...] = (
    # Contour: 33 points -> 17, every second one.
    *((2 * k, f"jaw_{k:02d}") for k in range(17)),
    # Brows: the upper edge; the lower-edge points 38-41, 47-50 have no iBUG counterpart.
    (33, "r_brow_outer"), (34, "r_brow_mid_outer"), (35, "r_brow_mid"), (36, "r_brow_mid_inner"), (37, "r_brow_inner"),
    (42, "l_brow_inner"), (43, "l_brow_mid_inner"), (44, "l_brow_mid"), (45, "l_brow_mid_outer"), (46, "l_brow_outer"),
    # Nose: one to one.
    (51, "nose_bridge_0"), (52, "nose_bridge_1"), (53, "nose_bridge_2"), (54, "nose_bridge_3"),
    (55, "r_nostril_outer"), (56, "r_nostril_inner"), (57, "nose_base"), (58, "l_nostril_inner"), (59, "l_nostril_outer"),
    # Eyes: corners and the outer/inner lid points; the mid-lid points 62, 66, 70, 74 are dropped.
    (60, "r_eye_outer"), (61, "r_eye_upper_outer"), (63, "r_eye_upper_inner"),
    (64, "r_eye_inner"), (65, "r_eye_lower_inner"), (67, "r_eye_lower_outer"),
    (68, "l_eye_inner"), (69, "l_eye_upper_inner"), (71, "l_eye_upper_outer"),
    (72, "l_eye_outer"), (73, "l_eye_lower_outer"), (75, "l_eye_lower_inner"),
    # Mouth: 76-95 are iBUG 48-67 in the same order.
    *zip(range(76, 96), (LANDMARK_NAMES[i] for i in group_indices("outer_lip", "inner_lip"))),
    # Pupils 96, 97: none.
)


def _build_index() -> np.ndarray:
    out = np.full(NUM_LANDMARKS, -1, np.int64)
    for w, name in _WFLW_TO_IBUG:
        out[landmark_index(name)] = w
    if np.any(out < 0) or len(set(out.tolist())) != NUM_LANDMARKS:
        raise RuntimeError("WFLW -> iBUG table must give every iBUG point exactly one distinct WFLW point")
    out.setflags(write=False)
    return out


#: (68,) int64: ``lmk68 = lmk98[WFLW98_FOR_IBUG68]``.
WFLW98_FOR_IBUG68: np.ndarray = _build_index()


@register_reader("wflw")
class WflwReader(FaceReader):
    """WFLW faces, 98 points mapped to iBUG 68, attribute flags kept.

    Args:
        root: the WFLW folder (holding ``WFLW_images/`` and ``WFLW_annotations/``).
        split: "train" or "test" (picks the standard annotation file).
        annotation: another annotation file (relative to ``root`` or absolute), e.g. one of
            the ``list_98pt_test_*.txt`` subsets in the same 207-field format; overrides ``split``.
        images_dir: image folder relative to ``root``.
        skip_bad: log and skip malformed lines, missing or unreadable images.

    Attributes:
        landmarks98_px: (N, 98, 2) float32, the points as annotated.
        bbox_px: (N, 4) float32 x_min, y_min, x_max, y_max.
        attribute_flags: (N, 6) bool in ``WFLW_ATTRIBUTES`` order.
    """

    source = "wflw"

    def __init__(self, root: str | Path, *, split: str = "train", annotation: str | Path | None = None,
                 images_dir: str = "WFLW_images", skip_bad: bool = False) -> None:
        super().__init__(root, skip_bad=skip_bad)
        if annotation is None:
            if split not in ("train", "test"):
                raise UserError(f"WFLW split must be 'train' or 'test', got {split!r}")
            annotation = Path("WFLW_annotations") / "list_98pt_rect_attr_train_test" / f"list_98pt_rect_attr_{split}.txt"
        ann = Path(annotation) if Path(annotation).is_absolute() else self.root / annotation
        if not ann.is_file():
            raise UserError(f"{ann}: WFLW annotation file does not exist; expected {_NUM_FIELDS}-field lines (98 points, box, 6 flags, image path)")
        self.annotation = ann
        image_root = self.root / images_dir
        pts, boxes, flags = [], [], []
        for no, line in enumerate(ann.read_text(encoding="utf-8").splitlines(), start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != _NUM_FIELDS:
                self._bad(f"{ann}:{no}: expected {_NUM_FIELDS} fields (196 point coordinates, 4 box, 6 flags, image path), got {len(fields)}")
                continue
            try:
                p = np.array(fields[: 2 * NUM_WFLW_POINTS], np.float64).reshape(NUM_WFLW_POINTS, 2)
                box = np.array(fields[2 * NUM_WFLW_POINTS: 2 * NUM_WFLW_POINTS + 4], np.float64)
                f = np.array([int(v) for v in fields[2 * NUM_WFLW_POINTS + 4: -1]])
            except ValueError:
                self._bad(f"{ann}:{no}: expected numbers in the first {_NUM_FIELDS - 1} fields (points, box, 0/1 flags)")
                continue
            if not (np.all(np.isfinite(p)) and np.all(np.isin(f, (0, 1)))):
                self._bad(f"{ann}:{no}: expected finite points and 0/1 attribute flags, got flags {f.tolist()}")
                continue
            image = image_root / fields[-1]
            if not image.is_file():
                self._bad(f"{ann}:{no}: image {image} does not exist")
                continue
            self._items.append((str(image), f"{fields[-1]}#{no}"))
            pts.append(p)
            boxes.append(box)
            flags.append(f.astype(bool))
        self.landmarks98_px = np.asarray(pts, np.float32).reshape(-1, NUM_WFLW_POINTS, 2)
        self.bbox_px = np.asarray(boxes, np.float32).reshape(-1, 4)
        self.attribute_flags = np.asarray(flags, bool).reshape(-1, len(WFLW_ATTRIBUTES))

    def attributes(self, i: int) -> dict[str, bool]:
        """The 6 WFLW attribute flags of sample ``i`` by name (``WFLW_ATTRIBUTES``)."""
        return {name: bool(v) for name, v in zip(WFLW_ATTRIBUTES, self.attribute_flags[i])}

    def subset(self, attribute: str) -> np.ndarray:
        """Indices (int64, ascending) of the samples with ``attribute`` set (e.g. "pose", "occlusion")."""
        if attribute not in WFLW_ATTRIBUTES:
            raise KeyError(f"unknown WFLW attribute {attribute!r}; expected one of {WFLW_ATTRIBUTES}")
        return np.flatnonzero(self.attribute_flags[:, WFLW_ATTRIBUTES.index(attribute)]).astype(np.int64)

    def _load(self, i: int) -> FaceSample:
        image_path, name = self._items[i]
        return FaceSample(
            image=read_image_rgb(Path(image_path)),
            landmarks=self.landmarks98_px[i][WFLW98_FOR_IBUG68],
            landmark_valid=np.ones(NUM_LANDMARKS, bool),
            bbox=self.bbox_px[i],
            bbox_valid=True,
            convention="2d",
            source=self.source,
            name=name,
        )
