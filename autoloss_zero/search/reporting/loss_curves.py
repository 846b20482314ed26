"""Plots of a loss against the predicted probability (tools/show_loss.py).

A loss is given as a tree string, a ``best/*.py`` snippet (one curve per
branch) or the name of a registered softmax classification loss
(``BaikalLoss``, ``NGLLoss``, mmseg's ``CrossEntropyLoss`` ...). Every loss
becomes a *per-sample* function ``L(probs[N, C], labels[N]) -> [N]``:

* a tree is evaluated with ``yhat = probs`` and one-hot ``y`` on an
  (N, C, 1, 1) canvas (one pixel per sample, so ``mean_hw`` and the 3x3
  poolings act as the identity) and summed over classes, as the searched
  losses reduce it;
* a module gets ``log(probs)`` as logits (its softmax gives ``probs`` back)
  and ``reduction_override='none'``.

Two figures:

* ``<name>_pt.png``: L and dL/dp_t against the probability p_t of the true
  class, for 2 classes and for C classes whose other classes share 1 - p_t
  equally;
* ``<name>_binary.png``: GLO's Baikal figure: two classes, x the predicted
  probability of class 1, curves for y = 0 and y = 1 and their dL/dx.
"""
import os.path as osp
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Dict, List

import numpy as np
import torch
import torch.nn.functional as F

from ...graph import Tree, TreeSyntaxError, evaluate, formula, to_latex

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
#: predicted probabilities on the x axis (the ends are clamped by the ops).
GRID = np.linspace(0.01, 0.99, 197)


def tree_loss_fn(tree: Tree) -> LossFn:
    """Per-sample loss of a tree on softmax probabilities."""
    unknown = sorted(tree.leaves - {'yhat', 'y', '1'})
    if unknown:
        raise ValueError(f'cannot plot {tree}: it uses leaves {unknown} '
                         f'besides yhat, y and 1')

    def fn(probs, labels):
        y = F.one_hot(labels, probs.shape[1]).to(probs.dtype)
        value = evaluate(tree, {'yhat': probs[:, :, None, None],
                                'y': y[:, :, None, None]})
        return value.sum(dim=1).reshape(len(labels))
    return fn


def module_loss_fn(module: torch.nn.Module) -> LossFn:
    """Per-sample loss of a softmax classification loss module."""

    def fn(probs, labels):
        return module(torch.log(probs), labels,
                      reduction_override='none').reshape(len(labels))
    return fn


def _registered(name: str):
    from mmengine.registry import MODELS
    cls = MODELS.get(name)
    if cls is None:
        try:
            from mmseg.registry import MODELS as SEG_MODELS
            cls = SEG_MODELS.get(name)
        except ImportError:  # pragma: no cover  (mmseg is a dependency)
            cls = None
    return cls


def load_losses(spec: str) -> Dict[str, Dict]:
    """{label: dict(fn=LossFn, tree=Tree or None, doc=str)} of ``spec``.

    Raises:
        ValueError: ``spec`` is neither a snippet file, a registered loss
            name nor a valid tree string.
    """
    if spec.endswith('.py'):
        if not osp.isfile(spec):
            raise FileNotFoundError(f'loss snippet {spec!r} not found')
        from mmengine.config import Config
        trees = Config.fromfile(spec).get('searched_losses')
        if not trees:
            raise KeyError(f'{spec!r} defines no `searched_losses`')
        return {b: _tree_entry(Tree.parse(t)) for b, t in trees.items()}
    if spec.isidentifier() and spec not in ('y', 'yhat'):
        cls = _registered(spec)
        if cls is not None:
            module = cls().double()
            doc = (cls.__doc__ or spec).strip().split('\n')[0]
            return {spec: dict(fn=module_loss_fn(module), tree=None, doc=doc)}
    try:
        tree = Tree.parse(spec)
    except (TreeSyntaxError, ValueError) as exc:
        raise ValueError(f'{spec!r} is not a snippet (.py), a registered loss '
                         f'name (e.g. BaikalLoss) or a tree string: {exc}'
                         ) from None
    return {'loss': _tree_entry(tree)}


def _tree_entry(tree: Tree) -> Dict:
    return dict(fn=tree_loss_fn(tree), tree=tree, doc=str(tree))


def describe(losses: Dict[str, Dict]) -> List[str]:
    """Lines: canonical string, simplified formula and LaTeX per loss."""
    lines = []
    for label, entry in losses.items():
        tree = entry['tree']
        if tree is None:
            lines.append(f'{label}: {entry["doc"]} (registered module)')
            continue
        lines += [f'{label}: {tree}', f'  formula: {formula(tree)}',
                  f'  latex:   {to_latex(tree)}']
    return lines


