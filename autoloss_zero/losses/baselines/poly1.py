"""Poly-1 loss (Leng et al., "PolyLoss: A Polynomial Expansion Perspective of
Classification Loss Functions", ICLR 2022, arXiv 2204.12511)."""
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from ._base import BaseSoftmaxLoss


def poly1_loss(cls_score: Tensor, label: Tensor,
               epsilon: float = 1.0) -> Tensor:
    r"""Element-wise Poly-1 loss.

    .. math::
        L_{\text{Poly-1}} = -\log p_t + \epsilon\,(1 - p_t),
        \qquad p = \operatorname{softmax}(z)

    i.e. cross-entropy plus ``epsilon`` times the first term of its
    polynomial expansion :math:`\sum_j (1-p_t)^j / j` (Leng et al. 2022,
    Eq. 3). ``1 - p_t`` is computed as ``-expm1(log p_t)``, exact near
    :math:`p_t = 1`; the loss is finite for all finite logits.

    Args:
        cls_score (Tensor): Logits, shape (N, C, ...).
        label (Tensor): Class indices in [0, C), shape (N, ...), long.
        epsilon (float): Weight of the :math:`(1 - p_t)` term. Default 1.0.

    Returns:
        Tensor: Loss per element, shape (N, ...).
    """
    log_pt = F.log_softmax(cls_score, dim=1).gather(
        1, label.unsqueeze(1)).squeeze(1)
    return -log_pt - epsilon * log_pt.expm1()


@MODELS.register_module()
class Poly1Loss(BaseSoftmaxLoss):
    """Poly-1 loss as a drop-in for ``CrossEntropyLoss`` (mmseg and mmdet).

    ``epsilon=0`` gives exactly softmax cross-entropy. The paper's default
    for ImageNet classification is ``epsilon=2``; it tunes ``epsilon`` per
    task (e.g. negative values for detection), so it is a config argument.

    Args:
        epsilon (float): Weight of the :math:`(1 - p_t)` term. Default 1.0.
        loss_name (str): Default 'loss_poly1'.
        **kwargs: ``reduction``, ``loss_weight``, ``class_weight``,
            ``ignore_index``, ``avg_non_ignore``: see :class:`BaseSoftmaxLoss`.

    Example:
        >>> loss_decode = dict(type='Poly1Loss', epsilon=1.0, loss_weight=1.0)
    """

    elementwise_fn = staticmethod(poly1_loss)

    def __init__(self, epsilon: float = 1.0, *,
                 loss_name: str = 'loss_poly1', **kwargs) -> None:
        super().__init__(loss_name=loss_name, **kwargs)
        self.epsilon = float(epsilon)
