"""Paired comparison of a loss with the baseline over seeds: the verdict.

Each seed fixes the initial weights and the data order of one proxy
training, shared by the candidate and the baseline; the per-seed
differences are therefore paired. The verdict is the two-sided paired
t-test at level ``alpha`` (scipy.stats.ttest_rel); the Wilcoxon signed-rank
p-value is reported beside it (with 3 seeds it can never fall below 0.25,
which is why it does not decide).

    >>> c = compare([30.0, 31.0, 32.0], [25.0, 26.5, 26.5])
    >>> c.verdict, round(c.diff_mean, 2)
    ('better', 5.0)
"""
import math
from dataclasses import asdict, dataclass
from typing import Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
from scipy import stats

VERDICTS = ('better', 'no significant difference', 'worse')

Interval = Tuple[float, float]


def mean_ci(values: Sequence[float], level: float = 0.95
            ) -> Tuple[float, Interval]:
    """The mean and its two-sided ``level`` confidence interval (Student t;
    NaN bounds with fewer than 2 values)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, (math.nan, math.nan)
    half = float(stats.t.ppf(0.5 + level / 2, len(values) - 1) *
                 values.std(ddof=1) / math.sqrt(len(values)))
    return mean, (mean - half, mean + half)


@dataclass(frozen=True)
class PairedComparison:
    """A candidate's scores against the baseline's on the same seeds."""
    seeds: int
    mean: float
    ci: Interval
    baseline_mean: float
    baseline_ci: Interval
    #: candidate - baseline, per seed averaged, with its interval.
    diff_mean: float
    diff_ci: Interval
    t_p: float
    wilcoxon_p: Optional[float]
    verdict: str

    def to_dict(self) -> Dict:
        return asdict(self)

    def line(self, metric: str) -> str:
        """One line for logs and snippet headers."""
        return (f'{metric} {self.mean:.4g} +- {_half(self.ci):.2g} vs '
                f'baseline {self.baseline_mean:.4g} +- '
                f'{_half(self.baseline_ci):.2g} over {self.seeds} seeds: '
                f'difference {self.diff_mean:+.4g} (95% CI '
                f'{self.diff_ci[0]:+.3g} .. {self.diff_ci[1]:+.3g}), paired '
                f't-test p = {self.t_p:.3g}: {self.verdict}')


def _half(ci: Interval) -> float:
    """Half the width of an interval (0 below rounding noise)."""
    if not math.isfinite(ci[0]):
        return math.nan
    half = (ci[1] - ci[0]) / 2
    return 0.0 if abs(half) < 1e-9 * max(1.0, abs(ci[0])) else half


def compare(candidate: Sequence[float], baseline: Sequence[float],
            mode: str = 'max', alpha: float = 0.05) -> PairedComparison:
    """Paired comparison of per-seed scores (same seeds, same order).

    Args:
        candidate: the candidate's score on each seed.
        baseline: the baseline's score on the same seeds.
        mode: ``'max'`` (higher is better) or ``'min'``.
        alpha: level of the paired t-test that decides the verdict.

    Raises:
        ValueError: different lengths, fewer than 2 seeds, a bad mode.
    """
    if mode not in ('max', 'min'):
        raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
    cand, base = np.asarray(candidate, float), np.asarray(baseline, float)
    if cand.shape != base.shape or len(cand) < 2:
        raise ValueError(f'a paired comparison needs the same >= 2 seeds for '
                         f'both, got {len(cand)} and {len(base)} scores')
    diff = cand - base
    if np.allclose(diff, diff[0]):  # no spread: the t statistic is 0 / 0
        t_p = 1.0 if abs(diff[0]) < 1e-12 else 0.0
    else:
        t_p = float(stats.ttest_rel(cand, base).pvalue)
    wilcoxon_p = (None if np.allclose(diff, 0) else
                  float(stats.wilcoxon(cand, base).pvalue))
    gain = diff.mean() if mode == 'max' else -diff.mean()
    verdict = VERDICTS[1]
    if t_p < alpha:
        verdict = VERDICTS[0] if gain > 0 else VERDICTS[2]
    mean, ci = mean_ci(cand)
    base_mean, base_ci = mean_ci(base)
    diff_mean, diff_ci = mean_ci(diff)
    return PairedComparison(len(cand), mean, ci, base_mean, base_ci,
                            diff_mean, diff_ci, t_p, wilcoxon_p, verdict)


def comparison_from_dict(data: Dict) -> PairedComparison:
    """Inverse of :meth:`PairedComparison.to_dict` (JSON lists back to
    interval tuples)."""
    data = dict(data)
    for key in ('ci', 'baseline_ci', 'diff_ci'):
        data[key] = tuple(data[key])
    return PairedComparison(**data)


def compare_by_seed(candidate: Mapping[int, Optional[float]],
                    baseline: Mapping[int, Optional[float]],
                    seeds: Sequence[int], mode: str = 'max',
                    alpha: float = 0.05) -> Optional[PairedComparison]:
    """:func:`compare` on the ``seeds`` where both have a finite score
    (``{seed: score}`` each); None when fewer than 2 such seeds remain."""
    kept = [s for s in seeds
            if _finite(candidate.get(s)) and _finite(baseline.get(s))]
    if len(kept) < 2:
        return None
    return compare([candidate[s] for s in kept], [baseline[s] for s in kept],
                   mode, alpha)


def _finite(value) -> bool:
    return value is not None and math.isfinite(value)
