"""Search outputs: best losses as config snippets, plots, the summary."""
import json
import math
from pathlib import Path
from typing import Callable, Dict, List, Optional

from ...graph import Tree, formula
from ..archive import Archive
from ..loop.fidelity import budget_spent, rung_counts, trainings_done
from ..loop.settings import SearchSettings
from ..verdict import PairedComparison, load_verdicts
from ..verdict.reevaluation import seed_scores
from .html import write_html_report
from .progress_plot import plot_progress
from .snippets import Exporter, loss_snippet
from .verdict_plot import plot_verdict


def ranked(archive: Archive, settings: SearchSettings,
           verdicts: Dict[int, PairedComparison]) -> List[Dict]:
    """The top-k trained candidates: those with a multi-seed verdict first,
    by their mean over seeds, then the others by their search score."""
    best = archive.best(settings.top_k, settings.target.mode)
    sign = -1 if settings.target.mode == 'max' else 1
    judged = sorted((r for r in best if r['id'] in verdicts),
                    key=lambda r: (sign * verdicts[r['id']].mean, r['id']))
    return judged + [r for r in best if r['id'] not in verdicts]


def write_report(archive: Archive, settings: SearchSettings, work_dir,
                 logger, cfg=None,
                 exporter: Optional[Callable] = None) -> Dict:
    """Write ``best/``, ``progress.png`` (and ``verdict.png``),
    ``report.html`` and log the final summary; returns it (``text``: the
    printed lines)."""
    work_dir = Path(work_dir)
    best_dir = work_dir / 'best'
    best_dir.mkdir(exist_ok=True)
    for old in best_dir.glob('top*.py'):
        old.unlink()
    base = archive.baseline()
    base_score = base['score'] if base else None
    verdicts = load_verdicts(archive)
    best = ranked(archive, settings, verdicts)
    for rank, row in enumerate(best, 1):
        (best_dir / f'top{rank}.py').write_text(loss_snippet(
            row, settings, rank, base_score, cfg, verdicts.get(row['id']),
            exporter, runs='one run' if row.get('rung') is None else
            f'one run, rung {row["rung"]}'))
    plot_progress(archive, settings, work_dir / 'progress.png')
    if verdicts:
        scores = seed_scores(archive,
                             settings.verdict.seed_list(settings.seed))
        plot_verdict({r['id']: scores.get(r['id'], {}) for r in best},
                     scores.get(base['id'], {}), verdicts,
                     settings.target.metric, work_dir / 'verdict.png')
    counts = archive.counts()
    summary = dict(counts=counts, baseline=base_score,
                   trainings=trainings_done(archive, settings),
                   spent=budget_spent(archive, settings),
                   best=[dict(id=r['id'], score=r['score'],
                              rung=r.get('rung'),
                              trees=json.loads(r['trees']),
                              verdict=verdicts[r['id']].to_dict()
                              if r['id'] in verdicts else None)
                         for r in best])
    lines = _summary_lines(archive, settings, best, base_score, verdicts)
    try:
        report = write_html_report(work_dir, archive, settings, best,
                                   verdicts, lines)
    except Exception as exc:  # noqa: BLE001  (the search itself is done)
        logger.warning(f'{work_dir / "report.html"} not written: {exc!r}')
        report = None
    lines.append(f'outputs: {best_dir}/top1.py ... , '
                 f'{work_dir / "progress.png"}'
                 + (f', {work_dir / "verdict.png"}' if verdicts else '')
                 + (f', {report}' if report else '')
                 + f', {archive.path}')
    for line in lines:
        logger.info(line)
    summary['text'] = '\n'.join(lines)
    return summary


def _fmt(value) -> str:
    return 'n/a' if value is None or not math.isfinite(value) else \
        f'{value:.4g}'


def _summary_lines(archive, settings, best, base_score, verdicts):
    counts = archive.counts()
    metric = settings.target.metric
    fidelity = settings.fidelity
    spent = '' if not fidelity.enabled else \
        f' = {budget_spent(archive, settings):.2f} full-length'
    lines = [f'search finished: {sum(counts.values()) - counts["baseline"]} '
             f'candidates, {trainings_done(archive, settings)} proxy '
             f'trainings{spent} (budget {settings.evaluations}; equivalent '
             f'ones are free): ' +
             ', '.join(f'{k} {v}' for k, v in counts.items()
                       if k != 'baseline')]
    if fidelity.enabled:
        lengths = fidelity.iterations(settings.proxy.max_iters)
        reached = rung_counts(archive.rung_rows(), len(lengths) - 1)
        lines.append('rungs: ' + ', '.join(
            f'{n} iterations {k} candidates'
            for n, k in zip(lengths, reached))
            + f' (reduction {fidelity.reduction})')
        lines.append('top-k by rung reached, then score: ' + '; '.join(
            f'#{r["id"]} rung {r["rung"]} {_fmt(r["score"])}' for r in best))
    if not best:
        return lines
    top = best[0]
    for branch, tree in json.loads(top['trees']).items():
        lines.append(f'best {branch}: {tree}')
        lines.append(f'    = {formula(Tree.parse(tree))}')
    lines.append(f'best proxy {metric}: {_fmt(top["score"])} (candidate '
                 f'#{top["id"]}, one run); baseline loss: '
                 f'{_fmt(base_score)}')
    for row in best:
        if row['id'] in verdicts:
            lines.append(f'verdict #{row["id"]}: '
                         f'{verdicts[row["id"]].line(metric)}')
    return lines


__all__ = ['write_report', 'ranked', 'Exporter']
