"""Search outputs: best losses as config snippets, progress plot, summary."""
import json
import math
from pathlib import Path
from typing import Dict, List

from ..graph import Tree, formula
from .archive import Archive
from .settings import SearchSettings


def searched_slots(trees: Dict[str, str], settings: SearchSettings,
                   cfg=None) -> Dict[str, Dict]:
    """{config path: searched-loss config} for every branch slot.

    With ``cfg`` (the search config), each slot keeps that slot's
    ``loss_weight``.
    """
    from .settings import resolve_path
    slots = {}
    for branch in settings.branches:
        for path in branch.paths:
            slot = dict(type=branch.type, tree=trees[branch.name],
                        branch=branch.name, **branch.options)
            if cfg is not None:
                slot['loss_weight'] = resolve_path(cfg, path).get(
                    'loss_weight', 1.0)
            slots[path] = slot
    return slots


def loss_snippet(row: Dict, settings: SearchSettings, rank: int,
                 baseline: float = None, cfg=None) -> str:
    """A config snippet holding ``row``'s trees for every branch slot.

    ``searched_slots`` maps config paths to loss configs;
    ``tools/train.py CONFIG --loss SNIPPET`` puts them into any config with
    the same slots (keeping that config's loss weights).
    """
    trees = json.loads(row['trees'])
    metric = settings.target.metric
    lines = [
        f'# AutoLoss-Zero loss, rank {rank} of the search (candidate '
        f'#{row["id"]}).',
        f'# proxy {metric}: {row["score"]:.4g}'
        + (f' (baseline loss: {baseline:.4g})' if baseline is not None
           else ''),
    ]
    for branch, tree in trees.items():
        lines.append(f'# {branch}: {formula(Tree.parse(tree))}')
    lines += ['# Use: python tools/train.py CONFIG --loss THIS_FILE',
              f'searched_losses = {trees!r}',
              f'searched_slots = {_pretty(searched_slots(trees, settings, cfg))}']
    return '\n'.join(lines) + '\n'


def _pretty(value, indent=0) -> str:
    """``repr`` of nested dicts, one key per line."""
    pad = ' ' * (indent + 4)
    if isinstance(value, dict):
        items = [f'{pad}{k!r}: {_pretty(v, indent + 4)}'
                 for k, v in value.items()]
        return '{\n' + ',\n'.join(items) + '}'
    return repr(value)


def plot_progress(archive: Archive, settings: SearchSettings, path) -> None:
    """PNG: score per evaluation with the running best and the baseline;
    cumulative counts by status against candidates generated."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = archive.rows("status != 'baseline'")
    evaluated = [r for r in rows if r['status'] in
                 ('trained', 'equivalent', 'diverged', 'failed')]
    sign = 1 if settings.target.mode == 'max' else -1
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    xs = list(range(1, len(evaluated) + 1))
    ys = [r['score'] if r['score'] is not None and math.isfinite(r['score'])
          else float('nan') for r in evaluated]
    colours = {'trained': 'tab:blue', 'equivalent': 'tab:green',
               'diverged': 'tab:red', 'failed': 'black'}
    ax1.scatter(xs, ys, s=12, c=[colours[r['status']] for r in evaluated])
    best, running = None, []
    for y in ys:
        if not math.isnan(y) and (best is None or sign * y > sign * best):
            best = y
        running.append(best)
    ax1.plot(xs, running, color='tab:orange', label='best so far')
    base = archive.baseline()
    if base and base['score'] is not None:
        ax1.axhline(base['score'], ls='--', color='grey', label='baseline')
    ax1.set(xlabel='evaluation', ylabel=settings.target.metric,
            title='proxy score')
    ax1.legend(loc='lower right')
    counts = {s: [] for s in ('rejected', 'equivalent', 'trained',
                              'diverged')}
    for i, r in enumerate(rows):
        for s, series in counts.items():
            series.append((series[-1] if series else 0) + (r['status'] == s))
    for s, series in counts.items():
        ax2.plot(range(1, len(rows) + 1), series, label=s)
    ax2.set(xlabel='candidates generated', ylabel='count',
            title='candidates by status')
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_report(archive: Archive, settings: SearchSettings, work_dir,
                 logger, cfg=None) -> Dict:
    """Write ``best/``, ``progress.png`` and log the final summary."""
    work_dir = Path(work_dir)
    best_dir = work_dir / 'best'
    best_dir.mkdir(exist_ok=True)
    for old in best_dir.glob('top*.py'):
        old.unlink()
    base = archive.baseline()
    base_score = base['score'] if base else None
    best: List[Dict] = archive.best(settings.top_k, settings.target.mode)
    for rank, row in enumerate(best, 1):
        (best_dir / f'top{rank}.py').write_text(
            loss_snippet(row, settings, rank, base_score, cfg))
    plot_progress(archive, settings, work_dir / 'progress.png')
    counts = archive.counts()
    summary = dict(counts=counts, baseline=base_score,
                   best=[dict(id=r['id'], score=r['score'],
                              trees=json.loads(r['trees'])) for r in best])
    metric = settings.target.metric
    lines = [f'search finished: {sum(counts.values()) - counts["baseline"]} '
             f'candidates, ' + ', '.join(f'{k} {v}' for k, v in
                                         counts.items() if k != 'baseline')]
    if best:
        top = best[0]
        for branch, tree in json.loads(top['trees']).items():
            lines.append(f'best {branch}: {tree}')
            lines.append(f'    = {formula(Tree.parse(tree))}')
        lines.append(f'best proxy {metric}: {top["score"]:.4g} (candidate '
                     f'#{top["id"]}); baseline loss: '
                     + ('n/a' if base_score is None else f'{base_score:.4g}'))
    lines.append(f'outputs: {best_dir}/top1.py ... , '
                 f'{work_dir / "progress.png"}, {archive.path}')
    for line in lines:
        logger.info(line)
    summary['text'] = '\n'.join(lines)
    return summary
