"""Discovered losses as they should be retrained: dead terms dropped, O(1).

A searched tree may carry a huge term no gradient reaches (``inv(0)`` on
every background pixel); it overflows float16 and hides the informative
part below float32 resolution of the logged loss. On export each branch's
tree is prepared on what its primary head passed its loss at random
initialisation (the screening capture), with
:func:`autoloss_zero.losses.export_searched_loss`.
"""
import copy
from typing import Optional

from ...losses import export_searched_loss
from ..screening import LossRejection
from .snippets import Exporter


def make_exporter(rejection: Optional[LossRejection]) -> Optional[Exporter]:
    """An :data:`~.snippets.Exporter` on ``rejection``'s captured calls (None
    without a capture: the trees are then written as searched)."""
    if rejection is None:
        return None

    def export(branch: str, tree: str):
        probe, canvas = rejection.captured[branch][0]
        module = copy.deepcopy(probe.module)
        module.set_tree(tree)
        exported = export_searched_loss(module, canvas)
        return str(exported.tree), exported.scale, exported.note

    return export
