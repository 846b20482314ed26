"""Experiment tracking of a search through an mmengine ``Visualizer``.

``search.visualizer`` is an ordinary mmengine visualizer config; its
``vis_backends`` decide where the search goes (local files, TensorBoard,
MLflow, W&B ...), all under ``<work_dir>/vis_data``::

    search = dict(..., visualizer=dict(
        type='Visualizer', vis_backends=[dict(type='LocalVisBackend'),
                                         dict(type='TensorboardVisBackend')]))

Per evaluated candidate: the scalars ``score``, ``best``, ``baseline`` and
the counts ``rejected``, ``equivalent``, ``trained`` at step = proxy
trainings so far. At the start: the search config (``add_config``). At the
end: the top-k losses as text, through the backend's experiment when it has
``add_text`` (TensorBoard's ``SummaryWriter``: tag ``search/top_k``) and in
``vis_data/top_k.md`` for every backend.
"""
import copy
import math
import uuid
from pathlib import Path
from typing import Dict, List, Optional

from mmengine.registry import VISBACKENDS, VISUALIZERS

from ...graph import Tree, formula
from ..loop.fidelity import trainings_done
from ..loop.observers import SearchObserver

#: the counts of the archive logged with every evaluation.
COUNTED = ('rejected', 'equivalent', 'trained')
#: file (in the visualizer's save dir) and tag of the top-k text.
TOP_K_FILE, TOP_K_TAG = 'top_k.md', 'search/top_k'


def build_visualizer(cfg: Dict, work_dir, name: Optional[str] = None):
    """An mmengine visualizer of ``cfg`` saving under ``<work_dir>/vis_data``.

    Args:
        cfg: an mmengine visualizer config (``type``, ``vis_backends`` ...).
        work_dir: the search's work dir.
        name: the instance name (unique by default: mmengine hands out an
            existing instance of the same name unchanged).
    """
    cfg = copy.deepcopy(dict(cfg))
    cfg.setdefault('save_dir', str(work_dir))
    cfg.setdefault('name', name or f'autoloss_search_{uuid.uuid4().hex}')
    return VISUALIZERS.build(cfg)


def backend_names(cfg: Dict) -> List[str]:
    """The names mmengine gives the backends of a visualizer config."""
    names = []
    for backend in cfg.get('vis_backends') or []:
        if isinstance(backend, dict):
            kind = backend['type']
            kind = VISBACKENDS.get(kind) if isinstance(kind, str) else kind
            names.append(backend.get('name') or kind.__name__)
        else:
            names.append(type(backend).__name__)
    return names


def top_k_lines(summary: Dict, metric: str) -> List[str]:
    """Markdown lines of the summary's best losses (rank, score, verdict,
    every branch's tree and formula)."""
    lines = []
    base = summary.get('baseline')
    for rank, best in enumerate(summary.get('best') or [], 1):
        score = best.get('score')
        head = (f'{rank}. candidate #{best["id"]}: proxy {metric} '
                f'{_fmt(score)}')
        if _finite(score) and _finite(base):
            head += f' ({score - base:+.4g} vs baseline {base:.4g})'
        lines.append(head)
        verdict = best.get('verdict')
        if verdict:
            lines.append(f'    - verdict over {verdict["seeds"]} seeds: '
                         f'{verdict["mean"]:.4g} vs baseline '
                         f'{verdict["baseline_mean"]:.4g}')
        for branch, tree in best['trees'].items():
            lines.append(f'    - {branch}: `{tree}` = '
                         f'`{formula(Tree.parse(tree))}`')
    return lines or ['no trained candidate']


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)


def _fmt(value) -> str:
    return f'{value:.4g}' if _finite(value) else 'n/a'


class SearchTracker(SearchObserver):
    """Logs a search through the visualizer of ``cfg`` (see the module).

    Args:
        cfg: ``search.visualizer``, an mmengine visualizer config.
        work_dir: the search's work dir (files go to ``vis_data/``).
    """

    def __init__(self, cfg: Dict, work_dir):
        self.cfg = copy.deepcopy(dict(cfg))
        self.save_dir = Path(work_dir) / 'vis_data'
        self.visualizer = build_visualizer(self.cfg, work_dir)
        self.backends = [b for b in (self.visualizer.get_backend(n)
                                     for n in backend_names(self.cfg))
                         if b is not None]

    def on_start(self, search) -> None:
        cfg = getattr(search, 'cfg', None)
        if cfg is None:
            return
        try:
            self.visualizer.add_config(cfg)
        except Exception as exc:  # noqa: BLE001  (the scalars still count)
            search.logger.warning(f'the visualizer did not take the config '
                                  f'({exc!r}); tracking goes on without it')

    def on_candidate(self, search, candidate) -> None:
        self.visualizer.add_scalars(
            self.scalars(search, candidate),
            step=trainings_done(search.archive, search.settings))

    @staticmethod
    def scalars(search, candidate) -> Dict[str, float]:
        """The scalars of one evaluation (scores only where finite)."""
        archive, mode = search.archive, search.settings.target.mode
        best = archive.best(1, mode)
        base = archive.baseline()
        scores = dict(score=candidate.score,
                      best=best[0]['score'] if best else None,
                      baseline=base['score'] if base else None)
        scalars = {k: float(v) for k, v in scores.items() if _finite(v)}
        counts = archive.counts()
        scalars.update({k: int(counts[k]) for k in COUNTED})
        return scalars

    def on_finish(self, search, summary: Dict) -> None:
        text = '\n'.join(top_k_lines(summary, search.settings.target.metric))
        step = trainings_done(search.archive, search.settings)
        for backend in self.backends:
            add_text = getattr(backend.experiment, 'add_text', None)
            if callable(add_text):
                add_text(TOP_K_TAG, text, step)
        self.save_dir.mkdir(parents=True, exist_ok=True)
        (self.save_dir / TOP_K_FILE).write_text(
            f'# top-{len(summary.get("best") or [])} losses\n\n{text}\n')

    def close(self) -> None:
        """Flush and close every backend (idempotent)."""
        if self.visualizer is not None:
            self.visualizer.close()
            self.visualizer = None


__all__ = ['SearchTracker', 'build_visualizer', 'backend_names',
           'top_k_lines']
