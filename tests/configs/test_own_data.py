"""configs/own_data/: searches on data sets of one's own classes.

Each test writes a small set in the config's layout with a generator of its
own (not the project's demo generators), builds the config's datasets and
runs a one-evaluation search on them.
"""
import json

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.registry import init_default_scope

from autoloss_zero.search import Archive, LossSearch

from ..conftest import REPO, point_data_root

#: one evaluation of a 2-iteration proxy, screened with eta 0 (any finite
#: candidate with a gradient passes)
TINY = {
    'search.budget.evaluations': 1,
    'search.proxy.max_iters': 2,
    'search.evolution.population': 2,
    'search.rejection.samples': 2,
    'search.rejection.steps': 10,
    'search.rejection.workers': 1,
    'search.verdict.seeds': 0,
    'train_dataloader.batch_size': 2,
}


def write_voc_layout(root, names, size=64, seed=0):
    """VOC layout, classes road (0) and tree (1): a road image with a tree
    disc and an ignored (255) border row."""
    rng = np.random.default_rng(seed)
    for sub in ('JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation'):
        (root / sub).mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[:size, :size]
    for name in names:
        cy, cx = rng.integers(size // 4, 3 * size // 4, 2)
        r = rng.integers(size // 8, size // 3)
        mask = ((yy - cy)**2 + (xx - cx)**2 <= r * r).astype(np.uint8)
        colours = np.array([[128, 64, 128], [35, 142, 107]], np.float64)
        image = colours[mask] + rng.normal(0, 12, (size, size, 3))
        mask[0] = 255
        cv2.imwrite(str(root / 'JPEGImages' / f'{name}.jpg'),
                    np.clip(image, 0, 255).astype(np.uint8))
        cv2.imwrite(str(root / 'SegmentationClass' / f'{name}.png'), mask)


COLOURS = {7: (200, 60, 60), 3: (60, 200, 60)}


def write_coco_format(root, split, n, size=128, seed=0):
    """COCO json of the categories 'scratch' (id 7) and 'dent' (id 3), in
    that order; one to three filled boxes an image."""
    rng = np.random.default_rng(seed)
    (root / split).mkdir(parents=True, exist_ok=True)
    (root / 'annotations').mkdir(exist_ok=True)
    images, annotations = [], []
    for i in range(n):
        image = rng.integers(0, 60, (size, size, 3)).astype(np.uint8)
        for _ in range(rng.integers(1, 4)):
            cat = int(rng.choice([7, 3]))
            w, h = rng.integers(16, 48, 2)
            x, y = rng.integers(0, size - 48, 2)
            image[y:y + h, x:x + w] = COLOURS[cat]
            annotations.append(dict(
                id=len(annotations) + 1, image_id=i + 1, category_id=cat,
                bbox=[int(x), int(y), int(w), int(h)], area=int(w * h),
                iscrowd=0, segmentation=[[int(x), int(y), int(x + w), int(y),
                                          int(x + w), int(y + h), int(x),
                                          int(y + h)]]))
        cv2.imwrite(str(root / split / f'{i:03d}.jpg'), image)
        images.append(dict(id=i + 1, file_name=f'{i:03d}.jpg', width=size,
                           height=size))
    categories = [dict(id=7, name='scratch'), dict(id=3, name='dent')]
    with open(root / 'annotations' / f'{split}.json', 'w') as f:
        json.dump(dict(images=images, annotations=annotations,
                       categories=categories), f)


def _search(cfg, work_dir, metric):
    """A one-evaluation search; returns the archived baseline."""
    summary = LossSearch(cfg, work_dir).run()
    counts = summary['counts']
    assert counts['baseline'] == 1 and counts['failed'] == 0, summary
    archive = Archive(work_dir / 'search.sqlite')
    assert archive.num_evaluated() == 1
    baseline = archive.baseline()
    assert metric in baseline['metrics'] and baseline['score'] is not None
    return baseline


def test_seg_voc_layout(tmp_path):
    root = tmp_path / 'my_seg'
    names = [f'img{i}' for i in range(8)]
    write_voc_layout(root, names)
    splits = root / 'ImageSets' / 'Segmentation'
    (splits / 'train.txt').write_text('\n'.join(names[:6]) + '\n')
    (splits / 'val.txt').write_text('\n'.join(names[6:]) + '\n')
    cfg = Config.fromfile(
        str(REPO / 'configs/own_data/seg_voc_layout_miou.py'))
    assert cfg.model.decode_head.num_classes == 2
    assert cfg.model.auxiliary_head.num_classes == 2
    cfg = point_data_root(cfg, root)
    from mmseg.registry import DATASETS
    init_default_scope('mmseg')
    train = DATASETS.build(cfg.train_dataloader.dataset)
    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert train.metainfo['classes'] == ('road', 'tree')
    assert (len(train), len(val)) == (6, 2)
    labels = val[0]['data_samples'].gt_sem_seg.data.unique().tolist()
    assert set(labels) <= {0, 1, 255} and 1 in labels
    cfg.merge_from_dict({**TINY, 'search.rejection.eta': 0.0})
    baseline = _search(cfg, tmp_path / 'search', 'mIoU')
    assert 0.0 <= baseline['score'] <= 100.0


def test_det_coco_format(tmp_path):
    root = tmp_path / 'my_det'
    write_coco_format(root, 'train', 6, seed=0)
    write_coco_format(root, 'val', 2, seed=1)
    cfg = Config.fromfile(
        str(REPO / 'configs/own_data/det_coco_format_map.py'))
    assert cfg.model.roi_head.bbox_head.num_classes == 2
    cfg = point_data_root(cfg, root)
    assert cfg.val_evaluator.ann_file == f'{root}/annotations/val.json'
    from mmdet.registry import DATASETS
    init_default_scope('mmdet')
    train = DATASETS.build(cfg.train_dataloader.dataset)
    assert train.metainfo['classes'] == ('scratch', 'dent') and len(train) == 6
    # categories are matched by name; labels count in the json's order
    raw = json.loads((root / 'annotations' / 'train.json').read_text())
    first = [a for a in raw['annotations'] if a['image_id'] == 1]
    labels = train[0]['data_samples'].gt_instances.labels.tolist()
    assert sorted(labels) == sorted(0 if a['category_id'] == 7 else 1
                                    for a in first)
    # no screening: the one candidate trains whatever it is
    cfg.merge_from_dict({**TINY, 'search.rejection.enabled': False})
    baseline = _search(cfg, tmp_path / 'search', 'coco/bbox_mAP')
    assert 0.0 <= baseline['score'] <= 1.0
