"""The verdict plot (``verdict.png``): each seed's score of the best losses
beside the baseline's on the same seed."""
from typing import Dict, List, Mapping, Optional

from ..verdict import PairedComparison


def plot_verdict(scores: Mapping[int, Mapping[int, Optional[float]]],
                 baseline: Mapping[int, Optional[float]],
                 verdicts: Mapping[int, PairedComparison], metric: str,
                 path) -> None:
    """PNG: one column per candidate, its per-seed scores (left) joined to
    the baseline's on the same seed (right), the verdict as its label.

    Args:
        scores: {candidate id: {seed: score}}, in the order to plot.
        baseline: {seed: score} of the baseline.
        verdicts: {candidate id: comparison}.
        metric: the target metric's name (y axis).
        path: the PNG to write.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    ids: List[int] = [c for c in scores if c in verdicts]
    fig, ax = plt.subplots(figsize=(max(4.0, 2.2 * len(ids)), 4))
    colours: Dict[int, str] = {}
    for x, cand_id in enumerate(ids):
        for seed, score in sorted(scores[cand_id].items()):
            base = baseline.get(seed)
            if score is None or base is None:
                continue
            colour = colours.setdefault(seed, f'C{len(colours) % 10}')
            ax.plot([x - 0.15, x + 0.15], [score, base], color=colour,
                    marker='o', label=f'seed {seed}' if x == 0 else None)
    ax.set_xticks(range(len(ids)))
    ax.set_xticklabels([f'#{c} vs baseline\n{verdicts[c].verdict}'
                        for c in ids], fontsize=8)
    ax.set(ylabel=metric, title='multi-seed verdict (left: loss, right: '
           'baseline, same seed joined)')
    if colours:
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
