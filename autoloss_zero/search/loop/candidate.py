"""One candidate's record, from its proposal to its archive row.

A :class:`Candidate` is created once, when the proposer has drawn it, and
travels through screening, the equivalence check, the executor and the
archive; the archive row is built from it in one place (:meth:`row`).
"""
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from ..screening.result import Screening
from .individual import Individual


@dataclass
class Candidate:
    """A loss individual and everything learnt about it.

    ``status`` is ``proposed`` until the search decides: ``rejected`` (a
    draw that failed screening), ``equivalent`` (score reused from a
    gradient-equivalent twin), ``running``, then ``trained`` / ``diverged``
    / ``failed``. With multi-fidelity promotion its score is that of
    ``rung``, its latest scored training (every rung's is archived apart).
    """
    individual: Individual
    parent: Optional[int] = None
    id: Optional[int] = None
    status: str = 'proposed'
    #: the screening (None with rejection disabled).
    screening: Optional[Screening] = None
    #: rejected draws on the way to this one not yet archived (Candidates
    #: of status rejected), and how many draws were rejected in all.
    rejected: List['Candidate'] = field(default_factory=list)
    redraws: int = 0
    t_reject: float = 0.0
    score: Optional[float] = None
    metrics: Optional[Dict] = None
    reason: Optional[str] = None
    t_train: Optional[float] = None
    equivalent_to: Optional[int] = None
    created: float = field(default_factory=time.time)
    finished: Optional[float] = None
    #: the archive key when it is not the individual's (the baseline's).
    label: Optional[str] = None
    #: how it was made: random, mutation, crossover, seed (a given tree).
    origin: Optional[str] = None
    #: the seed of its proxy training (None: the search's own).
    seed: Optional[int] = None
    #: multi-fidelity promotion: the rung of the training under way, then
    #: of the archived outcome (None: a single-rung search).
    rung: Optional[int] = None
    #: the length of its proxy training (None: ``search.proxy.max_iters``).
    iterations: Optional[int] = None

    @classmethod
    def rejected_draw(cls, parent: Optional[int], individual: Individual,
                      screening: Screening) -> 'Candidate':
        """A draw that failed screening (``individual``: the failing
        branch's tree only, in a multi-branch search)."""
        return cls(individual, parent, status='rejected',
                   screening=screening, reason=screening.reason)

    @classmethod
    def baseline(cls, result) -> 'Candidate':
        """The config's own losses, trained under the search's settings."""
        candidate = cls(Individual({}), label='baseline')
        candidate.record(result)
        candidate.status = 'baseline'
        return candidate

    @classmethod
    def seed_run(cls, row: Dict, run_id: int, seed: int) -> 'Candidate':
        """The re-training of an archived candidate (or of the baseline) on
        another ``seed``; its ``id`` is the re-training's."""
        candidate = cls.from_row(row)
        candidate.id, candidate.seed, candidate.status = run_id, seed, \
            'running'
        return candidate

    @property
    def key(self) -> str:
        return self.label or self.individual.key

    @property
    def is_baseline(self) -> bool:
        """Whether this trains the config's own losses."""
        return self.label == 'baseline'

    @property
    def fingerprint(self) -> Optional[str]:
        return self.screening.fingerprint if self.screening else None

    def equivalent(self, twin: Dict) -> None:
        """Reuse the score of ``twin`` (an archive row), training nothing."""
        self.status, self.equivalent_to = 'equivalent', twin['id']
        self.score, self.metrics = twin['score'], twin['metrics']
        self.rung, self.finished = twin.get('rung'), time.time()

    def record(self, result) -> None:
        """Take the outcome of a proxy training (a ``ProxyResult``)."""
        self.status, self.score = result.status, result.score
        self.metrics, self.reason = dict(result.metrics), result.reason
        self.t_train, self.finished = result.seconds, time.time()

    def record_rung(self, result) -> Dict:
        """Take the outcome of a training of :attr:`rung` (multi-fidelity);
        returns the archive columns it changes. Seconds add up over the
        rungs; a failed promotion (no score) leaves the candidate at its
        last scored rung."""
        before = (self.t_train or 0.0) if self.rung else 0.0
        if self.rung and result.score is None:
            self.t_train = before + result.seconds
            return dict(t_train=self.t_train)
        self.record(result)
        self.t_train += before
        row = self.row()
        return {k: row[k] for k in ('status', 'score', 'metrics', 'reason',
                                    't_train', 'rung')}

    def row(self) -> Dict:
        """The archive row of this candidate."""
        screening = self.screening
        return dict(
            parent=self.parent, key=self.key,
            trees=self.individual.to_json(), status=self.status,
            reason=self.reason,
            gains=screening.gains if screening else None,
            fingerprint=None if self.status == 'rejected' else
            self.fingerprint,
            equivalent_to=self.equivalent_to, score=self.score,
            metrics=self.metrics, redraws=self.redraws,
            t_reject=self.t_reject or None, t_train=self.t_train,
            created=self.created, finished=self.finished, origin=self.origin,
            rung=self.rung)

    @classmethod
    def from_row(cls, row: Dict) -> 'Candidate':
        """The record of an archived row (its screening's gains and
        fingerprint only; rejected draws are rows of their own)."""
        screening = None
        if row.get('gains') is not None or row.get('fingerprint'):
            screening = Screening(row['status'] != 'rejected',
                                  row.get('gains') or {}, row.get('reason'),
                                  row.get('fingerprint'))
        label = 'baseline' if row['key'] == 'baseline' else None
        return cls(Individual.from_json(row['trees']), row.get('parent'),
                   row['id'], row['status'], screening,
                   redraws=row.get('redraws') or 0,
                   t_reject=row.get('t_reject') or 0.0, score=row['score'],
                   metrics=row.get('metrics'), reason=row.get('reason'),
                   t_train=row.get('t_train'),
                   equivalent_to=row.get('equivalent_to'),
                   created=row.get('created') or time.time(),
                   finished=row.get('finished'), label=label,
                   origin=row.get('origin'), rung=row.get('rung'))
