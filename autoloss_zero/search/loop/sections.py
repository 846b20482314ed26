"""Sections of the ``search`` settings about what a search spends and what
it concludes: the budget, the training lengths (fidelity), and the
multi-seed verdict."""
from dataclasses import dataclass
from typing import Optional, Tuple

from .validation import check_int, check_number, check_rungs


@dataclass(frozen=True)
class Budget:
    """When a search stops proposing.

    ``evaluations`` counts proxy trainings (trained, diverged or failed):
    a gradient-equivalent candidate reuses a score and costs none. With
    multi-fidelity promotion (:class:`Fidelity`) it counts full-length
    trainings: a rung training of ``n`` iterations costs
    ``n / search.proxy.max_iters`` of one (a rung of 0.25 costs 0.25, a
    diverged run its rung's whole length), and a training starts only if
    its cost fits in what is left: the search ends when the training ASHA
    chooses next (a promotion first) does not fit. ``hours`` (optional)
    bounds the wall time of the search, summed over its runs.
    """
    evaluations: int = 100
    hours: Optional[float] = None

    def __post_init__(self):
        check_int('search.budget.evaluations', self.evaluations, 1)
        if self.hours is not None:
            check_number('search.budget.hours', self.hours, 0, low_open=True)


@dataclass(frozen=True)
class Fidelity:
    """Multi-fidelity promotion (``search.fidelity``), off by default.

    ``rungs`` are training lengths as fractions of ``search.proxy.max_iters``
    (increasing, the last 1.0): every trained candidate first trains the
    shortest, and asynchronous successive halving (ASHA, Li et al. 2020)
    promotes the best ``1 / reduction`` of each rung to the next one
    (:mod:`.fidelity`). ``None`` (or the single rung ``(1.0,)``) trains
    every candidate once at full length, as without this section.
    """
    rungs: Optional[Tuple[float, ...]] = None
    reduction: int = 4

    def __post_init__(self):
        check_rungs('search.fidelity.rungs', self.rungs)
        check_int('search.fidelity.reduction', self.reduction, 2)
        if self.rungs is not None:
            object.__setattr__(self, 'rungs',
                               tuple(float(r) for r in self.rungs))

    @property
    def enabled(self) -> bool:
        """Whether candidates train on more than one rung."""
        return self.rungs is not None and len(self.rungs) > 1

    def iterations(self, max_iters: int) -> Tuple[int, ...]:
        """Each rung's training length in iterations (just ``max_iters``
        when off).

        Raises:
            ValueError: two rungs round to the same length, or one to none.
        """
        if not self.enabled:
            return (max_iters, )
        lengths = tuple(round(r * max_iters) for r in self.rungs)
        if lengths[0] < 1 or any(a >= b for a, b in zip(lengths,
                                                        lengths[1:])):
            raise ValueError(
                f'search.fidelity.rungs = {self.rungs} is invalid with '
                f'search.proxy.max_iters = {max_iters}: the rungs train '
                f'{list(lengths)} iterations; expected at least 1 each, '
                f'each rung longer than the one before')
        return lengths


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
