"""The gradient-equivalence fingerprint of a candidate loss.

AutoLoss-Zero (Sec. 3.3): the L2 norms of the loss gradient with respect to
the captured logits at their initial value ``z0``, one per captured sample,
rounded to 2 significant digits. Two losses with the same fingerprint are
taken as equivalent, and the second reuses the first's proxy score.
"""
from typing import List, Optional, Sequence

import torch


def round2(value: float) -> str:
    """A number to 2 significant digits, as text (the fingerprint unit)."""
    return f'{value:.1e}'


def gradient_norms(grad: torch.Tensor, per_sample: bool,
                   segments: Optional[Sequence[int]] = None) -> List[str]:
    """Rounded gradient norms of one captured call.

    Args:
        grad: (N, C, H, W) gradient of the loss at the captured logits.
        per_sample: one norm per sample (spatial canvases); otherwise one
            per merged call (``segments``: row counts of the calls merged
            into this canvas) or one for the whole call.
    """
    if per_sample:
        return [round2(v) for v in grad.flatten(1).norm(dim=1).tolist()]
    parts = grad.split(list(segments)) if segments else [grad]
    return [round2(float(part.norm())) for part in parts]
