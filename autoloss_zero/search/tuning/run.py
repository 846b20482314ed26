"""``tools/tune_coefficients.py``: tune a discovered loss, then judge it.

Each CMA-ES member is scored on :data:`TUNING_SEEDS` (the mean of proxy
runs on the search seed and on one more), not on the one seed the search
ranked it on: a tuning that fits one seed's noise does not survive another.
The tuned loss (or the untuned one, if no member beat it) then goes through
the same multi-seed verdict as the search's best, on the verdict's fresh
seeds (never the tuning's), before ``best/tuned.py`` claims anything.
"""
import math
from pathlib import Path
from typing import Dict, Optional

from ..archive import Archive
from ..execution import ProxyResult
from ..execution.trainers import Trainers
from ..loop.candidate import Candidate
from ..loop.individual import Individual
from ..loop.settings import SearchSettings
from ..verdict import PairedComparison, compare_by_seed
from .cma import CoefficientTuning, TuningResult

#: seed offsets (from the search seed) each CMA-ES member is scored on.
TUNING_SEEDS = (0, 1000)


def multi_seed_score(trainers: Trainers, individual: Individual,
                     seeds) -> ProxyResult:
    """The mean score of ``individual`` over ``seeds``; the first run that
    is not ``trained`` with a finite score is the result instead."""
    results = [trainers.train(Candidate(individual, seed=s)) for s in seeds]
    for res in results:
        if res.status != 'trained' or res.score is None or \
                not math.isfinite(res.score):
            return res
    return ProxyResult('trained', sum(r.score for r in results) / len(results),
                       dict(seeds=list(seeds),
                            scores=[r.score for r in results]),
                       seconds=sum(r.seconds for r in results))


def judge(trainers: Trainers, individual: Individual,
          settings: SearchSettings, seeds) -> Optional[PairedComparison]:
    """Paired verdict of ``individual`` against the baseline on ``seeds``
    (None with fewer than 2 seeds scored on both sides)."""
    mine = {s: trainers.train(Candidate(individual, seed=s)).score
            for s in seeds}
    base = {s: trainers.train(Candidate(Individual({}), seed=s,
                                        label='baseline')).score
            for s in seeds}
    return compare_by_seed(mine, base, seeds, settings.target.mode,
                           settings.verdict.alpha)


def tuned_snippet(result: TuningResult, settings, cfg=None,
                  baseline: Optional[float] = None, rank: int = 1,
                  verdict: Optional[PairedComparison] = None) -> str:
    """``best/tuned.py``: the loss snippet of the tuned loss, with its
    verdict."""
    from ..reporting.snippets import loss_snippet
    row = dict(id=result.candidate, score=result.best_score,
               trees=result.best.to_json())
    tuned = result.best != result.base
    title = (f'# AutoLoss-Zero loss, rank {rank} of the search (candidate '
             f'#{result.candidate}), coefficients tuned by CMA-ES '
             f'({result.generations} generations, {result.evaluations} '
             f'evaluations, each the mean of {len(TUNING_SEEDS)} seeds; '
             f'untuned proxy score {result.base_score:.4g}'
             + (')' if tuned else '; no tuned member beat it)'))
    return loss_snippet(row, settings, rank, baseline, cfg, verdict,
                        title=title, runs=f'mean of {len(TUNING_SEEDS)} seeds')


def tune_coefficients(cfg, work_dir, rank: int = 1, generations: int = 10,
                      popsize: int = 8, sigma0: float = 0.5,
                      resume: bool = False, logger=None) -> Dict:
    """Tune the rank-th best loss of the search in ``work_dir``, judge it
    on the verdict's seeds and write ``best/tuned.py``; returns a summary
    dict (``result``, ``verdict``, ``snippet``, ``layout``)."""
    settings = SearchSettings.from_config(cfg)
    work_dir = Path(work_dir)
    if not (work_dir / 'search.sqlite').is_file():
        raise FileNotFoundError(f'no search archive {work_dir}/search.sqlite;'
                                f' run tools/search.py first')
    archive = Archive(work_dir / 'search.sqlite')
    mode = settings.target.mode
    best = archive.best(rank, mode)
    if len(best) < rank:
        raise ValueError(f'--rank {rank}: the search has only {len(best)} '
                         f'trained loss(es)')
    trainers = Trainers(cfg, settings, work_dir / 'tuning')
    seeds = [settings.seed + offset for offset in TUNING_SEEDS]
    tuning = CoefficientTuning(
        archive, best[rank - 1]['id'],
        lambda ind: multi_seed_score(trainers, ind, seeds),
        mode, popsize, sigma0, settings.seed, resume, logger)
    result = tuning.run_until(generations)
    verdict_seeds = settings.verdict.seed_list(settings.seed) or (
        settings.seed + 1, settings.seed + 2, settings.seed + 3)
    verdict = judge(trainers, result.best, settings, verdict_seeds)
    if verdict is not None:
        (logger.info if logger else print)(
            f'tuned loss: {verdict.line(settings.target.metric)}')
    base = archive.baseline()
    (work_dir / 'best').mkdir(exist_ok=True)
    path = work_dir / 'best' / 'tuned.py'
    path.write_text(tuned_snippet(result, settings, cfg,
                                  base and base['score'], rank, verdict))
    return dict(result=result, verdict=verdict, snippet=str(path),
                layout=tuning.layout)
