"""Baseline losses that searched losses are compared against.

Importing this package registers, in mmengine's root ``MODELS`` registry
(which mmseg's and mmdet's registries inherit from):

* ``BarronLoss``, ``AdaptiveBarronLoss``: Barron's general / adaptive robust
  loss (CVPR 2019), box-regression signature;
* ``Flooding``: ``|L - b| + b`` around any registered loss (ICML 2020);
* ``BaikalLoss``, ``BaikalCMALoss``: GLO's discovered losses (CEC 2020);
* ``NGLLoss``: Next Generation Loss (2024);
* ``Poly1Loss``: Poly-1 (ICLR 2022);

the last four with the softmax classification signature of mmseg decode heads
and mmdet RoI heads.
"""
from .adaptive_barron import AdaptiveBarronLoss, log_partition, robust_nll
from .baikal import (BAIKAL_CMA_COEFFICIENTS, BaikalCMALoss, BaikalLoss,
                     baikal_loss)
from .barron import BarronLoss, general_robust_loss
from .flooding import Flooding, flood
from .ngl import NGL_ALPHA, NGLLoss, ngl_loss
from .poly1 import Poly1Loss, poly1_loss

__all__ = [
    'AdaptiveBarronLoss', 'BAIKAL_CMA_COEFFICIENTS', 'BaikalCMALoss',
    'BaikalLoss', 'BarronLoss', 'Flooding', 'NGLLoss', 'NGL_ALPHA',
    'Poly1Loss', 'baikal_loss', 'flood', 'general_robust_loss',
    'log_partition', 'ngl_loss', 'poly1_loss', 'robust_nll'
]
