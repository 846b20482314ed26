"""``local`` executor: proxy trainings in this process, one at a time."""
from ...registry import EXECUTORS
from ..loop.candidate import Candidate
from .base import Executor, Finished
from .proxy import ProxyTrainer
from .trainers import Trainers


@EXECUTORS.register_module(name='local')
class LocalExecutor(Executor):
    """Runs each proxy training in this process, one at a time, on the
    driver's warm trainers.

    Args:
        trainer: the warm proxy trainer of the driver (search seed).
        cfg, settings, work_dir: for the trainers of other seeds.
    """

    capacity = 1

    def __init__(self, trainer: ProxyTrainer, cfg=None, settings=None,
                 work_dir=None, **kwargs):
        self.trainers = Trainers(cfg, settings or trainer.settings,
                                 work_dir, searched=trainer)
        self._done: Finished = []

    def submit(self, candidate: Candidate) -> None:
        self._done.append((candidate, self.trainers.train(candidate)))

    def wait(self) -> Finished:
        done, self._done = self._done, []
        return done
