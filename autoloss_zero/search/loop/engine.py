"""The search loop: propose, screen, deduplicate, train, archive, repeat.

With multi-fidelity promotion (``search.fidelity``) a free worker trains
what the :class:`~.fidelity.AshaScheduler` asks (a candidate of the archive
on a longer rung) or else a new candidate on the shortest rung.
"""
import time
from pathlib import Path
from typing import Dict, List, Optional

from mmengine.config import Config
from mmengine.logging import MMLogger

from ...datasets.check import check_data_roots
from ...registry import EXECUTORS
from ..archive import Archive
from ..execution import ProxyResult, ProxyTrainer
from ..reporting import write_report
from ..reporting.export import make_exporter
from ..reporting.observers import build_observers
from ..reporting.progress import log_line
from ..screening import LossRejection, ScreeningPool
from .candidate import Candidate
from .config_record import changes, digest, flatten
from .evolution import AgingEvolution
from .fidelity import (AshaScheduler, Promotion, fitness_rung, rung_results,
                       trainings_done)
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
        self.ladder = AshaScheduler.from_settings(self.settings)
        #: iterations of the trainings in flight (the budget they hold).
        self._holding = 0
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
                                   candidate.score, fitness_rung(
                                       twin.get('rung'), twin['status']))
                return self._state()

            self.archive.add(candidate.rejected + [candidate], told)
            self._log(candidate)
            return False
        candidate.status = 'running'
        self.archive.add(candidate.rejected + [candidate], self._state())
        self._submit(candidate, 0)
        return True

    def _promote(self, promotion: Promotion) -> bool:
        """Train an archived candidate on a longer rung (recorded as a
        ``running`` rung training first); returns True."""
        self.archive.start_rung(promotion.candidate, promotion.rung,
                                promotion.iterations)
        self._submit(Candidate.from_row(self.archive.get(
            promotion.candidate)), promotion.rung)
        return True

    def _submit(self, candidate: Candidate, rung: int) -> None:
        """Hand ``candidate`` to the executor, for ``rung``'s length when
        trainings have rungs."""
        if self.ladder is not None:
            candidate.rung = rung
            candidate.iterations = self.ladder.iterations[rung]
        self._holding += self._length(candidate)
        self.executor.submit(candidate)

    def _length(self, candidate: Optional[Candidate] = None) -> int:
        """The iterations of ``candidate``'s training (None: a new one's)."""
        if candidate is not None and candidate.iterations:
            return candidate.iterations
        return self.ladder.iterations[0] if self.ladder else \
            self.settings.proxy.max_iters

    def _promotion(self) -> Optional[Promotion]:
        """ASHA's next promotion, if trainings have rungs."""
        return self.ladder and self.ladder.promotion(rung_results(
            self.archive.rung_rows()))

    def _finish(self, candidate: Candidate, result: ProxyResult) -> None:
        self._holding -= self._length(candidate)
        if self.ladder is not None:
            return self._finish_rung(candidate, result)
        candidate.record(result)
        if candidate.score is not None:
            self.searcher.tell(candidate.id, candidate.individual,
                               candidate.score)
        self.archive.save(candidate, self._state())
        self._after(candidate)

    def _finish_rung(self, candidate: Candidate,
                     result: ProxyResult) -> None:
        """Archive a rung training and the candidate's new standing
        (:meth:`Candidate.record_rung`); tell the searcher its score."""
        fields = candidate.record_rung(result)
        if 'score' in fields and candidate.score is not None:
            fit = fitness_rung(candidate.rung, candidate.status)
            if candidate.rung:
                self.searcher.update(candidate.id, candidate.score, fit)
            else:
                self.searcher.tell(candidate.id, candidate.individual,
                                   candidate.score, fit)
        self.archive.finish_rung(candidate.id, candidate.rung,
                                 candidate.iterations, result.columns(),
                                 fields, self._state())
        self._after(candidate, result)

    def _after(self, candidate: Candidate, result=None) -> None:
        """Log a finished training; keep the rolling backup."""
        self._log(candidate, result)
        if time.time() - self._last_backup > BACKUP_EVERY:
            self.archive.backup()
            self._last_backup = time.time()

    def _log(self, candidate: Candidate,
             result: Optional[ProxyResult] = None) -> None:
        """One line per evaluated candidate (per rung training, with its
        ``result``, when trainings have rungs)."""
        self.logger.info(log_line(self, candidate, result))
        self.observers.on_candidate(self, candidate)

    # -- the loop ----------------------------------------------------------
    def _requeue(self) -> int:
        """Submit the trainings that were in flight when the search stopped
        (new candidates, and promotions to a longer rung); returns how
        many."""
        rows = self.archive.rows('running')
        for row in rows:
            self.logger.info(f're-queueing candidate #{row["id"]} (in flight '
                             f'when the search stopped)')
            self._submit(Candidate.from_row(row), 0)
        rungs = self.archive.rung_rows('running') if self.ladder else []
        for rung in rungs:
            self.logger.info(
                f're-queueing the rung-{rung["rung"]} training of candidate '
                f'#{rung["candidate"]} (in flight when the search stopped)')
            self._submit(Candidate.from_row(self.archive.get(
                rung['candidate'])), rung['rung'])
        return len(rows) + len(rungs)

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
            stop.evaluated = trainings_done(self.archive, self.settings)
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
            while in_flight < self.executor.capacity:
                promotion = self._promotion()
                if promotion is not None:
                    if not self._may_propose(promotion.iterations, False):
                        break
                    in_flight += self._promote(promotion)
                    continue
                if not self._may_propose(self._length()):
                    break
                in_flight += self.step()
            if in_flight == 0:
                break
            for candidate, result in self.executor.wait():
                self._finish(candidate, result)
                in_flight -= 1
        if self.settings.verdict.seeds:
            self.verdicts = Reevaluation(self.archive, self.settings,
                                         self.logger).run(self.executor)

    def _may_propose(self, cost: int, new: bool = True) -> bool:
        """Whether the budget allows another training of ``cost``
        iterations: full-length trainings (the equivalent ones are free; a
        rung costs its share of one), wall hours, and (for a ``new``
        candidate) a search space that still gives new losses."""
        budget = self.settings.budget
        full = self.settings.proxy.max_iters
        self.stats['seconds'] = self._spent + time.time() - self._started
        spent = self.archive.num_trained() * full if self.ladder is None \
            else self.archive.rung_iterations()
        if spent + self._holding + cost > budget.evaluations * full:
            return False
        if budget.hours and self.stats['seconds'] >= budget.hours * 3600:
            self.logger.info(f'budget: {budget.hours} h spent')
            return False
        if new and self.stats.get('equivalent_run', 0) >= EQUIVALENT_RUN:
            self.logger.warning(
                f'{EQUIVALENT_RUN} candidates in a row were equivalent to '
                f'archived ones: the search space gives no new losses; '
                f'stopping')
            return False
        return True
