"""The generated Cityscapes set, read by mmseg's own CityscapesDataset."""
import numpy as np
import pytest

from autoloss_zero.datasets import (CITYSCAPES_CLASSES,
                                    DEMO_CITYSCAPES_RARE_CLASS,
                                    DEMO_CITYSCAPES_TRAIN_IDS, demo_data_root)
from autoloss_zero.datasets.cityscapes import (BUILDING, ROAD, SKY,
                                               TRAIN_ID_TO_LABEL_ID)


@pytest.fixture(scope='module')
def cityscapes_samples(demo_root):
    from mmcv.transforms import LoadImageFromFile
    from mmseg.datasets import CityscapesDataset
    from mmseg.datasets.transforms import LoadAnnotations, PackSegInputs

    root = demo_data_root('cityscapes', demo_root('cityscapes'))

    def load(split):
        dataset = CityscapesDataset(
            data_root=str(root),
            data_prefix=dict(img_path=f'leftImg8bit/{split}',
                             seg_map_path=f'gtFine/{split}'),
            pipeline=[LoadImageFromFile(), LoadAnnotations(), PackSegInputs()])
        assert dataset.metainfo['classes'] == CITYSCAPES_CLASSES
        return [dataset[i] for i in range(len(dataset))]

    return {split: load(split) for split in ('train', 'val')}


def test_split_sizes_and_shapes(cityscapes_samples, tiny):
    p = tiny['cityscapes']
    width, height = p['size']
    assert len(cityscapes_samples['train']) == p['num_train']
    assert len(cityscapes_samples['val']) == p['num_val']
    for sample in cityscapes_samples['train'] + cityscapes_samples['val']:
        assert tuple(sample['inputs'].shape) == (3, height, width)
        assert 'leftImg8bit' in sample['data_samples'].img_path


def test_train_ids_and_layout(cityscapes_samples):
    labels = np.stack([s['data_samples'].gt_sem_seg.data.numpy()[0]
                       for s in cityscapes_samples['train']])
    values = set(np.unique(labels).tolist())
    assert values <= set(DEMO_CITYSCAPES_TRAIN_IDS) | {255}
    assert len(values - {255}) >= 7, f'several classes, got {values}'
    # A street layout: sky above buildings above the road, in every image.
    rows = np.arange(labels.shape[1])[:, None]
    for lab in labels:
        mean_row = {c: rows.repeat(lab.shape[1], 1)[lab == c].mean()
                    for c in (SKY, BUILDING, ROAD)}
        assert mean_row[SKY] < mean_row[BUILDING] < mean_row[ROAD]
        assert (lab[0] == SKY).mean() > 0.3
    assert (labels[:, -labels.shape[1] // 4:] == ROAD).mean() > 0.3
    with_rare = sum(int((lab == DEMO_CITYSCAPES_RARE_CLASS).any()) for lab in labels)
    assert 1 <= with_rare <= 0.5 * len(labels)


def test_label_ids_agree_with_train_ids(demo_root):
    import cv2
    root = demo_root('cityscapes')
    lut = np.zeros(256, np.uint8)
    lut[:19] = TRAIN_ID_TO_LABEL_ID
    files = sorted((root / 'gtFine' / 'val').rglob('*_labelTrainIds.png'))
    assert files
    for path in files:
        train = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        full = cv2.imread(str(path).replace('labelTrainIds', 'labelIds'),
                          cv2.IMREAD_UNCHANGED)
        assert train.ndim == 2 and np.array_equal(lut[train], full)
