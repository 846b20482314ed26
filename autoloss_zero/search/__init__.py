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

The names below are imported from their room on first use, so that
``import autoloss_zero.search.screening`` loads the screening alone: it
runs with torch, numpy and mmengine, without mmcv, mmseg, mmdet, scipy or
matplotlib (a capture screened on a bare GPU machine).

    >>> from autoloss_zero.search import LossRejection
    >>> LossRejection.__module__
    'autoloss_zero.search.screening.protocol'
"""
import importlib

#: {public name: the room (submodule) that defines it}.
_ROOMS = {
    '.archive': ('EVALUATED', 'STATUSES', 'Archive'),
    '.execution': ('Executor', 'LocalExecutor', 'ProcessExecutor',
                   'ProxyResult', 'ProxyTrainer', 'RayExecutor',
                   'apply_searched_loss', 'inject_losses',
                   'load_searched_slots', 'searched_slots', 'train_safely'),
    '.loop': ('AgingEvolution', 'Candidate', 'Individual', 'Proposal',
              'SearchSettings', 'resolve_path'),
    '.loop.engine': ('LossSearch', ),
    '.loop.stopping': ('SearchInterrupted', ),
    '.reporting': ('analyze', 'describe', 'format_analysis', 'load_losses',
                   'plot_losses', 'plot_search_progress', 'write_report'),
    '.screening': ('LossRejection', 'Screening', 'ScreeningPool',
                   'probe_for'),
    '.tuning': ('CoefficientTuning', 'tune_coefficients'),
}
_ORIGIN = {name: room for room, names in _ROOMS.items() for name in names}

__all__ = list(_ORIGIN)


def __getattr__(name: str):
    """A public name, imported from its room at first use."""
    room = _ORIGIN.get(name)
    if room is None:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    value = getattr(importlib.import_module(room, __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
