"""CMA-ES tuning of the node coefficients of a discovered loss.

GLO (Gonzalez & Miikkulainen 2020) follows its loss search by tuning one
multiplier per node with CMA-ES (Baikal -> BaikalCMA). Here the tuned
vector holds, for every branch of an archived individual, the coefficients of
the nodes that :func:`~autoloss_zero.graph.independent_coefficients` keeps
(the others would only rescale the same directions, so tuning them is
wasted), and each CMA-ES candidate is scored by the same warm proxy training
as the search (same seed, weights and data order), minimising ``-score`` for
``mode='max'`` and ``score`` for ``'min'``.

Durability (SQLite archive of the search, table ``cma_evaluations`` and the
state row ``cma:<run>``):

* each evaluation is committed when it finishes, keyed by (run, generation,
  member);
* after a generation, the values told to CMA-ES and the pickled CMA-ES object
  (its sampler holds its own seeded ``numpy.random.Generator``) are saved
  in one transaction.

A tuning killed at any moment resumes from its last generation: the
unpickled CMA-ES asks exactly the same population again, whose members that
were already evaluated are reused, not trained twice. (The state is a
pickle: resume only archives you trust, as with any checkpoint.)

Failure policy (explicit, logged): an evaluation that is not ``trained``
with a finite score (diverged, failed, non-finite metric) is told to CMA-ES
as ``worst + max(1, |worst|)``, ``worst`` being the largest finite value of
its generation (1.0 if none), so it ranks below every successful member.
"""
import base64
import json
import math
import pickle
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ...graph import independent_coefficients
from ..archive import Archive
from ..execution import ProxyResult
from ..loop.individual import Individual

#: pycma options: quiet, no global seeding (the sampler has its own
#: Generator) and no f-value terminations: proxy scores are quantised and
#: often flat between neighbours, which is no reason to stop; the generation
#: budget ends a tuning (x-based terminations stay on).
CMA_OPTIONS = dict(seed=np.nan, verbose=-9, tolfun=0, tolfunhist=0,
                   tolflatfitness=10**9)


