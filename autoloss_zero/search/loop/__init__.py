"""The search loop: settings, individuals and their Candidate records,
aging evolution (ask/tell), the proposer that screens what it draws, and
the engine (:class:`~.engine.LossSearch`) that ties them together."""
from .candidate import Candidate
from .evolution import AgingEvolution, EvolutionResult, Proposal
from .individual import Individual
from .settings import SearchSettings, resolve_path

__all__ = ['Candidate', 'AgingEvolution', 'EvolutionResult', 'Proposal',
           'Individual', 'SearchSettings', 'resolve_path']
