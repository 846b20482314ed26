"""Executors run proxy trainings; the search talks to them by submit/wait.

An executor takes :class:`~autoloss_zero.search.loop.candidate.Candidate`
records and hands back ``(candidate, ProxyResult)`` pairs. ``local`` (the
default, :mod:`.local`) trains in-process; the pools of warm workers
(``process``, ``ray``) share :class:`QueuedExecutor`'s bookkeeping: a queue
of candidates, re-queueing a candidate whose worker died, and a ``failed``
result once it has been retried ``max_retries`` times. All are registered in
:data:`autoloss_zero.registry.EXECUTORS`.
"""
import logging
import traceback
from collections import deque
from typing import Deque, Dict, List, Optional, Tuple

from mmengine.logging import print_log

from ..loop.candidate import Candidate
from ..loop.individual import Individual
from .proxy import ProxyResult, ProxyTrainer

Finished = List[Tuple[Candidate, ProxyResult]]


def train_safely(trainer: ProxyTrainer, individual: Individual,
                 iterations: Optional[int] = None) -> ProxyResult:
    """Train (for ``iterations``; None: the proxy's length), turning any
    exception into a ``failed`` result (one bad candidate never crashes a
    search)."""
    try:
        return trainer.train(individual, iterations)
    except Exception as exc:  # noqa: BLE001  (recorded with its traceback)
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return ProxyResult('failed', None, reason=last)


class Executor:
    """Interface: ``capacity`` runs in flight, ``submit`` and ``wait``."""

    capacity: int = 1

    def submit(self, candidate: Candidate) -> None:
        raise NotImplementedError

    def wait(self) -> Finished:
        """Block until at least one submitted run finishes; return those
        (none when nothing is in flight)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class QueuedExecutor(Executor):
    """Queueing and retry bookkeeping of an executor with worker slots.

    Subclasses implement :meth:`_dispatch` (hand queued candidates to idle
    workers), :meth:`_busy` and :meth:`_poll` (wait for messages, deaths and
    results, then report them with :meth:`_finished` / :meth:`_lost`).

    Args:
        max_retries: how many times a candidate is re-queued after its
            worker died (or its task was lost) before it is ``failed``.
        logger: where warnings go (the search's log), or None (mmengine's
            current logger).
    """

    def __init__(self, max_retries: int, logger=None):
        if int(max_retries) < 0:
            raise ValueError(f'search.executor.max_retries must be >= 0, got '
                             f'{max_retries}')
        self.max_retries = int(max_retries)
        self.logger = logger
        self._pending: Deque[Candidate] = deque()
        self._done: Finished = []
        self._losses: Dict[int, int] = {}  # id(candidate) -> runs lost
        #: worker replacements and candidates re-queued so far.
        self.replaced = 0
        self.requeued = 0

    def submit(self, candidate: Candidate) -> None:
        self._pending.append(candidate)
        self._dispatch()

    def wait(self) -> Finished:
        self._poll(0)
        while not self._done and (self._pending or self._busy()):
            self._poll(None)
        done, self._done = self._done, []
        return done

    def _finished(self, candidate: Candidate, result: ProxyResult) -> None:
        self._losses.pop(id(candidate), None)
        self._done.append((candidate, result))

    def _lost(self, candidate: Candidate, reason: str,
              count: bool = True) -> str:
        """A run of ``candidate`` was lost: re-queue it first in line, or
        record it as failed after ``max_retries`` re-runs; ``count=False``
        re-queues without counting (the worker died before it started).
        Returns what happened, for the log."""
        losses = self._losses.get(id(candidate), 0) + count
        self._losses[id(candidate)] = losses
        if losses > self.max_retries:
            self._losses.pop(id(candidate))
            self._done.append((candidate, ProxyResult(
                'failed', None, reason=reason.replace('{n}', str(losses)))))
            return f'candidate #{candidate.id} recorded as failed'
        self._pending.appendleft(candidate)
        self.requeued += 1
        return f'candidate #{candidate.id} re-queued'

    def _warn(self, message: str) -> None:
        print_log(message, logger=self.logger or 'current',
                  level=logging.WARNING)

    def _dispatch(self) -> None:
        raise NotImplementedError

    def _busy(self) -> bool:
        raise NotImplementedError

    def _poll(self, timeout) -> None:
        raise NotImplementedError