class _Randn:
    """Picklable ``randn(*shape)`` for pycma from one seeded Generator (its
    state travels with the pickled CMA-ES object; the global RNG is never
    touched)."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)

    def __call__(self, *shape):
        return self.rng.standard_normal(shape)


def coefficient_layout(individual: Individual
                       ) -> Dict[str, Tuple[int, ...]]:
    """{branch: node indices of its independent coefficients}."""
    return {b: tuple(independent_coefficients(t))
            for b, t in individual.items()}


def vector_of(individual: Individual,
              layout: Dict[str, Sequence[int]]) -> List[float]:
    """The tuned coefficients of ``individual``, branches in layout order."""
    return [individual[b].coefficients[i] for b, idx in layout.items()
            for i in idx]


def individual_at(base: Individual, layout: Dict[str, Sequence[int]],
                  x: Sequence[float]) -> Individual:
    """``base`` with the coefficients at ``layout`` set to ``x`` (in order)."""
    x = [float(v) for v in x]
    if len(x) != sum(len(idx) for idx in layout.values()):
        raise ValueError(f'{len(x)} values for a layout of '
                         f'{sum(len(i) for i in layout.values())} '
                         f'coefficients: {layout}')
    trees, pos = {}, 0
    for branch in base:
        coefficients = list(base[branch].coefficients)
        for i in layout.get(branch, ()):
            coefficients[i] = x[pos]
            pos += 1
        trees[branch] = base[branch].with_coefficients(coefficients)
    return Individual(trees)


def tell_values(results: Sequence[ProxyResult], mode: str) -> List[float]:
    """The values told to CMA-ES (minimised), with the failure policy."""
    sign = -1.0 if mode == 'max' else 1.0
    values: List[Optional[float]] = []
    for res in results:
        ok = (res.status == 'trained' and res.score is not None
              and math.isfinite(res.score))
        values.append(sign * res.score if ok else None)
    finite = [v for v in values if v is not None]
    worst = max(finite) if finite else 1.0
    penalty = worst + max(1.0, abs(worst))
    return [penalty if v is None else v for v in values]


@dataclass
class TuningResult:
    """Outcome of a tuning run (best of the untuned and tuned losses)."""
    run: str
    candidate: int
    base: Individual
    base_score: Optional[float]
    best: Individual
    best_score: Optional[float]
    generations: int
    evaluations: int
    stop: Optional[Dict] = None


class CoefficientTuning:
    """CMA-ES over the independent coefficients of one archived individual.

    Args:
        archive: the search archive (tables are added to it).
        candidate: archive id of the individual to tune (a trained one).
        evaluate: Individual -> ProxyResult; must not raise (use
            :func:`~autoloss_zero.search.execution.base.train_safely`).
        mode: ``'max'`` or ``'min'``, the search's target mode.
        popsize: CMA-ES population per generation.
        sigma0: initial step size (coefficients start at their values, 1).
        seed: seed of the CMA-ES sampler.
        resume: continue the run of this candidate if archived.
        logger: for progress and failure messages (``print`` if None).

    Raises:
        ValueError: bad mode/popsize, the candidate is not trained, or its
            trees have no independent coefficient.
        FileExistsError: a run of this candidate exists and not ``resume``.
    """

    def __init__(self, archive: Archive, candidate: int,
                 evaluate: Callable[[Individual], ProxyResult],
                 mode: str = 'max', popsize: int = 8, sigma0: float = 0.5,
                 seed: int = 0, resume: bool = False, logger=None):
        import cma
        if mode not in ('max', 'min'):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        if popsize < 2:
            raise ValueError(f'popsize must be >= 2, got {popsize}')
        self.archive, self.evaluate, self.mode = archive, evaluate, mode
        self.log = logger.info if logger is not None else print
        self.warn = logger.warning if logger is not None else print
        row = archive.get(candidate)
        if row is None or row['status'] != 'trained':
            raise ValueError(f'candidate #{candidate} is not a trained '
                             f'candidate of {archive.path} (status '
                             f'{row and row["status"]})')
        self.candidate, self.run = candidate, f'candidate{candidate}'
        self.base = Individual.from_json(row['trees'])
        self.base_score = row['score']
        state = archive.state().get(self.state_name)
        if state is not None and not resume:
            raise FileExistsError(
                f'{archive.path} already holds a coefficient tuning of '
                f'candidate #{candidate}; pass --resume to continue it')
        if state is None:
            self.layout = coefficient_layout(self.base)
            x0 = vector_of(self.base, self.layout)
            if not x0:
                raise ValueError(f'{self.base.key} has no independent '
                                 f'coefficient to tune')
            self.es = cma.CMAEvolutionStrategy(x0, sigma0, dict(
                CMA_OPTIONS, popsize=popsize, randn=_Randn(seed)))
            self.generation, self.stop = 0, None
        else:
            self.layout = {b: tuple(i) for b, i in state['layout'].items()}
            self.es = pickle.loads(base64.b64decode(state['es']))
            self.generation, self.stop = state['generation'], state['stop']
            if popsize != self.es.popsize:
                self.warn(f'resuming with the archived popsize '
                          f'{self.es.popsize} (not {popsize})')
            self.log(f'resuming the tuning of #{candidate} after '
                     f'{self.generation} generation(s)')

    @property
    def state_name(self) -> str:
        return f'cma:{self.run}'

    # -- one generation ------------------------------------------------------
    def _done_rows(self, generation: int) -> Dict[int, Dict]:
        return {r['member']: r
                for r in self.archive.cma_rows(self.run, generation)}

    def _evaluate_member(self, generation: int, member: int, x,
                         done: Dict[int, Dict]) -> ProxyResult:
        coefficients = [float(v) for v in x]
        old = done.get(member)
        if old is not None:
            if json.loads(old['coefficients']) != coefficients:
                raise RuntimeError(
                    f'run {self.run} generation {generation} member {member}:'
                    f' the archived coefficients differ from those CMA-ES '
                    f'asks again; the archive does not match this tuning')
            return ProxyResult(old['status'], old['score'],
                               json.loads(old['metrics'] or '{}'),
                               old['reason'], old['t_train'] or 0.0)
        individual = individual_at(self.base, self.layout, coefficients)
        res = self.evaluate(individual)
        self.archive.add_cma_evaluation(dict(
            run=self.run, generation=generation, member=member,
            coefficients=json.dumps(coefficients), trees=individual.to_json(),
            status=res.status, score=res.score, reason=res.reason,
            metrics=json.dumps(res.metrics), t_train=res.seconds,
            created=time.time()))
        ok = res.status == 'trained' and res.score is not None and \
            math.isfinite(res.score)
        (self.log if ok else self.warn)(
            f'[cma gen {generation} #{member}] {res.status} score='
            f'{res.score} ({res.seconds:.1f}s) {individual.key}'
            + ('' if ok else f' -> told the worst value ({res.reason})'))
        return res

    def step(self) -> None:
        """Ask, evaluate (reusing archived members), tell, save."""
        gen = self.generation
        xs = self.es.ask()
        done = self._done_rows(gen)
        results = [self._evaluate_member(gen, m, x, done)
                   for m, x in enumerate(xs)]
        values = tell_values(results, self.mode)
        self.es.tell(xs, values)
        stop = dict(self.es.stop()) or None
        self.archive.finish_cma_generation(self.run, gen, values, {
            self.state_name: dict(
                candidate=self.candidate, base=self.base.as_strings(),
                layout=self.layout, generation=gen + 1, stop=stop,
                es=base64.b64encode(pickle.dumps(self.es)).decode())})
        self.generation, self.stop = gen + 1, stop
        best = self.best()
        self.log(f'[cma gen {gen}] done: best score {best[1]} '
                 f'(untuned {self.base_score})')

    def run_until(self, generations: int) -> TuningResult:
        """Run generations until ``generations`` in all (or CMA-ES stops)."""
        while self.generation < generations and not self.stop:
            self.step()
        if self.stop:
            self.log(f'CMA-ES stopped: {self.stop}')
        best, score = self.best()
        return TuningResult(self.run, self.candidate, self.base,
                            self.base_score, best, score, self.generation,
                            len(self.rows()), self.stop)

    # -- reads ---------------------------------------------------------------
    def rows(self) -> List[Dict]:
        """This run's evaluations in (generation, member) order."""
        return self.archive.cma_rows(self.run)

    def best(self) -> Tuple[Individual, Optional[float]]:
        """The best of the untuned individual and every trained member."""
        sign = 1 if self.mode == 'max' else -1
        best, score = self.base, self.base_score
        for row in self.rows():
            s = row['score']
            if row['status'] == 'trained' and s is not None and \
                    math.isfinite(s) and (score is None or
                                          sign * s > sign * score):
                best, score = Individual.from_json(row['trees']), s
        return best, score
