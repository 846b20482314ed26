"""Multi-fidelity promotion: asynchronous successive halving (ASHA).

With ``search.fidelity.rungs`` a candidate first trains the shortest rung
(a fraction of ``search.proxy.max_iters``). Whenever a worker is free, the
rule of Li et al. 2020 ("A System for Massively Parallel Hyperparameter
Tuning", ASHA) picks its next training: going down from the second-highest
rung k, the best candidate among the top ``1 / reduction`` of those that
finished rung k that has not been promoted yet is trained on rung k + 1;
when no rung has one, a new candidate starts on rung 0. Nobody waits for a
rung to fill up. A promoted candidate trains again from scratch, at the
longer length (no checkpoint is reused), with the same seed, initial weights
and data order as every other training (common random numbers), so the
scores of a rung are comparable. A diverged or failed training is never
promoted.

The scheduler keeps no state of its own: its decisions are a function of
the rung trainings archived so far (table ``rungs``), so a resumed search
makes the same decisions, and a promotion in flight when a search stopped
is a ``running`` row there, trained again on resume.

    >>> ladder = AshaScheduler((50, 200), reduction=2)
    >>> done = [RungResult(1, 0, 'trained', 0.3),
    ...         RungResult(2, 0, 'trained', 0.5)]
    >>> ladder.promotion(done)
    Promotion(candidate=2, rung=1, iterations=200)
    >>> ladder.promotion(done + [RungResult(2, 1, 'running', None)]) is None
    True
"""
from typing import Dict, Iterable, List, NamedTuple, Optional, Sequence, \
    Tuple

#: outcomes of a rung training that carry a score (a failed one has none).
SCORED = ('trained', 'diverged')


class RungResult(NamedTuple):
    """One rung training of a candidate (a row of the archive's ``rungs``).
    """
    candidate: int
    rung: int
    #: running, trained, diverged or failed.
    status: str
    score: Optional[float]


class Promotion(NamedTuple):
    """A candidate to train on a longer rung."""
    candidate: int
    rung: int
    iterations: int


def fitness_rung(rung: Optional[int], status: str) -> int:
    """The rung that ranks a candidate: the rung of its latest scored
    training if it trained, else 0 (a diverged one ranks with the shortest
    rung, at the worst score, however far it got)."""
    return (rung or 0) if status == 'trained' else 0


class AshaScheduler:
    """The rungs of a search and ASHA's promotion rule (how long to train;
    which loss to try next is the searcher's business).

    Args:
        iterations: each rung's training length, increasing; the last is
            the full proxy length.
        reduction: the promoted fraction of a rung is ``1 / reduction``
            (ASHA's eta).
        mode: ``'max'`` or ``'min'`` for the score.

    Raises:
        ValueError: fewer than 2 rungs, lengths not increasing, or
            ``reduction`` below 2.
    """

    def __init__(self, iterations: Sequence[int], reduction: int = 4,
                 mode: str = 'max'):
        self.iterations = tuple(int(n) for n in iterations)
        if len(self.iterations) < 2 or self.iterations[0] < 1 or any(
                a >= b for a, b in zip(self.iterations, self.iterations[1:])):
            raise ValueError(f'rung lengths must be >= 2 increasing '
                             f'positive iteration counts, got {iterations}')
        if int(reduction) < 2:
            raise ValueError(f'reduction must be >= 2, got {reduction}')
        self.reduction, self.mode = int(reduction), mode

    @classmethod
    def from_settings(cls, settings) -> Optional['AshaScheduler']:
        """The scheduler of ``settings`` (None: a single rung)."""
        fidelity = settings.fidelity
        if not fidelity.enabled:
            return None
        return cls(fidelity.iterations(settings.proxy.max_iters),
                   fidelity.reduction, settings.target.mode)

    @property
    def top(self) -> int:
        """The index of the full-length rung."""
        return len(self.iterations) - 1

    def ranking(self, finished: Iterable[RungResult]) -> List[RungResult]:
        """Scored trainings of one rung, best first: trained ones by score
        (ties: the older candidate first), then the diverged."""
        sign = 1 if self.mode == 'max' else -1
        scored = [r for r in finished
                  if r.status in SCORED and r.score is not None]
        return sorted(scored, key=lambda r: (r.status != 'trained',
                                             -sign * r.score, r.candidate))

    def promotion(self,
                  results: Iterable[RungResult]) -> Optional[Promotion]:
        """The next promotion, or None (start a new candidate).

        Args:
            results: every rung training so far, finished or running (a
                running one on rung k + 1 marks a promotion already made).
        """
        by_rung: Dict[int, List[RungResult]] = {}
        for result in results:
            by_rung.setdefault(result.rung, []).append(result)
        for rung in range(self.top - 1, -1, -1):
            promoted = {r.candidate for r in by_rung.get(rung + 1, ())}
            ranked = self.ranking(by_rung.get(rung, ()))
            for result in ranked[:len(ranked) // self.reduction]:
                if result.status == 'trained' and \
                        result.candidate not in promoted:
                    return Promotion(result.candidate, rung + 1,
                                     self.iterations[rung + 1])
        return None


def budget_spent(archive, settings) -> float:
    """The budget spent, in full-length proxy trainings: the finished
    trainings (an int) without multi-fidelity, else the iterations of the
    finished rung trainings over ``search.proxy.max_iters``."""
    fidelity = getattr(settings, 'fidelity', None)
    if fidelity is None or not fidelity.enabled:
        return archive.num_trained()
    return archive.rung_iterations() / settings.proxy.max_iters


def trainings_done(archive, settings) -> int:
    """Proxy trainings archived: of candidates, or of rungs with
    multi-fidelity promotion (a candidate may train several)."""
    fidelity = getattr(settings, 'fidelity', None)
    if fidelity is None or not fidelity.enabled:
        return archive.num_trained()
    return sum(r['status'] != 'running' for r in archive.rung_rows())


def rung_results(rows: Iterable[Dict]) -> List[RungResult]:
    """:class:`RungResult` records of archive ``rungs`` rows."""
    return [RungResult(r['candidate'], r['rung'], r['status'], r['score'])
            for r in rows]


def rung_counts(rows: Iterable[Dict], top: int) -> Tuple[int, ...]:
    """How many candidates finished each rung (trained or diverged)."""
    counts = [0] * (top + 1)
    for row in rows:
        if row['status'] in SCORED:
            counts[row['rung']] += 1
    return tuple(counts)
