"""One entry point that writes the seeded demo data sets, idempotently.

``generate_demo_data('voc')`` writes ``data/demo_voc`` (see
:data:`DEMO_DEFAULTS` for every kind's default root, split sizes, image size
and seed). A ``.complete`` marker in the root records the parameters of each
kind written there; a call with the same parameters returns at once, other
parameters regenerate that kind from scratch. A root that holds a kind's
folders without the marker (perhaps real data) is never overwritten unless
``force=True``.
"""
import json
import shutil
from pathlib import Path
from typing import Dict, Optional, Union

import numpy as np

from .cityscapes import write_cityscapes
from .coco import write_coco
from .shapes import parse_size
from .voc import write_voc

#: Defaults shared by tools/make_demo_data.py and configs/demo/: generation
#: takes a few seconds, a proxy training a few minutes on a 2-core CPU.
DEMO_DEFAULTS: Dict[str, Dict] = {
    'voc': dict(root='data/demo_voc', num_train=240, num_val=60,
                size=(96, 96), seed=0),
    'cityscapes': dict(root='data/demo_cityscapes', num_train=100, num_val=30,
                       size=(128, 64), seed=0),
    'coco': dict(root='data/demo_coco', num_train=120, num_val=30,
                 size=(128, 128), seed=0),
}
DEMO_KINDS = tuple(DEMO_DEFAULTS)
MARKER = '.complete'
_PARTIAL = '.generating'
#: Bump when the renderer changes what a seed produces.
GENERATOR_VERSION = 1
_WRITERS = {
    'voc': (write_voc, ('VOCdevkit',)),
    'cityscapes': (write_cityscapes, ('leftImg8bit', 'gtFine')),
    'coco': (write_coco, ('annotations', 'train2017', 'val2017')),
}
#: Where a config's ``data_root`` points, relative to the generated root.
_DATA_ROOT = {'voc': 'VOCdevkit/VOC2012', 'cityscapes': '.', 'coco': '.'}


def _check_kind(kind: str) -> None:
    if kind not in DEMO_DEFAULTS:
        raise ValueError(f'unknown demo data kind {kind!r}; valid kinds: '
                         f'{", ".join(DEMO_KINDS)}')


def _read_marker(path: Path) -> Dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _update_marker(path: Path, data: Dict) -> None:
    """Atomically write ``data`` as JSON to ``path``; remove it if empty."""
    if not data:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_name(path.name + '.tmp')
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + '\n')
    tmp.replace(path)


def demo_data_root(kind: str, root: Union[str, Path, None] = None) -> Path:
    """The folder a config's ``data_root`` names for a generated ``kind``."""
    _check_kind(kind)
    root = Path(DEMO_DEFAULTS[kind]['root'] if root is None else root)
    return root / _DATA_ROOT[kind] if _DATA_ROOT[kind] != '.' else root


def require_demo_data(kind: str, root: Union[str, Path, None] = None) -> Path:
    """Return ``root`` if ``kind`` was generated there, else raise
    ``FileNotFoundError`` saying how to generate it."""
    _check_kind(kind)
    root = Path(DEMO_DEFAULTS[kind]['root'] if root is None else root)
    if kind not in _read_marker(root / MARKER):
        raise FileNotFoundError(
            f'demo data {kind!r} not found at {root} (no {MARKER} marker); '
            f'generate it with: python tools/make_demo_data.py --kind {kind} '
            f'--out {root.parent}')
    return root


def generate_demo_data(kind: str,
                       root: Union[str, Path, None] = None,
                       num_train: Optional[int] = None,
                       num_val: Optional[int] = None,
                       size=None,
                       seed: Optional[int] = None,
                       force: bool = False) -> Path:
    """Write a seeded demo data set in a real on-disk format; return its root.

    Args:
        kind: ``'voc'`` (mmseg ``PascalVOCDataset``), ``'cityscapes'`` (mmseg
            ``CityscapesDataset``) or ``'coco'`` (mmdet/mmpose
            ``CocoDataset``).
        root: Output folder; default ``DEMO_DEFAULTS[kind]['root']``.
        num_train: Training images (default from :data:`DEMO_DEFAULTS`).
        num_val: Validation images.
        size: Image size, an int (square) or ``(width, height)``.
        seed: Seed of the one ``numpy.random.Generator`` behind every pixel;
            the same parameters give byte-identical files.
        force: Regenerate even if the marker matches, and overwrite the
            kind's folders even without a marker.

    Returns:
        ``root`` as a ``Path``. Configs point ``data_root`` at
        :func:`demo_data_root` (``root/VOCdevkit/VOC2012`` for VOC).

    Raises:
        ValueError: Unknown kind, negative counts or a bad size.
        FileExistsError: ``root`` holds the kind's folders but no marker.
    """
    _check_kind(kind)
    defaults = DEMO_DEFAULTS[kind]
    root = Path(defaults['root'] if root is None else root)
    num_train = defaults['num_train'] if num_train is None else num_train
    num_val = defaults['num_val'] if num_val is None else num_val
    seed = defaults['seed'] if seed is None else seed
    width, height = parse_size(defaults['size'] if size is None else size)
    for name, value in (('num_train', num_train), ('num_val', num_val),
                        ('seed', seed)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(
                f'{name} must be a non-negative int, got {value!r}')
    params = {'kind': kind, 'num_train': int(num_train),
              'num_val': int(num_val), 'size': [width, height],
              'seed': int(seed), 'version': GENERATOR_VERSION}

    marker, partial = root / MARKER, root / _PARTIAL
    done = _read_marker(marker)
    if not force and done.get(kind) == params:
        return root
    writer, folders = _WRITERS[kind]
    owned = kind in done or kind in _read_marker(partial)
    existing = [f for f in folders if (root / f).exists()]
    if existing and not owned and not force:
        raise FileExistsError(
            f'{root} already holds {existing} but no {MARKER} marker of the '
            f'demo generator, so it may be real data; refusing to overwrite. '
            f'Pass force=True (--force) or choose another root.')
    root.mkdir(parents=True, exist_ok=True)
    done.pop(kind, None)
    _update_marker(marker, done)
    _update_marker(partial, dict(_read_marker(partial), **{kind: params}))
    for folder in folders:
        shutil.rmtree(root / folder, ignore_errors=True)
    writer(root, params['num_train'], params['num_val'], (width, height),
           np.random.default_rng(params['seed']))
    done[kind] = params
    _update_marker(marker, done)
    _update_marker(partial, {k: v for k, v in _read_marker(partial).items()
                             if k != kind})
    return root
