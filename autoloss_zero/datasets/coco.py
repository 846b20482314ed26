"""Writer of a small COCO 2017-format set, read by mmdet's and mmpose's
``CocoDataset`` unchanged.

Layout (``root`` is what :func:`generate_demo_data` was given)::

    root/{train,val}2017/<image id:012d>.jpg
    root/annotations/instances_{train,val}2017.json
    root/annotations/person_keypoints_{train,val}2017.json

Instances carry boxes, areas and visible-part masks: polygons, or a
compressed RLE where polygons would misdescribe the mask (holes, 2-px
strokes); crowds (``iscrowd=1``, a flock of tiny birds) use uncompressed RLE
as in COCO. Boxes and areas are computed from the stored segmentation, so a
decoded mask and its box agree exactly. Persons are stick figures whose 17
keypoints lie on drawn joints: ``v=2`` on the person's annotated visible mask,
``v=1`` inside the image but occluded, ``v=0`` (and x=y=0) outside the image.
"""
import json
from pathlib import Path
from typing import Dict, List, Tuple

import cv2
import numpy as np

from .figures import COCO_KEYPOINTS, COCO_SKELETON, draw_figure
from .shapes import (Canvas, object_classes, random_background,
                     render_texture, schedule_presence, shape_mask,
                     stroke_thickness)

DEMO_COCO_CATEGORIES = (
    {'supercategory': 'person', 'id': 1, 'name': 'person'},
    {'supercategory': 'vehicle', 'id': 2, 'name': 'bicycle'},
    {'supercategory': 'vehicle', 'id': 3, 'name': 'car'},
    {'supercategory': 'animal', 'id': 16, 'name': 'bird'},
    {'supercategory': 'kitchen', 'id': 44, 'name': 'bottle'},
)
#: ``metainfo=dict(classes=DEMO_COCO_CLASSES, palette=DEMO_COCO_PALETTE)``.
DEMO_COCO_CLASSES = tuple(c['name'] for c in DEMO_COCO_CATEGORIES)
DEMO_COCO_PALETTE = [(220, 20, 60), (119, 11, 32), (0, 0, 142), (165, 42, 42),
                     (197, 226, 255)]  # mmdet's COCO colours of these classes
DEMO_COCO_RARE_CLASS = 'bottle'

COCO_OBJECT_CLASSES = object_classes(
    # name, category id, shape, look, size, frequency, count
    ('bicycle', 2, 'bicycle', 'smooth', (0.3, 0.5), 0.35, (1, 2)),
    ('car', 3, 'rect', 'dots', (0.25, 0.45), 0.45, (1, 2)),
    ('bird', 16, 'polygon', 'checker', (0.15, 0.35), 0.5, (1, 2)),
    ('bottle', 44, 'small', 'noise', (0.07, 0.12), 0.12, (1, 1)),
)
PERSON_FREQUENCY, CROWD_FREQUENCY = 0.85, 0.2
MIN_AREA = 8  # visible pixels below which an instance gets no annotation


def _uncompressed_rle(mask: np.ndarray) -> Dict:
    """COCO's uncompressed RLE: column-major run lengths starting with 0s."""
    flat = mask.astype(np.uint8).flatten(order='F')
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0] == 1:
        counts = [0] + counts
    return {'size': list(mask.shape), 'counts': counts}


