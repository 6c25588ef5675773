"""A plain folder of face images without labels (for self-supervised pretraining).

Every ``.jpg .jpeg .png .bmp .webp`` file under ``root`` (recursive, any letter case),
sorted by relative path. All label masks are False; the name is the relative path.
"""

from __future__ import annotations

from pathlib import Path

from synth.data.readers import FaceReader, read_image_rgb, register_reader
from synth.data.record import FaceSample
from synth.errors import UserError

__all__ = ["ImageFolderReader", "IMAGE_EXTENSIONS"]

IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@register_reader("image_folder")
class ImageFolderReader(FaceReader):
    """Unlabelled images: every image file under ``root``.

    Args:
        root: the folder (searched recursively).
        skip_bad: at read time, log an unreadable image and yield the next readable one.
    """

    source = "image_folder"

    def __init__(self, root: str | Path, *, skip_bad: bool = False) -> None:
        super().__init__(root, skip_bad=skip_bad)
        files = sorted(p for p in self.root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
        if not files:
            raise UserError(f"{self.root}: no images found; expected files ending in {' '.join(IMAGE_EXTENSIONS)}")
        self._items = [(str(p), str(p.relative_to(self.root))) for p in files]

    def _load(self, i: int) -> FaceSample:
        image_path, name = self._items[i]
        return FaceSample(image=read_image_rgb(Path(image_path)), convention="2d", source=self.source, name=name)
