"""What a search tells those who follow it: a progress display, experiment
tracking, a report. Observers are called by the engine in its thread; a
hook that raises does not stop the search (it is logged and dropped).
"""
import logging
from typing import Dict, List

from .candidate import Candidate


class SearchObserver:
    """Hooks of a search; every one is optional (the default does nothing).

    ``search`` is the :class:`~.engine.LossSearch`: its ``archive``,
    ``settings``, ``stats`` (``generated``, ``seconds``) and ``work_dir``
    are there to read.
    """

    def on_start(self, search) -> None:
        """The search (or its resumption) starts its loop."""

    def on_candidate(self, search, candidate: Candidate) -> None:
        """An evaluated candidate was archived: trained, diverged, failed,
        or equivalent (score reused)."""

    def on_screening(self, search, rejected: int, screened: int,
                     per_minute: float) -> None:
        """During a long screening run, every few seconds: trees rejected
        in a row, trees screened in all, screening rate."""

    def on_finish(self, search, summary: Dict) -> None:
        """The search finished and wrote its report (``summary``)."""

    def close(self) -> None:
        """The search ends, however it ends."""


class Observers:
    """Calls every observer's hook, dropping one that raises.

    Args:
        observers: the observers, called in order.
        logger: where a failing observer is reported.
    """

    def __init__(self, observers: List[SearchObserver],
                 logger: logging.Logger):
        self.observers, self.logger = list(observers), logger

    def __getattr__(self, hook: str):
        if not hook.startswith('on_') and hook != 'close':
            raise AttributeError(hook)

        def call(*args, **kwargs):
            for observer in list(self.observers):
                try:
                    getattr(observer, hook)(*args, **kwargs)
                except Exception as exc:  # noqa: BLE001  (logged, dropped)
                    self.logger.warning(
                        f'{type(observer).__name__}.{hook} failed ({exc!r}); '
                        f'it is not called again')
                    self.observers.remove(observer)
        return call
