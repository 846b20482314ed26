"""Aging evolution over multi-branch loss individuals (ask/tell)."""
import math
from collections import deque
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np

from ..graph import SearchSpace, Tree, crossover, mutate, random_tree
from .individual import Individual
from .settings import Evolution


@dataclass(frozen=True)
class Proposal:
    """What the next candidate is made of, before its trees are drawn.

    ``branches`` are the branches to draw afresh; the others keep the tree
    of ``base``: the parent (None in the random phase, where every branch is
    drawn), or, once a branch is drawn, the parent with that tree in place.
    """
    parent_id: Optional[int]
    base: Optional[Individual]
    branches: Tuple[str, ...]


class AgingEvolution:
    """Regularised (aging) evolution of Real et al. 2019, as in AutoLoss-Zero.

    The first ``population`` evaluated individuals are random; afterwards each
    proposal mutates the best of a tournament of ``tournament`` x population
    members (at least 2) drawn from the newest ``window`` evaluated ones.

    Args:
        spaces: {branch: SearchSpace}; the order fixes the individual's.
        evolution: population, tournament, window and mutation settings.
        mode: ``'max'`` or ``'min'`` for the score.
        seed: seed of the one ``numpy.random.Generator`` used throughout.
    """

    def __init__(self, spaces: Dict[str, SearchSpace], evolution: Evolution,
                 mode: str = 'max', seed: int = 0):
        self.spaces = dict(spaces)
        self.evolution = evolution
        self.mode = mode
        self.rng = np.random.default_rng(seed)
        #: (candidate id, individual key json, score), newest last.
        self.population: deque = deque(maxlen=evolution.window)

    def _tournament(self) -> Tuple[int, Individual]:
        size = max(2, math.ceil(self.evolution.tournament *
                                len(self.population)))
        size = min(size, len(self.population))
        picks = self.rng.choice(len(self.population), size, replace=False)
        sign = 1 if self.mode == 'max' else -1
        best = max((self.population[i] for i in picks),
                   key=lambda m: sign * m[2])
        return best[0], Individual.from_json(best[1])

    def plan(self) -> Proposal:
        """The parent (tournament winner, or None while the population is
        filling) and the branches to draw: one random branch by default,
        every branch with ``mutate='all'`` or without a parent."""
        if len(self.population) < self.evolution.population:
            return Proposal(None, None, tuple(self.spaces))
        parent_id, parent = self._tournament()
        branches = tuple(self.spaces) if self.evolution.mutate == 'all' else (
            list(self.spaces)[self.rng.integers(len(self.spaces))], )
        return Proposal(parent_id, parent, branches)

    def draw(self, proposal: Proposal, branch: str) -> Tree:
        """A fresh tree for ``branch`` of ``proposal``: random without a
        parent, else a crossover (probability ``p_crossover``, with the
        winner of another tournament) or a mutation of the parent's tree."""
        space = self.spaces[branch]
        if proposal.base is None:
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
             score: float) -> None:
        """Add an evaluated individual (the oldest ages out of the window)."""
        self.population.append((candidate_id, individual.to_json(),
                                float(score)))

    def get_state(self) -> dict:
        """JSON-serialisable state: RNG and the population window."""
        return dict(rng=self.rng.bit_generator.state,
                    population=[list(m) for m in self.population])

    def set_state(self, state: dict) -> None:
        """Restore :meth:`get_state`'s output."""
        self.rng.bit_generator.state = state['rng']
        self.population.clear()
        self.population.extend(tuple(m) for m in state['population'])
