"""Small fixes that make the pinned OpenMMLab stack work on torch 2.13.

* ``torch.load`` defaults to ``weights_only=True`` since torch 2.6, which refuses
  the mmengine objects that a Runner checkpoint holds (``HistoryBuffer``, numpy
  scalars in the message hub). :func:`register_checkpoint_safe_globals` allows
  exactly those classes instead of switching the protection off.
* mmpose imports ``torchvision.transforms.ToPILImage`` in its visualisation
  module only; there is no CPU build of torchvision on the registry.
  :func:`install_torchvision_stub` provides a stand-in module when (and only
  when) torchvision is not installed.
* mmcv, mmseg, mmdet and mmpose are optional where the project only needs
  torch and mmengine (the loss modules, the screening of a saved capture on
  a bare GPU machine): :func:`missing_openmmlab` tells the absence of one
  of them from any other ImportError, which must surface.
"""
import importlib.machinery
import importlib.util
import pickle
import sys
import types

#: The OpenMMLab packages that parts of the project need and others do not.
OPTIONAL_OPENMMLAB = ('mmcv', 'mmseg', 'mmdet', 'mmpose')


def _history_buffer_getattr(obj, name: str):
    """``getattr`` restricted to the statistics methods of HistoryBuffer.

    A HistoryBuffer pickles its ``statistics_methods`` as
    ``getattr(HistoryBuffer, 'min')`` etc.; allowing the real ``getattr``
    would let a checkpoint reach any attribute, so only these resolve.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    # The built-in methods are registered on first construction only.
    allowed = {'min', 'max', 'current', 'mean',
               *HistoryBuffer._statistics_methods}
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only the '
        f'statistics methods of HistoryBuffer are allowed')


def register_checkpoint_safe_globals() -> None:
    """Allow mmengine's checkpoint classes under ``torch.load(weights_only)``."""
    import numpy as np
    import torch
    from mmengine.logging.history_buffer import HistoryBuffer

    if not hasattr(torch.serialization, 'add_safe_globals'):
        return  # torch < 2.4 loads these without a list.
    dtype_classes = [type(np.dtype(t)) for t in (
        np.float16, np.float32, np.float64, np.int8, np.int16, np.int32,
        np.int64, np.uint8, np.bool_)]
    # numpy 2 moved numpy.core to numpy._core; pickles name the new path.
    multiarray = getattr(np, '_core', None) or np.core
    torch.serialization.add_safe_globals([
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        multiarray.multiarray._reconstruct,
        multiarray.multiarray.scalar,
        *dtype_classes,
        (_history_buffer_getattr, 'builtins.getattr'),
    ])


def missing_openmmlab(error: ImportError) -> bool:
    """Whether ``error`` is the absence of an optional OpenMMLab package.

    True when a module of :data:`OPTIONAL_OPENMMLAB` is not found (the
    package itself, or a part of it such as mmcv's compiled ``mmcv._ext``
    that mmseg and mmdet import); False for every other ImportError (a
    package that cannot import a name, one of their own requirements
    missing), which the caller re-raises.

        >>> missing_openmmlab(ModuleNotFoundError("no mmseg", name='mmseg'))
        True
        >>> missing_openmmlab(ModuleNotFoundError("no yaml", name='yaml'))
        False
    """
    name = getattr(error, 'name', None) or ''
    return isinstance(error, ModuleNotFoundError) and \
        name.split('.')[0] in OPTIONAL_OPENMMLAB


class _ToPILImageUnavailable:
    """Stand-in for ``torchvision.transforms.ToPILImage`` (not installed)."""

    def __init__(self, *args, **kwargs):
        raise ImportError(
            'torchvision is not installed (there is no CPU build of it for '
            'this stack); ToPILImage is unavailable. Install torchvision to '
            'use mmpose visualisation that needs it.')


def install_torchvision_stub() -> None:
    """Register a minimal ``torchvision`` module if the real one is absent."""
    if 'torchvision' in sys.modules or importlib.util.find_spec(
            'torchvision') is not None:
        return
    torchvision = types.ModuleType('torchvision')
    torchvision.__spec__ = importlib.machinery.ModuleSpec('torchvision', None)
    torchvision.__version__ = '0.0.0'
    transforms = types.ModuleType('torchvision.transforms')
    transforms.__spec__ = importlib.machinery.ModuleSpec(
        'torchvision.transforms', None)
    transforms.ToPILImage = _ToPILImageUnavailable
    torchvision.transforms = transforms
    sys.modules['torchvision'] = torchvision
    sys.modules['torchvision.transforms'] = transforms