def _curve(fn: LossFn, x: np.ndarray, num_classes: int, label: int,
           true_prob: Callable) -> tuple:
    """L and dL/dx along x, p_t = true_prob(x), others share 1 - p_t."""
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    with torch.enable_grad():
        p_t = true_prob(t)
        rest = ((1 - p_t) / (num_classes - 1))[:, None].expand(
            -1, num_classes - 1)
        cols = [rest[:, :label], p_t[:, None], rest[:, label:]]
        probs = torch.cat(cols, dim=1)
        labels = torch.full((len(x), ), label, dtype=torch.long)
        loss = fn(probs, labels)
        (grad, ) = torch.autograd.grad(loss.sum(), t, allow_unused=True)
    grad = torch.zeros_like(t) if grad is None else grad
    return (_finite(loss.detach().numpy()), _finite(grad.numpy()))


def _finite(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, np.nan)


def _limits(ax, series: List[np.ndarray]) -> None:
    """Y range from the 2nd-98th percentiles: 1/x-like ends stay readable."""
    values = np.concatenate([s[np.isfinite(s)] for s in series] or [[0.]])
    if values.size:
        low, high = np.percentile(values, [2, 98])
        pad = 0.1 * (high - low) or 1.0
        ax.set_ylim(low - pad, high + pad)


def plot_losses(losses: Dict[str, Dict], out_dir, name: str = 'loss',
                num_classes: int = 21) -> List[str]:
    """Write ``<name>_pt.png`` and ``<name>_binary.png``; return paths."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    if num_classes < 2:
        raise ValueError(f'num_classes must be >= 2, got {num_classes}')
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Against p_t (the other classes share 1 - p_t), for 2 and C classes.
    pt_curves = [
        (f'{label}, C={c}', style,
         *_curve(entry['fn'], GRID, c, 0, lambda t: t))
        for label, entry in losses.items()
        for c, style in sorted({2: '-', num_classes: '--'}.items())]
    # Binary: x = predicted probability of class 1; y = 1: p_t = x, y = 0:
    # p_t = 1 - x (the true class is class 0).
    binary_curves = [
        (f'{label}, y={y}', '-', *_curve(entry['fn'], GRID, 2, y, prob))
        for label, entry in losses.items()
        for y, prob in ((0, lambda t: 1 - t), (1, lambda t: t))]
    return [
        _loss_and_gradient(
            plt, pt_curves, out_dir / f'{name}_pt.png',
            xlabel='p_t (probability of the true class)', gxlabel='p_t',
            title='loss vs p_t (other classes share 1 - p_t)',
            gylabel='dL/dp_t'),
        _loss_and_gradient(
            plt, binary_curves, out_dir / f'{name}_binary.png',
            xlabel='x (predicted probability of class 1)', gxlabel='x',
            title='binary: y = 0 and y = 1', gylabel='dL/dx'),
    ]


def _loss_and_gradient(plt, curves, path: Path, xlabel: str, gxlabel: str,
                       title: str, gylabel: str) -> str:
    """Two panels, loss and gradient, of (label, style, loss, grad) curves
    over :data:`GRID`; saved to ``path``."""
    fig, (ax_l, ax_g) = plt.subplots(1, 2, figsize=(11, 4))
    for label, style, loss, grad in curves:
        ax_l.plot(GRID, loss, style, label=label)
        ax_g.plot(GRID, grad, style, label=label)
    _limits(ax_l, [c[2] for c in curves])
    _limits(ax_g, [c[3] for c in curves])
    ax_l.set(xlabel=xlabel, ylabel='loss', title=title)
    ax_g.set(xlabel=gxlabel, ylabel=gylabel, title='gradient')
    ax_l.legend(fontsize=8)
    return _save(fig, path)


def _save(fig, path: Path) -> str:
    import matplotlib.pyplot as plt
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)


def plot_search_progress(archive_path, out_path, metric: str = 'mIoU',
                         mode: str = 'max') -> str:
    """The search-progress plot of :func:`~.progress_plot.plot_progress`
    for an archive, without its search config."""
    from ..archive import Archive
    from ..loop.settings import Target
    from .progress_plot import plot_progress
    if not osp.isfile(archive_path):
        raise FileNotFoundError(f'no search archive at {archive_path}')
    settings = SimpleNamespace(target=Target(metric=metric, mode=mode,
                                             key=metric))
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    plot_progress(Archive(archive_path), settings, out_path)
    return str(out_path)
