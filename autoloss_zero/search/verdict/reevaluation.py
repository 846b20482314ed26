"""The multi-seed verdict: the best losses and the baseline, trained again.

One proxy run per candidate cannot tell a real gain from luck (seed-to-seed
noise is as large as the differences a search looks for), and the best of
many noisy runs is biased upward. So when the budget is spent the
``search.verdict.top_k`` best candidates and the baseline are re-trained on
``search.verdict.seeds`` fresh seeds through the search's executor, each
seed shared by candidate and baseline, and compared pairwise
(:func:`~.stats.compare`). Every finished re-training is committed at once
(table ``seed_runs``): a search killed here resumes with only the runs in
flight lost.
"""
from collections import deque
from typing import Dict, List, Optional, Sequence

from ..archive import Archive
from ..loop.candidate import Candidate
from ..loop.settings import SearchSettings
from .stats import PairedComparison, compare_by_seed


class Reevaluation:
    """Re-trains and compares; the outcome is stored in the archive.

    Args:
        archive: the search archive.
        settings: validated settings (``verdict``, target mode, seed).
        logger: for one line per finished re-training and per verdict.
    """

    def __init__(self, archive: Archive, settings: SearchSettings, logger):
        self.archive, self.settings, self.logger = archive, settings, logger
        self.seeds = settings.verdict.seed_list(settings.seed)

    def run(self, executor) -> Dict[int, PairedComparison]:
        """Train what is missing (through ``executor``), then compare."""
        rows = self.archive.best(self.settings.verdict.top_k,
                                 self.settings.target.mode)
        base = self.archive.baseline()
        if not rows or base is None:
            return {}
        by_id = {r['id']: r for r in rows + [base]}
        pairs = [(cand_id, seed) for cand_id in by_id for seed in self.seeds]
        run_ids = self.archive.add_seed_runs(pairs)
        status = {r['id']: r['status'] for r in self.archive.seed_runs()}
        todo = deque(Candidate.seed_run(by_id[c], run_id, seed)
                     for run_id, (c, seed) in zip(run_ids, pairs)
                     if status[run_id] == 'running')
        if todo:
            self.logger.info(
                f'verdict: training the top {len(rows)} and the baseline on '
                f'seeds {list(self.seeds)} ({len(todo)} runs)')
        self._train(todo, executor)
        return self.compare(rows, base)

    def _train(self, todo: deque, executor) -> None:
        in_flight = 0
        while todo or in_flight:
            while todo and in_flight < executor.capacity:
                executor.submit(todo.popleft())
                in_flight += 1
            for candidate, result in executor.wait():
                in_flight -= 1
                self.archive.finish_seed_run(candidate.id, result.columns())
                what = 'baseline' if candidate.is_baseline else \
                    candidate.key
                self.logger.info(f'verdict: seed {candidate.seed} {what} '
                                 f'{result.status} {result.score}')

    def scores(self) -> Dict[int, Dict[int, Optional[float]]]:
        """{candidate id: {seed: score}} of the finished re-trainings."""
        return seed_scores(self.archive, self.seeds)

    def compare(self, rows: List[Dict], base: Dict
                ) -> Dict[int, PairedComparison]:
        """Paired comparisons on the seeds where both have a finite score;
        stored in the archive (meta ``verdict``) and logged."""
        scores = self.scores()
        base_scores = scores.get(base['id'], {})
        metric, verdicts = self.settings.target.metric, {}
        for row in rows:
            result = compare_by_seed(
                scores.get(row['id'], {}), base_scores, self.seeds,
                self.settings.target.mode, self.settings.verdict.alpha)
            if result is None:
                self.logger.warning(f'verdict: #{row["id"]} has fewer than 2 '
                                    f'seeds with a score on both sides')
                continue
            verdicts[row['id']] = result
            self.logger.info(f'verdict #{row["id"]}: {result.line(metric)}')
        self.archive.save_meta('verdict', dict(
            seeds=list(self.seeds), baseline=base['id'],
            candidates={str(k): v.to_dict() for k, v in verdicts.items()}))
        return verdicts


def seed_scores(archive: Archive, seeds: Sequence[int]
                ) -> Dict[int, Dict[int, Optional[float]]]:
    """{candidate id: {seed: score}} of the finished re-trainings on
    ``seeds``."""
    out: Dict[int, Dict[int, Optional[float]]] = {}
    for row in archive.seed_runs():
        if row['status'] != 'running' and row['seed'] in seeds:
            out.setdefault(row['candidate'], {})[row['seed']] = row['score']
    return out
