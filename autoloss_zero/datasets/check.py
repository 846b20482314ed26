"""Fail at once, with a useful message, when a config's data is missing."""
import os.path as osp

from .demo import DEMO_DEFAULTS

_HOW_TO = {
    'VOC': 'download PASCAL VOC 2012 and the SBD augmentation and convert '
    'them with mmseg\'s tools/dataset_converters/voc_aug.py '
    '(https://mmsegmentation.readthedocs.io, "Prepare datasets")',
    'cityscapes': 'download leftImg8bit and gtFine from cityscapes-dataset.com'
    ' and run mmseg\'s tools/dataset_converters/cityscapes.py',
    'coco': 'download COCO 2017 (images and annotations) from cocodataset.org',
}


def _hint(root: str) -> str:
    for kind, params in DEMO_DEFAULTS.items():
        if root.rstrip('/').startswith(params['root']):
            return (f'generate it with: python tools/make_demo_data.py '
                    f'--kind {kind}')
    for key, how in _HOW_TO.items():
        if key.lower() in root.lower():
            return how
    return 'check data_root in the config'


def check_data_roots(cfg) -> None:
    """Raise FileNotFoundError naming every missing dataloader data root."""
    for name in ('train_dataloader', 'val_dataloader'):
        loader = cfg.get(name)
        dataset = loader.get('dataset') if loader else None
        root = dataset.get('data_root') if dataset else None
        if root and not osp.isdir(root):
            raise FileNotFoundError(
                f'{name}.dataset.data_root {root!r} does not exist: '
                f'{_hint(root)}')
