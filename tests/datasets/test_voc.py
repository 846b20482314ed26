"""The generated VOC set, read by mmseg's own PascalVOCDataset."""
import numpy as np
import pytest
from PIL import Image

from autoloss_zero.datasets import (DEMO_VOC_CLASSES, DEMO_VOC_PALETTE,
                                    DEMO_VOC_RARE_CLASS, demo_data_root)
from autoloss_zero.datasets.voc import VOC_CLASSES, voc_colormap

K = len(DEMO_VOC_CLASSES) - 1


@pytest.fixture(scope='module')
def voc_samples(demo_root, tiny):
    from mmcv.transforms import LoadImageFromFile
    from mmseg.datasets import PascalVOCDataset
    from mmseg.datasets.transforms import LoadAnnotations, PackSegInputs

    root = demo_root('voc')

    def load(split):
        dataset = PascalVOCDataset(
            data_root=str(demo_data_root('voc', root)),
            data_prefix=dict(img_path='JPEGImages',
                             seg_map_path='SegmentationClass'),
            ann_file=f'ImageSets/Segmentation/{split}.txt',
            metainfo=dict(classes=DEMO_VOC_CLASSES, palette=DEMO_VOC_PALETTE),
            pipeline=[LoadImageFromFile(), LoadAnnotations(), PackSegInputs()])
        return [dataset[i] for i in range(len(dataset))]

    return {split: load(split) for split in ('train', 'val')}


def test_constants_match_voc():
    assert DEMO_VOC_CLASSES == VOC_CLASSES[:K + 1] and K == 5
    assert DEMO_VOC_PALETTE[:3] == [[0, 0, 0], [128, 0, 0], [0, 128, 0]]
    assert tuple(voc_colormap()[255]) == (224, 224, 192)


def test_split_sizes_and_shapes(voc_samples, tiny):
    p = tiny['voc']
    assert len(voc_samples['train']) == p['num_train']
    assert len(voc_samples['val']) == p['num_val']
    for sample in voc_samples['train'] + voc_samples['val']:
        assert tuple(sample['inputs'].shape) == (3, p['size'], p['size'])
        seg = sample['data_samples'].gt_sem_seg.data
        assert tuple(seg.shape) == (1, p['size'], p['size'])


def test_labels_classes_rarity_and_borders(voc_samples, tiny):
    labels = [s['data_samples'].gt_sem_seg.data.numpy()[0]
              for s in voc_samples['train']]
    values = set(np.unique(np.stack(labels)).tolist())
    assert values <= set(range(K + 1)) | {255}
    assert values >= set(range(K + 1)), 'every class appears in train'
    with_rare = sum(int((lab == DEMO_VOC_RARE_CLASS).any()) for lab in labels)
    assert 1 <= with_rare <= 0.3 * len(labels)
    rare_area = np.mean([(lab == DEMO_VOC_RARE_CLASS).mean() for lab in labels
                         if (lab == DEMO_VOC_RARE_CLASS).any()])
    assert rare_area < 0.03, 'the rare class is small'
    assert sum(int((lab == 255).any()) for lab in labels) >= 0.8 * len(labels)
    # The 255 border is a thin outline, not whole regions.
    assert np.mean([(lab == 255).mean() for lab in labels]) < 0.15


def test_thin_class_is_thin(voc_samples):
    """Bicycle strokes are a few px wide: eroding by 2 px removes almost all."""
    import cv2
    total = kept = 0
    for s in voc_samples['train']:
        mask = (s['data_samples'].gt_sem_seg.data.numpy()[0] == 2)
        total += mask.sum()
        kept += cv2.erode(mask.astype(np.uint8), np.ones((5, 5), np.uint8)).sum()
    assert total > 0 and kept < 0.1 * total


def test_label_files_are_palette_pngs(demo_root):
    root = demo_data_root('voc', demo_root('voc'))
    name = (root / 'ImageSets/Segmentation/train.txt').read_text().split()[0]
    png = Image.open(root / 'SegmentationClass' / f'{name}.png')
    assert png.mode == 'P'
    assert png.getpalette()[:6] == [0, 0, 0, 128, 0, 0]
    jpg = Image.open(root / 'JPEGImages' / f'{name}.jpg')
    assert jpg.format == 'JPEG' and jpg.mode == 'RGB'
