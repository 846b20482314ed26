"""Export of a searched loss from a captured head call.

:func:`export_searched_loss` wires a searched-loss module and one canvas it
recorded (capture mode, see :mod:`.capture`) into
:func:`autoloss_zero.graph.prepare_for_export`: the sample leaves are the
canvas targets and the module's prediction leaves at the captured logits,
the mask is the canvas's counted elements and the loss is the module's own
reduction. The result's ``tree`` times ``scale`` (as the root's
coefficient) goes into the exported config, its ``note`` next to it (a
comment of the snippet)::

    exported = export_searched_loss(module, canvas)
    tree = exported.tree  # times exported.scale, on the root's coefficient
    comment = '# ' + exported.note
"""
from ..graph import ExportedTree, prepare_for_export
from .canvas import Canvas, counted_mask, upcast
from .searched import SearchedLoss


def export_searched_loss(module: SearchedLoss, canvas: Canvas,
                         seed: int = 0) -> ExportedTree:
    """The module's tree prepared for retraining, measured on ``canvas``.

    Args:
        module (SearchedLoss): the searched loss (its tree and leaves).
        canvas (Canvas): a call of that module at initialisation, e.g. one
            recorded by :func:`~.capture.capture`.
        seed (int): seed of the random predictions of the gradient probe.

    Returns:
        ExportedTree: see :func:`autoloss_zero.graph.prepare_for_export`.
    """
    logits = upcast(canvas.logits.detach())
    predicted = module.leaves(logits, canvas)
    return prepare_for_export(
        module.tree, {**canvas.targets, **predicted},
        prediction_leaves=tuple(k for k in predicted if k.isidentifier()),
        mask=counted_mask(canvas),
        loss_fn=lambda tree: module.loss_on(canvas, logits, tree),
        seed=seed)
