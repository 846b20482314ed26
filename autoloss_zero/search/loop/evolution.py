"""Aging evolution over multi-branch loss individuals (ask/tell).

The protocol: :meth:`AgingEvolution.plan` asks what the next candidate is
made of (a parent and the branches to draw), :meth:`~AgingEvolution.draw`
draws a branch's tree, :meth:`~AgingEvolution.tell` reports an evaluated
candidate's score (:meth:`~AgingEvolution.update` its score on a longer
training rung), and :attr:`~AgingEvolution.result` is the best so far.
The searcher owns its one RNG; :meth:`~AgingEvolution.checkpoint` and
:meth:`~AgingEvolution.rewind` let screening draw ahead in batches and
come back, so that results never depend on the batch size. Its state
(``get_state`` / ``set_state``) is JSON, and the object pickles.

    >>> from autoloss_zero.graph import SearchSpace
    >>> from autoloss_zero.search.loop.settings import Evolution
    >>> searcher = AgingEvolution({'seg': SearchSpace()},
    ...                           Evolution(population=2), seed=0)
    >>> parent, child = searcher.propose()  # random while filling up
    >>> parent is None
    True
    >>> searcher.tell(1, child, 0.5)
    >>> searcher.result.best_score
    0.5
"""
import math
from collections import deque
from dataclasses import dataclass
from typing import Dict, NamedTuple, Optional, Sequence, Tuple

import numpy as np

from ...graph import SearchSpace, Tree, crossover, mutate, random_tree
from .individual import Individual
from .settings import Evolution


@dataclass(frozen=True)
class Proposal:
    """What the next candidate is made of, before its trees are drawn.

    ``branches`` are the branches to draw afresh; the others keep the tree
    of ``base``: the parent (None in the random phase, where every branch is
    drawn; the given trees of a seeded individual), or, once a branch is
    drawn, the parent with that tree in place. Without a parent, drawing is
    random; with one, it mutates (or crosses over) the parent's tree.
    """
    parent_id: Optional[int]
    base: Optional[Individual]
    branches: Tuple[str, ...]
    #: 'random', 'seed' (given trees) or 'evolved' (mutation / crossover).
    origin: str = 'random'


class EvolutionResult(NamedTuple):
    """The searcher's view of the search so far (its population window)."""
    best_id: Optional[int]
    best_score: Optional[float]
    told: int


