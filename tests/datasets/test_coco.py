"""The generated COCO set, read by mmdet's and mmpose's own CocoDataset."""
import json

import numpy as np
import pytest

from autoloss_zero.datasets import (COCO_KEYPOINTS, DEMO_COCO_CLASSES,
                                    DEMO_COCO_RARE_CLASS)


def _json(root, name):
    return json.loads((root / 'annotations' / name).read_text())


@pytest.fixture(scope='module')
def det_results(demo_root):
    """mmdet samples after LoadImageFromFile + LoadAnnotations (masks on)."""
    from mmcv.transforms import LoadImageFromFile
    from mmdet.datasets import CocoDataset
    from mmdet.datasets.transforms import LoadAnnotations
    dataset = CocoDataset(
        data_root=str(demo_root('coco')),
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        metainfo=dict(classes=DEMO_COCO_CLASSES),
        filter_cfg=None,
        pipeline=[LoadImageFromFile(),
                  LoadAnnotations(with_bbox=True, with_mask=True)])
    assert dataset.metainfo['classes'] == DEMO_COCO_CLASSES
    return [dataset[i] for i in range(len(dataset))]


def test_instances_json(demo_root, tiny):
    data = _json(demo_root('coco'), 'instances_train2017.json')
    assert len(data['images']) == tiny['coco']['num_train']
    cats = {c['id']: c['name'] for c in data['categories']}
    assert cats[1] == 'person' and set(cats.values()) == set(DEMO_COCO_CLASSES)
    kinds = set()
    for ann in data['annotations']:
        seg = ann['segmentation']
        kind = 'polygon' if isinstance(seg, list) else (
            'rle' if isinstance(seg['counts'], list) else 'compressed')
        kinds.add(kind)
        assert (kind == 'rle') == bool(ann['iscrowd'])
        assert ann['area'] > 0 and ann['bbox'][2] > 0 and ann['bbox'][3] > 0
    assert kinds >= {'polygon', 'rle'}
    rare = next(i for i, n in cats.items() if n == DEMO_COCO_RARE_CLASS)
    with_rare = {a['image_id'] for a in data['annotations']
                 if a['category_id'] == rare}
    assert 1 <= len(with_rare) <= 0.3 * len(data['images'])


def test_mmdet_boxes_match_masks(det_results, tiny):
    size = tiny['coco']['size']
    assert len(det_results) == tiny['coco']['num_train']
    labels, ignored = set(), 0
    for res in det_results:
        assert res['img'].shape == (size, size, 3)
        boxes = res['gt_bboxes'].tensor.numpy()
        masks = res['gt_masks'].to_ndarray()
        assert len(boxes) == len(masks) == len(res['gt_bboxes_labels']) > 0
        labels.update(res['gt_bboxes_labels'].tolist())
        ignored += int(res['gt_ignore_flags'].sum())
        for box, mask in zip(boxes, masks):
            ys, xs = np.nonzero(mask)
            assert len(xs) > 0
            np.testing.assert_allclose(
                box, [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
    assert labels == set(range(len(DEMO_COCO_CLASSES)))
    assert ignored > 0, 'crowd (RLE) instances are decoded as ignored'


def test_keypoints_json(demo_root):
    data = _json(demo_root('coco'), 'person_keypoints_train2017.json')
    (cat, ) = data['categories']
    assert cat['id'] == 1 and cat['keypoints'] == list(COCO_KEYPOINTS)
    assert len(cat['skeleton']) == 19
    images = {img['id']: img for img in data['images']}
    flags = []
    for ann in data['annotations']:
        assert ann['category_id'] == 1
        kp = np.asarray(ann['keypoints'], float).reshape(17, 3)
        assert ann['num_keypoints'] == int((kp[:, 2] > 0).sum())
        img = images[ann['image_id']]
        x, y, w, h = ann['bbox']
        for px, py, v in kp:
            flags.append(v)
            if v == 2:
                assert 0 <= px < img['width'] and 0 <= py < img['height']
                assert x <= px < x + w and y <= py < y + h
            elif v == 0:
                assert px == py == 0
    assert {0, 1, 2} >= set(flags) and {1, 2} <= set(flags)
    assert flags.count(2) > 0.5 * len(flags)


def test_mmpose_topdown(demo_root):
    import autoloss_zero  # noqa: F401  (torchvision stand-in for mmpose)
    from mmpose.datasets import CocoDataset
    root = demo_root('coco')
    dataset = CocoDataset(
        data_root=str(root), data_mode='topdown',
        ann_file='annotations/person_keypoints_train2017.json',
        data_prefix=dict(img='train2017/'), pipeline=[])
    raw = _json(root, 'person_keypoints_train2017.json')['annotations']
    assert len(dataset) == sum(1 for a in raw if a['num_keypoints'] > 0) > 0
    assert dataset.metainfo['num_keypoints'] == 17
    size = {img['id']: (img['width'], img['height'])
            for img in _json(root, 'person_keypoints_train2017.json')['images']}
    for i in range(len(dataset)):
        info = dataset[i]
        kp, vis = info['keypoints'][0], info['keypoints_visible'][0]
        flags = np.asarray(info['raw_ann_info']['keypoints']).reshape(17, 3)[:, 2]
        np.testing.assert_array_equal(vis, np.minimum(flags, 1))
        w, h = size[info['img_id']]
        x1, y1, x2, y2 = info['bbox'][0]
        assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h
        on = vis > 0
        assert on.any()
        assert ((kp[on] >= 0) & (kp[on] < [w, h])).all(), 'inside the image'
        seen = kp[flags == 2]
        assert ((seen >= [x1, y1]) & (seen <= [x2, y2])).all(), 'inside the box'


def test_palette_is_mmdets():
    from mmdet.datasets import CocoDataset
    meta = CocoDataset.METAINFO
    from autoloss_zero.datasets import DEMO_COCO_PALETTE
    assert DEMO_COCO_PALETTE == [meta['palette'][meta['classes'].index(n)]
                                 for n in DEMO_COCO_CLASSES]