def mask_to_segmentation(mask: np.ndarray,
                         iscrowd: bool) -> Tuple[object, np.ndarray]:
    """Segmentation for a visible mask and the mask it decodes to.

    Polygons when they decode to within IoU 0.9 of the mask (they miss holes),
    else a compressed RLE (``counts`` as str); uncompressed RLE for crowds.
    """
    from pycocotools import mask as mask_utils
    h, w = mask.shape
    if iscrowd:
        seg = _uncompressed_rle(mask)
        return seg, mask_utils.decode(mask_utils.frPyObjects(seg, h, w))
    # Contours of the 2x nearest-upsampled mask, halved, run along pixel
    # edges: such polygons decode back to the very same pixels.
    big = cv2.resize(mask.astype(np.uint8), (2 * w, 2 * h),
                     interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(big, cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polygons = [(c.reshape(-1) / 2).tolist() for c in contours if len(c) >= 3]
    if polygons:
        decoded = mask_utils.decode(mask_utils.merge(
            mask_utils.frPyObjects(polygons, h, w)))
        union = np.logical_or(decoded, mask).sum()
        if np.logical_and(decoded, mask).sum() >= 0.9 * union:
            return polygons, decoded
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return ({'size': [h, w], 'counts': rle['counts'].decode('ascii')},
            mask.astype(np.uint8))


def _flock(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A crowd of 4-8 tiny polygons close together, one mask."""
    short = min(h, w)
    center = rng.uniform([0.2 * w, 0.2 * h], [0.8 * w, 0.8 * h])
    mask = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(4, 9))):
        c = center + rng.normal(0, 0.08 * short, 2)
        mask |= shape_mask(rng, h, w, 'polygon', tuple(c),
                           rng.uniform(0.05, 0.08) * short)
    return mask


def render_coco_sample(rng: np.random.Generator, width: int, height: int,
                       present: np.ndarray, persons: bool, crowd: bool
                       ) -> Tuple[np.ndarray, List[Dict]]:
    """One image (H, W, 3) uint8 RGB and its objects, in painting order:
    ``[{'instance_id', 'category_id', 'iscrowd', 'keypoints' or None}]``."""
    h, w = height, width
    short = min(h, w)
    canvas = Canvas(random_background(rng, h, w))
    thick = stroke_thickness(w, h)
    jobs = []
    if persons:
        jobs += [('person', None)] * int(rng.integers(1, 4))
    if crowd:
        jobs.append(('crowd', COCO_OBJECT_CLASSES[2]))
    for cls, on in zip(COCO_OBJECT_CLASSES, present):
        if on:
            jobs += [('object', cls)] * int(
                rng.integers(cls.count[0], cls.count[1] + 1))
    order = rng.permutation(len(jobs))
    jobs = sorted((jobs[i] for i in order),
                  key=lambda j: j[1] is not None and j[1].frequency < 0.25)
    objects = []
    for kind, cls in jobs:
        keypoints = None
        if kind == 'person':
            body = rng.uniform(0.4, 0.85) * h
            hip = (rng.uniform(0.15, 0.85) * w, rng.uniform(0.4, 0.65) * h)
            mask, texture, keypoints = draw_figure(rng, h, w, hip, body)
            category = 1
        elif kind == 'crowd':
            mask = _flock(rng, h, w)
            texture = render_texture(rng, h, w, cls.appearance)
            category = cls.label
        else:
            center = rng.uniform([0.12 * w, 0.12 * h], [0.88 * w, 0.88 * h])
            mask = shape_mask(rng, h, w, cls.shape, tuple(center),
                              rng.uniform(*cls.size) * short, thick)
            texture = render_texture(rng, h, w, cls.appearance)
            category = cls.label
        if not mask.any():
            continue
        objects.append({
            'instance_id': canvas.paint(mask, texture, category),
            'category_id': category,
            'iscrowd': int(kind == 'crowd'),
            'keypoints': keypoints
        })
    image = canvas.to_uint8(rng)
    for obj in objects:
        obj['visible'] = canvas.visible(obj['instance_id'])
    return image, objects


def _annotate(obj: Dict, ann_id: int, image_id: int) -> Dict:
    """The COCO annotation dict of one painted object (None if too small)."""
    from pycocotools import mask as mask_utils
    vis = obj['visible']
    if vis.sum() < MIN_AREA:
        return None
    h, w = vis.shape
    seg, decoded = mask_to_segmentation(vis, bool(obj['iscrowd']))
    rle = mask_utils.encode(np.asfortranarray(decoded.astype(np.uint8)))
    ann = {
        'id': ann_id,
        'image_id': image_id,
        'category_id': obj['category_id'],
        'segmentation': seg,
        'area': float(mask_utils.area(rle)),
        'bbox': [round(float(v), 2) for v in mask_utils.toBbox(rle)],
        'iscrowd': obj['iscrowd']
    }
    if obj['keypoints'] is not None:
        flat = []
        for x, y in obj['keypoints']:
            xi, yi = int(x), int(y)
            if 0 <= xi < w and 0 <= yi < h:
                v = 2 if decoded[yi, xi] and vis[yi, xi] else 1
                flat += [float(x), float(y), v]
            else:
                flat += [0.0, 0.0, 0]
        ann['keypoints'] = flat
        ann['num_keypoints'] = sum(1 for v in flat[2::3] if v > 0)
    return ann


def write_coco(root: Path, num_train: int, num_val: int, size: Tuple[int, int],
               rng: np.random.Generator) -> Dict[str, int]:
    """Write the COCO-format set under ``root``; return file counts."""
    width, height = size
    ann_dir = Path(root) / 'annotations'
    ann_dir.mkdir(parents=True, exist_ok=True)
    person_cat = dict(DEMO_COCO_CATEGORIES[0], keypoints=list(COCO_KEYPOINTS),
                      skeleton=[list(s) for s in COCO_SKELETON])
    info = {'description': 'autoloss-zero demo data (synthetic)',
            'version': '1.0', 'year': 2017}
    image_id = ann_id = 0
    for split, num in (('train', num_train), ('val', num_val)):
        img_dir = Path(root) / f'{split}2017'
        img_dir.mkdir(parents=True, exist_ok=True)
        schedule = np.stack([schedule_presence(rng, num, c.frequency)
                             for c in COCO_OBJECT_CLASSES], 1)
        persons = schedule_presence(rng, num, PERSON_FREQUENCY)
        crowds = schedule_presence(rng, num, CROWD_FREQUENCY)
        images, instances, keypoints = [], [], []
        for i in range(num):
            image_id += 1
            image, objects = render_coco_sample(rng, width, height,
                                                schedule[i], bool(persons[i]),
                                                bool(crowds[i]))
            name = f'{image_id:012d}.jpg'
            ok, jpg = cv2.imencode('.jpg', image[..., ::-1],
                                   [cv2.IMWRITE_JPEG_QUALITY, 92])
            assert ok
            (img_dir / name).write_bytes(jpg.tobytes())
            images.append({'id': image_id, 'file_name': name,
                           'height': height, 'width': width})
            for obj in objects:
                ann = _annotate(obj, ann_id + 1, image_id)
                if ann is None:
                    continue
                ann_id += 1
                if 'keypoints' in ann:
                    keypoints.append(ann)
                    ann = {k: v for k, v in ann.items()
                           if k not in ('keypoints', 'num_keypoints')}
                instances.append(ann)
        for stem, anns, cats in (
                ('instances', instances, list(DEMO_COCO_CATEGORIES)),
                ('person_keypoints', keypoints, [person_cat])):
            data = {'info': info, 'licenses': [], 'images': images,
                    'annotations': anns, 'categories': cats}
            (ann_dir / f'{stem}_{split}2017.json').write_text(
                json.dumps(data, separators=(',', ':')))
    return ({f'{s}2017': n
             for s, n in (('train', num_train), ('val', num_val))}
            | {'annotations': 4})
