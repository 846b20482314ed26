r"""Flooding (Ishida et al., "Do We Need Zero Training Loss After Achieving
Zero Training Error?", ICML 2020, arXiv 2002.08709)."""
from typing import Any, Dict, Optional, Union

import torch.nn as nn
from mmengine.registry import MODELS
from torch import Tensor


def flood(loss: Tensor, flood_level: float) -> Tensor:
    r"""The flooded loss :math:`\tilde L = |L - b| + b` (paper, Eq. 1).

    Above the flood level :math:`b` it equals :math:`L`; below, its gradient
    is :math:`-\nabla L` (gradient ascent), so the training loss floats
    around :math:`b` instead of going to zero.

    Args:
        loss (Tensor): The (usually scalar, mini-batch) loss :math:`L`.
        flood_level (float): :math:`b`.

    Returns:
        Tensor: :math:`|L - b| + b`, shape of ``loss``.
    """
    return (loss - flood_level).abs() + flood_level


@MODELS.register_module()
class Flooding(nn.Module):
    """Wrap any registered loss in flooding: ``|L - b| + b``.

    The wrapped loss is built from its config (through the registry, so
    ``mmseg.``/``mmdet.`` scope prefixes, or the config's ``default_scope``,
    pick OpenMMLab losses). ``forward`` passes every argument through, so
    the wrapper fits any head the wrapped loss fits, and applies the flood to
    what it returns (to each value of a dict). Attributes the heads read from
    their loss (``loss_name``, ``use_sigmoid``, ``custom_cls_channels``,
    ``get_cls_channels``, ...) are those of the wrapped loss.

    Flooding is meant for the mini-batch mean; with ``reduction_override=
    'none'`` it floods each element instead.

    Args:
        loss (dict): Config of the wrapped loss, e.g.
            ``dict(type='mmseg.CrossEntropyLoss', avg_non_ignore=True)``.
        flood_level (float): :math:`b \\ge 0`. Default 0.0 (no effect on a
            non-negative loss).
        use_sigmoid (bool, optional): mmdet anchor heads read ``use_sigmoid``
            from the *outer* loss config; repeat the wrapped loss's value
            here when wrapping a sigmoid classification loss. Checked
            against the wrapped loss.

    Example:
        >>> loss_decode = dict(
        ...     type='Flooding', flood_level=0.02,
        ...     loss=dict(type='mmseg.CrossEntropyLoss', loss_weight=1.0))
    """

    def __init__(self,
                 loss: Dict[str, Any],
                 flood_level: float = 0.0,
                 use_sigmoid: Optional[bool] = None) -> None:
        super().__init__()
        if not isinstance(loss, dict) or 'type' not in loss:
            raise ValueError(
                f'loss must be a config dict with a "type", got {loss!r}')
        if not flood_level >= 0:
            raise ValueError(f'flood_level={flood_level!r} must be >= 0')
        self.flood_level = float(flood_level)
        self.loss = MODELS.build(loss)
        inner_sigmoid = bool(getattr(self.loss, 'use_sigmoid', False))
        if use_sigmoid is not None and bool(use_sigmoid) != inner_sigmoid:
            raise ValueError(
                f'use_sigmoid={use_sigmoid} differs from the wrapped loss '
                f'{type(self.loss).__name__} (use_sigmoid={inner_sigmoid})')

    def forward(self, *args, **kwargs) -> Union[Tensor, Dict[str, Tensor]]:
        """Call the wrapped loss with all arguments and flood its output."""
        out = self.loss(*args, **kwargs)
        if isinstance(out, dict):
            return {k: flood(v, self.flood_level) for k, v in out.items()}
        return flood(out, self.flood_level)

    @property
    def loss_name(self) -> str:
        """The wrapped loss's ``loss_name``."""
        return self.loss.loss_name

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name.startswith('_') or name == 'loss':
                raise
            return getattr(super().__getattr__('loss'), name)
