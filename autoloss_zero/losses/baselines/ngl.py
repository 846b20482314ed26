"""Next Generation Loss (Akhmedova & Koerber, "Next Generation Loss Function
for Image Classification", 2024, arXiv 2404.12948)."""
import torch
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from ._base import BaseSoftmaxLoss

#: The constant found by the paper's genetic programming search.
NGL_ALPHA = 2.4092


def ngl_loss(cls_score: Tensor, label: Tensor,
             alpha: float = NGL_ALPHA) -> Tensor:
    r"""Element-wise NGL loss.

    With :math:`p = \operatorname{softmax}(z)` over the :math:`n` classes and
    one-hot :math:`y`,

    .. math::
        L_{\text{NGL}} = \frac{1}{n}\sum_{i=1}^{n}\Big[
            e^{\alpha - p_i (1 + y_i)} - \cos(\cos(\sin p_i))\Big],
        \qquad \alpha = 2.4092,

    i.e. :math:`e^{\alpha - 2p_t}` for the true class and
    :math:`e^{\alpha - p_i}` for the others (which, like Baikal, rewards
    some mass on wrong classes). Probabilities lie in [0, 1], so every term
    is finite and bounded.

    Args:
        cls_score (Tensor): Logits, shape (N, C, ...).
        label (Tensor): Class indices in [0, C), shape (N, ...), long.
        alpha (float): The exponent offset. Default 2.4092.

    Returns:
        Tensor: Loss per element, shape (N, ...).
    """
    p = F.softmax(cls_score, dim=1)
    y = torch.zeros_like(p).scatter_(1, label.unsqueeze(1), 1.)
    terms = torch.exp(alpha - p * (1. + y)) - torch.cos(
        torch.cos(torch.sin(p)))
    return terms.mean(dim=1)


@MODELS.register_module()
class NGLLoss(BaseSoftmaxLoss):
    """Next Generation Loss as a drop-in for ``CrossEntropyLoss``.

    Args:
        alpha (float): Exponent offset. Default 2.4092 (the paper's).
        loss_name (str): Default 'loss_ngl'.
        **kwargs: ``reduction``, ``loss_weight``, ``class_weight``,
            ``ignore_index``, ``avg_non_ignore``: see :class:`BaseSoftmaxLoss`.

    Example:
        >>> loss_decode = dict(type='NGLLoss', loss_weight=1.0)
    """

    elementwise_fn = staticmethod(ngl_loss)

    def __init__(self, alpha: float = NGL_ALPHA, *,
                 loss_name: str = 'loss_ngl', **kwargs) -> None:
        super().__init__(loss_name=loss_name, **kwargs)
        self.alpha = float(alpha)
