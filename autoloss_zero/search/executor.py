"""Executors run proxy trainings; the search talks to them by submit/wait.

``local`` (the default) trains in-process on the driver's warm
:class:`~autoloss_zero.search.proxy.ProxyTrainer`. Other executors (a process
pool, Ray) implement the same three methods and are registered in
:data:`autoloss_zero.registry.EXECUTORS`.
"""
import traceback
from typing import List, Tuple

from ..registry import EXECUTORS
from .individual import Individual
from .proxy import ProxyResult, ProxyTrainer


def train_safely(trainer: ProxyTrainer, individual: Individual) -> ProxyResult:
    """Train, turning any exception into a ``failed`` result (one bad
    candidate never crashes a search)."""
    try:
        return trainer.train(individual)
    except Exception as exc:  # noqa: BLE001  (recorded with its traceback)
        last = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return ProxyResult('failed', None, reason=last)


class Executor:
    """Interface: ``capacity`` runs in flight, ``submit`` and ``wait``."""

    capacity: int = 1

    def submit(self, cand_id: int, individual: Individual) -> None:
        raise NotImplementedError

    def wait(self) -> List[Tuple[int, ProxyResult]]:
        """Block until at least one submitted run finishes; return those."""
        raise NotImplementedError

    def close(self) -> None:
        pass


@EXECUTORS.register_module(name='local')
class LocalExecutor(Executor):
    """Runs each proxy training in this process, one at a time.

    Args:
        trainer: the warm proxy trainer of the driver.
    """

    capacity = 1

    def __init__(self, trainer: ProxyTrainer, **kwargs):
        self.trainer = trainer
        self._done: List[Tuple[int, ProxyResult]] = []

    def submit(self, cand_id: int, individual: Individual) -> None:
        self._done.append((cand_id, train_safely(self.trainer, individual)))

    def wait(self) -> List[Tuple[int, ProxyResult]]:
        done, self._done = self._done, []
        return done
