"""AutoLoss-Zero: searching loss functions from scratch, on OpenMMLab 2.x.

``import autoloss_zero`` (or ``custom_imports=dict(imports=['autoloss_zero'])``
in a config) registers the project's losses, metrics and dataset tools in the
mmengine registries, where mmseg, mmdet and mmpose configs find them.
"""
import os

# Before torch loads OpenMP (the console scripts import this package first):
# idle threads sleep instead of spinning, which on a busy CPU makes training
# up to 20x faster.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

from .compat import (install_torchvision_stub,  # noqa: E402
                     register_checkpoint_safe_globals)

install_torchvision_stub()
register_checkpoint_safe_globals()

__version__ = '0.1.0'

from . import losses, metrics  # noqa: E402,F401  (register in mmengine)
