"""The search's progress plot (``progress.png``)."""
import math

from ..archive import EVALUATED, Archive
from ..loop.settings import SearchSettings


def plot_progress(archive: Archive, settings: SearchSettings, path) -> None:
    """PNG: score per evaluation with the running best and the baseline;
    cumulative counts by status against candidates generated."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = archive.rows(exclude=('baseline', ))
    evaluated = [r for r in rows if r['status'] in EVALUATED]
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
