"""The AutoLoss-Zero search, one room per concept:

* :mod:`.loop` — settings, Candidate records, aging evolution, the
  proposer and the engine (:class:`LossSearch`);
* :mod:`.screening` — the loss-rejection protocol, gradient fingerprints,
  the screening pool and the per-loss probes;
* :mod:`.execution` — the warm proxy trainer, loss slots, and the
  ``local`` / ``process`` / ``ray`` executors;
* :mod:`.archive` — the SQLite archive (the only SQL of the project);
* :mod:`.reporting` — summary, ``best/`` snippets, plots, analysis;
* :mod:`.tuning` — CMA-ES coefficient tuning.
"""
from .archive import EVALUATED, STATUSES, Archive
from .execution import (Executor, LocalExecutor, ProcessExecutor,
                        ProxyResult, ProxyTrainer, RayExecutor,
                        apply_searched_loss, inject_losses,
                        load_searched_slots, searched_slots, train_safely)
from .loop import (AgingEvolution, Candidate, Individual, Proposal,
                   SearchSettings, resolve_path)
from .loop.engine import LossSearch
from .loop.stopping import SearchInterrupted
from .reporting import (analyze, describe, format_analysis, load_losses,
                        plot_losses, plot_search_progress, write_report)
from .screening import LossRejection, Screening, ScreeningPool, probe_for
from .tuning import CoefficientTuning, tune_coefficients

__all__ = [
    'Archive', 'EVALUATED', 'STATUSES', 'Executor', 'LocalExecutor',
    'ProcessExecutor', 'RayExecutor', 'ProxyResult', 'ProxyTrainer',
    'apply_searched_loss', 'inject_losses', 'load_searched_slots',
    'searched_slots', 'train_safely', 'AgingEvolution', 'Candidate',
    'Individual', 'Proposal', 'SearchSettings', 'resolve_path', 'LossSearch',
    'analyze', 'describe', 'format_analysis', 'load_losses', 'plot_losses',
    'plot_search_progress', 'write_report', 'SearchInterrupted',
    'LossRejection', 'Screening', 'ScreeningPool', 'probe_for',
    'CoefficientTuning', 'tune_coefficients'
]
