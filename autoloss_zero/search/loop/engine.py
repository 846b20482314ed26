"""The search loop: propose, screen, deduplicate, train, archive, repeat."""
import math
import time
from pathlib import Path
from typing import Dict, List, Optional

from mmengine.config import Config
from mmengine.logging import MMLogger

from ...datasets.check import check_data_roots
from ...registry import EXECUTORS
from ..archive import TRAINED, Archive
from ..execution import ProxyResult, ProxyTrainer
from ..reporting import write_report
from ..reporting.export import make_exporter
from ..reporting.observers import build_observers
from ..screening import LossRejection, ScreeningPool
from .candidate import Candidate
from .config_record import changes, digest, flatten
from .evolution import AgingEvolution
from .lock import WorkDirLock
from .observers import Observers, SearchObserver
from .proposer import Proposer
from .settings import SearchSettings
from ..verdict import Reevaluation
from .stopping import SearchInterrupted, stop_on_signals

#: seconds between rolling backups of the archive (``search.sqlite.bak``).
BACKUP_EVERY = 60.0
#: equivalent candidates in a row after which the search stops proposing.
EQUIVALENT_RUN = 1000


class LossSearch:
    """An AutoLoss-Zero search of ``cfg`` in ``work_dir``.

    The work dir is locked for the object's life (until :meth:`run` ends or
    :meth:`close`): a second search of it is refused at once. Resuming
    checks that the config is the archived one (only the budget may grow).

    Args:
        cfg: a search config (proxy training config + ``search`` section).
        work_dir: output folder (archive, logs, best losses, plot).
        resume: continue the search archived in ``work_dir``.
        observers: follow the search (progress display, tracking); default
            those the settings ask for (:func:`build_observers`).

    Raises:
        WorkDirLocked: another search holds ``work_dir``.
        FileExistsError: ``work_dir`` holds a search and not ``resume``.
        ValueError: ``resume`` with a config other than the archived one.
        ArchiveCorrupt: the archive cannot be read (says how to recover).
    """

    def __init__(self, cfg: Config, work_dir, resume: bool = False,
                 observers: Optional[List[SearchObserver]] = None):
        self.cfg = cfg
        self.settings = SearchSettings.from_config(cfg)
        check_data_roots(cfg)
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.lock = WorkDirLock(self.work_dir).acquire()
        try:
            self.archive = Archive(self.work_dir / 'search.sqlite')
            self._check_config(resume)
        except BaseException:
            self.lock.release()
            raise
        self.logger = MMLogger.get_instance(
            f'autoloss_search_{id(self)}', log_file=str(
                self.work_dir / 'search.log'), log_level='INFO',
            file_mode='a')  # a resumed search appends to its log
        # The tools (analyze, tune, show) read the search's own config.
        cfg.dump(str(self.work_dir / 'search_config.py'))
        self.spaces = {b.name: b.search_space(self.settings.space)
                       for b in self.settings.branches}
        self.searcher = AgingEvolution(self.spaces, self.settings.evolution,
                                       self.settings.target.mode,
                                       self.settings.seed,
                                       self.settings.seed_trees)
        state = self.archive.state()
        if 'searcher' in state:
            self.searcher.set_state(state['searcher'])
        self.stats = state.get('stats', dict(generated=0))
        self._proposer_state = state.get('searcher', {}).get('in_progress')
        self.trainer: Optional[ProxyTrainer] = None
        self.pool: Optional[ScreeningPool] = None
        self.executor = None
        self._last_backup = time.time()
        self.observers = Observers(
            build_observers(self.settings, self.work_dir, self.logger)
            if observers is None else observers, self.logger)

    def _check_config(self, resume: bool) -> None:
        """Refuse a second search in the work dir, or a resume with another
        config; record this one (and the proxy's thread count)."""
        if not resume and any(self.archive.counts().values()):
            raise FileExistsError(
                f'{self.work_dir} already holds a search; pass --resume to '
                f'continue it or choose another --work-dir')
        flat = flatten(self.cfg.to_dict())
        old = self.archive.meta('config')
        if old is not None:
            changed = changes(old['flat'], flat)
            if changed:
                raise ValueError(
                    f'--resume: {self.work_dir} holds a search of another '
                    f'config (hash {old["hash"]}, this one {digest(flat)}); '
                    'changed: ' + '; '.join(changed) + '. Only the budget '
                    'may grow (and the executor or screening workers '
                    'change); start a new search in another --work-dir')
        self.archive.save_meta('config', dict(hash=digest(flat), flat=flat))
        self.archive.save_meta('proxy_threads', self.settings.proxy.threads)

    def close(self) -> None:
        """Stop pools and workers, release the work dir (idempotent)."""
        try:
            if self.executor is not None:
                self.executor.close()
            if self.pool is not None:
                self.pool.close()
            if hasattr(self, 'observers'):
                self.observers.close()
        finally:
            self.executor = self.pool = None
            self.lock.release()

    # -- set-up ------------------------------------------------------------
    def _state(self) -> Dict:
        """The searcher's state (with the candidate in progress, if a long
        screening run committed part of it) and the counters."""
        proposer = getattr(self, 'proposer', None)
        return dict(searcher=dict(self.searcher.get_state(),
                                  in_progress=proposer and
                                  proposer.get_state()), stats=self.stats)

    def _commit_rejected(self, rejected: List[Candidate]) -> None:
        """Archive the rejected draws of a long screening run so far."""
        self.stats['generated'] += len(rejected)
        self.archive.add(rejected, self._state())

    def prepare(self) -> None:
        """Build the warm proxy, capture the heads' inputs, train the
        baseline (the config's own losses) once."""
        s = self.settings
        self.logger.info('building the proxy training (once)...')
        self.trainer = ProxyTrainer(self.cfg, s, self.work_dir / 'proxy')
        captured = self.trainer.capture(s.rejection.samples)
        self.rejection = LossRejection(
            captured, s.rejection, {b.name: b.eta for b in s.branches},
            s.target.metric, self.trainer.heads) if s.rejection.enabled \
            else None
        if self.rejection is not None:
            self.rejection.check_reachable()
        self.pool = (ScreeningPool(self.rejection, s.rejection.workers)
                     if self.rejection and s.rejection.workers > 1 else None)
        self.proposer = Proposer(
            self.searcher, self.rejection, self.pool,
            s.rejection.max_redraws, logger=self.logger,
            commit=self._commit_rejected,
            commit_every=s.rejection.commit_every,
            progress=lambda *args: self.observers.on_screening(self, *args))
        self.proposer.set_state(self._proposer_state)
        # Executors get the warm driver trainer (local) or what they need to
        # build warm workers of their own (process, ray); built before the
        # baseline so that workers warm up meanwhile. (Built in the
        # project's registry scope, whatever the config's is.)
        self.executor = EXECUTORS.build(
            dict(s.executor, _scope_='autoloss_zero'), default_args=dict(
                trainer=self.trainer, cfg=self.cfg, settings=s,
                work_dir=self.work_dir, logger=self.logger))
        if self.archive.baseline() is None:
            self.logger.info('training the baseline (the config\'s own '
                             'losses) under identical settings...')
            baseline = ProxyTrainer(self.cfg, s, self.work_dir / 'baseline',
                                    searched=False)
            baseline.adopt_initial_weights(self.trainer)
            result = baseline.train()
            self.archive.add([Candidate.baseline(result)])
            self.logger.info(f'baseline {s.target.metric} = {result.score}')
            del baseline

    # -- one step ----------------------------------------------------------
    def step(self) -> bool:
        """Add one candidate: equivalent (score reused, returns False) or
        submitted to the executor (returns True)."""
        candidate = self.proposer.next()
        self.stats['generated'] += len(candidate.rejected) + 1
        twin = (self.archive.by_fingerprint(candidate.fingerprint)
                if candidate.fingerprint else None)
        self.stats['equivalent_run'] = (self.stats.get('equivalent_run', 0)
                                        + 1) if twin is not None else 0
        if twin is not None:
            candidate.equivalent(twin)

            def told(ids):
                self.searcher.tell(ids[-1], candidate.individual,
                                   candidate.score)
                return self._state()

            self.archive.add(candidate.rejected + [candidate], told)
            self._log(candidate)
            return False
        candidate.status = 'running'
        self.archive.add(candidate.rejected + [candidate], self._state())
        self.executor.submit(candidate)
        return True

    def _finish(self, candidate: Candidate, result: ProxyResult) -> None:
        candidate.record(result)
        if candidate.score is not None:
            self.searcher.tell(candidate.id, candidate.individual,
                               candidate.score)
        self.archive.save(candidate, self._state())
        self._log(candidate)
        if time.time() - self._last_backup > BACKUP_EVERY:
            self.archive.backup()
            self._last_backup = time.time()

    def _log(self, candidate: Candidate) -> None:
        counts = self.archive.counts()
        best = self.archive.best(1, self.settings.target.mode)
        base = self.archive.baseline()
        metric = self.settings.target.metric
        fmt = (lambda v: 'n/a' if v is None or not math.isfinite(v)
               else f'{v:.2f}')
        reason = candidate.reason if candidate.status != 'equivalent' \
            else None
        self.logger.info(
            f'[{sum(counts[s] for s in TRAINED)}/'
            f'{self.settings.evaluations} '
            f'trainings] #{candidate.id} {candidate.status} {metric}='
            f'{fmt(candidate.score)} (best '
            f'{fmt(best[0]["score"] if best else None)}, baseline '
            f'{fmt(base["score"] if base else None)}) | generated '
            f'{self.stats["generated"]}: rejected {counts["rejected"]}, '
            f'equivalent {counts["equivalent"]}, trained {counts["trained"]},'
            f' diverged {counts["diverged"]}, failed {counts["failed"]} | '
            f'{candidate.t_train or 0.0:.1f}s {candidate.key}'
            + (f' ({reason})' if reason else ''))
        self.observers.on_candidate(self, candidate)

    # -- the loop ----------------------------------------------------------
    def _requeue(self) -> int:
        """Submit the candidates that were in flight when the search
        stopped; returns how many."""
        rows = self.archive.rows('running')
        for row in rows:
            self.logger.info(f're-queueing candidate #{row["id"]} (in flight '
                             f'when the search stopped)')
            self.executor.submit(Candidate.from_row(row))
        return len(rows)

    def run(self) -> Dict:
        """Run (or resume) until the evaluation budget is spent; returns the
        summary. SIGINT / SIGTERM stop it cleanly (:class:`SearchInterrupted`
        with the evaluations archived so far)."""
        try:
            with stop_on_signals():
                self.observers.on_start(self)
                self._run()
                self.archive.backup()
                summary = write_report(
                    self.archive, self.settings, self.work_dir, self.logger,
                    self.cfg, make_exporter(getattr(self, 'rejection', None)))
                self.observers.on_finish(self, summary)
        except SearchInterrupted as stop:
            stop.evaluated = self.archive.num_trained()
            self.logger.warning(str(stop))
            raise
        finally:
            self.close()
        return summary

    def _run(self) -> None:
        if self.trainer is None:
            self.prepare()
        in_flight = self._requeue()
        self._started, self._spent = time.time(), self.stats.get('seconds', 0)
        while True:
            while in_flight < self.executor.capacity and self._may_propose(
                    in_flight):
                in_flight += self.step()
            if in_flight == 0:
                break
            for candidate, result in self.executor.wait():
                self._finish(candidate, result)
                in_flight -= 1
        if self.settings.verdict.seeds:
            self.verdicts = Reevaluation(self.archive, self.settings,
                                         self.logger).run(self.executor)

    def _may_propose(self, in_flight: int) -> bool:
        """Whether the budget allows another candidate: trainings (the
        equivalent ones are free), wall hours, and a search space that
        still gives new losses."""
        budget = self.settings.budget
        self.stats['seconds'] = self._spent + time.time() - self._started
        if self.archive.num_trained() + in_flight >= budget.evaluations:
            return False
        if budget.hours and self.stats['seconds'] >= budget.hours * 3600:
            self.logger.info(f'budget: {budget.hours} h spent')
            return False
        if self.stats.get('equivalent_run', 0) >= EQUIVALENT_RUN:
            self.logger.warning(
                f'{EQUIVALENT_RUN} candidates in a row were equivalent to '
                f'archived ones: the search space gives no new losses; '
                f'stopping')
            return False
        return True
