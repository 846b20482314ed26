"""Baikal and BaikalCMA losses (GLO: Gonzalez & Miikkulainen, "Improved
Training Speed, Accuracy, and Data Utilization Through Loss Function
Optimization", IEEE CEC 2020, arXiv 1905.11528)."""
import math
from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.registry import MODELS
from torch import Tensor

from ._base import BaseSoftmaxLoss

#: 1/p_t is evaluated as exp(min(-log p_t, log(MAX_INVERSE))), i.e. p_t is
#: clamped at 1e-12: finite in float32 even for a confidently wrong pixel.
MAX_INVERSE = 1e12

#: Coefficients c0..c5 of BaikalCMA, one per node of the Baikal tree
#: ``sub(log(x), div(y, x))`` in prefix order (GLO puts a multiplier on every
#: node and tunes them with CMA-ES). See :class:`BaikalCMALoss`.
BAIKAL_CMA_COEFFICIENTS = (2.7278, 0.9863, 1.5352, 1.1135, 1.3716, 0.8411)


def baikal_loss(cls_score: Tensor,
                label: Tensor,
                coefficients: Sequence[float] = (1., 1., 1., 1., 1., 1.),
                max_inverse: float = MAX_INVERSE) -> Tensor:
    r"""Element-wise (coefficient-weighted) Baikal loss.

    With :math:`x = \operatorname{softmax}(z)` over the :math:`n` classes and
    one-hot :math:`y`, GLO's Baikal loss is

    .. math::
        L_{\text{Baikal}} = -\frac{1}{n}\sum_{i=1}^{n}
            \Big(\log x_i - \frac{y_i}{x_i}\Big)
        = -\frac{1}{n}\Big(\sum_{i=1}^{n}\log x_i - \frac{1}{x_t}\Big),

    summed over *all* classes: the :math:`\log x_i` of the wrong classes is
    what keeps it from driving predictions to full confidence (its
    regularising effect). With per-node coefficients :math:`c_0..c_5`
    (prefix order of the tree) it generalises to

    .. math::
        -\frac{c_0}{n}\sum_{i=1}^{n}\Big(c_1\log(c_2 x_i)
            - c_3\,\frac{c_4\,y_i}{c_5\,x_i}\Big),

    which is BaikalCMA for the CMA-ES coefficients and Baikal for all ones.
    :math:`\log x_i` comes from ``log_softmax``; :math:`1/x_t` is clamped at
    ``max_inverse``.

    Args:
        cls_score (Tensor): Logits, shape (N, C, ...).
        label (Tensor): Class indices in [0, C), shape (N, ...), long.
        coefficients (sequence of 6 floats): :math:`c_0..c_5`; :math:`c_2,
            c_5 > 0`. Default all ones (Baikal).
        max_inverse (float): Upper clamp of :math:`1/x_t`. Default 1e12.

    Returns:
        Tensor: Loss per element, shape (N, ...).
    """
    c0, c1, c2, c3, c4, c5 = coefficients
    num_classes = cls_score.shape[1]
    log_p = F.log_softmax(cls_score, dim=1)
    log_term = c1 * (math.log(c2) + log_p.mean(dim=1))
    log_pt = log_p.gather(1, label.unsqueeze(1)).squeeze(1)
    inv_pt = torch.exp(torch.clamp(-log_pt, max=math.log(max_inverse)))
    frac_term = (c3 * c4 / c5 / num_classes) * inv_pt
    return -c0 * (log_term - frac_term)


def _check_coefficients(coefficients: Sequence[float]) -> tuple:
    coefficients = tuple(float(c) for c in coefficients)
    if len(coefficients) != 6:
        raise ValueError(f'coefficients must be 6 floats (c0..c5), got '
                         f'{len(coefficients)}: {coefficients}')
    if coefficients[2] <= 0 or coefficients[5] <= 0:
        raise ValueError(f'coefficients c2 and c5 must be > 0 (they scale a '
                         f'probability inside log and a divisor), got '
                         f'{coefficients}')
    return coefficients


@MODELS.register_module()
class BaikalLoss(BaseSoftmaxLoss):
    r"""Baikal loss, :math:`-\frac{1}{n}\sum_i(\log x_i - y_i/x_i)` (GLO).

    Works as an mmseg decode-head loss and an mmdet RoI classification loss
    (softmax over the C+1 classes including background).

    Args:
        coefficients (sequence of 6 floats): Node coefficients, see
            :func:`baikal_loss`. Default all ones.
        max_inverse (float): Upper clamp of :math:`1/x_t`, > 1. Default 1e12.
        loss_name (str): Default 'loss_baikal'.
        **kwargs: ``reduction``, ``loss_weight``, ``class_weight``,
            ``ignore_index``, ``avg_non_ignore``: see :class:`BaseSoftmaxLoss`.

    Example:
        >>> loss_decode = dict(type='BaikalLoss', loss_weight=1.0)
    """

    elementwise_fn = staticmethod(baikal_loss)

    def __init__(self,
                 *,
                 coefficients: Sequence[float] = (1., 1., 1., 1., 1., 1.),
                 max_inverse: float = MAX_INVERSE,
                 loss_name: str = 'loss_baikal',
                 **kwargs) -> None:
        super().__init__(loss_name=loss_name, **kwargs)
        self.coefficients = _check_coefficients(coefficients)
        if not max_inverse > 1:
            raise ValueError(f'max_inverse={max_inverse} must be > 1')
        self.max_inverse = float(max_inverse)


@MODELS.register_module()
class BaikalCMALoss(BaikalLoss):
    r"""BaikalCMA: Baikal with GLO's CMA-ES-tuned node coefficients.

    .. math::
        L = -\frac{c_0}{n}\sum_{i=1}^{n}\Big(c_1\log(c_2 x_i)
            - c_3\,\frac{c_4\,y_i}{c_5\,x_i}\Big),\quad
        (c_0..c_5) = (2.7278, 0.9863, 1.5352, 1.1135, 1.3716, 0.8411)

    The six values are one per node of ``sub(log(x), div(y, x))`` in prefix
    order, as GLO places coefficients. Pass ``coefficients`` to use others
    (e.g. ones re-tuned for a new task).

    Args:
        coefficients (sequence of 6 floats): Default
            :data:`BAIKAL_CMA_COEFFICIENTS`.
        loss_name (str): Default 'loss_baikal_cma'.
        **kwargs: As :class:`BaikalLoss`.
    """

    def __init__(self,
                 coefficients: Sequence[float] = BAIKAL_CMA_COEFFICIENTS,
                 loss_name: str = 'loss_baikal_cma',
                 **kwargs) -> None:
        super().__init__(
            coefficients=coefficients, loss_name=loss_name, **kwargs)
