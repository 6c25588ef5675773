"""CelebA (Liu et al., ICCV 2015): 5 landmarks per face, boxes for the in-the-wild images.

Layout: the official one (``Anno/``, ``Eval/``, ``Img/``) or everything in ``root`` (as
torchvision's ``celeba/`` folder)::

    list_landmarks_align_celeba.txt   aligned 178x218 images (img_align_celeba/)
    list_landmarks_celeba.txt         in-the-wild images (img_celeba/)
    list_bbox_celeba.txt              boxes, in-the-wild images only
    list_eval_partition.txt           "NAME 0|1|2" = train / valid / test (optional)

Landmark files: line 1 the count, line 2 the 10 column names (``lefteye_x lefteye_y
righteye_x ... rightmouth_y``), then ``NAME x1 y1 ... x5 y5`` (integer pixels, used as
0-based). Box file: count, ``image_id x_1 y_1 width height``, then one line per image.

Left and right
    CelebA's "left" is the *image's* left: in the first aligned row (000001.jpg: lefteye
    (69, 109), righteye (106, 113)) ``lefteye_x < righteye_x`` for a frontal face. So
    ``lefteye`` is the subject's right eye and ``leftmouth`` the subject's right mouth corner.

Mapping to iBUG 68 (convention "sparse"), by name:
    nose -> ``nose_bridge_3`` (30, the nose tip), leftmouth -> ``r_mouth_corner`` (48),
    rightmouth -> ``l_mouth_corner`` (54). The eye *centres* have no iBUG counterpart (iBUG
    marks corners and lids) and are not put in ``FaceSample``: ``reader.five_points(i)``
    returns all 5 points in file order. Pose and visibility unknown. bbox: from
    ``list_bbox_celeba.txt`` for the in-the-wild images; none for the aligned ones (the box
    file is in in-the-wild coordinates).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from synth.data.readers import FaceReader, read_image_rgb, register_reader
from synth.data.record import FaceSample
from synth.errors import UserError
from synth.landmarks import NUM_LANDMARKS, landmark_index

__all__ = ["CelebAReader", "CELEBA_POINTS", "CELEBA_TO_IBUG"]

#: The 5 CelebA points in file order ("left" = the image's left).
CELEBA_POINTS: tuple[str, ...] = ("lefteye", "righteye", "nose", "leftmouth", "rightmouth")
#: CelebA point -> iBUG name, or None where iBUG has no counterpart.
CELEBA_TO_IBUG: dict[str, str | None] = {
    "lefteye": None,  # subject's right eye centre: iBUG has corners and lids only
    "righteye": None,  # subject's left eye centre
    "nose": "nose_bridge_3",  # nose tip (iBUG 30)
    "leftmouth": "r_mouth_corner",  # image-left corner = subject's right (iBUG 48)
    "rightmouth": "l_mouth_corner",  # iBUG 54
}
_COLUMNS = [f"{p}_{c}" for p in CELEBA_POINTS for c in "xy"]
_SPLITS = {"train": 0, "valid": 1, "test": 2}


def _find(root: Path, name: str, subdirs: tuple[str, ...]) -> Path | None:
    return next((root / d / name for d in subdirs if (root / d / name).exists()), None)


@register_reader("celeba")
class CelebAReader(FaceReader):
    """CelebA, 3 of its 5 points mapped to iBUG 68, all 5 via ``five_points``.

    Args:
        root: the CelebA folder.
        aligned: True: ``img_align_celeba`` + ``list_landmarks_align_celeba.txt``; False:
            ``img_celeba`` + ``list_landmarks_celeba.txt`` + ``list_bbox_celeba.txt``.
        split: None (all), "train", "valid" or "test" (needs ``list_eval_partition.txt``).
        skip_bad: log and skip malformed lines, missing or unreadable images.

    Attributes:
        points5_px: (N, 5, 2) float32 in ``CELEBA_POINTS`` order.
        bbox_px: (N, 4) float32 x0, y0, x1, y1 (zeros when aligned).
    """

    source = "celeba"

    def __init__(self, root: str | Path, *, aligned: bool = True, split: str | None = None, skip_bad: bool = False) -> None:
        super().__init__(root, skip_bad=skip_bad)
        self.aligned = bool(aligned)
        lmk_name = "list_landmarks_align_celeba.txt" if aligned else "list_landmarks_celeba.txt"
        img_name = "img_align_celeba" if aligned else "img_celeba"
        lmk_file = _find(self.root, lmk_name, ("", "Anno"))
        image_dir = _find(self.root, img_name, ("", "Img"))
        if lmk_file is None or image_dir is None:
            raise UserError(f"{self.root}: expected {lmk_name} (in it or Anno/) and {img_name}/ (in it or Img/)")
        rows = self._read_table(lmk_file, _COLUMNS)
        boxes: dict[str, np.ndarray] = {}
        if not aligned:
            box_file = _find(self.root, "list_bbox_celeba.txt", ("", "Anno"))
            if box_file is None:
                raise UserError(f"{self.root}: expected list_bbox_celeba.txt (in it or Anno/) for the in-the-wild images")
            boxes = {n: v for n, v, _ in self._read_table(box_file, ["x_1", "y_1", "width", "height"], with_id=True)}
        keep: set[str] | None = None
        if split is not None:
            if split not in _SPLITS:
                raise UserError(f"CelebA split must be one of {sorted(_SPLITS)} or None, got {split!r}")
            part = _find(self.root, "list_eval_partition.txt", ("", "Eval", "Anno"))
            if part is None:
                raise UserError(f"{self.root}: split={split!r} needs list_eval_partition.txt (in it, Eval/ or Anno/)")
            keep = set()
            for no, line in enumerate(part.read_text().splitlines(), start=1):
                f = line.split()
                if not f:
                    continue
                if len(f) != 2 or f[1] not in ("0", "1", "2"):
                    raise UserError(f"{part}:{no}: expected 'NAME 0|1|2', got {line[:60]!r}")
                if int(f[1]) == _SPLITS[split]:
                    keep.add(f[0])
        present = set(os.listdir(image_dir))
        pts, bbs = [], []
        for name, values, no in rows:
            if keep is not None and name not in keep:
                continue
            if name not in present:
                self._bad(f"{lmk_file}:{no}: image {image_dir / name} does not exist")
                continue
            if not aligned:
                if name not in boxes:
                    self._bad(f"{lmk_file}:{no}: {name} has no line in list_bbox_celeba.txt")
                    continue
                x, y, w, h = boxes[name]
                bbs.append((x, y, x + w, y + h))
            else:
                bbs.append((0, 0, 0, 0))
            self._items.append((str(image_dir / name), name))
            pts.append(values.reshape(5, 2))
        self.points5_px = np.asarray(pts, np.float32).reshape(-1, 5, 2)
        self.bbox_px = np.asarray(bbs, np.float32).reshape(-1, 4)

    def _read_table(self, path: Path, columns: list[str], with_id: bool = False) -> list[tuple[str, np.ndarray, int]]:
        """Rows (name, values (len(columns),) float64, line number) of a CelebA list file."""
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) < 2:
            raise UserError(f"{path}: expected 2 header lines (count, column names), got {len(lines)} lines")
        try:
            count = int(lines[0].strip())
        except ValueError:
            raise UserError(f"{path}:1: expected the number of images, got {lines[0][:40]!r}") from None
        header = lines[1].split()
        expected = (["image_id"] if with_id else []) + columns
        if header != expected:
            raise UserError(f"{path}:2: expected columns {' '.join(expected)!r}, got {' '.join(header)[:80]!r}")
        rows = []
        n_data = 0
        for no, line in enumerate(lines[2:], start=3):
            f = line.split()
            if not f:
                continue
            n_data += 1
            if len(f) != len(columns) + 1:
                self._bad(f"{path}:{no}: expected {len(columns) + 1} fields (name, {' '.join(columns)}), got {len(f)}")
                continue
            try:
                rows.append((f[0], np.array(f[1:], np.float64), no))
            except ValueError:
                self._bad(f"{path}:{no}: expected numbers after the image name, got {' '.join(f[1:])[:60]!r}")
        if n_data != count:
            self._bad(f"{path}:1: header says {count} images but the file has {n_data} lines (truncated?)")
        return rows

    def five_points(self, i: int) -> np.ndarray:
        """(5, 2) float32 pixels of sample ``i`` in ``CELEBA_POINTS`` order (eye centres included)."""
        return self.points5_px[i].copy()

    def _load(self, i: int) -> FaceSample:
        image_path, name = self._items[i]
        lmk = np.zeros((NUM_LANDMARKS, 2), np.float32)
        valid = np.zeros(NUM_LANDMARKS, bool)
        for k, p in enumerate(CELEBA_POINTS):
            target = CELEBA_TO_IBUG[p]
            if target is not None:
                lmk[landmark_index(target)] = self.points5_px[i, k]
                valid[landmark_index(target)] = True
        return FaceSample(
            image=read_image_rgb(Path(image_path)),
            landmarks=lmk,
            landmark_valid=valid,
            bbox=self.bbox_px[i],
            bbox_valid=not self.aligned,
            convention="sparse",
            source=self.source,
            name=name,
        )
