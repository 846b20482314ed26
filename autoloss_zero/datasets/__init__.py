"""Seeded generators of small data sets in real on-disk formats.

No data set can be downloaded in the project's environment, so the demo
configs train on data written by :func:`generate_demo_data`: textured
shapes with occlusion, thin structures and a rare small class, in the exact
layouts that mmseg's ``PascalVOCDataset`` / ``CityscapesDataset`` and mmdet's /
mmpose's ``CocoDataset`` read unchanged. Needs only numpy, OpenCV, Pillow and
(for COCO) pycocotools; nothing is registered.
"""
from .cityscapes import (CITYSCAPES_CLASSES, DEMO_CITYSCAPES_RARE_CLASS,
                         DEMO_CITYSCAPES_TRAIN_IDS)
from .coco import (DEMO_COCO_CATEGORIES, DEMO_COCO_CLASSES, DEMO_COCO_PALETTE,
                   DEMO_COCO_RARE_CLASS)
from .demo import (DEMO_DEFAULTS, DEMO_KINDS, demo_data_root,
                   generate_demo_data, require_demo_data)
from .figures import COCO_KEYPOINTS, COCO_SKELETON
from .voc import DEMO_VOC_CLASSES, DEMO_VOC_PALETTE, DEMO_VOC_RARE_CLASS

__all__ = [
    'generate_demo_data', 'require_demo_data', 'demo_data_root',
    'DEMO_DEFAULTS', 'DEMO_KINDS', 'DEMO_VOC_CLASSES', 'DEMO_VOC_PALETTE',
    'DEMO_VOC_RARE_CLASS', 'CITYSCAPES_CLASSES', 'DEMO_CITYSCAPES_TRAIN_IDS',
    'DEMO_CITYSCAPES_RARE_CLASS', 'DEMO_COCO_CATEGORIES', 'DEMO_COCO_CLASSES',
    'DEMO_COCO_PALETTE', 'DEMO_COCO_RARE_CLASS', 'COCO_KEYPOINTS',
    'COCO_SKELETON'
]
