"""Writer of a small PASCAL VOC 2012 segmentation set, read by mmseg's
``PascalVOCDataset`` unchanged.

Layout (``root`` is what :func:`generate_demo_data` was given)::

    root/VOCdevkit/VOC2012/JPEGImages/<name>.jpg
    root/VOCdevkit/VOC2012/SegmentationClass/<name>.png  # 'P' PNG, VOC palette
    root/VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val}.txt

Labels are VOC ids 0..5 (background + the first five VOC classes) with 255 on
a 1-px band around every object, as in VOC. A config reads it with
``metainfo=dict(classes=DEMO_VOC_CLASSES, palette=DEMO_VOC_PALETTE)``.
"""
from pathlib import Path
from typing import Dict, Tuple

import cv2
import numpy as np

from .shapes import (Canvas, object_classes, place_objects, random_background,
                     schedule_presence, stroke_thickness)

VOC_CLASSES = ('background', 'aeroplane', 'bicycle', 'bird', 'boat', 'bottle',
               'bus', 'car', 'cat', 'chair', 'cow', 'diningtable', 'dog',
               'horse', 'motorbike', 'person', 'pottedplant', 'sheep', 'sofa',
               'train', 'tvmonitor')


def voc_colormap(n: int = 256) -> np.ndarray:
    """VOC's palette (n, 3) uint8 (bit-interleaved; id 255 is (224, 224,
    192))."""
    cmap = np.zeros((n, 3), np.uint8)
    for i in range(n):
        c, r, g, b = i, 0, 0, 0
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[i] = (r, g, b)
    return cmap


#: The K=5 object classes: a large striped ellipse, a thin bicycle of 2-3 px
#: strokes, a checkered polygon, a dotted box, and a rare small noisy blob.
VOC_OBJECT_CLASSES = object_classes(
    # name, label, shape, look, size, frequency, count
    ('aeroplane', 1, 'ellipse', 'stripes', (0.3, 0.55), 0.55, (1, 2)),
    ('bicycle', 2, 'bicycle', 'smooth', (0.45, 0.8), 0.45, (1, 2)),
    ('bird', 3, 'polygon', 'checker', (0.25, 0.5), 0.55, (1, 2)),
    ('boat', 4, 'rect', 'dots', (0.3, 0.55), 0.5, (1, 2)),
    ('bottle', 5, 'small', 'noise', (0.08, 0.14), 0.12, (1, 1)),
)
#: Class names and palette for ``metainfo=dict(classes=..., palette=...)``.
DEMO_VOC_CLASSES = VOC_CLASSES[:len(VOC_OBJECT_CLASSES) + 1]
DEMO_VOC_PALETTE = [
    list(map(int, c)) for c in voc_colormap(len(DEMO_VOC_CLASSES))
]
#: Id of the rare small class.
DEMO_VOC_RARE_CLASS = 5


def render_voc_sample(rng: np.random.Generator, width: int, height: int,
                      present) -> Tuple[np.ndarray, np.ndarray]:
    """One image (H, W, 3) uint8 RGB and its label (H, W) uint8 in {0..5,
    255}."""
    canvas = Canvas(random_background(rng, height, width), fill_label=0)
    place_objects(rng, canvas, VOC_OBJECT_CLASSES, present,
                  stroke_thickness(width, height))
    label = canvas.label.copy()
    label[canvas.occlusion_border(1)] = 255
    return canvas.to_uint8(rng), label


def _write_png_p(path: Path, label: np.ndarray, palette: bytes) -> None:
    from PIL import Image
    height, width = label.shape
    img = Image.frombytes('P', (width, height),
                          np.ascontiguousarray(label).tobytes())
    img.putpalette(palette)
    img.save(path, format='PNG', optimize=False)


def write_voc(root: Path, num_train: int, num_val: int, size: Tuple[int, int],
              rng: np.random.Generator) -> Dict[str, int]:
    """Write the VOC-layout set under ``root``; return file counts by kind."""
    width, height = size
    base = Path(root) / 'VOCdevkit' / 'VOC2012'
    img_dir, seg_dir = base / 'JPEGImages', base / 'SegmentationClass'
    list_dir = base / 'ImageSets' / 'Segmentation'
    for d in (img_dir, seg_dir, list_dir):
        d.mkdir(parents=True, exist_ok=True)
    palette = voc_colormap(256).tobytes()
    for split, num in (('train', num_train), ('val', num_val)):
        schedule = np.stack([schedule_presence(rng, num, c.frequency)
                             for c in VOC_OBJECT_CLASSES], 1)
        names = []
        for i in range(num):
            present = schedule[i].copy()
            if not present.any():
                present[int(rng.integers(len(VOC_OBJECT_CLASSES) - 1))] = True
            image, label = render_voc_sample(rng, width, height, present)
            name = f'{split}_{i:06d}'
            ok, jpg = cv2.imencode('.jpg', image[..., ::-1],
                                   [cv2.IMWRITE_JPEG_QUALITY, 92])
            assert ok
            (img_dir / f'{name}.jpg').write_bytes(jpg.tobytes())
            _write_png_p(seg_dir / f'{name}.png', label, palette)
            names.append(name)
        (list_dir / f'{split}.txt').write_text(
            ''.join(f'{n}\n' for n in names))
    total = num_train + num_val
    return {'JPEGImages': total, 'SegmentationClass': total, 'ImageSets': 2}
