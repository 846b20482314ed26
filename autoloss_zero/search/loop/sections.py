"""Sections of the ``search`` settings about what a search spends and what
it concludes: the budget, and the multi-seed verdict."""
from dataclasses import dataclass
from typing import Optional, Tuple

from .validation import check_int, check_number


@dataclass(frozen=True)
class Budget:
    """When a search stops proposing.

    ``evaluations`` counts proxy trainings (trained, diverged or failed):
    a gradient-equivalent candidate reuses a score and costs none. ``hours``
    (optional) bounds the wall time of the search, summed over its runs.
    """
    evaluations: int = 100
    hours: Optional[float] = None

    def __post_init__(self):
        check_int('search.budget.evaluations', self.evaluations, 1)
        if self.hours is not None:
            check_number('search.budget.hours', self.hours, 0, low_open=True)


@dataclass(frozen=True)
class Verdict:
    """The multi-seed verdict after the search (``seeds=0``: none).

    The ``top_k`` best candidates and the baseline are trained again on
    ``seeds`` other seeds (the search's seed + 1, + 2, ...: other initial
    weights and data order, the same for candidate and baseline); a paired
    t-test at level ``alpha`` says better / no significant difference /
    worse.
    """
    seeds: int = 3
    top_k: int = 3
    alpha: float = 0.05

    def __post_init__(self):
        if self.seeds == 1:
            raise ValueError('search.verdict.seeds = 1 is invalid: a paired '
                             'comparison needs 0 (no verdict) or >= 2 seeds')
        check_int('search.verdict.seeds', self.seeds, 0)
        check_int('search.verdict.top_k', self.top_k, 1)
        check_number('search.verdict.alpha', self.alpha, 0, 1, low_open=True,
                     high_open=True)

    def seed_list(self, search_seed: int) -> Tuple[int, ...]:
        """The verdict's seeds, none of them the search's own."""
        return tuple(search_seed + 1 + i for i in range(self.seeds))
