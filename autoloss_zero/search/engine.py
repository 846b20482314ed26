"""The search loop: propose, screen, deduplicate, train, archive, repeat."""
import math
import time
from pathlib import Path
from typing import Dict, Optional

from mmengine.config import Config
from mmengine.logging import MMLogger

from ..datasets.check import check_data_roots
from ..registry import EXECUTORS
from .archive import Archive
from .individual import Individual
from .proposer import Proposer
from .proxy import ProxyResult, ProxyTrainer
from .rejection import LossRejection
from .screening import ScreeningPool
from .searcher import AgingEvolution
from .settings import SearchSettings


class LossSearch:
    """An AutoLoss-Zero search of ``cfg`` in ``work_dir``.

    Args:
        cfg: a search config (proxy training config + ``search`` section).
        work_dir: output folder (archive, logs, best losses, plot).
        resume: continue the search archived in ``work_dir``.
    """

    def __init__(self, cfg: Config, work_dir, resume: bool = False):
        self.cfg = cfg
        self.settings = SearchSettings.from_config(cfg)
        check_data_roots(cfg)
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.logger = MMLogger.get_instance(
            f'autoloss_search_{id(self)}', log_file=str(
                self.work_dir / 'search.log'), log_level='INFO',
            file_mode='a')  # a resumed search appends to its log
        self.archive = Archive(self.work_dir / 'search.sqlite')
        if not resume and any(self.archive.counts().values()):
            raise FileExistsError(
                f'{self.work_dir} already holds a search; pass --resume to '
                f'continue it or choose another --work-dir')
        # The tools (analyze, tune, show) read the search's own config.
        cfg.dump(str(self.work_dir / 'search_config.py'))
        self.spaces = {b.name: b.search_space(self.settings.space)
                       for b in self.settings.branches}
        self.searcher = AgingEvolution(self.spaces, self.settings.evolution,
                                       self.settings.target.mode,
                                       self.settings.seed)
        state = self.archive.state()
        if 'searcher' in state:
            self.searcher.set_state(state['searcher'])
        self.stats = state.get('stats', dict(generated=0))
        self.trainer: Optional[ProxyTrainer] = None
        self.pool: Optional[ScreeningPool] = None

    # -- set-up ------------------------------------------------------------
    def _state(self) -> Dict:
        return dict(searcher=self.searcher.get_state(), stats=self.stats)

    def prepare(self) -> None:
        """Build the warm proxy, capture the heads' inputs, train the
        baseline (the config's own losses) once."""
        s = self.settings
        self.logger.info('building the proxy training (once)...')
        self.trainer = ProxyTrainer(self.cfg, s, self.work_dir / 'proxy')
        captured = self.trainer.capture(s.rejection.samples)
        self.rejection = LossRejection(
            captured, s.rejection, {b.name: b.eta for b in s.branches},
            s.target.metric) if s.rejection.enabled else None
        self.pool = (ScreeningPool(self.rejection, s.rejection.workers)
                     if self.rejection and s.rejection.workers > 1 else None)
        self.proposer = Proposer(self.searcher, self.rejection, self.pool,
                                 s.rejection.max_redraws,
                                 logger=self.logger)
        # Executors get the warm driver trainer (local) or what they need to
        # build warm workers of their own (process, ray); built before the
        # baseline so that workers warm up meanwhile.
        self.executor = EXECUTORS.build(dict(s.executor), default_args=dict(
            trainer=self.trainer, cfg=self.cfg, settings=s,
            work_dir=self.work_dir))
        if self.archive.baseline() is None:
            self.logger.info('training the baseline (the config\'s own '
                             'losses) under identical settings...')
            baseline = ProxyTrainer(self.cfg, s, self.work_dir / 'baseline',
                                    searched=False)
            baseline.adopt_initial_weights(self.trainer)
            result = baseline.train()
            self.archive.add([dict(key='baseline', trees='{}',
                                   status='baseline', score=result.score,
                                   metrics=result.metrics,
                                   reason=result.reason,
                                   t_train=result.seconds)])
            self.logger.info(f'baseline {s.target.metric} = {result.score}')
            del baseline

    # -- one step ----------------------------------------------------------
    def step(self) -> bool:
        """Add one candidate: equivalent (score reused, returns False) or
        submitted to the executor (returns True)."""
        candidate = self.proposer.next()
        child, screening, rejected = (candidate.individual,
                                      candidate.screening, candidate.rejected)
        self.stats['generated'] += len(rejected) + 1
        row = dict(parent=candidate.parent, key=child.key,
                   trees=child.to_json(), redraws=len(rejected),
                   t_reject=candidate.seconds,
                   gains=screening.gains if screening else None,
                   fingerprint=screening.fingerprint if screening else None)
        twin = (self.archive.by_fingerprint(row['fingerprint'])
                if row['fingerprint'] else None)
        if twin is not None:
            row.update(status='equivalent', score=twin['score'],
                       metrics=twin['metrics'], equivalent_to=twin['id'],
                       finished=time.time())

            def told(ids):
                self.searcher.tell(ids[-1], child, twin['score'])
                return self._state()

            ids = self.archive.add(rejected + [row], told)
            self._log(ids[-1], 'equivalent', twin['score'], child, 0.0)
            return False
        row['status'] = 'running'
        ids = self.archive.add(rejected + [row], self._state())
        self.executor.submit(ids[-1], child)
        return True

    def _finish(self, cand_id: int, result: ProxyResult) -> None:
        row = self.archive.get(cand_id)
        individual = Individual.from_json(row['trees'])
        if result.score is not None:
            self.searcher.tell(cand_id, individual, result.score)
        self.archive.update(cand_id, dict(
            status=result.status, score=result.score, metrics=result.metrics,
            reason=result.reason, t_train=result.seconds), self._state())
        self._log(cand_id, result.status, result.score, individual,
                  result.seconds, result.reason)

    def _log(self, cand_id, status, score, individual, seconds, reason=None):
        counts = self.archive.counts()
        best = self.archive.best(1, self.settings.target.mode)
        base = self.archive.baseline()
        metric = self.settings.target.metric
        fmt = (lambda v: 'n/a' if v is None or not math.isfinite(v)
               else f'{v:.2f}')
        self.logger.info(
            f'[{self.archive.num_evaluated()}/{self.settings.evaluations}] '
            f'#{cand_id} {status} {metric}={fmt(score)} '
            f'(best {fmt(best[0]["score"] if best else None)}, baseline '
            f'{fmt(base["score"] if base else None)}) | generated '
            f'{self.stats["generated"]}: rejected {counts["rejected"]}, '
            f'equivalent {counts["equivalent"]}, trained {counts["trained"]},'
            f' diverged {counts["diverged"]}, failed {counts["failed"]} | '
            f'{seconds:.1f}s {individual.key}'
            + (f' ({reason})' if reason else ''))

    # -- the loop ----------------------------------------------------------
    def _requeue(self) -> int:
        """Submit the candidates that were in flight when the search
        stopped; returns how many."""
        rows = self.archive.rows("status = 'running'")
        for row in rows:
            self.logger.info(f're-queueing candidate #{row["id"]} (in flight '
                             f'when the search stopped)')
            self.executor.submit(row['id'], Individual.from_json(row['trees']))
        return len(rows)

    def run(self) -> Dict:
        """Run (or resume) until the evaluation budget is spent."""
        if self.trainer is None:
            self.prepare()
        budget = self.settings.evaluations
        try:
            in_flight = self._requeue()
            while True:
                while (in_flight < self.executor.capacity and
                       self.archive.num_evaluated() + in_flight < budget):
                    in_flight += self.step()
                if in_flight == 0:
                    break
                for cand_id, result in self.executor.wait():
                    self._finish(cand_id, result)
                    in_flight -= 1
        finally:
            self.executor.close()
            if self.pool:
                self.pool.close()
        from .report import write_report
        return write_report(self.archive, self.settings, self.work_dir,
                            self.logger, self.cfg)