class AgingEvolution:
    """Regularised (aging) evolution of Real et al. 2019, as in AutoLoss-Zero.

    The first ``population`` evaluated individuals are random; afterwards each
    proposal mutates the best of a tournament of ``tournament`` x population
    members (at least 2) drawn from the newest ``window`` evaluated ones.
    Members rank by (training rung, score): with multi-fidelity promotion a
    score of a longer rung beats any score of a shorter one (without it
    every member is on rung 0 and the score alone ranks).

    Args:
        spaces: {branch: SearchSpace}; the order fixes the individual's.
        evolution: population, tournament, window and mutation settings.
        mode: ``'max'`` or ``'min'`` for the score.
        seed: seed of the one ``numpy.random.Generator`` used throughout.
        seed_trees: {branch: [tree, ...]}: given trees (a warm start) that
            make the first individuals of the initial population, the i-th
            tree of each branch in the i-th individual (branches without an
            i-th tree drawn at random); they are screened like any other.
    """

    def __init__(self, spaces: Dict[str, SearchSpace], evolution: Evolution,
                 mode: str = 'max', seed: int = 0,
                 seed_trees: Optional[Dict[str, Sequence]] = None):
        self.seed_trees = {b: [t if isinstance(t, Tree) else Tree.parse(t)
                               for t in trees]
                           for b, trees in (seed_trees or {}).items()}
        #: seeded individuals planned so far.
        self.seeded = 0
        self.spaces = dict(spaces)
        self.evolution = evolution
        self.mode = mode
        self.rng = np.random.default_rng(seed)
        #: (candidate id, individual key json, score), newest last.
        self.population: deque = deque(maxlen=evolution.window)
        #: {candidate id: rung} of the members scored on a rung above 0.
        self.rungs: Dict[int, int] = {}
        self._told = 0

    def _fitness(self, member: tuple) -> Tuple[int, float]:
        sign = 1 if self.mode == 'max' else -1
        return self.rungs.get(member[0], 0), sign * member[2]

    def _tournament(self) -> Tuple[int, Individual]:
        size = max(2, math.ceil(self.evolution.tournament *
                                len(self.population)))
        size = min(size, len(self.population))
        picks = self.rng.choice(len(self.population), size, replace=False)
        best = max((self.population[i] for i in picks), key=self._fitness)
        return best[0], Individual.from_json(best[1])

    def plan(self) -> Proposal:
        """The parent (tournament winner, or None while the population is
        filling) and the branches to draw: one random branch by default,
        every branch with ``mutate='all'`` or without a parent."""
        if len(self.population) < self.evolution.population:
            return self._seeded_plan() or Proposal(None, None,
                                                   tuple(self.spaces))
        parent_id, parent = self._tournament()
        branches = tuple(self.spaces) if self.evolution.mutate == 'all' else (
            list(self.spaces)[self.rng.integers(len(self.spaces))], )
        return Proposal(parent_id, parent, branches, 'evolved')

    def _seeded_plan(self) -> Optional[Proposal]:
        """The next seeded individual's plan, if any is left."""
        i = self.seeded
        trees = {b: ts[i] for b, ts in self.seed_trees.items() if i < len(ts)}
        if not trees:
            return None
        self.seeded += 1
        rest = tuple(b for b in self.spaces if b not in trees)
        return Proposal(None, Individual(trees), rest, 'seed')

    def draw(self, proposal: Proposal, branch: str) -> Tree:
        """A fresh tree for ``branch`` of ``proposal``: random without a
        parent, else a crossover (probability ``p_crossover``, with the
        winner of another tournament) or a mutation of the parent's tree."""
        space = self.spaces[branch]
        if proposal.parent_id is None:
            return random_tree(space, self.rng)
        evo = self.evolution
        if evo.p_crossover and self.rng.random() < evo.p_crossover:
            _, other = self._tournament()
            tree, _ = crossover(proposal.base[branch], other[branch], space,
                                self.rng)
            return tree
        return mutate(proposal.base[branch], space, self.rng,
                      p_copy=evo.p_copy, p_reinit=evo.p_reinit)

    def propose(self) -> Tuple[Optional[int], Individual]:
        """Next candidate (unscreened) and its parent id (None if random):
        :meth:`plan` with every planned branch drawn once."""
        proposal = self.plan()
        base = proposal.base or {}
        return proposal.parent_id, Individual({
            b: self.draw(proposal, b) if b in proposal.branches else base[b]
            for b in self.spaces})

    def tell(self, candidate_id: int, individual: Individual,
             score: float, rung: int = 0) -> None:
        """Add an evaluated individual, scored on training ``rung`` (the
        oldest member ages out of the window)."""
        if len(self.population) == self.population.maxlen:
            self.rungs.pop(self.population[0][0], None)
        self.population.append((candidate_id, individual.to_json(),
                                float(score)))
        if rung:
            self.rungs[candidate_id] = rung
        self._told += 1

    def update(self, candidate_id: int, score: float, rung: int) -> None:
        """A member's new score, on a longer training ``rung`` (it keeps its
        age; nothing happens if it has aged out of the window)."""
        for i, member in enumerate(self.population):
            if member[0] == candidate_id:
                self.population[i] = (member[0], member[1], float(score))
                if rung:
                    self.rungs[candidate_id] = rung
                else:
                    self.rungs.pop(candidate_id, None)
                return

    @property
    def result(self) -> EvolutionResult:
        """The best member of the window (by rung, then score by ``mode``)
        and how many candidates were told since this object was made."""
        if not self.population:
            return EvolutionResult(None, None, self._told)
        best = max(self.population, key=self._fitness)
        return EvolutionResult(best[0], best[2], self._told)

    def checkpoint(self) -> dict:
        """The RNG position now, for :meth:`rewind`."""
        return self.rng.bit_generator.state

    def rewind(self, checkpoint: dict) -> None:
        """Return the RNG to a :meth:`checkpoint` (draws made after it are
        undone: the next draw repeats the first of them)."""
        self.rng.bit_generator.state = checkpoint

    def get_state(self) -> dict:
        """JSON-serialisable state: RNG, the population window and its
        members' rungs (those above 0)."""
        return dict(rng=self.rng.bit_generator.state,
                    population=[list(m) for m in self.population],
                    seeded=self.seeded, rungs={
                        str(k): v for k, v in self.rungs.items()})

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`'s output."""
        self.rng.bit_generator.state = state['rng']
        self.seeded = state.get('seeded', 0)
        self.population.clear()
        self.population.extend(tuple(m) for m in state['population'])
        self.rungs = {int(k): v for k, v in state.get('rungs', {}).items()}
