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


def _data_roots(dataset, where):
    """(config location, data_root) of a dataset config and its children
    (``ConcatDataset``/``RepeatDataset`` wrappers)."""
    if not isinstance(dataset, dict):
        return
    if dataset.get('data_root'):
        yield f'{where}.data_root', dataset['data_root']
    yield from _data_roots(dataset.get('dataset'), f'{where}.dataset')
    for i, child in enumerate(dataset.get('datasets') or []):
        yield from _data_roots(child, f'{where}.datasets[{i}]')


def check_data_roots(cfg) -> None:
    """Raise FileNotFoundError naming the first missing data root of the
    train and val dataloaders, with how to get or generate the data."""
    for name in ('train_dataloader', 'val_dataloader'):
        loader = cfg.get(name)
        if not loader:
            continue
        for where, root in _data_roots(loader.get('dataset'),
                                       f'{name}.dataset'):
            if not osp.isdir(root):
                raise FileNotFoundError(
                    f'{where} {root!r} does not exist: {_hint(root)}')
